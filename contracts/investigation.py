"""SOC investigations (issue #5): what the soc-investigator sends its specialists and what comes back.

The investigator sends each specialist (network-log, endpoint-forensics, threat-intel) an
`InvestigationRequest` as an A2A task; the specialist streams `Finding`s as artifacts while it works
(media type FINDINGS_MEDIA_TYPE, one `FindingBatch` per artifact) and completes. The investigator merges
them into an `IncidentView`. The incident-response agent turns an incident into a `ContainmentProposal`
whose steps run only after a SOC engineer approves them.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from riskmesh.contracts.base import RiskmeshModel, UtcDatetime

__all__ = [
    "CONTAINMENT_MEDIA_TYPE",
    "FINDINGS_MEDIA_TYPE",
    "INCIDENT_MEDIA_TYPE",
    "INVESTIGATION_REQUEST_MEDIA_TYPE",
    "AgentProgress",
    "ContainmentInput",
    "ContainmentProposal",
    "ContainmentStep",
    "Finding",
    "FindingBatch",
    "IncidentView",
    "Indicator",
    "IndicatorKind",
    "IndicatorView",
    "InvestigateInput",
    "InvestigationRequest",
    "Severity",
    "TimelineEntry",
]

INVESTIGATION_REQUEST_MEDIA_TYPE = "application/vnd.riskmesh.investigation-request.v1+json"
FINDINGS_MEDIA_TYPE = "application/vnd.riskmesh.findings.v1+json"
INCIDENT_MEDIA_TYPE = "application/vnd.riskmesh.incident.v1+json"
CONTAINMENT_MEDIA_TYPE = "application/vnd.riskmesh.containment.v1+json"

IndicatorKind = Literal["ip", "device", "account", "customer", "host", "user", "domain", "hash"]
Severity = Literal["info", "low", "medium", "high", "critical"]


class Indicator(RiskmeshModel):
    kind: IndicatorKind
    value: str = Field(min_length=1, max_length=256)


class InvestigationRequest(RiskmeshModel):
    """Investigator ▶ specialist (and caller ▶ investigator): what to look into, over which window."""

    investigation_id: str = Field(min_length=1, max_length=128)
    alert_id: str | None = None
    indicators: list[Indicator] = Field(default_factory=list)
    window_start: UtcDatetime
    window_end: UtcDatetime
    requested_by: str = Field(min_length=1)


class Finding(RiskmeshModel):
    """One thing a specialist found: what, when, about which entities, how sure."""

    finding_id: str
    agent: str
    kind: str = Field(description='e.g. "credential_stuffing", "impossible_travel", "ioc_match", "malware_process"')
    summary: str = Field(max_length=2000)
    severity: Severity = "medium"
    confidence: float = Field(ge=0.0, le=1.0)
    observed_at: UtcDatetime
    entities: list[Indicator] = Field(default_factory=list)
    evidence: dict[str, Any] = Field(default_factory=dict)


class FindingBatch(RiskmeshModel):
    """One streamed artifact of a specialist: the findings of one step of its work."""

    investigation_id: str
    agent: str
    step: str = Field(description='e.g. "auth-logs", "flows", "ioc-feed"')
    findings: list[Finding] = Field(default_factory=list)
    final: bool = False


class TimelineEntry(RiskmeshModel):
    at: UtcDatetime
    agent: str
    summary: str
    finding_id: str | None = None
    severity: Severity = "info"


class IndicatorView(RiskmeshModel):
    indicator: Indicator
    reputation: Literal["malicious", "suspicious", "unknown", "benign"] = "unknown"
    sources: list[str] = Field(default_factory=list)
    first_seen: UtcDatetime | None = None
    last_seen: UtcDatetime | None = None


class AgentProgress(RiskmeshModel):
    agent: str
    state: Literal["pending", "working", "completed", "failed", "timeout"] = "pending"
    findings: int = 0
    detail: str = ""


class IncidentView(RiskmeshModel):
    """The investigator's merged picture; re-sent (as an artifact) whenever it changes."""

    investigation_id: str
    alert_id: str | None = None
    status: Literal["running", "complete", "partial", "failed"] = "running"
    summary: str = ""
    timeline: list[TimelineEntry] = Field(default_factory=list)
    indicators: list[IndicatorView] = Field(default_factory=list)
    entities: list[Indicator] = Field(default_factory=list)
    affected_accounts: list[str] = Field(default_factory=list)
    confidence: float = Field(default=0.0, ge=0.0, le=1.0)
    agents: dict[str, AgentProgress] = Field(default_factory=dict)
    findings: list[Finding] = Field(default_factory=list)


class ContainmentStep(RiskmeshModel):
    step_id: str
    action: Literal["block_ip", "isolate_host", "force_password_reset", "freeze_account"]
    target: str
    reason: str = ""
    status: Literal["proposed", "approved", "rejected", "done", "failed"] = "proposed"
    detail: str = ""


class ContainmentProposal(RiskmeshModel):
    """incident-response ▶ SOC engineer: steps that run only once approved (the A2A task waits input-required)."""

    proposal_id: str
    investigation_id: str
    steps: list[ContainmentStep]
    status: Literal["awaiting_approval", "approved", "rejected", "executed", "partially_executed"] = (
        "awaiting_approval")
    approved_by: str | None = None


class InvestigateInput(RiskmeshModel):
    """Caller ▶ soc-investigator (skill `investigate`): an alert whose indicators the investigator derives, or a
    whole `InvestigationRequest` (indicators and window). Missing ids are assigned by the investigator."""

    investigation_id: str | None = Field(default=None, max_length=128)
    alert_id: str | None = Field(default=None, max_length=128)
    indicators: list[Indicator] = Field(default_factory=list)
    window_start: UtcDatetime | None = None
    window_end: UtcDatetime | None = None
    requested_by: str | None = Field(default=None, max_length=128)


class ContainmentInput(RiskmeshModel):
    """Caller ▶ incident-response (skill `propose-containment`): `{"incident": IncidentView}` to get a proposal;
    then, in the same task, the SOC engineer's answer `{"approve": true, "approved_by": "sol", "steps": "all"}`."""

    incident: IncidentView | None = None
    requested_by: str | None = Field(default=None, max_length=128)
    approve: bool | None = None
    approved_by: str | None = Field(default=None, max_length=128)
    steps: list[str] | Literal["all"] = "all"
    reason: str = Field(default="", max_length=2000)
