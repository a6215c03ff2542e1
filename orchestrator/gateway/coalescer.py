"""Concurrent assess requests coalesced into micro-batches: one supervisor run per batch, one decision per caller.

A batch closes when it holds `max_size` transactions or `max_wait_s` after its first one arrived, whichever
comes first; up to `concurrency` batches are decided at once. When no batch is being decided, a batch closes
as soon as the queue is empty: an idle gateway has nothing to wait for, and the wait would be pure latency for
a lone caller; under load, the batches in flight are what give the next one time to fill. Every caller
awaits the future of its own transaction. A tx_id already decided (an earlier call, the stream path, or twice
in one batch) gets the stored decision: the decision store keeps exactly one per tx_id.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from riskmesh.contracts import Decision, Transaction
from riskmesh.orchestrator.decision_store import DecisionStore
from riskmesh.orchestrator.pipeline import BatchResult, InboundRecord

__all__ = ["BatchRunner", "Coalescer", "DecisionUnavailable", "SupervisorRunner"]

log = logging.getLogger("riskmesh.gateway.coalescer")

GATEWAY_TOPIC = "gateway"
"""`InboundRecord.topic` of gateway requests (the supervisor names it in dead letters, which validation prevents)."""


class DecisionUnavailable(RuntimeError):
    """The batch this transaction was in could not be decided (the supervisor or a store failed)."""


class Supervising(Protocol):
    async def run(self, records: list[InboundRecord]) -> BatchResult: ...


BatchRunner = Callable[[Sequence[Transaction]], Awaitable[dict[str, Decision]]]
"""Decides a batch; returns the decision of every tx_id in it."""


class SupervisorRunner:
    """BatchRunner over the supervisor graph and the idempotent decision store."""

    def __init__(self, supervisor: Supervising, store: DecisionStore, clock: Callable[[], float] = time.time) -> None:
        self._supervisor = supervisor
        self._store = store
        self._clock = clock
        self._running: dict[str, int] = {}
        self._contested: set[str] = set()
        self.runs = 0

    async def __call__(self, transactions: Sequence[Transaction]) -> dict[str, Decision]:
        now_ms = self._clock() * 1000
        ids = {tx.tx_id for tx in transactions}
        for tx_id in ids:  # the same tx_id in two batches at once: only the stored decision counts
            if self._running.get(tx_id):
                self._contested.add(tx_id)
            self._running[tx_id] = self._running.get(tx_id, 0) + 1
        try:
            records = [InboundRecord(value=tx.model_dump_json().encode(), key=tx.debtor.account_id,
                                     topic=GATEWAY_TOPIC, ingest_ms=now_ms) for tx in transactions]
            self.runs += 1
            result = await self._supervisor.run(records)
            decided = {d.tx_id: d for d in result.decisions}
            recheck = [t for t in ids if t not in decided or t in self._contested]
            if recheck:  # decided before, twice in this batch, or raced: the stored decision, never a new one
                for tx_id, stored in (await self._store.lookup(recheck)).items():
                    decided[tx_id] = Decision.model_validate_json(stored.payload)
            return decided
        finally:
            for tx_id in ids:
                left = self._running.pop(tx_id) - 1
                if left:
                    self._running[tx_id] = left
                else:
                    self._contested.discard(tx_id)


@dataclass(slots=True)
class _Pending:
    tx: Transaction
    future: asyncio.Future[Decision]
    at: float


class Coalescer:
    """Joins concurrent `assess` calls into micro-batches for `runner`; `start()` before use, `aclose()` after."""

    def __init__(self, runner: BatchRunner, *, max_size: int, max_wait_s: float, concurrency: int = 4) -> None:
        if max_size < 1:
            raise ValueError("max_size must be at least 1")
        self._runner = runner
        self._max_size = max_size
        self._max_wait_s = max(0.0, max_wait_s)
        self._queue: asyncio.Queue[_Pending] = asyncio.Queue()
        self._slots = asyncio.Semaphore(concurrency)
        self._loop_task: asyncio.Task[None] | None = None
        self._inflight: set[asyncio.Task[None]] = set()
        self.batches = 0

    async def start(self) -> None:
        if self._loop_task is None:
            self._loop_task = asyncio.create_task(self._collect(), name="gateway-coalescer")

    async def assess(self, tx: Transaction) -> Decision:
        return (await self.assess_many([tx]))[0]

    async def assess_many(self, txs: Sequence[Transaction]) -> list[Decision]:
        """The decision of each transaction, in order; DecisionUnavailable when its batch failed."""
        if self._loop_task is None:
            raise RuntimeError("the coalescer is not started")
        loop = asyncio.get_running_loop()
        now = time.monotonic()
        pending = [_Pending(tx, loop.create_future(), now) for tx in txs]
        for item in pending:
            self._queue.put_nowait(item)
        return list(await asyncio.gather(*(p.future for p in pending)))

    async def _collect(self) -> None:
        while True:
            first = await self._queue.get()
            batch = [first]
            deadline = first.at + self._max_wait_s
            while len(batch) < self._max_size:
                try:
                    batch.append(self._queue.get_nowait())
                    continue
                except asyncio.QueueEmpty:
                    pass
                left = deadline - time.monotonic()
                if left <= 0 or not self._inflight:
                    break
                try:
                    batch.append(await asyncio.wait_for(self._queue.get(), timeout=left))
                except TimeoutError:
                    break
            await self._slots.acquire()
            task = asyncio.create_task(self._decide(batch), name="gateway-batch")
            self._inflight.add(task)
            task.add_done_callback(self._inflight.discard)

    async def _decide(self, batch: list[_Pending]) -> None:
        try:
            self.batches += 1
            try:
                decided = await self._runner([p.tx for p in batch])
            except Exception as exc:  # boundary: every caller of the batch gets the failure, the loop goes on
                log.exception("a gateway batch of %d failed", len(batch))
                for p in batch:
                    if not p.future.done():
                        p.future.set_exception(DecisionUnavailable(f"the batch could not be decided: {exc}"))
                return
            for p in batch:
                if p.future.done():
                    continue
                decision = decided.get(p.tx.tx_id)
                if decision is None:
                    p.future.set_exception(DecisionUnavailable(f"no decision for {p.tx.tx_id}"))
                else:
                    p.future.set_result(decision)
        finally:
            self._slots.release()

    async def aclose(self) -> None:
        task, self._loop_task = self._loop_task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._inflight:
            await asyncio.wait(self._inflight, timeout=10)
        while not self._queue.empty():
            item = self._queue.get_nowait()
            if not item.future.done():
                item.future.set_exception(DecisionUnavailable("the gateway is shutting down"))
