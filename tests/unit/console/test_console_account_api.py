"""The console's account API over a real in-process risk-actions server: controls, lifts, ratings, cases, reports."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import anyio
import pytest
from mcp import Client
from starlette.testclient import TestClient

from riskmesh.agents.mcp_client import McpToolCaller
from riskmesh.mcp_servers.action_store import MemoryActionStore
from riskmesh.mcp_servers.risk_actions import alert_id_for, build_risk_actions_server
from riskmesh.orchestrator.console.account_api import REPORT_CSP
from riskmesh.orchestrator.console.app import create_app
from riskmesh.orchestrator.review.controls_desk import CONSOLE_ACTIONS_CALLER, AccountDesk

PASSWORD = "correct horse battery"
ALERT = alert_id_for("T-R")


class OneSessionPerCall:
    """Real MCP to the in-process server, one session per call: TestClient runs each client in its own loop."""

    def __init__(self, servers: dict[str, Any]) -> None:
        self.servers = servers

    async def call(self, server: str, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
        async with McpToolCaller.in_process(self.servers, CONSOLE_ACTIONS_CALLER) as tools:
            return await tools.call(server, tool, arguments)


async def _seed(server: Any) -> None:
    """Account A1: three blocks and a review (alert on T-R), so hold and limit are in force."""
    at = datetime.now(UTC).isoformat()
    items = [{"tx_id": tx, "decision": kind, "risk_score": 0.8, "amount": "900.00", "currency": "EUR",
              "debtor_account_id": "A1", "policy_version": "p1", "decided_at": at}
             for tx, kind in [("T-0", "block"), ("T-1", "block"), ("T-2", "block"), ("T-R", "review")]]
    async with Client(server) as trusted:
        assert not (await trusted.call_tool("apply_decisions_batch", {"items": items})).is_error


@pytest.fixture
def app(desk, auth) -> Any:
    server = build_risk_actions_server(MemoryActionStore())
    anyio.run(_seed, server)
    accounts = AccountDesk(OneSessionPerCall({"risk-actions": server}), desk.log)
    return create_app(desk=desk, auth=auth, audit_log=desk.log, accounts=accounts)


@pytest.fixture
def as_user(app) -> Any:
    def _sign_in(username: str) -> TestClient:
        client = TestClient(app)
        response = client.post("/api/login", json={"username": username, "password": PASSWORD})
        assert response.status_code == 200, response.text
        client.headers["x-csrf-token"] = response.json()["csrf_token"]
        return client

    return _sign_in


def test_every_role_reads_an_accounts_controls_and_the_alerts_action_log(app, as_user) -> None:
    assert TestClient(app).get("/api/accounts/A1/controls").status_code == 401
    body = as_user("sol").get("/api/accounts/A1/controls?tx_id=T-R").json()
    assert body["controls"] == {"frozen": False, "level": 2, "active": ["hold", "limit"], "hits": 4}
    assert [a["action"] for a in body["actions"]] == ["hold_transaction", "open_alert"]


def test_a_lift_request_needs_the_csrf_header_and_a_case_working_role(as_user) -> None:
    ana = as_user("ana")
    token = ana.headers.pop("x-csrf-token")
    assert ana.post("/api/accounts/A1/lifts", json={"control": "limit", "reason": "ok"}).status_code == 403
    ana.headers["x-csrf-token"] = token
    lift = ana.post("/api/accounts/A1/lifts", json={"control": "limit", "reason": "verified"})
    assert lift.status_code == 200 and lift.json()["lift"]["requested_by"] == "ana"
    refused = as_user("sol").post("/api/accounts/A1/lifts", json={"control": "limit", "reason": "x"})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
    inactive = ana.post("/api/accounts/A1/lifts", json={"control": "freeze", "reason": "x"})
    assert inactive.status_code == 409 and "not active" in inactive.json()["error"]["message"]


def test_a_lift_is_approved_by_a_second_senior_person_only(as_user) -> None:
    sam, cora = as_user("sam"), as_user("cora")
    requested = sam.post("/api/accounts/A1/lifts", json={"control": "limit", "reason": "verified"})
    lift_id = requested.json()["lift"]["lift_id"]
    assert [lift["lift_id"] for lift in cora.get("/api/lifts?status=pending").json()["lifts"]] == [lift_id]
    assert as_user("ana").post(f"/api/lifts/{lift_id}/approve").status_code == 403
    own = sam.post(f"/api/lifts/{lift_id}/approve")
    assert own.status_code == 403 and "four-eyes" in own.json()["error"]["message"]
    approved = cora.post(f"/api/lifts/{lift_id}/approve")
    assert approved.status_code == 200 and approved.json()["lift"]["approved_by"] == "cora"
    assert cora.get("/api/accounts/A1/controls").json()["controls"]["active"] == ["hold"]
    assert cora.get("/api/lifts?status=bogus").status_code == 422
    events = cora.get("/api/audit?subject=account:A1").json()["events"]
    assert [e["action"] for e in events] == ["control.lift_approved", "control.lift_requested"]


def test_risk_ratings_are_for_supervisors_and_compliance_officers(as_user) -> None:
    body = {"rating": "high", "reason": "mule pattern"}
    assert as_user("ana").post("/api/customers/C1/rating", json=body).status_code == 403
    rated = as_user("cora").post("/api/customers/C1/rating", json=body)
    assert rated.status_code == 200 and rated.json()["rating"]["rating"] == "high"
    bad = as_user("sam").post("/api/customers/C1/rating", json={"rating": "extreme", "reason": "x"})
    assert bad.status_code == 422


def test_an_analyst_opens_a_case_on_an_alert(as_user) -> None:
    ana = as_user("ana")
    case = ana.post(f"/api/alerts/{ALERT}/case", json={"customer_id": "C1", "reason": "structuring"})
    assert case.status_code == 200 and case.json()["case"]["alert_ids"] == [ALERT]
    assert ana.post(f"/api/alerts/{ALERT}/case", json={"reason": "no customer"}).status_code == 422
    assert as_user("adam").post(f"/api/alerts/{ALERT}/case", json={"customer_id": "C1"}).status_code == 403


def test_the_report_is_inline_html_under_its_own_strict_policy(as_user) -> None:
    response = as_user("ana").get(f"/api/alerts/{ALERT}/report")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["content-disposition"] == f'inline; filename="risk-report-{ALERT}.html"'
    assert response.headers.get_list("content-security-policy") == [REPORT_CSP]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert ALERT in response.text and "<script" not in response.text
    assert as_user("sol").get(f"/api/alerts/{ALERT}/report").status_code == 403
    assert as_user("ana").get("/api/alerts/AL-nope/report").status_code == 404


def test_without_an_account_desk_the_account_routes_do_not_exist(sign_in) -> None:
    ana = sign_in("ana")
    assert ana.get("/api/accounts/A1/controls").status_code == 404
    assert ana.post("/api/alerts/AL-1/case", json={"customer_id": "C1"}).status_code == 404


def test_an_unreachable_risk_actions_server_answers_503(desk, auth) -> None:
    accounts = AccountDesk(McpToolCaller({}, CONSOLE_ACTIONS_CALLER), desk.log)
    app = create_app(desk=desk, auth=auth, accounts=accounts)
    client = TestClient(app)
    token = client.post("/api/login", json={"username": "ana", "password": PASSWORD}).json()["csrf_token"]
    response = client.get("/api/accounts/A1/controls", headers={"x-csrf-token": token})
    assert response.status_code == 503 and response.json()["error"]["code"] == "unavailable"
