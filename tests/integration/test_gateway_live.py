"""The risk gateway on the live stack: credentials and scopes, a review-bound Task completed by an analyst's
decision in the console (with a push notification), explain and feedback, and the official JS A2A client."""

from __future__ import annotations

import json
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import GATEWAY_BANK_API_KEY, GATEWAY_BANK_TOKEN, GATEWAY_EXPLAIN_ONLY_TOKEN
from console_client import ConsoleClient, poll

from riskmesh.orchestrator.demo import synthetic_messages

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "browser"))
from browser_harness import ensure_node_packages, run_browser_script

pytestmark = pytest.mark.integration

A2A = {"A2A-Version": "1.0"}
JS_SPEC = Path(__file__).with_name("gateway_js_client_spec.mjs")


def _rpc(method: str, params: dict[str, Any]) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": uuid.uuid4().hex[:8], "method": method, "params": params}


def _message(payload: Any, metadata: dict[str, Any] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"messageId": uuid.uuid4().hex, "role": "ROLE_USER", "parts": [{"data": payload}]}
    if metadata:
        out["metadata"] = metadata
    return out


def _transactions(running, count: int, seed: int) -> list[dict[str, Any]]:
    prefix = f"G{uuid.uuid4().hex[:7]}"
    return [json.loads(value) for _, value in synthetic_messages(running.info.world_dir, count, 0, seed, prefix)]


@pytest.fixture
def gateway(running) -> Iterator[httpx.Client]:
    assert running.info.gateway is not None
    with httpx.Client(base_url=running.info.gateway.url.rstrip("/"), timeout=30, headers=A2A) as http:
        yield http


class _Webhook(BaseHTTPRequestHandler):
    received: list[tuple[dict[str, Any], dict[str, str]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        self.received.append((json.loads(body or b"{}"), {k.lower(): v for k, v in self.headers.items()}))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        return None


@pytest.fixture
def webhook() -> Iterator[tuple[str, list[tuple[dict[str, Any], dict[str, str]]]]]:
    _Webhook.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Webhook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook", _Webhook.received
    finally:
        server.shutdown()


def test_calls_without_credentials_or_with_a_token_lacking_the_scope_are_refused(running, gateway) -> None:
    tx = _transactions(running, 1, seed=71)[0]
    body = _rpc("SendMessage", {"message": _message(tx)})
    for headers, status in (({}, 401), ({"Authorization": "Bearer nope"}, 401), ({"X-API-Key": "nope"}, 401),
                            ({"Authorization": f"Bearer {GATEWAY_EXPLAIN_ONLY_TOKEN}"}, 403)):
        reply = gateway.post("/", json=body, headers=headers)
        assert reply.status_code == status, (headers, reply.text)
        answer = reply.json()
        assert "error" in answer and "result" not in answer and "decision" not in reply.text
    rest = gateway.post("/message:send", json={"message": _message(tx)})
    assert rest.status_code == 401 and "decision" not in rest.text
    ok = gateway.post("/", json=body, headers={"X-API-Key": GATEWAY_BANK_API_KEY})
    assert ok.status_code == 200 and ok.json()["result"]["message"]["parts"][0]["data"]["tx_id"] == tx["tx_id"]


def test_a_review_bound_task_waits_input_required_until_an_analyst_decides_and_the_webhook_hears(
        running, gateway, webhook) -> None:
    hook_url, received = webhook
    auth = {"Authorization": f"Bearer {GATEWAY_BANK_TOKEN}"}
    batch = _transactions(running, 400, seed=73)
    reply = gateway.post("/", json=_rpc("SendMessage", {"message": _message(
        {"transactions": batch}, metadata={"riskmesh": {"skill": "assess-batch"}})}), headers=auth)
    assert reply.status_code == 200, reply.text
    decisions = reply.json()["result"]["message"]["parts"][0]["data"]["decisions"]
    assert len(decisions) == len(batch)
    reviewed = next(d for d in decisions if d["decision"] == "review")
    tx = next(t for t in batch if t["tx_id"] == reviewed["tx_id"])

    config = {"taskPushNotificationConfig": {"url": hook_url, "token": "caller-secret"}}
    answer = gateway.post("/", json=_rpc("SendMessage", {"message": _message(tx), "configuration": config}),
                          headers=auth).json()["result"]
    task = answer["task"]
    assert task["status"]["state"] == "TASK_STATE_INPUT_REQUIRED", task["status"]
    assert reviewed["alert_id"] in json.dumps(task["status"])

    ana = ConsoleClient(running.info.console, "ana")
    try:
        poll(lambda: ana.get(f"/api/alerts/{reviewed['alert_id']}")["state"]["status"] == "open", 20,
             what="the alert in the console queue")
        ana.post(f"/api/alerts/{reviewed['alert_id']}/claim")
        ana.post(f"/api/alerts/{reviewed['alert_id']}/decide", {"disposition": "release", "reason": "known payee"})
    finally:
        ana.close()

    def completed() -> dict[str, Any] | None:
        got = gateway.post("/", json=_rpc("GetTask", {"id": task["id"]}), headers=auth).json()["result"]
        return got if got["status"]["state"] == "TASK_STATE_COMPLETED" else None

    done = poll(completed, 30, interval_s=0.3, what="the task to complete with the final decision")
    final = done["artifacts"][-1]["parts"][0]["data"]
    assert (final["tx_id"], final["final_decision"], final["decided_by"]) == (tx["tx_id"], "pass", "ana")

    def pushed_completion() -> bool:
        return any((b.get("statusUpdate") or b.get("task") or {}).get("status", {}).get("state")
                   == "TASK_STATE_COMPLETED" for b, _ in received)

    poll(pushed_completion, 15, what="the push notification of the completed task")
    assert {h.get("x-a2a-notification-token") for _, h in received} == {"caller-secret"}

    explained = gateway.post("/", json=_rpc("SendMessage", {"message": _message(
        {"tx_id": tx["tx_id"]}, metadata={"riskmesh": {"skill": "explain-decision"}})}),
        headers={"Authorization": f"Bearer {GATEWAY_EXPLAIN_ONLY_TOKEN}"}).json()["result"]
    text = json.dumps(explained)
    assert reviewed["alert_id"] in text and "release_transaction" in text and "alert.decided" in text


def test_feedback_is_stored_as_a_label(running, gateway) -> None:
    tx = _transactions(running, 1, seed=79)[0]
    auth = {"Authorization": f"Bearer {GATEWAY_BANK_TOKEN}"}
    gateway.post("/", json=_rpc("SendMessage", {"message": _message(tx)}), headers=auth)
    feedback = {"feedback": [{"tx_id": tx["tx_id"], "kind": "chargeback", "note": "cardholder disputed"}]}
    reply = gateway.post("/", json=_rpc("SendMessage", {"message": _message(
        feedback, metadata={"riskmesh": {"skill": "submit-feedback"}})}), headers=auth)
    assert reply.status_code == 200 and "error" not in reply.json(), reply.text
    receipt = reply.json()["result"]["message"]["parts"][0]["data"]
    assert receipt["accepted"] == 1 and receipt["tx_ids"] == [tx["tx_id"]]


def test_the_official_javascript_a2a_client_assesses_over_json_rpc_and_http_json(running) -> None:
    ensure_node_packages()
    txs = _transactions(running, 2, seed=83)
    started = time.monotonic()
    result = run_browser_script(JS_SPEC, {"GATEWAY_URL": running.info.gateway.url.rstrip("/"),
                                          "GATEWAY_TOKEN": GATEWAY_BANK_TOKEN,
                                          "TX_JSONRPC": json.dumps(txs[0]), "TX_REST": json.dumps(txs[1])},
                                timeout_s=90)
    assert result["jsonrpc"]["tx_id"] == txs[0]["tx_id"] and result["jsonrpc"]["decision"] in ("pass", "review",
                                                                                                 "block")
    assert result["rest"]["tx_id"] == txs[1]["tx_id"] and result["rest"]["decision"] in ("pass", "review", "block")
    assert time.monotonic() - started < 90
