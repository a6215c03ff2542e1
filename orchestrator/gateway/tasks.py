"""Tasks that do not pile up: the a2a `TaskStore` with expiry (memory and Redis) and a Redis push-config store.

Only assess-transaction callers who ask for a Task get one; every other reply is a Message. A Task is kept
for `ttl_s` after its last change, scoped to the client that created it (the SDK's owner = the client id), so
one client can never read or cancel another's. Push configs live as long as their task, in Redis, so a
gateway restarted while an alert is with an analyst still notifies the caller's webhook.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import orjson
import redis.asyncio as aioredis
from a2a.auth.user import User
from a2a.server.context import ServerCallContext
from a2a.server.owner_resolver import resolve_user_scope
from a2a.server.tasks import InMemoryTaskStore, PushNotificationConfigStore, TaskStore
from a2a.server.tasks.push_notification_config_store import normalize_push_notification_config
from a2a.types import ListTasksRequest, ListTasksResponse, Task, TaskPushNotificationConfig

__all__ = ["ExpiringTaskStore", "RedisPushConfigStore", "RedisTaskStore", "owner_context"]


class _Owner(User):
    def __init__(self, name: str) -> None:
        self._name = name

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def user_name(self) -> str:
        return self._name


def owner_context(owner: str) -> ServerCallContext:
    """A call context acting as client `owner` (the gateway completing that client's task itself)."""
    return ServerCallContext(user=_Owner(owner))


async def _list_of(tasks: list[Task], params: ListTasksRequest, context: ServerCallContext) -> ListTasksResponse:
    """ListTasks semantics (filters, order, pages) applied by the SDK's own in-memory store to `tasks`."""
    scratch = InMemoryTaskStore()
    for task in tasks:
        await scratch.save(task, context)
    return await scratch.list(params, context)


class ExpiringTaskStore(TaskStore):
    """In-memory, owner-scoped, each task forgotten `ttl_s` after its last save (tests, single process)."""

    def __init__(self, ttl_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl = ttl_s
        self._clock = clock
        self._tasks: dict[tuple[str, str], tuple[float, bytes]] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        self._purge()
        return len(self._tasks)

    def _purge(self) -> None:
        now = self._clock()
        with self._lock:
            for key in [k for k, (until, _) in self._tasks.items() if until <= now]:
                del self._tasks[key]

    async def save(self, task: Task, context: ServerCallContext) -> None:
        self._purge()
        with self._lock:
            self._tasks[(resolve_user_scope(context), task.id)] = (self._clock() + self._ttl, task.SerializeToString())

    async def get(self, task_id: str, context: ServerCallContext) -> Task | None:
        self._purge()
        found = self._tasks.get((resolve_user_scope(context), task_id))
        return Task.FromString(found[1]) if found is not None else None

    async def list(self, params: ListTasksRequest, context: ServerCallContext) -> ListTasksResponse:
        self._purge()
        owner = resolve_user_scope(context)
        tasks = [Task.FromString(raw) for (o, _), (_, raw) in list(self._tasks.items()) if o == owner]
        return await _list_of(tasks, params, context)

    async def delete(self, task_id: str, context: ServerCallContext) -> None:
        with self._lock:
            self._tasks.pop((resolve_user_scope(context), task_id), None)


class RedisTaskStore(TaskStore):
    """Redis, owner-scoped: one key per task with a TTL, refreshed on every save; a per-owner index for List."""

    def __init__(self, client: aioredis.Redis, ttl_s: int, prefix: str = "riskmesh:gateway",
                 clock: Callable[[], float] = time.time) -> None:
        self._r = client
        self._ttl = ttl_s
        self._p = prefix
        self._clock = clock

    def _key(self, owner: str, task_id: str) -> str:
        return f"{self._p}:task:{owner}:{task_id}"

    def _index(self, owner: str) -> str:
        return f"{self._p}:tasks:{owner}"

    async def save(self, task: Task, context: ServerCallContext) -> None:
        owner = resolve_user_scope(context)
        async with self._r.pipeline(transaction=False) as pipe:
            pipe.set(self._key(owner, task.id), task.SerializeToString(), ex=self._ttl)
            pipe.zadd(self._index(owner), {task.id: self._clock() + self._ttl})
            pipe.expire(self._index(owner), self._ttl)
            await pipe.execute()

    async def get(self, task_id: str, context: ServerCallContext) -> Task | None:
        raw = await self._r.get(self._key(resolve_user_scope(context), task_id))
        return Task.FromString(raw) if raw is not None else None

    async def list(self, params: ListTasksRequest, context: ServerCallContext) -> ListTasksResponse:
        owner = resolve_user_scope(context)
        await self._r.zremrangebyscore(self._index(owner), "-inf", self._clock())
        ids = [i.decode() if isinstance(i, bytes) else str(i) for i in await self._r.zrange(self._index(owner), 0, -1)]
        raws = await self._r.mget([self._key(owner, i) for i in ids]) if ids else []
        return await _list_of([Task.FromString(r) for r in raws if r is not None], params, context)

    async def delete(self, task_id: str, context: ServerCallContext) -> None:
        owner = resolve_user_scope(context)
        async with self._r.pipeline(transaction=False) as pipe:
            pipe.delete(self._key(owner, task_id))
            pipe.zrem(self._index(owner), task_id)
            await pipe.execute()


class RedisPushConfigStore(PushNotificationConfigStore):
    """Push configs per task in one Redis hash (config id ▶ {owner, config}), expiring with the task."""

    def __init__(self, client: aioredis.Redis, ttl_s: int, prefix: str = "riskmesh:gateway") -> None:
        self._r = client
        self._ttl = ttl_s
        self._p = prefix

    def _key(self, task_id: str) -> str:
        return f"{self._p}:push:{task_id}"

    async def set_info(self, task_id: str, notification_config: TaskPushNotificationConfig,
                       context: ServerCallContext) -> TaskPushNotificationConfig:
        config = normalize_push_notification_config(task_id, notification_config)
        value = orjson.dumps({"owner": resolve_user_scope(context), "config": config.SerializeToString().hex()})
        async with self._r.pipeline(transaction=False) as pipe:
            pipe.hset(self._key(task_id), config.id, value)
            pipe.expire(self._key(task_id), self._ttl)
            await pipe.execute()
        return config

    async def _all(self, task_id: str) -> list[tuple[str, TaskPushNotificationConfig]]:
        entries = await self._r.hgetall(self._key(task_id))
        out = []
        for raw in entries.values():
            item = orjson.loads(raw)
            out.append((item["owner"], TaskPushNotificationConfig.FromString(bytes.fromhex(item["config"]))))
        return sorted(out, key=lambda pair: pair[1].id)

    async def get_info(self, task_id: str, context: ServerCallContext) -> list[TaskPushNotificationConfig]:
        owner = resolve_user_scope(context)
        return [config for o, config in await self._all(task_id) if o == owner]

    async def get_info_for_dispatch(self, task_id: str) -> list[TaskPushNotificationConfig]:
        return [config for _, config in await self._all(task_id)]

    async def delete_info(self, task_id: str, context: ServerCallContext, config_id: str | None = None) -> None:
        owner = resolve_user_scope(context)
        for o, config in await self._all(task_id):
            if o == owner and (config_id is None or config.id == config_id):
                await self._r.hdel(self._key(task_id), config.id)
