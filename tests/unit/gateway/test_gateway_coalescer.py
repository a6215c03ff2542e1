"""Concurrent assess requests are coalesced into micro-batches: one supervisor run per batch."""

from __future__ import annotations

import asyncio

import pytest
from gateway_doubles import FakeSupervisor, bearer, message, rpc, running_gateway, tx

from riskmesh.contracts import Transaction
from riskmesh.orchestrator.decision_store import MemoryDecisionStore
from riskmesh.orchestrator.gateway.coalescer import Coalescer, DecisionUnavailable, SupervisorRunner
from riskmesh.orchestrator.pipeline import BatchResult, InboundRecord


def make(max_size: int = 100, max_wait_s: float = 0.05) -> tuple[Coalescer, FakeSupervisor]:
    store = MemoryDecisionStore()
    supervisor = FakeSupervisor(store)
    return Coalescer(SupervisorRunner(supervisor, store), max_size=max_size, max_wait_s=max_wait_s), supervisor


def t(tx_id: str, amount: str = "10.00") -> Transaction:
    return Transaction.model_validate(tx(tx_id, amount))


async def test_concurrent_calls_join_one_supervisor_run_and_each_caller_gets_its_own_decision():
    coalescer, supervisor = make(max_size=20, max_wait_s=1.0)
    await coalescer.start()
    try:
        decisions = await asyncio.gather(*(coalescer.assess(t(f"T-{i}")) for i in range(20)))
    finally:
        await coalescer.aclose()
    assert len(supervisor.batches) == 1
    assert [d.tx_id for d in decisions] == [f"T-{i}" for i in range(20)]


async def test_a_batch_closes_at_its_max_size():
    coalescer, supervisor = make(max_size=4, max_wait_s=1.0)
    await coalescer.start()
    try:
        await coalescer.assess_many([t(f"T-{i}") for i in range(10)])
    finally:
        await coalescer.aclose()
    assert sorted(len(b) for b in supervisor.batches) == [2, 4, 4]


async def test_the_same_tx_id_again_gets_the_stored_decision():
    coalescer, _ = make(max_wait_s=0.001)
    await coalescer.start()
    try:
        first = await coalescer.assess(t("T-1"))
        again = await coalescer.assess(t("T-1"))
        twice = await coalescer.assess_many([t("T-2"), t("T-2")])
    finally:
        await coalescer.aclose()
    assert again.model_dump_json() == first.model_dump_json()  # as callers see it (JSON keeps milliseconds)
    assert twice[0].model_dump_json() == twice[1].model_dump_json()


async def test_a_failed_batch_fails_its_callers_and_the_next_batch_is_decided():
    coalescer, supervisor = make(max_wait_s=0.001)
    await coalescer.start()
    try:
        supervisor.fail = True
        with pytest.raises(DecisionUnavailable):
            await coalescer.assess(t("T-1"))
        supervisor.fail = False
        assert (await coalescer.assess(t("T-1"))).decision == "pass"
    finally:
        await coalescer.aclose()


async def test_concurrent_json_rpc_callers_are_decided_in_one_batch():
    async with running_gateway(max_size=12, max_wait_s=5.0) as gw:
        calls = [gw.http.post("/", json=rpc("SendMessage", {"message": message(tx(f"T-{i}"))}, i), headers=bearer())
                 for i in range(12)]
        replies = await asyncio.gather(*calls)
        tx_ids = [r.json()["result"]["message"]["parts"][0]["data"]["tx_id"] for r in replies]
        assert tx_ids == [f"T-{i}" for i in range(12)]
        assert len(gw.supervisor.batches) == 1


async def test_a_lone_caller_on_an_idle_gateway_does_not_wait_for_the_batch_window():
    coalescer, supervisor = make(max_wait_s=30.0)
    await coalescer.start()
    try:
        async with asyncio.timeout(5):
            decision = await coalescer.assess(t("T-1"))
    finally:
        await coalescer.aclose()
    assert decision.tx_id == "T-1"
    assert supervisor.batches == [["T-1"]]


class EnteredSupervisor(FakeSupervisor):
    """Says when a batch has reached the supervisor (and is held there by `gate`)."""

    def __init__(self, store: MemoryDecisionStore) -> None:
        super().__init__(store)
        self.entered = asyncio.Event()

    async def run(self, records: list[InboundRecord]) -> BatchResult:
        self.entered.set()
        return await super().run(records)


async def test_callers_arriving_while_a_batch_is_decided_share_the_next_batch():
    store = MemoryDecisionStore()
    supervisor = EnteredSupervisor(store)
    supervisor.gate = asyncio.Event()
    coalescer = Coalescer(SupervisorRunner(supervisor, store), max_size=100, max_wait_s=0.05)
    await coalescer.start()
    try:
        async with asyncio.timeout(5):
            first = asyncio.create_task(coalescer.assess(t("T-0")))
            await supervisor.entered.wait()  # the lone first caller's batch is being decided
            rest = [asyncio.create_task(coalescer.assess(t(f"T-{i}"))) for i in (1, 2, 3)]
            await asyncio.sleep(0.1)  # past the batch window: the three have been batched together
            supervisor.gate.set()
            await asyncio.gather(first, *rest)
    finally:
        await coalescer.aclose()
    assert supervisor.batches == [["T-0"], ["T-1", "T-2", "T-3"]]
