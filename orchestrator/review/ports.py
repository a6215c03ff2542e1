"""What the review desk offers its callers (the console) and what it needs (evidence, resumption).

The console depends on `ReviewDesk`; `desk.Desk` implements it over the alert queue, the audit trail and
the review graph. Every method takes the acting `Actor`, checks the role for each alert id it names, and
writes its audit event in the same step as the state change. Errors come from `review.errors`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from riskmesh.contracts import Alert
from riskmesh.contracts.audit import AuditEvent
from riskmesh.contracts.review import AlertState, DispositionKind, Resolution, Role

__all__ = [
    "Actor",
    "AlertDetail",
    "EvidenceSource",
    "QueueFilter",
    "QueueItem",
    "QueuePage",
    "Resumer",
    "ReviewDesk",
]


@dataclass(frozen=True, slots=True)
class Actor:
    username: str
    role: Role


@dataclass(frozen=True, slots=True)
class QueueFilter:
    status: str = "active"
    """"active" (every status but closed), one `WorkflowStatus`, or "mine" (claimed by the caller)."""
    min_risk: float | None = None
    min_amount: float | None = None
    currency: str | None = None
    search: str | None = None
    """Substring of alert id, tx id or account id."""
    sort: Literal["priority", "age", "amount", "sla"] = "priority"
    limit: int = 100


@dataclass(frozen=True, slots=True)
class QueueItem:
    alert: Alert
    state: AlertState


@dataclass(frozen=True, slots=True)
class QueuePage:
    items: list[QueueItem]
    counts: dict[str, int]
    """Alerts per workflow status (closed: the last 24 h), for the queue's tabs."""


@dataclass(frozen=True, slots=True)
class AlertDetail:
    alert: Alert
    state: AlertState
    decision: dict[str, Any] | None
    """The Decision JSON as emitted (verdicts with reasons, policy and model versions), when still stored."""
    evidence: dict[str, Any] = field(default_factory=dict)
    """customer, recent history and graph neighbourhood, fetched through MCP and masked for the role."""
    audit: list[AuditEvent] = field(default_factory=list)
    """This alert's and its transaction's audit events, oldest first."""
    four_eyes_required: bool = False


class EvidenceSource(Protocol):
    async def evidence(self, alert: Alert, role: Role) -> dict[str, Any]:
        """Customer (masked per role), recent history and graph neighbourhood of the alert's account."""
        ...


class Resumer(Protocol):
    async def resume(self, resolution: Resolution) -> bool:
        """Resume the held review with its final disposition; False when it was already resumed."""
        ...


class ReviewDesk(Protocol):
    async def queue(self, actor: Actor, flt: QueueFilter) -> QueuePage: ...

    async def detail(self, actor: Actor, alert_id: str) -> AlertDetail: ...

    async def claim(self, actor: Actor, alert_id: str) -> AlertState:
        """Take the alert for `lease_s`; renewing your own claim extends it."""
        ...

    async def release(self, actor: Actor, alert_id: str) -> AlertState:
        """Give the claim back (supervisors may release anyone's)."""
        ...

    async def reassign(self, actor: Actor, alert_id: str, to_user: str) -> AlertState:
        """Supervisor or admin: hand the alert to another analyst."""
        ...

    async def add_note(self, actor: Actor, alert_id: str, text: str) -> AlertState: ...

    async def decide(self, actor: Actor, alert_id: str, disposition: DispositionKind, reason: str) -> AlertState:
        """The claimant's disposition. release, or a block at or below the four-eyes amount, closes the alert and
        resumes the review; freeze and larger blocks wait in `pending_approval`; escalate and request_info keep
        it open."""
        ...

    async def approve(self, actor: Actor, alert_id: str) -> AlertState:
        """A second person confirms a pending four-eyes disposition; never the one who proposed it."""
        ...

    async def reject(self, actor: Actor, alert_id: str, reason: str) -> AlertState:
        """A second person sends a pending four-eyes disposition back to the queue."""
        ...

    async def audit(self, actor: Actor, limit: int = 200, subject: str | None = None) -> list[AuditEvent]:
        """Newest first."""
        ...
