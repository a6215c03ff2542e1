"""A batch goes out as one raw JSON part and the verdicts come back, over every binding."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import httpx
import pytest
from a2a_edge_doubles import TOKEN, FakeActionAgent, FakeAggregationAgent, make_tx

from riskmesh.a2a.client import AgentClient
from riskmesh.contracts import (
    VERDICTS_MEDIA_TYPE,
    ActionRequest,
    AggregatedDecision,
    AggregationRequest,
    AssessBatchRequest,
    AssessBatchResponse,
)

BINDINGS = ["grpc", "jsonrpc", "http_json"]


@pytest.mark.parametrize("binding", BINDINGS)
async def test_a_batch_round_trip_returns_one_verdict_per_transaction_in_order(start_server, fraud_agent, binding):
    server = await start_server(fraud_agent, "fraud")
    client = AgentClient("fraud", server.base_url, TOKEN, binding=binding)
    try:
        request = AssessBatchRequest(batch_id="b-1", transactions=[make_tx(i) for i in range(50)])
        response = await client.assess(request, timeout_s=10)
    finally:
        await client.aclose()
    assert response.batch_id == "b-1"
    assert response.agent == "fraud" and response.model_version == "fake-1.0"
    assert [v.tx_id for v in response.verdicts] == [t.tx_id for t in request.transactions]
    assert response.verdicts[7].evidence == {"amount": "17.25"}
    assert fraud_agent.seen == [[t.tx_id for t in request.transactions]]
    assert len(server.task_store) == 0  # a Message reply leaves no Task behind


@pytest.mark.parametrize("binding", ["grpc", "jsonrpc"])
async def test_the_aggregation_and_action_agents_round_trip_their_own_envelopes(start_server, binding):
    aggregation = await start_server(FakeAggregationAgent(), "aggregation")
    action = await start_server(FakeActionAgent(), "action")
    txs = [make_tx(i) for i in range(3)]
    agg_client = AgentClient("aggregation", aggregation.base_url, TOKEN, binding=binding)
    act_client = AgentClient("action", action.base_url, TOKEN, binding=binding)
    try:
        decided = await agg_client.aggregate(
            AggregationRequest(batch_id="b-2", transactions=txs, verdicts={"fraud": []}), timeout_s=10
        )
        acted = await act_client.act(
            ActionRequest(
                batch_id="b-2",
                decided_at=datetime(2025, 1, 2, tzinfo=UTC),
                policy_version=decided.policy_version,
                transactions=txs,
                decisions=list(decided.decisions),
            ),
            timeout_s=10,
        )
    finally:
        await agg_client.aclose()
        await act_client.aclose()
    assert decided.policy_version == "policy-test-1"
    assert [d.decision for d in decided.decisions] == ["pass"] * 3
    assert isinstance(decided.decisions[0], AggregatedDecision)
    assert [o.actions for o in acted.outcomes] == [["release"]] * 3


def _jsonrpc_send(part: dict) -> dict:
    return {
        "jsonrpc": "2.0",
        "id": "1",
        "method": "SendMessage",
        "params": {"message": {"role": "ROLE_USER", "messageId": "m-1", "parts": [part]}},
    }


@pytest.mark.parametrize("kind_of_part", ["data", "text"])
async def test_an_outside_caller_may_send_a_data_part_or_text_json_over_plain_http(
    start_server, fraud_agent, kind_of_part
):
    server = await start_server(fraud_agent, "fraud")
    batch = AssessBatchRequest(batch_id="b-3", transactions=[make_tx(1), make_tx(2)]).model_dump(mode="json")
    part = {"data": batch} if kind_of_part == "data" else {"text": json.dumps(batch)}
    part["mediaType"] = "application/json"
    headers = {"Authorization": f"Bearer {TOKEN}", "A2A-Version": "1.0"}
    async with httpx.AsyncClient() as http:
        reply = await http.post(server.base_url, json=_jsonrpc_send(part), headers=headers, timeout=10)
    assert reply.status_code == 200, reply.text
    [out] = reply.json()["result"]["message"]["parts"]
    assert out["mediaType"] == VERDICTS_MEDIA_TYPE
    response = AssessBatchResponse.model_validate_json(base64.b64decode(out["raw"]))
    assert [v.tx_id for v in response.verdicts] == ["tx-00001", "tx-00002"]
