"""The console's Investigate trigger: role-checked, audited, and the incident view relayed as SSE."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
from soc_investigation_doubles import Serve, serve_specialist, three_specialists
from test_soc_investigator_a2a import start_investigator

from riskmesh.a2a.soc_client import TaskStreamClient
from riskmesh.contracts import Alert
from riskmesh.contracts.review import AlertState
from riskmesh.orchestrator.audit import MemoryAuditLog
from riskmesh.orchestrator.console.app import create_app
from riskmesh.orchestrator.console.auth import Authenticator, MemoryAuthStore, PasswordHasher
from riskmesh.orchestrator.console.investigate_api import Investigations
from riskmesh.orchestrator.review.errors import NotFound
from riskmesh.orchestrator.review.ports import Actor, AlertDetail

ALERT = Alert(alert_id="AL-1", tx_id="T-1", created_at=datetime.now(UTC), risk_score=0.9, amount=Decimal(5000),
              currency="EUR", debtor_account_id="A-1", policy_version="p1")


class OneAlertDesk:
    async def detail(self, actor: Actor, alert_id: str) -> AlertDetail:
        if alert_id != ALERT.alert_id:
            raise NotFound(f"no alert {alert_id}")
        now = datetime.now(UTC)
        return AlertDetail(ALERT, AlertState(alert_id="AL-1", tx_id="T-1", priority=0.9, created_at=now,
                                             sla_due_at=now), None)


async def console(investigator: str) -> tuple[httpx.AsyncClient, dict[str, str], MemoryAuditLog, Investigations]:
    auth = Authenticator(MemoryAuthStore(), hasher=PasswordHasher(n=2**4))
    tokens = {}
    for user, role in (("sol", "soc_engineer"), ("cora", "compliance_officer"), ("adam", "admin")):
        await auth.add_user(user, role, machine=True)
        tokens[user] = await auth.issue_token(user)
    audit = MemoryAuditLog()
    from riskmesh.a2a.soc_client import TaskStreamClient as _Client  # the console's one streaming client

    investigations = Investigations(_Client(investigator, "test-soc-token"))
    app = create_app(desk=OneAlertDesk(), auth=auth, audit_log=audit, investigations=investigations)  # type: ignore[arg-type]
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://console")
    return client, tokens, audit, investigations


def sse(text: str) -> list[tuple[str, Any]]:
    events = []
    for block in text.split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines() if line and not line.startswith(":")
                     and ": " in line)
        if "event" in lines:
            events.append((lines["event"], json.loads(lines["data"])))
    return events


async def test_a_soc_engineer_starts_an_investigation_and_the_incident_streams_back(serve: Serve) -> None:
    urls = [await serve_specialist(serve, f) for f in three_specialists()]
    client, tokens, audit, investigations = await console(await start_investigator(serve, urls))
    try:
        as_sol = {"authorization": f"Bearer {tokens['sol']}"}
        started = await client.post("/api/alerts/AL-1/investigate", headers=as_sol)
        assert started.status_code == 202, started.text
        inv = started.json()["investigation"]["investigation_id"]
        async with asyncio.timeout(10):
            stream = await client.get(f"/api/investigations/{inv}/events", headers=as_sol)
        events = sse(stream.text)
        kinds = [k for k, _ in events]
        assert kinds[-1] == "end" and events[-1][1]["state"] == "completed"
        incidents = [data for kind, data in events if kind == "incident"]
        assert incidents[-1]["status"] == "complete" and incidents[-1]["investigation_id"] == inv
        assert len(incidents[-1]["timeline"]) == 4
        shown = (await client.get(f"/api/investigations/{inv}", headers=as_sol)).json()["investigation"]
        assert shown["state"] == "completed" and shown["started_by"] == "sol"
        [event] = [e for e in audit.events() if e.action == "investigation.started"]
        assert (event.actor, event.subject, event.details["investigation_id"]) == ("sol", "alert:AL-1", inv)
    finally:
        await investigations.aclose()
        await client.aclose()


async def test_only_investigating_roles_may_start_and_unknown_alerts_are_refused(serve: Serve) -> None:
    client, tokens, audit, investigations = await console("http://127.0.0.1:9/")
    try:
        for user in ("cora", "adam"):
            refused = await client.post("/api/alerts/AL-1/investigate",
                                        headers={"authorization": f"Bearer {tokens[user]}"})
            assert refused.status_code == 403, user
        unknown = await client.post("/api/alerts/AL-404/investigate",
                                    headers={"authorization": f"Bearer {tokens['sol']}"})
        assert unknown.status_code == 404
        assert not [e for e in audit.events() if e.action == "investigation.started"]
    finally:
        await investigations.aclose()
        await client.aclose()


def test_the_console_keeps_one_streaming_client_for_the_investigator() -> None:
    investigations = Investigations.over_http("http://127.0.0.1:9/", "t")
    assert isinstance(investigations.client, TaskStreamClient)
