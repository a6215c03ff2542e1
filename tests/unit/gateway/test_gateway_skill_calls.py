"""assess-batch, explain-decision and submit-feedback, and how a message picks its skill."""

from __future__ import annotations

import base64
import json

import pytest
from gateway_doubles import bearer, message, outcome, rpc, send, tx

from riskmesh.contracts.gateway import BATCH_ASSESS_REQUEST_MEDIA_TYPE, EXPLAIN_REQUEST_MEDIA_TYPE
from riskmesh.orchestrator.gateway.skills import ASSESS, BATCH, EXPLAIN, FEEDBACK, UnknownSkill, select_skill


def data_of(result: dict) -> dict:
    return result["message"]["parts"][0]["data"]


async def test_assess_batch_decides_every_transaction_in_order_in_one_run(gateway):
    result = await send(gateway, {"request_id": "B-1", "transactions": [tx("T-1"), tx("B-2"), tx("T-3", "20000")]})
    body = data_of(result)
    assert body["request_id"] == "B-1"
    assert [(d["tx_id"], d["decision"]) for d in body["decisions"]] == [("T-1", "pass"), ("B-2", "block"),
                                                                       ("T-3", "review")]
    assert gateway.supervisor.batches == [["T-1", "B-2", "T-3"]]


async def test_a_raw_json_request_gets_a_raw_json_reply_of_the_declared_media_type(gateway):
    raw = base64.b64encode(json.dumps({"transactions": [tx("T-r")]}).encode()).decode()
    msg = {"messageId": "m-raw", "role": "ROLE_USER",
           "parts": [{"raw": raw, "mediaType": BATCH_ASSESS_REQUEST_MEDIA_TYPE}]}
    reply = (await gateway.http.post("/message:send", json={"message": msg}, headers=bearer())).json()
    part = reply["message"]["parts"][0]
    assert part["mediaType"] == "application/vnd.riskmesh.assess-batch-response.v1+json"
    assert b'"tx_id":"T-r"' in base64.b64decode(part["raw"])


async def test_explain_gives_the_decision_verdicts_review_actions_and_audit_events(gateway):
    await send(gateway, tx("T-9", "20000"))
    await gateway.ledger.record_outcome(outcome("T-9", "block"))
    gateway.audit.append("analyst:ana", "alert.decided", "alert:AL-T-9", {"disposition": "block"})
    body = data_of(await send(gateway, {"tx_id": "T-9"}))
    assert body["decision"]["decision"] == "review" and body["decision"]["reasons"][0]["code"] == "FAKE"
    assert body["review"]["final_decision"] == "block"
    assert body["actions"][0]["action"] == "hold_transaction"
    assert [e["action"] for e in body["audit"]] == ["alert.decided"]


async def test_explaining_an_unknown_transaction_is_an_invalid_params_error(gateway):
    params = {"message": message({"tx_id": "nope"}, media_type=EXPLAIN_REQUEST_MEDIA_TYPE)}
    reply = (await gateway.http.post("/", json=rpc("SendMessage", params), headers=bearer())).json()
    assert reply["error"]["code"] == -32602 and "nope" in reply["error"]["message"]


async def test_feedback_becomes_labels_and_audit_events(gateway):
    feedback = {"feedback": [{"tx_id": "T-1", "kind": "chargeback", "pattern": "card_testing"},
                             {"tx_id": "T-2", "kind": "false_positive"}]}
    receipt = data_of(await send(gateway, feedback))
    assert receipt["accepted"] == 2 and receipt["tx_ids"] == ["T-1", "T-2"]
    assert [(r.tx_id, r.is_fraud, r.source, r.disposition, r.actor) for r in gateway.labels.records] == [
        ("T-1", True, "feedback", "chargeback", "client:bank"), ("T-2", False, "feedback", "false_positive",
                                                                "client:bank")]
    assert [e.action for e in gateway.audit.events_for("tx:T-1")] == ["feedback.received"]


async def test_an_undeclared_media_type_is_refused_as_content_type_not_supported(gateway):
    params = {"message": message(tx("T-1"), media_type="application/xml")}
    reply = (await gateway.http.post("/", json=rpc("SendMessage", params), headers=bearer())).json()
    assert reply["error"]["code"] == -32005


async def test_an_invalid_transaction_names_the_field_and_gets_no_decision(gateway):
    bad = tx("T-bad")
    bad["amount"] = "-5"
    reply = (await gateway.http.post("/", json=rpc("SendMessage", {"message": message(bad)}),
                                     headers=bearer())).json()
    assert reply["error"]["code"] == -32602 and "amount" in reply["error"]["message"]
    assert gateway.supervisor.batches == []


@pytest.mark.parametrize(("metadata", "media_type", "keys", "expected"), [
    ({"riskmesh": {"skill": "explain-decision"}}, "", {"tx_id", "amount"}, EXPLAIN),
    ({}, BATCH_ASSESS_REQUEST_MEDIA_TYPE, None, BATCH),
    ({}, "application/json", {"transactions"}, BATCH),
    ({}, "", {"feedback"}, FEEDBACK),
    ({}, "", {"tx_id"}, EXPLAIN),
    ({}, "", {"tx_id", "amount", "ts"}, ASSESS),
])
def test_a_message_picks_its_skill_by_metadata_media_type_then_shape(metadata, media_type, keys, expected):
    assert select_skill(metadata, media_type, lambda: frozenset(keys) if keys else None) is expected


def test_an_unknown_skill_name_is_refused():
    with pytest.raises(UnknownSkill):
        select_skill({"skill": "transfer-money"}, "", lambda: None)
