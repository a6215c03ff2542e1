"""AgentPool: one long-lived client per agent, started together, calls counted per agent."""

from __future__ import annotations

import pytest
from a2a_edge_doubles import TOKEN, FakeAnalysisAgent, free_port, make_tx

from riskmesh.a2a.client import AgentCallError, AgentPool
from riskmesh.contracts import AssessBatchRequest

BATCH = AssessBatchRequest(batch_id="b-pool", transactions=[make_tx(1)])


async def test_the_pool_holds_one_client_per_agent_and_counts_their_calls(start_server):
    fraud = await start_server(FakeAnalysisAgent("fraud"), "fraud")
    credit = await start_server(FakeAnalysisAgent("credit"), "credit")
    pool = AgentPool(
        {"fraud": (fraud.base_url, fraud.grpc_target), "credit": (credit.base_url, credit.grpc_target)},
        TOKEN,
        binding="grpc",
    )
    try:
        await pool.start()
        assert pool.get("fraud") is pool.get("fraud")
        assert pool.get("credit").card.name == "riskmesh-credit"
        for _ in range(3):
            await pool.get("fraud").assess(BATCH, timeout_s=10)
        response = await pool.get("credit").assess(BATCH, timeout_s=10)
        assert response.agent == "credit"
        assert pool.calls == {"fraud": 3, "credit": 1}
        with pytest.raises(KeyError, match="configured: fraud, credit"):
            pool.get("behaviour")
    finally:
        await pool.aclose()


async def test_starting_a_pool_names_the_agents_it_cannot_reach(start_server):
    fraud = await start_server(FakeAnalysisAgent("fraud"), "fraud")
    down = f"127.0.0.1:{free_port()}"
    pool = AgentPool({"fraud": (fraud.base_url, fraud.grpc_target), "compliance": (f"http://{down}/", down)}, TOKEN)
    try:
        with pytest.raises(AgentCallError, match="compliance") as failed:
            await pool.start()
        assert failed.value.agent == "compliance"
    finally:
        await pool.aclose()


def test_a_pool_refuses_unknown_agent_kinds_and_bindings():
    with pytest.raises(ValueError, match="unknown agent kind"):
        AgentPool({"oracle": ("http://127.0.0.1:1/", "127.0.0.1:2")}, TOKEN)
    with pytest.raises(ValueError, match="unknown binding"):
        AgentPool({"fraud": ("http://127.0.0.1:1/", "127.0.0.1:2")}, TOKEN, binding="soap")
