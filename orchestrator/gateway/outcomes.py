"""Completing review-bound Tasks when the analyst's outcome arrives (`riskmesh.review-outcomes`).

The executor of a review-bound Task registers a waiter and a watch (alert id ▶ task id, owner) in the ledger,
then waits. `OutcomeRouter.handle` records each outcome in the ledger and, for every watching task, either
wakes its waiter (the executor then completes the Task through the SDK: store, stream, push) or, when no
executor waits for it here (the wait timed out, or the gateway restarted), completes the stored Task itself
and sends the push notification. An outcome that came before the watch is found in the ledger by the
executor. Multi-replica note: a replica completes only the tasks watched by its own process or left by a
predecessor with the same `gateway_instance_id`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any, Protocol

import redis.asyncio as aioredis
from a2a.helpers import new_message, new_text_part
from a2a.server.tasks import PushNotificationSender, TaskStore
from a2a.types import Artifact, Part, Role, TaskState, TaskStatus
from pydantic import ValidationError

from riskmesh.contracts.gateway import REVIEW_OUTCOME_MEDIA_TYPE, ReviewOutcome
from riskmesh.contracts.settings import Settings
from riskmesh.orchestrator.gateway.payloads import reply_part
from riskmesh.orchestrator.gateway.tasks import owner_context
from riskmesh.orchestrator.kafka_io import commit_after, consumed, make_consumer, positions, rewind_to

__all__ = [
    "MemoryReviewLedger",
    "OutcomeFollower",
    "OutcomeRouter",
    "RedisReviewLedger",
    "ReviewLedger",
    "completed_status",
    "outcome_artifact",
]

log = logging.getLogger("riskmesh.gateway.outcomes")

TERMINAL = frozenset({TaskState.TASK_STATE_COMPLETED, TaskState.TASK_STATE_CANCELED, TaskState.TASK_STATE_FAILED,
                      TaskState.TASK_STATE_REJECTED})
FINAL_ARTIFACT = "final-decision"


class ReviewLedger(Protocol):
    async def record_outcome(self, outcome: ReviewOutcome) -> None: ...

    async def outcome_of(self, alert_id: str) -> ReviewOutcome | None: ...

    async def watch(self, alert_id: str, task_id: str, owner: str) -> None: ...

    async def unwatch(self, alert_id: str, task_id: str) -> None: ...

    async def watchers(self, alert_id: str) -> dict[str, str]:
        """task id ▶ owner (client id) of the Tasks following the alert."""
        ...


class MemoryReviewLedger:
    def __init__(self) -> None:
        self.outcomes: dict[str, ReviewOutcome] = {}
        self.watches: dict[str, dict[str, str]] = {}

    async def record_outcome(self, outcome: ReviewOutcome) -> None:
        self.outcomes[outcome.alert_id] = outcome

    async def outcome_of(self, alert_id: str) -> ReviewOutcome | None:
        return self.outcomes.get(alert_id)

    async def watch(self, alert_id: str, task_id: str, owner: str) -> None:
        self.watches.setdefault(alert_id, {})[task_id] = owner

    async def unwatch(self, alert_id: str, task_id: str) -> None:
        self.watches.get(alert_id, {}).pop(task_id, None)

    async def watchers(self, alert_id: str) -> dict[str, str]:
        return dict(self.watches.get(alert_id, {}))


class RedisReviewLedger:
    """Outcomes (for explain-decision too) and watches in Redis, both expiring after `ttl_s`."""

    def __init__(self, client: aioredis.Redis, ttl_s: int, prefix: str = "riskmesh:gateway") -> None:
        self._r = client
        self._ttl = ttl_s
        self._p = prefix

    async def record_outcome(self, outcome: ReviewOutcome) -> None:
        await self._r.set(f"{self._p}:outcome:{outcome.alert_id}", outcome.model_dump_json(), ex=self._ttl)

    async def outcome_of(self, alert_id: str) -> ReviewOutcome | None:
        raw = await self._r.get(f"{self._p}:outcome:{alert_id}")
        return ReviewOutcome.model_validate_json(raw) if raw is not None else None

    async def watch(self, alert_id: str, task_id: str, owner: str) -> None:
        async with self._r.pipeline(transaction=False) as pipe:
            pipe.hset(f"{self._p}:watch:{alert_id}", task_id, owner)
            pipe.expire(f"{self._p}:watch:{alert_id}", self._ttl)
            await pipe.execute()

    async def unwatch(self, alert_id: str, task_id: str) -> None:
        await self._r.hdel(f"{self._p}:watch:{alert_id}", task_id)

    async def watchers(self, alert_id: str) -> dict[str, str]:
        found = await self._r.hgetall(f"{self._p}:watch:{alert_id}")
        return {(k.decode() if isinstance(k, bytes) else k): (v.decode() if isinstance(v, bytes) else v)
                for k, v in found.items()}


def outcome_artifact(outcome: ReviewOutcome, like: Part | None) -> Artifact:
    return Artifact(artifact_id=FINAL_ARTIFACT, name=FINAL_ARTIFACT,
                    description="the final decision after the analyst's review (final_decision: pass | block)",
                    parts=[reply_part(outcome, REVIEW_OUTCOME_MEDIA_TYPE, like)])


def completed_status(outcome: ReviewOutcome, context_id: str, task_id: str) -> TaskStatus:
    text = (f"final decision {outcome.final_decision}: alert {outcome.alert_id} resolved as {outcome.disposition} "
            f"by {outcome.decided_by}" + (f", approved by {outcome.approved_by}" if outcome.approved_by else ""))
    status = TaskStatus(state=TaskState.TASK_STATE_COMPLETED,
                        message=new_message([new_text_part(text)], context_id=context_id, task_id=task_id,
                                            role=Role.ROLE_AGENT))
    status.timestamp.FromDatetime(datetime.now(UTC))
    return status


class OutcomeRouter:
    """Hands each review outcome to the Task(s) following its alert (see the module docstring)."""

    def __init__(self, ledger: ReviewLedger, task_store: TaskStore, push_sender: PushNotificationSender | None) -> None:
        self.ledger = ledger
        self._store = task_store
        self._push = push_sender
        self._waiters: dict[str, asyncio.Future[ReviewOutcome]] = {}
        self.completed_from_store = 0

    async def wait_for(self, alert_id: str, task_id: str, owner: str, timeout_s: float) -> ReviewOutcome | None:
        """The outcome of `alert_id` once known; None after `timeout_s` (the Task is then completed later from
        the store). The waiter is registered before the ledger is read, so no outcome can slip between."""
        future: asyncio.Future[ReviewOutcome] = asyncio.get_running_loop().create_future()
        self._waiters[task_id] = future
        outcome: ReviewOutcome | None = None
        try:
            await self.ledger.watch(alert_id, task_id, owner)
            outcome = await self.ledger.outcome_of(alert_id)
            if outcome is None:
                with contextlib.suppress(TimeoutError):
                    outcome = await asyncio.wait_for(asyncio.shield(future), timeout_s)
            if outcome is not None:
                await self.ledger.unwatch(alert_id, task_id)  # while the waiter stands: no completion from the store
        finally:
            self._waiters.pop(task_id, None)
        if outcome is None and future.done() and not future.cancelled():  # set between the timeout and the pop
            outcome = future.result()
            await self.ledger.unwatch(alert_id, task_id)
        return outcome

    async def stop_following(self, alert_id: str, task_id: str) -> None:
        """The caller canceled its Task: forget it (the alert itself stays with the analyst)."""
        future = self._waiters.pop(task_id, None)
        if future is not None and not future.done():
            future.cancel()
        await self.ledger.unwatch(alert_id, task_id)

    async def handle(self, outcome: ReviewOutcome) -> None:
        await self.ledger.record_outcome(outcome)
        for task_id, owner in (await self.ledger.watchers(outcome.alert_id)).items():
            future = self._waiters.get(task_id)
            if future is not None:
                if not future.done():
                    future.set_result(outcome)
                continue
            await self._complete_stored(task_id, owner, outcome)

    async def _complete_stored(self, task_id: str, owner: str, outcome: ReviewOutcome) -> None:
        context = owner_context(owner)
        task = await self._store.get(task_id, context)
        if task is not None and task.status.state not in TERMINAL:
            like = task.artifacts[0].parts[0] if task.artifacts and task.artifacts[0].parts else None
            task.artifacts.append(outcome_artifact(outcome, like))
            task.status.CopyFrom(completed_status(outcome, task.context_id, task.id))
            await self._store.save(task, context)
            self.completed_from_store += 1
            log.info("task %s of %s completed from the store: alert %s %s", task_id, owner, outcome.alert_id,
                     outcome.final_decision)
            if self._push is not None:
                await self._push.send_notification(task_id, task)
        await self.ledger.unwatch(outcome.alert_id, task_id)


class OutcomeFollower:
    """Consumes `riskmesh.review-outcomes` (own consumer group per gateway instance) into the router."""

    def __init__(self, bootstrap: str, settings: Settings, router: OutcomeRouter, *, consumer: Any = None) -> None:
        self._router = router
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gateway-outcomes")
        if consumer is None:
            consumer = make_consumer(bootstrap, group_id=f"riskmesh-gateway-{settings.gateway_instance_id}",
                                     client_id=settings.gateway_instance_id, settings=settings)
            consumer.subscribe([settings.topic_review_outcomes])
        self._consumer = consumer

    def _poll(self) -> list[Any]:
        return consumed(self._consumer.consume(500, 0.2), "review outcomes")

    async def step(self) -> int:
        loop = asyncio.get_running_loop()
        messages: Sequence[Any] = await loop.run_in_executor(self._executor, self._poll)
        try:
            for m in messages:
                try:
                    outcome = ReviewOutcome.model_validate_json(m.value() or b"")
                except ValidationError as exc:
                    log.warning("skipped a bad review outcome: %s", str(exc).splitlines()[0][:300])
                    continue
                await self._router.handle(outcome)
        except Exception:  # deliver the batch again (the consumer's position has already moved past it)
            await loop.run_in_executor(self._executor, rewind_to, self._consumer, positions(messages))
            raise
        if messages:  # a refused commit is logged there; the outcomes come again and handling them is idempotent
            await loop.run_in_executor(self._executor, commit_after, self._consumer, positions(messages))
        return len(messages)

    async def run(self, stop: asyncio.Event, retry_s: float = 1.0) -> None:
        try:
            while not stop.is_set():
                try:
                    await self.step()
                except Exception:  # top of the loop: keep following; uncommitted outcomes come again
                    log.exception("handling review outcomes failed; retrying")
                    await asyncio.sleep(retry_s)
        finally:
            await asyncio.get_running_loop().run_in_executor(self._executor, self._consumer.close)
            self._executor.shutdown(wait=False)
