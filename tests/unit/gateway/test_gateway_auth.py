"""Every call needs valid credentials and the skill's scope; refused calls never get a decision."""

from __future__ import annotations

import grpc
import pytest
from a2a.types import Message, Part, Role, SendMessageRequest, a2a_pb2_grpc
from gateway_doubles import BANK_KEY, BANK_TOKEN, READER_TOKEN, SLOW_TOKEN, bearer, message, rpc, send, tx
from google.protobuf.json_format import ParseDict
from google.protobuf.struct_pb2 import Value

from riskmesh.orchestrator.gateway.clients import Authenticator, AuthError, dev_clients, hash_secret, load_clients


async def test_a_json_rpc_call_without_credentials_gets_401_and_a_json_rpc_error_and_no_decision(gateway):
    response = await gateway.http.post("/", json=rpc("SendMessage", {"message": message(tx("T-1"))}, 7))
    assert response.status_code == 401
    body = response.json()
    assert body["id"] == 7 and body["error"]["code"] == -32041 and "result" not in body
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert gateway.supervisor.batches == []


async def test_a_bad_bearer_token_is_refused_on_json_rpc_and_rest(gateway):
    rpc_reply = await gateway.http.post("/", json=rpc("SendMessage", {"message": message(tx("T-1"))}),
                                        headers=bearer("wrong"))
    rest_reply = await gateway.http.post("/message:send", json={"message": message(tx("T-1"))},
                                         headers=bearer("wrong"))
    assert rpc_reply.status_code == rest_reply.status_code == 401
    assert rest_reply.json()["error"]["status"] == "UNAUTHENTICATED"
    assert gateway.supervisor.batches == []


async def test_a_token_without_the_skill_scope_is_refused_with_403(gateway):
    feedback = {"feedback": [{"tx_id": "T-1", "kind": "chargeback"}]}
    reply = await gateway.http.post("/", json=rpc("SendMessage", {"message": message(feedback)}),
                                    headers=bearer(READER_TOKEN))
    assert reply.status_code == 403 and reply.json()["error"]["code"] == -32043
    assert gateway.labels.records == []


async def test_asking_for_a_task_needs_the_assess_task_scope(gateway):
    params = {"message": message(tx("T-2", "20000"), metadata={"riskmesh": {"await_review": True}})}
    reply = await gateway.http.post("/message:send", json=params, headers=bearer(READER_TOKEN))
    assert reply.status_code == 403 and "assess:task" in reply.json()["error"]["message"]
    get = await gateway.http.post("/", json=rpc("GetTask", {"id": "any"}), headers=bearer(READER_TOKEN))
    assert get.status_code == 403
    assert gateway.supervisor.batches == []


async def test_an_api_key_header_works_and_is_not_accepted_as_a_bearer_token(gateway):
    reply = await gateway.http.post("/message:send", json={"message": message(tx("T-3"))},
                                    headers={"X-API-Key": BANK_KEY})
    assert reply.status_code == 200 and reply.json()["message"]["parts"][0]["data"]["decision"] == "pass"
    as_bearer = await gateway.http.post("/message:send", json={"message": message(tx("T-4"))},
                                        headers=bearer(BANK_KEY))
    assert as_bearer.status_code == 401


async def test_a_client_over_its_rate_limit_gets_429_with_retry_after(gateway):
    statuses = []
    for i in range(3):
        reply = await gateway.http.post("/message:send", json={"message": message(tx(f"T-r{i}"))},
                                        headers=bearer(SLOW_TOKEN))
        statuses.append(reply.status_code)
    assert statuses == [200, 200, 429]
    assert int(reply.headers["retry-after"]) >= 1


async def test_the_card_and_healthz_are_public(gateway):
    assert (await gateway.http.get("/.well-known/agent-card.json")).status_code == 200
    assert (await gateway.http.get("/healthz")).json()["status"] == "ok"


def _send_request(payload: dict, skill: str | None = None) -> SendMessageRequest:
    value = Value()
    ParseDict(payload, value)
    msg = Message(role=Role.ROLE_USER, message_id="m-1", parts=[Part(data=value)])
    if skill:
        msg.metadata.update({"riskmesh": {"skill": skill}})
    return SendMessageRequest(message=msg)


async def test_grpc_refuses_missing_credentials_and_missing_scopes_and_serves_a_valid_token(gateway):
    async with grpc.aio.insecure_channel(gateway.grpc_target) as channel:
        stub = a2a_pb2_grpc.A2AServiceStub(channel)
        with pytest.raises(grpc.aio.AioRpcError) as missing:
            await stub.SendMessage(_send_request(tx("T-g1")))
        assert missing.value.code() == grpc.StatusCode.UNAUTHENTICATED
        feedback = {"feedback": [{"tx_id": "T-g1", "kind": "false_positive"}]}
        with pytest.raises(grpc.aio.AioRpcError) as forbidden:
            await stub.SendMessage(_send_request(feedback), metadata=[("authorization", f"Bearer {READER_TOKEN}")])
        assert forbidden.value.code() == grpc.StatusCode.PERMISSION_DENIED
        reply = await stub.SendMessage(_send_request(tx("T-g2")), metadata=[("x-api-key", BANK_KEY)])
        assert reply.message.parts[0].data.struct_value.fields["decision"].string_value == "pass"
    assert [b for b in gateway.supervisor.batches if "T-g1" in b] == []


def test_clients_files_hold_only_digests_and_unknown_scopes_are_rejected(tmp_path):
    good = tmp_path / "clients.yaml"
    good.write_text(f"clients:\n  - id: core\n    scopes: [assess]\n    credentials:\n"
                    f"      - {{type: bearer, sha256: {hash_secret('s3cret')}}}\n")
    auth = Authenticator(load_clients(good))
    assert auth.authenticate({"authorization": "Bearer s3cret"}).client_id == "core"
    bad = tmp_path / "bad.json"
    bad.write_text('{"clients": [{"id": "x", "scopes": ["admin"], "credentials": [{"type": "bearer", '
                   f'"sha256": "{hash_secret("a")}"}}]}}]}}')
    with pytest.raises(ValueError, match=r"bad\.json"):
        load_clients(bad)


def test_the_dev_client_accepts_its_token_both_ways_with_every_scope():
    auth = Authenticator(dev_clients("dev-token"))
    for headers in ({"authorization": "Bearer dev-token"}, {"x-api-key": "dev-token"}):
        principal = auth.authenticate(headers)
        assert principal.client_id == "dev" and "assess:task" in principal.scopes
    with pytest.raises(AuthError) as refused:
        auth.authenticate({})
    assert refused.value.status == 401


async def test_a_valid_token_gets_a_decision(gateway):
    result = await send(gateway, tx("T-ok"), token=BANK_TOKEN)
    assert result["message"]["parts"][0]["data"]["tx_id"] == "T-ok"
