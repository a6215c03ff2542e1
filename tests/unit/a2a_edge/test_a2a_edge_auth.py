"""Every call needs the bearer token: HTTP answers 401 with a reason, gRPC answers UNAUTHENTICATED."""

from __future__ import annotations

import grpc
import httpx
import pytest
from a2a.types import Message, Part, Role, SendMessageRequest, a2a_pb2_grpc
from a2a_edge_doubles import TOKEN, make_tx

from riskmesh.a2a.auth import check_bearer
from riskmesh.a2a.client import AgentCallError, AgentClient
from riskmesh.contracts import AssessBatchRequest

BATCH = AssessBatchRequest(batch_id="b-auth", transactions=[make_tx(1)])


@pytest.mark.parametrize("path", ["", "message:send"])
@pytest.mark.parametrize(
    ("headers", "reason"),
    [({}, "missing bearer token"), ({"Authorization": "Bearer nope"}, "invalid bearer token")],
)
async def test_http_calls_without_the_right_token_are_refused_with_401_and_a_reason(
    start_server, fraud_agent, path, headers, reason
):
    server = await start_server(fraud_agent, "fraud")
    async with httpx.AsyncClient() as http:
        response = await http.post(f"{server.base_url}{path}", json={}, headers={"A2A-Version": "1.0", **headers})
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.json()["error"]["message"].startswith(reason)
    assert fraud_agent.seen == []


async def test_a_grpc_call_without_metadata_is_refused_as_unauthenticated(start_server, fraud_agent):
    server = await start_server(fraud_agent, "fraud")
    message = Message(role=Role.ROLE_USER, message_id="m", parts=[Part(raw=b"{}")])
    async with grpc.aio.insecure_channel(server.grpc_target) as channel:
        stub = a2a_pb2_grpc.A2AServiceStub(channel)
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await stub.SendMessage(SendMessageRequest(message=message), timeout=10)
    assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert "missing bearer token" in refused.value.details()


@pytest.mark.parametrize(
    ("binding", "expected"),
    [
        ("grpc", "UNAUTHENTICATED: invalid bearer token"),
        ("jsonrpc", "HTTP 401: invalid bearer token"),
        ("http_json", "HTTP 401: invalid bearer token"),
    ],
)
async def test_a_client_with_the_wrong_token_gets_an_agent_call_error_saying_so(
    start_server, fraud_agent, binding, expected
):
    server = await start_server(fraud_agent, "fraud")
    client = AgentClient("fraud", server.base_url, "not-the-token", binding=binding)
    try:
        with pytest.raises(AgentCallError, match=expected) as refused:
            await client.assess(BATCH, timeout_s=10)
    finally:
        await client.aclose()
    assert refused.value.agent == "fraud"
    assert fraud_agent.seen == []


def test_the_bearer_check_accepts_only_the_exact_token_with_the_bearer_scheme():
    assert check_bearer(f"Bearer {TOKEN}", TOKEN) is None
    assert check_bearer(f"bearer {TOKEN}", TOKEN) is None
    assert check_bearer(None, TOKEN) == check_bearer(f"Basic {TOKEN}", TOKEN) == check_bearer("Bearer ", TOKEN)
    assert check_bearer(f"Bearer {TOKEN}x", TOKEN) == "invalid bearer token"
