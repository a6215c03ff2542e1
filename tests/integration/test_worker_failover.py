"""Scale-out acceptance: two orchestrator workers in one consumer group share the transaction partitions;
when one is SIGKILLed mid-stream the survivor takes all of them over and every transaction is decided once.

What "exactly one decision" means here (docs/decisions/0002): delivery is at-least-once, so a batch the
dead worker had decided but not committed is redelivered to the survivor. The idempotent store then either
skips it (decision emitted and flagged) or re-emits the *recorded* decision (killed between the broker's
ack and the emitted flag). So each tx_id has exactly one distinct decision on riskmesh.decisions; a tx_id
may appear more than once only as a byte-identical copy of that decision.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
import redis
from conftest import integration_settings

from riskmesh.orchestrator.demo import synthetic_messages
from riskmesh.orchestrator.stack import Stack
from riskmesh.orchestrator.streaming import DecisionTap, produce
from riskmesh.orchestrator.worker import WORKERS_KEY

pytestmark = pytest.mark.integration

TX = 6_000
RATE = 300.0  # tx/s offered: 20 s of stream, well within what two workers decide on 2 cores
KILL_AT = TX // 3
TAKEOVER_S = 10.0


class _CopyingTap(DecisionTap):
    """A DecisionTap that also keeps every decision message's bytes per tx_id (read them after `stop()`)."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.copies: dict[str, list[bytes]] = defaultdict(list)

    def _absorb(self, is_dlq: bool, values: list[bytes]) -> None:
        if not is_dlq:
            for value in values:
                tx_id = orjson.loads(value)["tx_id"]
                if tx_id.startswith(self.prefix):
                    self.copies[tx_id].append(value)
        super()._absorb(is_dlq, values)


@pytest.fixture
def two_workers(tmp_path: Path) -> Iterator[Stack]:
    stack = Stack(integration_settings(tmp_path), workers=2, review=False, gateway=False, soc=False)
    stack.start()
    try:
        yield stack
    finally:
        stack.stop()


def _holdings(client: redis.Redis) -> dict[str, list[str]]:
    raw: dict[bytes, bytes] = client.hgetall(WORKERS_KEY)  # type: ignore[assignment]
    return {k.decode(): json.loads(v)["partitions"] for k, v in raw.items()}


def _poll(predicate, timeout_s: float, what: str) -> float:  # type: ignore[no-untyped-def]
    """Seconds until `predicate()` held; fails the test after `timeout_s`."""
    started = time.monotonic()
    while not predicate():
        if time.monotonic() - started > timeout_s:
            pytest.fail(f"timed out after {timeout_s:g} s waiting for {what}")
        time.sleep(0.05)
    return time.monotonic() - started


def test_a_killed_worker_s_partitions_go_to_the_survivor_and_every_transaction_gets_exactly_one_decision(
        two_workers: Stack) -> None:
    stack, settings = two_workers, two_workers.settings
    assert stack.info is not None
    everything = sorted(f"{settings.topic_transactions}:{p}" for p in range(settings.transaction_partitions))
    client = redis.Redis.from_url(stack.info.redis)
    prefix = f"F{uuid.uuid4().hex[:8]}"
    messages = synthetic_messages(stack.info.world_dir, TX, 0, 61, prefix)
    tap = _CopyingTap(stack.info.kafka, settings.topic_decisions, settings.topic_dlq, prefix=prefix).start()
    stop = threading.Event()
    producer = threading.Thread(target=produce, args=(stack.info.kafka, settings.topic_transactions, messages),
                                kwargs={"rate": RATE, "stop": stop}, daemon=True)
    try:
        held = _holdings(client)
        assert held.get("worker-0") and held.get("worker-1"), f"both workers hold partitions: {held}"
        assert sorted(held["worker-0"] + held["worker-1"]) == everything, held

        producer.start()
        _poll(lambda: tap.stats.decisions >= KILL_AT, 60, f"{KILL_AT} decisions before the kill")
        stack.worker_procs[0].kill()  # SIGKILL: no clean leave, the group notices by session timeout
        decided_at_kill = tap.stats.decisions
        assert decided_at_kill < TX, "the kill must land mid-stream"

        took_over_s = _poll(lambda: sorted(_holdings(client).get("worker-1", [])) == everything, TAKEOVER_S,
                            "worker-1 to hold every partition")
        resumed_at = tap.stats.decisions
        _poll(lambda: tap.stats.decisions > resumed_at + 100, 20, "decisions to resume after the takeover")
        assert stack.worker_procs[1].alive()

        assert tap.wait_for(TX, timeout_s=60), f"decided {tap.stats.decisions} of {TX}"
        _poll(lambda: not producer.is_alive(), 5, "the producer to finish")
    finally:
        stop.set()
        tap.stop()
        client.close()

    copies = tap.copies
    assert len(copies) == TX == tap.stats.decisions, f"distinct tx_ids decided: {len(copies)} of {TX}"
    assert tap.stats.dlq == 0
    changed = {t: c for t, c in copies.items() if any(x != c[0] for x in c[1:])}
    assert not changed, f"re-emitted decisions differ from the first for {sorted(changed)[:5]}"
    repeated = sum(len(c) - 1 for c in copies.values())
    print(f"\nfailover: killed at {decided_at_kill}/{TX} decided, survivor held all partitions after "
          f"{took_over_s:.2f} s, {tap.stats.messages} decision messages for {TX} tx ({repeated} identical re-emits)")
