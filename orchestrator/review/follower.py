"""Opens a review thread for every `review` decision on `riskmesh.decisions` (consumer group `riskmesh-review`).

At-least-once: offsets are committed only after `open_many` checkpointed the threads; opening is idempotent
per alert id, so a redelivered decision changes nothing. A bad record is logged and skipped, never fatal.
The blocking kafka-python consumer lives on one dedicated thread; the asyncio loop only awaits it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol

import orjson
from kafka import KafkaConsumer
from pydantic import ValidationError

from riskmesh.contracts import Decision
from riskmesh.contracts.settings import Settings
from riskmesh.orchestrator.kafka_io import commit_after, rewind_to
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
        self._consumer = consumer or KafkaConsumer(
            settings.topic_decisions,
            bootstrap_servers=bootstrap,
            group_id=settings.review_consumer_group,
            client_id=client_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            session_timeout_ms=settings.session_timeout_ms,
            heartbeat_interval_ms=settings.heartbeat_interval_ms,
            max_poll_records=max_batch,
            max_poll_interval_ms=300_000,
        )

    async def _on_thread(self, fn: Any, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    def _poll(self) -> list[Any]:
        polled = self._consumer.poll(timeout_ms=200, max_records=self._max_batch)
        return [m for msgs in polled.values() for m in msgs]

    async def step(self) -> int:
        """One poll: open the reviews it holds, then commit. Returns the records handled (0 when idle)."""
        messages = await self._on_thread(self._poll)
        if not messages:
            return 0
        tickets = tickets_from((m.value for m in messages), self.stats)
        if tickets:
            try:
                self.stats.opened += await self._opener.open_many(tickets)
            except Exception:  # top of the loop: keep following, redeliver this batch
                self.stats.failed_batches += 1
                log.exception("could not open %d reviews; the batch will be delivered again", len(tickets))
                await self._on_thread(rewind_to, self._consumer, messages)
                await asyncio.sleep(self._retry_s)
                return 0
        # a refused commit (a rebalance moved the partitions) is logged there: their new owner re-opens (idempotent)
        await self._on_thread(commit_after, self._consumer, messages)
        return len(messages)

    async def run(self, stop: asyncio.Event) -> None:
        """Follow until `stop` is set, then close the consumer (uncommitted records are delivered again)."""
        try:
            while not stop.is_set():
                await self.step()
        finally:
            await self._on_thread(self._consumer.close, False)
            self._executor.shutdown(wait=False)
