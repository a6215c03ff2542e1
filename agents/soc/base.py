"""What the SOC specialists share: the streaming shape of an investigation and small helpers.

A specialist's `investigate(request)` is an async iterator that yields, per step, a `Progress` (what
it is about to do, e.g. "scanning auth logs…") and then the step's `FindingBatch`; the last batch
has `final=True`. The A2A edge turns each Progress into a status update and each batch into an
artifact. Specialists reach data only through the soc-telemetry MCP server (a `ToolCaller`).
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from riskmesh.agents.base import ToolCaller
from riskmesh.contracts.investigation import Finding, FindingBatch, Indicator, InvestigationRequest, Severity

__all__ = [
    "ENTITY_KINDS",
    "SOC_SERVER",
    "Progress",
    "SocSpecialist",
    "Specialist",
    "ind",
    "indicator_json",
    "of_kinds",
    "parse_ts",
]

SOC_SERVER = "soc-telemetry"
ENTITY_KINDS = frozenset({"account", "customer", "user", "device", "host"})
"""Indicators that name who or what is investigated (as opposed to ip, domain and hash observables)."""


@dataclass(frozen=True)
class Progress:
    """What the specialist starts doing next; the edge sends it as a status update."""

    text: str


Event = Progress | FindingBatch


class SocSpecialist(Protocol):
    name: str

    def investigate(self, request: InvestigationRequest) -> AsyncIterator[Event]:
        """Progress, then a FindingBatch, per step; the last batch is final."""
        ...


def indicator_json(indicators: Iterable[Indicator]) -> list[dict[str, str]]:
    return [{"kind": i.kind, "value": i.value} for i in dict.fromkeys(indicators)]


def parse_ts(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


class Specialist:
    """Base of the three specialists: tool calls, batches and findings with stable ids."""

    name = "specialist"

    def __init__(self, tools: ToolCaller) -> None:
        self.tools = tools

    async def call(self, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
        return await self.tools.call(SOC_SERVER, tool, arguments)

    async def records(self, tool: str, request: InvestigationRequest, indicators: Iterable[Indicator],
                      limit: int = 2000) -> list[dict[str, Any]]:  # fmt: skip
        """Records of a read tool for `indicators` over the request's window ([] when there is nothing to ask)."""
        items = indicator_json(indicators)
        if not items:
            return []
        answer = await self.call(tool, {
            "indicators": items, "window_start": request.window_start.isoformat(),
            "window_end": request.window_end.isoformat(), "limit": limit,
        })  # fmt: skip
        return list(answer.get("records", []))

    def batch(self, request: InvestigationRequest, step: str, findings: list[Finding],
              final: bool = False) -> FindingBatch:  # fmt: skip
        return FindingBatch(investigation_id=request.investigation_id, agent=self.name, step=step,
                            findings=findings, final=final)  # fmt: skip

    def finding(self, request: InvestigationRequest, kind: str, key: str, summary: str, *, severity: Severity,
                confidence: float, observed_at: str | datetime | None, entities: Iterable[Indicator],
                evidence: dict[str, Any]) -> Finding:  # fmt: skip
        """A finding whose id is stable for (investigation, agent, kind, key): re-runs and merges dedupe."""
        digest = hashlib.sha1(f"{request.investigation_id}|{kind}|{key}".encode(), usedforsecurity=False)
        when = parse_ts(observed_at) if isinstance(observed_at, str) else observed_at or request.window_end
        return Finding(
            finding_id=f"{self.name}:{kind}:{digest.hexdigest()[:12]}",
            agent=self.name,
            kind=kind,
            summary=summary[:2000],
            severity=severity,
            confidence=round(min(1.0, max(0.0, confidence)), 3),
            observed_at=when,
            entities=list(dict.fromkeys(e for e in entities if e.value)),
            evidence=evidence,
        )


def of_kinds(request: InvestigationRequest, kinds: Iterable[str]) -> list[Indicator]:
    wanted = set(kinds)
    return [i for i in request.indicators if i.kind in wanted]


def ind(kind: str, value: Any) -> Indicator:
    return Indicator(kind=kind, value=str(value))  # type: ignore[arg-type]
