"""Merging the specialists' streamed findings into one `IncidentView` (pure: no I/O, no clock).

`IncidentBuilder` takes `FindingBatch`es in any order, possibly repeated (a specialist may re-send a
finding when it learns more: the last copy of a `(agent, finding_id)` wins), and the specialists' progress;
`view()` renders the incident at that moment:

- timeline: one entry per finding, ordered by `observed_at` (then agent, then finding id);
- entities: every indicator any finding names plus the request's own, deduplicated by (kind, value) in
  order of first appearance;
- indicators: the network-ish entities (ip, domain, hash, device, host) with a reputation. Only
  threat-intel findings set a reputation (`evidence["reputation"]` when it names one, else by severity:
  high/critical ▶ malicious, medium ▶ suspicious, info ▶ benign, low ▶ unknown); the worst one wins.
  `sources` names every agent that saw the indicator, `first_seen`/`last_seen` span its findings;
- affected accounts: account indicators of the request and of every finding;
- confidence: each finding weighs `confidence`, halved when no *other* agent's finding names one of its
  entities (uncorroborated); each agent contributes its strongest weighted finding, and the agents combine
  as independent evidence, `1 - Π(1 - best_agent)`. Three agents agreeing at 0.8 give 0.99; one agent
  alone at 0.8 gives 0.4.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Literal

from riskmesh.contracts.investigation import (
    AgentProgress,
    Finding,
    FindingBatch,
    IncidentView,
    Indicator,
    IndicatorView,
    TimelineEntry,
)

__all__ = ["REPUTATION_KINDS", "IncidentBuilder", "incident_confidence", "incident_status"]

Reputation = Literal["malicious", "suspicious", "unknown", "benign"]
ProgressState = Literal["pending", "working", "completed", "failed", "timeout"]
REPUTATION_KINDS = frozenset({"ip", "domain", "hash", "device", "host"})
"""Entity kinds that get an indicator row (with a reputation) in the incident view."""
_REPUTATION_RANK: dict[str, int] = {"unknown": 0, "benign": 1, "suspicious": 2, "malicious": 3}
_BY_SEVERITY: dict[str, Reputation] = {
    "critical": "malicious", "high": "malicious", "medium": "suspicious", "low": "unknown", "info": "benign",
}
_SEVERITY_RANK = {"info": 0, "low": 1, "medium": 2, "high": 3, "critical": 4}
UNCORROBORATED_WEIGHT = 0.5


def _key(indicator: Indicator) -> tuple[str, str]:
    return indicator.kind, indicator.value


def _is_threat_intel(agent: str) -> bool:
    return "threat-intel" in agent or "threat_intel" in agent


def _reputation(finding: Finding) -> Reputation:
    stated = finding.evidence.get("reputation")
    if isinstance(stated, str) and stated in _REPUTATION_RANK:
        return stated  # type: ignore[return-value]
    return _BY_SEVERITY[finding.severity]


def incident_confidence(findings: Sequence[Finding]) -> float:
    """See the module docstring: corroboration-weighted, strongest finding per agent, noisy-OR across agents."""
    agents_by_entity: dict[tuple[str, str], set[str]] = {}
    for f in findings:
        for e in f.entities:
            agents_by_entity.setdefault(_key(e), set()).add(f.agent)
    best: dict[str, float] = {}
    for f in findings:
        corroborated = any(agents_by_entity[_key(e)] - {f.agent} for e in f.entities)
        weight = f.confidence * (1.0 if corroborated else UNCORROBORATED_WEIGHT)
        best[f.agent] = max(best.get(f.agent, 0.0), weight)
    doubt = 1.0
    for value in best.values():
        doubt *= 1.0 - value
    return round(min(1.0, max(0.0, 1.0 - doubt)), 3)


def incident_status(agents: Iterable[AgentProgress], findings: int) -> Literal["running", "complete", "partial",
                                                                                 "failed"]:
    """running while any agent works; complete when all completed; failed when none completed and nothing was
    found (or no agent was there to ask); partial otherwise."""
    states = [a.state for a in agents]
    if any(s in ("pending", "working") for s in states):
        return "running"
    if states and all(s == "completed" for s in states):
        return "complete"
    if not findings and "completed" not in states:
        return "failed"
    return "partial"


class IncidentBuilder:
    """Accumulates one investigation's findings and progress; `view()` is the merged incident at any time."""

    def __init__(
        self,
        investigation_id: str,
        *,
        alert_id: str | None = None,
        subjects: Sequence[Indicator] = (),
        agents: Sequence[str] = (),
    ) -> None:
        self.investigation_id = investigation_id
        self.alert_id = alert_id
        self._subjects = list(subjects)
        self._findings: dict[tuple[str, str], Finding] = {}
        self._progress: dict[str, AgentProgress] = {a: AgentProgress(agent=a) for a in agents}

    @property
    def findings(self) -> list[Finding]:
        return list(self._findings.values())

    def add_batch(self, batch: FindingBatch, source: str | None = None) -> int:
        """Merge one streamed batch; returns how many findings were new (re-sent ones replace their copy).

        `source` is the name the investigator knows the specialist by (its card), when it differs from the
        batch's own `agent`; progress is kept under that name."""
        agent = source or batch.agent
        new = 0
        for finding in batch.findings:
            key = (agent, finding.finding_id)
            new += key not in self._findings
            self._findings[key] = finding
        count = sum(1 for a, _ in self._findings if a == agent)
        current = self._progress.get(agent, AgentProgress(agent=agent))
        state: ProgressState = current.state if current.state != "pending" else "working"
        self._progress[agent] = current.model_copy(
            update={"state": state, "findings": count, "detail": f"{batch.step}: {len(batch.findings)} finding(s)"}
        )
        return new

    def set_progress(self, agent: str, state: ProgressState, detail: str = "") -> None:
        current = self._progress.get(agent, AgentProgress(agent=agent))
        if current.state in ("completed", "failed", "timeout") and state in ("pending", "working"):
            return  # a late status line never reopens a finished agent
        self._progress[agent] = current.model_copy(update={"state": state, "detail": detail or current.detail})

    def progress(self) -> dict[str, AgentProgress]:
        return dict(self._progress)

    def view(self, status: Literal["running", "complete", "partial", "failed"] | None = None) -> IncidentView:
        findings = sorted(self._findings.values(), key=lambda f: (f.observed_at, f.agent, f.finding_id))
        entities = self._entities(findings)
        final = status or incident_status(self._progress.values(), len(findings))
        return IncidentView(
            investigation_id=self.investigation_id,
            alert_id=self.alert_id,
            status=final,
            summary=self._summary(findings, final),
            timeline=[
                TimelineEntry(at=f.observed_at, agent=f.agent, summary=f.summary, finding_id=f.finding_id,
                              severity=f.severity)
                for f in findings
            ],
            indicators=self._indicators(findings, entities),
            entities=entities,
            affected_accounts=[e.value for e in entities if e.kind == "account"],
            confidence=incident_confidence(findings),
            agents=dict(sorted(self._progress.items())),
            findings=findings,
        )

    def _entities(self, findings: Sequence[Finding]) -> list[Indicator]:
        seen: dict[tuple[str, str], Indicator] = {}
        for indicator in [*self._subjects, *(e for f in findings for e in f.entities)]:
            seen.setdefault(_key(indicator), indicator)
        return list(seen.values())

    @staticmethod
    def _indicators(findings: Sequence[Finding], entities: Sequence[Indicator]) -> list[IndicatorView]:
        rows: list[IndicatorView] = []
        for entity in entities:
            if entity.kind not in REPUTATION_KINDS:
                continue
            about = [f for f in findings if any(_key(e) == _key(entity) for e in f.entities)]
            reputation: Reputation = "unknown"
            for f in about:
                if _is_threat_intel(f.agent):
                    candidate = _reputation(f)
                    if _REPUTATION_RANK[candidate] > _REPUTATION_RANK[reputation]:
                        reputation = candidate
            rows.append(IndicatorView(
                indicator=entity,
                reputation=reputation,
                sources=sorted({f.agent for f in about}),
                first_seen=min((f.observed_at for f in about), default=None),
                last_seen=max((f.observed_at for f in about), default=None),
            ))
        rows.sort(key=lambda r: (-_REPUTATION_RANK[r.reputation], r.indicator.kind, r.indicator.value))
        return rows

    def _summary(self, findings: Sequence[Finding], status: str) -> str:
        done = sum(1 for p in self._progress.values() if p.state == "completed")
        head = f"{len(findings)} finding(s) from {done} of {len(self._progress)} specialist agent(s)"
        missing = [f"{p.agent} {p.state}" for p in self._progress.values() if p.state in ("failed", "timeout")]
        if missing:
            head += f"; missing: {', '.join(missing)}"
        if findings:
            worst = max(findings, key=lambda f: (_SEVERITY_RANK[f.severity], f.confidence))
            head += f"; most severe: [{worst.severity}] {worst.summary}"
        return f"{status}: {head}"
