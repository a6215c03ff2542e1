"""The incident-response agent's logic: propose containment for an incident, run it only once approved.

Transport-free: the A2A executor (riskmesh.a2a.soc_executors) parks the task `input-required` between
`propose` and `execute`. Steps run through MCP (`ToolCaller`) and every decision and step is audited
through `AuditPort` (the serve process passes the Redis audit log).

What is proposed, from the incident view:
- block_ip: every IP indicator threat intel calls malicious;
- isolate_host: every host (or device) a malware-like finding names, and every malicious host indicator;
- force_password_reset: every customer / user of the incident once its confidence reaches 0.5;
- freeze_account: every affected account once the confidence reaches 0.7 or a finding is critical.

How each step runs (`CONTAINMENT_TOOLS`): block_ip, isolate_host and force_password_reset call the
soc-telemetry containment tools. risk-actions has no tool that freezes an account outside an alert's
four-eyes disposition, and one SOC engineer's approval is not four eyes, so an approved freeze step
*requests* the freeze: it opens a case on the alert (risk-actions `open_case`) whose reason asks for the
freeze; an analyst then freezes through the alert desk, where a second person approves it.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable, Sequence
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from riskmesh.agents.base import ToolCaller, ToolCallError
from riskmesh.contracts.investigation import ContainmentProposal, ContainmentStep, IncidentView

__all__ = [
    "CONTAINMENT_TOOLS",
    "FREEZE_MIN_CONFIDENCE",
    "RESET_MIN_CONFIDENCE",
    "Approval",
    "AuditPort",
    "IncidentResponder",
    "propose_containment",
    "steps_summary",
]

logger = logging.getLogger(__name__)

AGENT = "incident-response"
RESET_MIN_CONFIDENCE = 0.5
FREEZE_MIN_CONFIDENCE = 0.7
_MALWARE_WORDS = ("malware", "ransom", "c2", "beacon", "trojan", "rootkit", "implant", "lateral")


class AuditPort(Protocol):
    """The audit trail (orchestrator.audit.AuditLog satisfies it): append one event, atomically chained."""

    def append(self, actor: str, action: str, subject: str, details: dict[str, Any] | None = None) -> Any: ...


class Approval(BaseModel):
    """The SOC engineer's answer: `{"approve": true, "approved_by": "sol", "steps": ["s1", …] | "all"}`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    approve: bool
    approved_by: str = Field(min_length=1, max_length=128)
    steps: list[str] | Literal["all"] = "all"
    reason: str = Field(default="", max_length=2000)


def _step(n: int, action: str, target: str, reason: str) -> ContainmentStep:
    return ContainmentStep(step_id=f"s{n}", action=action, target=target, reason=reason)  # type: ignore[arg-type]


def propose_containment(incident: IncidentView) -> ContainmentProposal:
    """The containment steps this incident calls for, in a fixed order (ids s1, s2, … are stable)."""
    wanted: list[tuple[str, str, str]] = []
    for row in incident.indicators:
        if row.indicator.kind == "ip" and row.reputation == "malicious":
            wanted.append(("block_ip", row.indicator.value, f"threat intel: malicious ({', '.join(row.sources)})"))
    hosts: dict[str, str] = {}
    for finding in incident.findings:
        if any(word in finding.kind.lower() for word in _MALWARE_WORDS):
            for entity in finding.entities:
                if entity.kind in ("host", "device"):
                    hosts.setdefault(entity.value, f"{finding.agent}: {finding.kind} ({finding.severity})")
    for row in incident.indicators:
        if row.indicator.kind == "host" and row.reputation == "malicious":
            hosts.setdefault(row.indicator.value, "threat intel: malicious host")
    wanted += [("isolate_host", host, reason) for host, reason in hosts.items()]
    if incident.confidence >= RESET_MIN_CONFIDENCE:
        for entity in incident.entities:
            if entity.kind in ("customer", "user"):
                wanted.append(("force_password_reset", entity.value,
                               f"credentials at risk (incident confidence {incident.confidence:.2f})"))
    critical = any(f.severity == "critical" for f in incident.findings)
    if incident.confidence >= FREEZE_MIN_CONFIDENCE or critical:
        why = "a critical finding" if critical else f"incident confidence {incident.confidence:.2f}"
        wanted += [("freeze_account", account, f"affected account ({why}); needs four-eyes")
                   for account in incident.affected_accounts]
    steps = [_step(n, action, target, reason) for n, (action, target, reason) in enumerate(wanted, start=1)]
    digest = hashlib.sha256(
        (incident.investigation_id + "|" + "|".join(f"{s.action}:{s.target}" for s in steps)).encode()
    ).hexdigest()[:12]
    return ContainmentProposal(proposal_id=f"CP-{digest}", investigation_id=incident.investigation_id, steps=steps)


StepArgs = Callable[[ContainmentStep, IncidentView, str], dict[str, Any]]


def _freeze_request(step: ContainmentStep, incident: IncidentView, approved_by: str) -> dict[str, Any]:
    customer = next((e.value for e in incident.entities if e.kind == "customer"), None)
    if not incident.alert_id or not customer:
        raise ValueError("a freeze request is opened as a case on the incident's alert and customer; "
                         "this incident has no alert or no customer: freeze through the alert desk")
    return {
        "customer_id": customer,
        "alert_id": incident.alert_id,
        "opened_by": AGENT,
        "reason": (f"SOC containment {incident.investigation_id}: freeze of account {step.target} requested, "
                   f"approved by {approved_by} ({step.reason}). Four-eyes: decide 'freeze' on the alert and have "
                   "a second person approve it."),
    }


def _reset_args(step: ContainmentStep, incident: IncidentView, approved_by: str) -> dict[str, Any]:
    customer = any(e.kind == "customer" and e.value == step.target for e in incident.entities)
    return {"customer_id" if customer else "user": step.target, "reason": step.reason, "requested_by": approved_by}


CONTAINMENT_TOOLS: dict[str, tuple[str, str, StepArgs]] = {
    "block_ip": ("soc-telemetry", "block_ip",
                 lambda s, i, who: {"ip": s.target, "reason": s.reason, "requested_by": who}),
    "isolate_host": ("soc-telemetry", "isolate_host",
                     lambda s, i, who: {"host": s.target, "reason": s.reason, "requested_by": who}),
    "force_password_reset": ("soc-telemetry", "force_password_reset", _reset_args),
    "freeze_account": ("risk-actions", "open_case", _freeze_request),
}
"""action ▶ (MCP server, tool, arguments of a step). The one place that knows the containment tools' shapes."""


class IncidentResponder:
    def __init__(self, tools: ToolCaller, audit: AuditPort | None = None) -> None:
        self.tools = tools
        self.audit = audit

    async def _record(self, actor: str, action: str, investigation_id: str, details: dict[str, Any]) -> None:
        if self.audit is not None:
            await asyncio.to_thread(self.audit.append, actor, action, f"investigation:{investigation_id}",
                                    {"agent": AGENT, **details})

    async def propose(self, incident: IncidentView, requested_by: str = AGENT) -> ContainmentProposal:
        proposal = propose_containment(incident)
        await self._record(requested_by, "containment.proposed", incident.investigation_id, {
            "proposal_id": proposal.proposal_id,
            "steps": [f"{s.step_id} {s.action} {s.target}" for s in proposal.steps],
        })
        return proposal

    async def decide(self, proposal: ContainmentProposal, incident: IncidentView,
                     approval: Approval) -> ContainmentProposal:
        """Run the approved steps (none on a rejection) and return the proposal with every step's outcome."""
        if proposal.status != "awaiting_approval":
            raise ValueError(f"proposal {proposal.proposal_id} is {proposal.status}, not awaiting approval")
        who, inv = approval.approved_by, proposal.investigation_id
        if not approval.approve:
            await self._record(who, "containment.rejected", inv,
                               {"proposal_id": proposal.proposal_id, "reason": approval.reason})
            steps = [s.model_copy(update={"status": "rejected"}) for s in proposal.steps]
            return proposal.model_copy(update={"steps": steps, "status": "rejected", "approved_by": who})
        known = {s.step_id for s in proposal.steps}
        chosen = known if approval.steps == "all" else set(approval.steps)
        if chosen - known:
            raise ValueError(f"unknown step(s) {sorted(chosen - known)}; the proposal has {sorted(known)}")
        await self._record(who, "containment.approved", inv,
                           {"proposal_id": proposal.proposal_id, "steps": sorted(chosen), "reason": approval.reason})
        steps = [await self._run(s, incident, who) if s.step_id in chosen
                 else s.model_copy(update={"status": "rejected"}) for s in proposal.steps]
        all_done = all(s.status == "done" for s in steps)
        return proposal.model_copy(update={
            "steps": steps, "approved_by": who, "status": "executed" if all_done else "partially_executed",
        })

    async def _run(self, step: ContainmentStep, incident: IncidentView, approved_by: str) -> ContainmentStep:
        server, tool, args_of = CONTAINMENT_TOOLS[step.action]
        base = {"proposal_step": step.step_id, "action": step.action, "target": step.target,
                "tool": f"{server}.{tool}"}
        try:
            result = await self.tools.call(server, tool, args_of(step, incident, approved_by))
        except (ToolCallError, ValueError) as exc:
            logger.warning("containment step %s %s %s failed: %s", step.step_id, step.action, step.target, exc)
            await self._record(approved_by, "containment.step_failed", incident.investigation_id,
                               {**base, "error": str(exc)[:500]})
            return step.model_copy(update={"status": "failed", "detail": str(exc)[:500]})
        detail = _describe(step, result)
        await self._record(approved_by, "containment.step_done", incident.investigation_id, {**base, "detail": detail})
        return step.model_copy(update={"status": "done", "detail": detail})


def _describe(step: ContainmentStep, result: dict[str, Any]) -> str:
    if step.action == "freeze_account":
        case = result.get("case") or {}
        return (f"four-eyes freeze requested: case {case.get('case_id', '?')} "
                f"on alert {case.get('opening_alert_id', '?')}")
    text = ", ".join(f"{k}={v}" for k, v in sorted(result.items()) if isinstance(v, str | int | float | bool))
    return text[:500] or "done"


def steps_summary(steps: Sequence[ContainmentStep]) -> str:
    return "; ".join(f"{s.step_id} {s.action} {s.target} [{s.status}]" for s in steps)
