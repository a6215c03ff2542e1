"""The orchestrator keeps its clients for hours while agents restart: a client must recover by itself."""

from __future__ import annotations

import pytest
from a2a_edge_doubles import TOKEN, make_tx

from riskmesh.a2a.client import AgentCallError, AgentClient
from riskmesh.contracts import AssessBatchRequest

BATCH = AssessBatchRequest(batch_id="b-restart", transactions=[make_tx(1), make_tx(2)])


@pytest.mark.parametrize("binding", ["grpc", "jsonrpc", "http_json"])
async def test_the_client_recovers_after_the_agent_is_stopped_and_started_on_the_same_ports(
    start_server, fraud_agent, binding
):
    first = await start_server(fraud_agent, "fraud")
    client = AgentClient("fraud", first.base_url, TOKEN, binding=binding)
    try:
        assert len((await client.assess(BATCH, timeout_s=10)).verdicts) == 2
        await first.stop(grace_s=0.2)
        with pytest.raises(AgentCallError):
            await client.assess(BATCH, timeout_s=5)
        await start_server(fraud_agent, "fraud", http_port=first.http_port, grpc_port=first.grpc_port)
        assert len((await client.assess(BATCH, timeout_s=10)).verdicts) == 2
    finally:
        await client.aclose()


@pytest.mark.parametrize("binding", ["grpc", "jsonrpc"])
async def test_a_restart_between_two_calls_costs_no_failed_call(start_server, fraud_agent, binding):
    first = await start_server(fraud_agent, "fraud")
    client = AgentClient("fraud", first.base_url, TOKEN, binding=binding)
    try:
        await client.assess(BATCH, timeout_s=10)
        await first.stop(grace_s=0.2)
        await start_server(fraud_agent, "fraud", http_port=first.http_port, grpc_port=first.grpc_port)
        assert len((await client.assess(BATCH, timeout_s=10)).verdicts) == 2
    finally:
        await client.aclose()
