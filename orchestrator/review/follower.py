"""Opens a review thread for every `review` decision on `riskmesh.decisions` (consumer group `riskmesh-review`).

At-least-once: offsets are committed only after `open_many` checkpointed the threads; opening is idempotent
per alert id, so a redelivered decision changes nothing. A bad record is logged and skipped, never fatal.
The blocking librdkafka consumer lives on one dedicated thread; the asyncio loop only awaits it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol

import orjson
from pydantic import ValidationError

from riskmesh.contracts import Decision
from riskmesh.contracts.settings import Settings
from riskmesh.orchestrator.kafka_io import Position, commit_after, consumed, make_consumer, positions, rewind_to
from riskmesh.orchestrator.review.graph import ReviewTicket

__all__ = ["DecisionFollower", "FollowerStats", "ReviewOpener", "tickets_from"]

log = logging.getLogger("riskmesh.review.follower")


class ReviewOpener(Protocol):
    async def open_many(self, reviews: Iterable[ReviewTicket]) -> int: ...


@dataclass
class FollowerStats:
    records: int = 0
    reviews: int = 0
    opened: int = 0
    bad: int = 0
    failed_batches: int = 0


def tickets_from(values: Iterable[bytes | None], stats: FollowerStats | None = None) -> list[ReviewTicket]:
    """The review tickets among decision record values; everything else is skipped, bad records logged.

    Only `review` decisions are validated as a whole (pass and block are most of the stream).
    """
    stats = stats if stats is not None else FollowerStats()
    out: list[ReviewTicket] = []
    for value in values:
        stats.records += 1
        try:
            raw = orjson.loads(value or b"")
            if not isinstance(raw, dict):
                raise TypeError(f"a decision is a JSON object, not {type(raw).__name__}")
            if raw.get("decision") != "review":
                continue
            ticket = ReviewTicket.from_decision(Decision.model_validate(raw))
        except (orjson.JSONDecodeError, ValidationError, TypeError) as exc:
            stats.bad += 1
            log.warning("skipped a bad decision record: %s", str(exc).splitlines()[0][:300])
            continue
        if ticket is None:
            stats.bad += 1
            log.warning("skipped a review decision without alert_id")
            continue
        out.append(ticket)
    stats.reviews += len(out)
    return out


class DecisionFollower:
    """Consumer of the decision stream that holds every `review` in the review graph."""

    def __init__(self, bootstrap: str, settings: Settings, opener: ReviewOpener, *,
                 client_id: str = "riskmesh-review-follower", max_batch: int = 500, retry_s: float = 1.0,
                 consumer: Any = None) -> None:
        self._opener = opener
        self._max_batch = max_batch
        self._retry_s = retry_s
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="review-follower")
        self.stats = FollowerStats()
        if consumer is None:
            consumer = make_consumer(bootstrap, group_id=settings.review_consumer_group, client_id=client_id,
                                     settings=settings)
            consumer.subscribe([settings.topic_decisions])
        self._consumer = consumer

    async def _on_thread(self, fn: Any, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    def _poll(self) -> tuple[list[bytes | None], list[Position]]:
        """Up to max_batch decision records (waiting at most 200 ms): their values and where they came from."""
        messages = consumed(self._consumer.consume(self._max_batch, 0.2), "decision follower")
        return [m.value() for m in messages], positions(messages)

    async def step(self) -> int:
        """One poll: open the reviews it holds, then commit. Returns the records handled (0 when idle)."""
        values, where = await self._on_thread(self._poll)
        if not values:
            return 0
        tickets = tickets_from(values, self.stats)
        if tickets:
            try:
                self.stats.opened += await self._opener.open_many(tickets)
            except Exception:  # top of the loop: keep following, redeliver this batch
                self.stats.failed_batches += 1
                log.exception("could not open %d reviews; the batch will be delivered again", len(tickets))
                await self._on_thread(rewind_to, self._consumer, where)
                await asyncio.sleep(self._retry_s)
                return 0
        # a refused commit (a rebalance moved the partitions) is logged there: their new owner re-opens (idempotent)
        await self._on_thread(commit_after, self._consumer, where)
        return len(values)

    async def run(self, stop: asyncio.Event) -> None:
        """Follow until `stop` is set, then close the consumer (uncommitted records are delivered again)."""
        try:
            while not stop.is_set():
                await self.step()
        finally:
            await self._on_thread(self._consumer.close)
            self._executor.shutdown(wait=False)
