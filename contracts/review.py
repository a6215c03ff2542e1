"""The review workflow's records (issue #4): an alert's workflow state, resolutions, controls and labels.

An `Alert` (records.py) is what the machine found and never changes. `AlertState` is what people did with
it: claim, notes, the proposed and final disposition, four-eyes approval. A `Resolution` is the final word
on an alert; the review graph resumes with it and hands it to the action agent in a `ResolutionRequest`.
Dispositions flow back to training as `LabelRecord`s on the `riskmesh.labels` topic.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from riskmesh.contracts.base import RiskmeshModel, UtcDatetime

__all__ = [
    "FINAL_DISPOSITIONS",
    "RESOLUTION_REQUEST_MEDIA_TYPE",
    "RESOLUTION_RESPONSE_MEDIA_TYPE",
    "ROLES",
    "AlertNote",
    "AlertState",
    "ControlChange",
    "ControlKind",
    "DispositionKind",
    "FinalDisposition",
    "LabelRecord",
    "Resolution",
    "ResolutionOutcome",
    "ResolutionRequest",
    "ResolutionResponse",
    "Role",
    "WorkflowStatus",
]

RESOLUTION_REQUEST_MEDIA_TYPE = "application/vnd.riskmesh.resolution-request.v1+json"
RESOLUTION_RESPONSE_MEDIA_TYPE = "application/vnd.riskmesh.resolution-response.v1+json"

Role = Literal["analyst", "supervisor", "soc_engineer", "compliance_officer", "admin"]
ROLES: tuple[str, ...] = Role.__args__  # type: ignore[attr-defined]

DispositionKind = Literal["release", "block", "freeze", "escalate", "request_info"]
"""What an analyst decides. release/block/freeze end the review; escalate and request_info keep it open."""
FinalDisposition = Literal["release", "block", "freeze"]
FINAL_DISPOSITIONS: tuple[str, ...] = FinalDisposition.__args__  # type: ignore[attr-defined]

WorkflowStatus = Literal["open", "claimed", "pending_approval", "info_requested", "escalated", "closed"]
ControlKind = Literal["hold", "limit", "suspend_remote", "freeze"]


class AlertNote(RiskmeshModel):
    at: UtcDatetime
    author: str = Field(min_length=1)
    text: str = Field(min_length=1, max_length=4000)


class AlertState(RiskmeshModel):
    """The workflow state of one alert; `version` grows by one on every change (optimistic concurrency)."""

    alert_id: str
    tx_id: str
    status: WorkflowStatus = "open"
    priority: float
    created_at: UtcDatetime
    sla_due_at: UtcDatetime
    assignee: str | None = None
    lease_expires_at: UtcDatetime | None = None
    proposed: DispositionKind | None = Field(default=None, description="awaiting a second person's approval")
    proposed_by: str | None = None
    proposed_at: UtcDatetime | None = None
    reason: str = Field(default="", max_length=4000, description="the analyst's reason for the disposition")
    approved_by: str | None = None
    disposition: FinalDisposition | None = None
    decided_by: str | None = None
    closed_at: UtcDatetime | None = None
    escalation: str = Field(default="", description="why the alert was escalated (analyst or SLA breach)")
    notes: list[AlertNote] = Field(default_factory=list)
    version: int = Field(default=0, ge=0)


class Resolution(RiskmeshModel):
    """The final disposition of an alert: what `Command(resume=…)` carries to the action agent."""

    alert_id: str
    tx_id: str
    debtor_account_id: str
    disposition: FinalDisposition
    decided_by: str
    approved_by: str | None = None
    reason: str = ""
    decided_at: UtcDatetime


class ResolutionRequest(RiskmeshModel):
    """Review graph ▶ action agent: carry these resolutions out (release or block the held tx, freeze)."""

    request_id: str
    resolutions: list[Resolution]


class ControlChange(RiskmeshModel):
    account_id: str
    control: ControlKind
    change: Literal["applied", "lifted", "lift_requested", "escalated"]
    level: int = Field(ge=0, description="graded level after the change: 0 none … 4 frozen")
    reason: str = ""


class ResolutionOutcome(RiskmeshModel):
    alert_id: str
    tx_id: str
    actions: list[str] = Field(default_factory=list, description='e.g. ["release_transaction"]')
    controls: list[ControlChange] = Field(default_factory=list)
    status: Literal["ok", "error"] = "ok"
    detail: str = ""


class ResolutionResponse(RiskmeshModel):
    request_id: str
    outcomes: list[ResolutionOutcome]


class LabelRecord(RiskmeshModel):
    """Value of `riskmesh.labels`: ground truth from an analyst's disposition or another system's feedback."""

    tx_id: str
    is_fraud: bool
    is_suspicious_aml: bool = False
    pattern: str | None = None
    source: Literal["analyst", "feedback"] = "analyst"
    disposition: str = Field(description="release, block, freeze, chargeback, false_positive, …")
    alert_id: str | None = None
    actor: str
    labelled_at: UtcDatetime
