"""The alert queue: where alerts wait for analysts, in memory and in Redis, with one conformance suite.

risk-actions opens an alert (its JSON and an entry in the open index, scored by priority). The queue keeps
each alert's workflow state (`AlertState`) beside it and one sorted index per workflow status, and changes
them only through `transition`, which also appends the audit events in the same atomic step (Redis:
one MULTI/EXEC with the audit chain; memory: one lock). A transition names the state version it was
computed from: if someone else changed the alert meanwhile, it fails with `Conflict` and nothing is written.

Redis keys: `riskmesh:alert:{id}` (Alert, written by risk-actions), `riskmesh:alertstate:{id}` (AlertState),
`riskmesh:alerts:open` (risk-actions' index, score = priority), `riskmesh:alerts:{status}` for the other
active statuses (score = priority), `riskmesh:alerts:closed` (score = closed time), `riskmesh:alerts:leases`
(score = lease expiry), `riskmesh:alerts:changes` (a counter that moves on every change; the console's
live updates watch it together with the size of the open index).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Protocol, cast

import redis

from riskmesh.contracts import Alert
from riskmesh.contracts.audit import AuditEvent
from riskmesh.contracts.review import AlertState
from riskmesh.orchestrator.audit import AuditEntry, MemoryAuditLog, RedisAuditLog
from riskmesh.orchestrator.review.errors import Conflict, NotFound

__all__ = [
    "ACTIVE_STATUSES",
    "AlertQueue",
    "MemoryAlertQueue",
    "RedisAlertQueue",
    "SlaPolicy",
    "initial_state",
]

ACTIVE_STATUSES: tuple[str, ...] = ("open", "claimed", "pending_approval", "info_requested", "escalated")
ALERT_KEY = "riskmesh:alert:{}"
STATE_KEY = "riskmesh:alertstate:{}"
INDEX_KEY = "riskmesh:alerts:{}"  # riskmesh:alerts:open is the index risk-actions writes
LEASES_KEY = "riskmesh:alerts:leases"
CHANGES_KEY = "riskmesh:alerts:changes"


class SlaPolicy:
    """How long an alert may wait: shorter for high risk. Breaches escalate (see desk.sweep)."""

    def __init__(self, default_s: float = 4 * 3600, high_risk_s: float = 3600, high_risk: float = 0.8) -> None:
        self.default = timedelta(seconds=default_s)
        self.high = timedelta(seconds=high_risk_s)
        self.high_risk = high_risk

    def due(self, alert: Alert) -> datetime:
        return alert.created_at + (self.high if alert.risk_score >= self.high_risk else self.default)


def initial_state(alert: Alert, priority: float, sla: SlaPolicy) -> AlertState:
    """The state of an alert nobody has touched yet."""
    return AlertState(alert_id=alert.alert_id, tx_id=alert.tx_id, priority=priority,
                      created_at=alert.created_at, sla_due_at=sla.due(alert))


def _index_score(state: AlertState) -> float:
    if state.status == "closed":
        return (state.closed_at or state.created_at).timestamp()
    return state.priority


class AlertQueue(Protocol):
    async def get(self, alert_id: str) -> tuple[Alert, AlertState]:
        """The alert and its state; NotFound when there is no such alert."""
        ...

    async def page(self, status: str, limit: int, offset: int = 0) -> list[tuple[Alert, AlertState]]:
        """Alerts of one status: highest priority first (closed: most recently closed first)."""
        ...

    async def counts(self, closed_since: datetime) -> dict[str, int]:
        """Alerts per status; `closed` counts those closed since `closed_since`."""
        ...

    async def transition(self, new: AlertState, expected_version: int, audit: list[AuditEntry]) -> list[AuditEvent]:
        """Store `new` (its version must be expected_version + 1) and the audit events atomically."""
        ...

    async def expired_leases(self, now: datetime, limit: int = 100) -> list[str]: ...

    async def change_token(self) -> str:
        """Moves whenever the queue's content may have changed (a change, or a new alert opened)."""
        ...


class MemoryAlertQueue:
    """In-process queue (unit tests, single-process tools). `open_alert` plays the part of risk-actions."""

    def __init__(self, audit: MemoryAuditLog, sla: SlaPolicy | None = None) -> None:
        self.audit = audit
        self.sla = sla or SlaPolicy()
        self._alerts: dict[str, Alert] = {}
        self._priority: dict[str, float] = {}
        self._states: dict[str, AlertState] = {}
        self._lock = threading.Lock()
        self._changes = 0

    def open_alert(self, alert: Alert, priority: float) -> None:
        with self._lock:
            self._alerts.setdefault(alert.alert_id, alert)
            self._priority.setdefault(alert.alert_id, priority)
            self._changes += 1

    def _state(self, alert_id: str) -> AlertState:
        found = self._states.get(alert_id)
        return found or initial_state(self._alerts[alert_id], self._priority[alert_id], self.sla)

    async def get(self, alert_id: str) -> tuple[Alert, AlertState]:
        with self._lock:
            if alert_id not in self._alerts:
                raise NotFound(f"no alert {alert_id}")
            return self._alerts[alert_id], self._state(alert_id)

    async def page(self, status: str, limit: int, offset: int = 0) -> list[tuple[Alert, AlertState]]:
        with self._lock:
            states = [self._state(a) for a in self._alerts]
        chosen = sorted((s for s in states if s.status == status), key=lambda s: (-_index_score(s), s.alert_id))
        return [(self._alerts[s.alert_id], s) for s in chosen[offset:offset + limit]]

    async def counts(self, closed_since: datetime) -> dict[str, int]:
        with self._lock:
            states = [self._state(a) for a in self._alerts]
        out = dict.fromkeys((*ACTIVE_STATUSES, "closed"), 0)
        for s in states:
            if s.status != "closed" or (s.closed_at is not None and s.closed_at >= closed_since):
                out[s.status] += 1
        return out

    async def transition(self, new: AlertState, expected_version: int, audit: list[AuditEntry]) -> list[AuditEvent]:
        def apply() -> None:
            if new.alert_id not in self._alerts:
                raise NotFound(f"no alert {new.alert_id}")
            current = self._state(new.alert_id)
            if current.version != expected_version or new.version != expected_version + 1:
                raise Conflict(f"alert {new.alert_id} changed meanwhile (version {current.version}); reload it")
            self._states[new.alert_id] = new
            self._changes += 1

        with self._lock:
            return self.audit.transact(audit, apply)

    async def expired_leases(self, now: datetime, limit: int = 100) -> list[str]:
        with self._lock:
            states = [self._state(a) for a in self._alerts]
        return [s.alert_id for s in states
                if s.status == "claimed" and s.lease_expires_at is not None and s.lease_expires_at <= now][:limit]

    async def change_token(self) -> str:
        return f"{self._changes}"


class RedisAlertQueue:
    """Alert queue in Redis beside risk-actions' alerts; blocking calls run in a worker thread."""

    def __init__(self, client: redis.Redis, audit: RedisAuditLog, sla: SlaPolicy | None = None) -> None:
        self._r = client
        self.audit = audit
        self.sla = sla or SlaPolicy()

    @classmethod
    def from_url(cls, url: str, sla: SlaPolicy | None = None, audit_key: str = "riskmesh:audit") -> RedisAlertQueue:
        client = redis.Redis.from_url(url)
        return cls(client, RedisAuditLog(client, audit_key), sla)

    async def get(self, alert_id: str) -> tuple[Alert, AlertState]:
        return await asyncio.to_thread(self._get, alert_id)

    def _get(self, alert_id: str) -> tuple[Alert, AlertState]:
        pipe = self._r.pipeline(transaction=False)
        pipe.get(ALERT_KEY.format(alert_id))
        pipe.get(STATE_KEY.format(alert_id))
        pipe.zscore(INDEX_KEY.format("open"), alert_id)
        raw_alert, raw_state, score = pipe.execute()
        return self._pair(alert_id, raw_alert, raw_state, score)

    def _pair(self, alert_id: str, raw_alert: Any, raw_state: Any, score: Any) -> tuple[Alert, AlertState]:
        if raw_alert is None:
            raise NotFound(f"no alert {alert_id}")
        alert = Alert.model_validate_json(raw_alert)
        if raw_state is not None:
            return alert, AlertState.model_validate_json(raw_state)
        return alert, initial_state(alert, float(score) if score is not None else 0.0, self.sla)

    async def page(self, status: str, limit: int, offset: int = 0) -> list[tuple[Alert, AlertState]]:
        return await asyncio.to_thread(self._page, status, limit, offset)

    def _page(self, status: str, limit: int, offset: int) -> list[tuple[Alert, AlertState]]:
        found: list[tuple[Alert, AlertState]] = []
        start = offset
        while len(found) < limit:
            want = limit - len(found)
            ranked = cast(list[tuple[bytes, float]], self._r.zrevrange(INDEX_KEY.format(status), start,
                                                                        start + want - 1, withscores=True))
            if not ranked:
                break
            start += len(ranked)
            pipe = self._r.pipeline(transaction=False)
            for member, _ in ranked:
                pipe.get(ALERT_KEY.format(_text(member)))
                pipe.get(STATE_KEY.format(_text(member)))
            raws = pipe.execute()
            for i, (member, score) in enumerate(ranked):
                raw_alert, raw_state = raws[2 * i], raws[2 * i + 1]
                if raw_alert is None:
                    continue  # expired or removed by hand: skip, the index entry is harmless
                alert, state = self._pair(_text(member), raw_alert, raw_state, score)
                if state.status == status:  # an index entry can briefly lag a transition
                    found.append((alert, state))
        return found

    async def counts(self, closed_since: datetime) -> dict[str, int]:
        def run() -> dict[str, int]:
            pipe = self._r.pipeline(transaction=False)
            for status in ACTIVE_STATUSES:
                pipe.zcard(INDEX_KEY.format(status))
            pipe.zcount(INDEX_KEY.format("closed"), closed_since.timestamp(), "+inf")
            replies = pipe.execute()
            return dict(zip((*ACTIVE_STATUSES, "closed"), (int(r) for r in replies), strict=True))

        return await asyncio.to_thread(run)

    async def transition(self, new: AlertState, expected_version: int, audit: list[AuditEntry]) -> list[AuditEvent]:
        return await asyncio.to_thread(self._transition, new, expected_version, audit)

    def _transition(self, new: AlertState, expected_version: int, audit: list[AuditEntry]) -> list[AuditEvent]:
        alert_id = new.alert_id
        state_key = STATE_KEY.format(alert_id)

        def prepare(pipe: Any) -> tuple[list[AuditEntry], Callable[[Any], None]]:
            raw_alert, raw_state = pipe.get(ALERT_KEY.format(alert_id)), pipe.get(state_key)
            _, current = self._pair(alert_id, raw_alert, raw_state, pipe.zscore(INDEX_KEY.format("open"), alert_id))
            if current.version != expected_version or new.version != expected_version + 1:
                raise Conflict(f"alert {alert_id} changed meanwhile (version {current.version}); reload it")

            def write(p: Any) -> None:
                p.set(state_key, new.model_dump_json())
                if current.status != new.status:
                    p.zrem(INDEX_KEY.format(current.status), alert_id)
                p.zadd(INDEX_KEY.format(new.status), {alert_id: _index_score(new)})
                if new.status == "claimed" and new.lease_expires_at is not None:
                    p.zadd(LEASES_KEY, {alert_id: new.lease_expires_at.timestamp()})
                else:
                    p.zrem(LEASES_KEY, alert_id)
                p.incr(CHANGES_KEY)

            return audit, write

        return self.audit.transact([state_key, ALERT_KEY.format(alert_id)], prepare)

    async def expired_leases(self, now: datetime, limit: int = 100) -> list[str]:
        def run() -> list[str]:
            ids = cast(list[bytes], self._r.zrangebyscore(LEASES_KEY, "-inf", now.timestamp(), start=0, num=limit))
            return [_text(i) for i in ids]

        return await asyncio.to_thread(run)

    async def change_token(self) -> str:
        def run() -> str:
            pipe = self._r.pipeline(transaction=False)
            pipe.get(CHANGES_KEY)
            pipe.zcard(INDEX_KEY.format("open"))
            pipe.zrevrange(INDEX_KEY.format("open"), 0, 0)
            changes, size, top = pipe.execute()
            return f"{_text(changes or b'0')}:{size}:{_text(top[0]) if top else ''}"

        return await asyncio.to_thread(run)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
