"""Concurrent assess requests are coalesced into micro-batches: one supervisor run per batch."""

from __future__ import annotations

import asyncio

import pytest
from gateway_doubles import FakeSupervisor, bearer, message, rpc, running_gateway, tx

from riskmesh.contracts import Transaction
from riskmesh.orchestrator.decision_store import MemoryDecisionStore
from riskmesh.orchestrator.gateway.coalescer import Coalescer, DecisionUnavailable, SupervisorRunner


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
