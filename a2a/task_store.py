"""A task store that forgets: riskmesh agents reply with Messages, so the only Tasks are failure records.

When an executor raises, the SDK records a FAILED Task (with the request message in its history) in the
task store. `InMemoryTaskStore` never evicts, so an agent failing on every batch would grow without
bound. `BoundedTaskStore` keeps the most recent `max_tasks` (enough for a caller to `GetTask` a failure
it just saw) and drops the oldest.
"""

from __future__ import annotations

from collections import OrderedDict

from a2a.server.context import ServerCallContext
from a2a.server.tasks import InMemoryTaskStore, TaskStore
from a2a.types import ListTasksRequest, ListTasksResponse, Task

__all__ = ["BoundedTaskStore"]


class BoundedTaskStore(TaskStore):
    """`InMemoryTaskStore` capped at `max_tasks`, oldest saved first out."""

    def __init__(self, max_tasks: int = 256, inner: TaskStore | None = None) -> None:
        if max_tasks < 1:
            raise ValueError("max_tasks must be at least 1")
        self._max = max_tasks
        self._inner = inner or InMemoryTaskStore()
        self._order: OrderedDict[str, ServerCallContext] = OrderedDict()

    def __len__(self) -> int:
        return len(self._order)

    async def save(self, task: Task, context: ServerCallContext) -> None:
        await self._inner.save(task, context)
        self._order[task.id] = context
        self._order.move_to_end(task.id)
        while len(self._order) > self._max:
            old_id, old_context = self._order.popitem(last=False)
            await self._inner.delete(old_id, old_context)

    async def get(self, task_id: str, context: ServerCallContext) -> Task | None:
        return await self._inner.get(task_id, context)

    async def list(self, params: ListTasksRequest, context: ServerCallContext) -> ListTasksResponse:
        return await self._inner.list(params, context)

    async def delete(self, task_id: str, context: ServerCallContext) -> None:
        self._order.pop(task_id, None)
        await self._inner.delete(task_id, context)
