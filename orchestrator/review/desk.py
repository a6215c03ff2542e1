"""The review desk: what analysts do with alerts (claim, decide, approve…), as use cases over the alert queue.

Each use case loads the alert, applies the domain guard (status, claim, four-eyes), checks the actor's role,
then stores the new state and its audit event in one atomic step (`AlertQueue.transition`). A final
disposition then resumes the held review graph with a `Resolution`, which carries it to the action agent.
If that resume fails or the process dies first, the recorded disposition is the source of truth:
`resolution_of` tells the review graph's recovery what to resume with (see review/graph.py).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from riskmesh.agents._common import approx_usd
from riskmesh.contracts import Alert
from riskmesh.contracts.audit import AuditEvent
from riskmesh.contracts.review import AlertNote, AlertState, DispositionKind, Resolution
from riskmesh.orchestrator.audit import AuditEntry, AuditLog
from riskmesh.orchestrator.review.errors import Conflict, Forbidden, InvalidRequest, NotFound, ReviewError
from riskmesh.orchestrator.review.ports import (
    Actor,
    AlertDetail,
    EvidenceSource,
    QueueFilter,
    QueueItem,
    QueuePage,
    Resumer,
)
from riskmesh.orchestrator.review.queue import ACTIVE_STATUSES, AlertQueue

__all__ = ["CASE_WORKERS", "SYSTEM_ACTOR", "Desk"]

log = logging.getLogger("riskmesh.review.desk")

SYSTEM_ACTOR = "system:review-desk"
CASE_WORKERS = frozenset({"analyst", "supervisor", "compliance_officer"})
"""Roles that claim and decide alerts and approve four-eyes items."""
SENIOR = frozenset({"supervisor", "compliance_officer", "admin"})
"""Roles that work escalated alerts, release others' claims and reassign."""
NOTE_WRITERS = CASE_WORKERS | {"soc_engineer"}
_PAGE_WINDOW = 500
DecisionLookup = Callable[[str], Awaitable[dict[str, Any] | None]]


def _now() -> datetime:
    return datetime.now(UTC)


class Desk:
    """Implements `ReviewDesk` (ports.py)."""

    def __init__(
        self,
        queue: AlertQueue,
        audit_log: AuditLog,
        resumer: Resumer | None = None,
        *,
        evidence: EvidenceSource | None = None,
        decisions: DecisionLookup | None = None,
        lease_s: float = 900,
        four_eyes_usd: float = 10_000,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self.alerts = queue
        self.audit_log = audit_log
        self.resumer = resumer
        self.evidence = evidence
        self.decisions = decisions
        self.lease = timedelta(seconds=lease_s)
        self.four_eyes_usd = four_eyes_usd
        self.clock = clock

    # -- reading -------------------------------------------------------------------------------------

    async def queue(self, actor: Actor, flt: QueueFilter) -> QueuePage:
        statuses = list(ACTIVE_STATUSES) if flt.status in ("active", "mine") else [flt.status]
        if any(s not in (*ACTIVE_STATUSES, "closed") for s in statuses):
            raise InvalidRequest(f"unknown status {flt.status!r}")
        limit = max(1, min(flt.limit, _PAGE_WINDOW))
        items: list[QueueItem] = []
        for status in statuses:
            for alert, state in await self.alerts.page(status, _PAGE_WINDOW if _filtered(flt) else limit):
                if _matches(alert, state, flt, actor):
                    items.append(QueueItem(alert, state))
        items.sort(key=_sort_key(flt.sort))
        counts = await self.alerts.counts(self.clock() - timedelta(hours=24))
        return QueuePage(items=items[:limit], counts=counts)

    async def detail(self, actor: Actor, alert_id: str) -> AlertDetail:
        alert, state = await self.alerts.get(alert_id)
        decision = await self.decisions(alert.tx_id) if self.decisions is not None else None
        evidence: dict[str, Any] = {}
        if self.evidence is not None:
            try:
                evidence = await self.evidence.evidence(alert, actor.role)
            except ReviewError:
                raise
            except Exception as exc:  # evidence is best effort: the alert itself must still open
                log.exception("evidence for %s failed", alert_id)
                evidence = {"error": f"evidence unavailable: {type(exc).__name__}: {exc}"}
        events = self.audit_log.events_for(f"alert:{alert_id}", 200)
        return AlertDetail(alert=alert, state=state, decision=decision, evidence=evidence, audit=events,
                           four_eyes_required=self._needs_four_eyes(alert, "block"))

    async def change_token(self) -> str:
        """Moves whenever the queue may have changed; the console's live updates poll it (cheap)."""
        return await self.alerts.change_token()

    async def audit(self, actor: Actor, limit: int = 200, subject: str | None = None) -> list[AuditEvent]:
        limit = max(1, min(limit, 1000))
        if subject:
            return list(reversed(self.audit_log.events_for(subject, limit)))
        return self.audit_log.recent(limit)

    # -- claims --------------------------------------------------------------------------------------

    async def claim(self, actor: Actor, alert_id: str) -> AlertState:
        _require(actor, CASE_WORKERS, "claim alerts")
        _, state = await self.alerts.get(alert_id)
        now = self.clock()
        if state.status == "escalated" and actor.role not in SENIOR:
            raise Forbidden("escalated alerts are worked by a supervisor or compliance officer")
        if state.status == "claimed" and state.assignee != actor.username and not self._lease_over(state, now):
            raise Conflict(f"{alert_id} is claimed by {state.assignee} until {_hhmm(state.lease_expires_at)}")
        if state.status not in ("open", "claimed", "info_requested", "escalated"):
            raise Conflict(f"{alert_id} is {state.status.replace('_', ' ')} and cannot be claimed")
        renew = state.status == "claimed" and state.assignee == actor.username
        new = _next(state, status="claimed", assignee=actor.username, lease_expires_at=now + self.lease)
        action = "alert.claim_renewed" if renew else "alert.claimed"
        await self._commit(state, new, actor, action, {"from_status": state.status, "lease_s": self.lease.seconds})
        return new

    async def release(self, actor: Actor, alert_id: str) -> AlertState:
        _, state = await self.alerts.get(alert_id)
        if state.status != "claimed":
            raise Conflict(f"{alert_id} is not claimed")
        if state.assignee != actor.username and actor.role not in SENIOR:
            raise Forbidden(f"{alert_id} is claimed by {state.assignee}; only they or a supervisor can release it")
        new = _next(state, status="open", assignee=None, lease_expires_at=None)
        await self._commit(state, new, actor, "alert.released", {"was_assignee": state.assignee})
        return new

    async def reassign(self, actor: Actor, alert_id: str, to_user: str) -> AlertState:
        _require(actor, SENIOR, "reassign alerts")
        if not to_user.strip():
            raise InvalidRequest("name the analyst to reassign to")
        _, state = await self.alerts.get(alert_id)
        if state.status == "closed" or state.status == "pending_approval":
            raise Conflict(f"{alert_id} is {state.status.replace('_', ' ')} and cannot be reassigned")
        new = _next(state, status="claimed", assignee=to_user, lease_expires_at=self.clock() + self.lease)
        await self._commit(state, new, actor, "alert.reassigned", {"from": state.assignee, "to": to_user})
        return new

    async def add_note(self, actor: Actor, alert_id: str, text: str) -> AlertState:
        _require(actor, NOTE_WRITERS, "add notes")
        text = text.strip()
        if not text:
            raise InvalidRequest("a note needs text")
        if len(text) > 4000:
            raise InvalidRequest("a note is at most 4000 characters")
        _, state = await self.alerts.get(alert_id)
        note = AlertNote(at=self.clock(), author=actor.username, text=text)
        new = _next(state, notes=[*state.notes, note])
        await self._commit(state, new, actor, "alert.note_added", {"text": text})
        return new

    # -- decisions -----------------------------------------------------------------------------------

    async def decide(self, actor: Actor, alert_id: str, disposition: DispositionKind, reason: str) -> AlertState:
        _require(actor, CASE_WORKERS, "decide alerts")
        if disposition not in ("release", "block", "freeze", "escalate", "request_info"):
            raise InvalidRequest(f"unknown disposition {disposition!r}; use release, block, freeze, escalate or "
                                 "request_info")
        alert, state = await self.alerts.get(alert_id)
        now = self.clock()
        if state.status != "claimed" or state.assignee != actor.username:
            raise Conflict(f"claim {alert_id} before deciding it")
        if self._lease_over(state, now):
            raise Conflict(f"your claim on {alert_id} expired; claim it again")
        reason = reason.strip()
        details: dict[str, Any] = {"disposition": disposition, "reason": reason, "tx_id": alert.tx_id}
        if disposition == "escalate":
            new = _next(state, status="escalated", assignee=None, lease_expires_at=None,
                        escalation=reason or f"escalated by {actor.username}")
            await self._commit(state, new, actor, "alert.escalated", details)
            return new
        if disposition == "request_info":
            if not reason:
                raise InvalidRequest("say what information is needed")
            asked = AlertNote(at=now, author=actor.username, text=f"Info requested: {reason}")
            new = _next(state, status="info_requested", lease_expires_at=None, notes=[*state.notes, asked])
            await self._commit(state, new, actor, "alert.info_requested", details)
            return new
        if self._needs_four_eyes(alert, disposition):
            new = _next(state, status="pending_approval", lease_expires_at=None, proposed=disposition,
                        proposed_by=actor.username, proposed_at=now, reason=reason)
            details["four_eyes"] = True
            await self._commit(state, new, actor, "alert.disposition_proposed", details)
            return new
        new = _next(state, status="closed", lease_expires_at=None, disposition=disposition,
                    decided_by=actor.username, closed_at=now, reason=reason)
        await self._commit(state, new, actor, "alert.decided", details)
        await self._resume(alert, new)
        return new

    async def approve(self, actor: Actor, alert_id: str) -> AlertState:
        alert, state = await self._pending(actor, alert_id, "approve")
        now = self.clock()
        new = _next(state, status="closed", disposition=state.proposed, decided_by=state.proposed_by,
                    approved_by=actor.username, closed_at=now, assignee=state.assignee)
        await self._commit(state, new, actor, "alert.approved", {
            "disposition": state.proposed, "proposed_by": state.proposed_by, "tx_id": alert.tx_id})
        await self._resume(alert, new)
        return new

    async def reject(self, actor: Actor, alert_id: str, reason: str) -> AlertState:
        _, state = await self._pending(actor, alert_id, "reject")
        if not reason.strip():
            raise InvalidRequest("say why the proposal is rejected")
        note = AlertNote(at=self.clock(), author=actor.username,
                         text=f"Rejected {state.proposed} proposed by {state.proposed_by}: {reason.strip()}")
        new = _next(state, status="open", assignee=None, proposed=None, proposed_by=None, proposed_at=None,
                    notes=[*state.notes, note])
        await self._commit(state, new, actor, "alert.rejected", {
            "disposition": state.proposed, "proposed_by": state.proposed_by, "reason": reason.strip()})
        return new

    async def _pending(self, actor: Actor, alert_id: str, verb: str) -> tuple[Alert, AlertState]:
        _require(actor, CASE_WORKERS, f"{verb} four-eyes items")
        alert, state = await self.alerts.get(alert_id)
        if state.status != "pending_approval":
            raise Conflict(f"{alert_id} has nothing waiting for approval")
        if state.proposed_by == actor.username:
            raise Forbidden(f"you proposed this {state.proposed}; four-eyes needs a second person to {verb} it")
        return alert, state

    # -- housekeeping --------------------------------------------------------------------------------

    async def sweep(self, *, scan: int = 2000) -> dict[str, int]:
        """Return expired claims to the queue and escalate SLA breaches. Run it every few seconds."""
        now = self.clock()
        expired = breached = 0
        for alert_id in await self.alerts.expired_leases(now):
            expired += await self._system_change(alert_id, now, _lease_expired)
        for status in ("open", "claimed", "info_requested"):
            for alert, state in await self.alerts.page(status, scan):
                if state.sla_due_at <= now:
                    breached += await self._system_change(alert.alert_id, now, _sla_breached)
        return {"leases_expired": expired, "sla_breached": breached}

    async def _system_change(self, alert_id: str, now: datetime,
                             change: Callable[[AlertState, datetime], tuple[AlertState, str, dict[str, Any]] | None]
                             ) -> int:
        try:
            _, state = await self.alerts.get(alert_id)
            planned = change(state, now)
            if planned is None:
                return 0
            new, action, details = planned
            await self._commit(state, new, Actor(SYSTEM_ACTOR, "admin"), action, details)
            return 1
        except (Conflict, NotFound):
            return 0  # someone acted on it meanwhile: their change wins

    async def resolution_of(self, alert_id: str) -> Resolution | None:
        """The recorded final disposition of an alert, for the review graph's recovery; None while undecided."""
        alert, state = await self.alerts.get(alert_id)
        return _resolution(alert, state)

    # -- internals -----------------------------------------------------------------------------------

    def _needs_four_eyes(self, alert: Alert, disposition: str) -> bool:
        if disposition == "freeze":
            return True
        if disposition != "block":
            return False
        usd = approx_usd(alert.amount, alert.currency)
        return usd is None or usd > self.four_eyes_usd  # an unknown currency cannot prove it is small

    def _lease_over(self, state: AlertState, now: datetime) -> bool:
        return state.lease_expires_at is None or state.lease_expires_at <= now

    async def _commit(self, old: AlertState, new: AlertState, actor: Actor, action: str,
                      details: dict[str, Any]) -> None:
        entry: AuditEntry = (actor.username, action, f"alert:{new.alert_id}",
                             {"role": actor.role, "tx_id": new.tx_id, "status": new.status, **details})
        await self.alerts.transition(new, old.version, [entry])

    async def _resume(self, alert: Alert, state: AlertState) -> None:
        resolution = _resolution(alert, state)
        if resolution is None or self.resumer is None:
            return
        try:
            await self.resumer.resume(resolution)
        except Exception:  # recorded already; the review graph's recovery resumes it later
            log.exception("resuming the review of %s failed; recovery will retry", alert.alert_id)


def _resolution(alert: Alert, state: AlertState) -> Resolution | None:
    if state.status != "closed" or state.disposition is None:
        return None
    return Resolution(alert_id=alert.alert_id, tx_id=alert.tx_id, debtor_account_id=alert.debtor_account_id,
                      disposition=state.disposition, decided_by=state.decided_by or SYSTEM_ACTOR,
                      approved_by=state.approved_by, reason=state.reason,
                      decided_at=state.closed_at or state.created_at)


def _lease_expired(state: AlertState, now: datetime) -> tuple[AlertState, str, dict[str, Any]] | None:
    if state.status != "claimed" or state.lease_expires_at is None or state.lease_expires_at > now:
        return None
    new = _next(state, status="open", assignee=None, lease_expires_at=None)
    return new, "alert.lease_expired", {"was_assignee": state.assignee}


def _sla_breached(state: AlertState, now: datetime) -> tuple[AlertState, str, dict[str, Any]] | None:
    if state.status not in ("open", "claimed", "info_requested") or state.sla_due_at > now:
        return None
    overdue = int((now - state.sla_due_at).total_seconds())
    new = _next(state, status="escalated", assignee=None, lease_expires_at=None,
                escalation=f"SLA breached {overdue}s ago (due {state.sla_due_at.isoformat()})")
    return new, "alert.sla_breached", {"was_status": state.status, "was_assignee": state.assignee,
                                       "overdue_s": overdue}


def _next(state: AlertState, **changes: Any) -> AlertState:
    return state.model_copy(update={**changes, "version": state.version + 1})


def _require(actor: Actor, roles: frozenset[str], what: str) -> None:
    if actor.role not in roles:
        raise Forbidden(f"a {actor.role.replace('_', ' ')} may not {what}")


def _hhmm(when: datetime | None) -> str:
    return when.strftime("%H:%M:%S UTC") if when else "?"


def _filtered(flt: QueueFilter) -> bool:
    return bool(flt.min_risk or flt.min_amount or flt.currency or flt.search or flt.status == "mine"
                or flt.sort != "priority")


def _matches(alert: Alert, state: AlertState, flt: QueueFilter, actor: Actor) -> bool:
    if flt.status == "mine" and state.assignee != actor.username:
        return False
    if flt.min_risk is not None and alert.risk_score < flt.min_risk:
        return False
    if flt.min_amount is not None and float(alert.amount) < flt.min_amount:
        return False
    if flt.currency and alert.currency != flt.currency.upper():
        return False
    if flt.search:
        needle = flt.search.lower()
        return any(needle in v.lower() for v in (alert.alert_id, alert.tx_id, alert.debtor_account_id))
    return True


def _sort_key(sort: str) -> Callable[[QueueItem], Any]:
    if sort == "age":
        return lambda i: (i.state.created_at, i.alert.alert_id)
    if sort == "amount":
        return lambda i: (-float(i.alert.amount), i.alert.alert_id)
    if sort == "sla":
        return lambda i: (i.state.sla_due_at, -i.state.priority)
    return lambda i: (-i.state.priority, i.state.created_at, i.alert.alert_id)

