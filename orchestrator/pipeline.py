"""Ports the supervisor graph depends on, and the fail-closed assembly of a Decision."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from riskmesh.contracts import (
    ANALYSIS_AGENTS,
    ActionOutcome,
    AggregatedDecision,
    AggregationResponse,
    DeadLetter,
    Decision,
    Reason,
    ScoredVerdict,
    ShadowDecision,
    Transaction,
)

__all__ = [
    "AgentTransport",
    "BatchResult",
    "DecisionAudit",
    "Emitter",
    "InboundRecord",
    "build_decision",
    "fallback_decision",
    "shadow_records",
]


class AgentTransport(Protocol):
    """How the supervisor reaches an agent: one call per agent per micro-batch (A2A in production)."""

    async def call(self, agent: str, payload: bytes, media_type: str, timeout_s: float) -> bytes: ...


class Emitter(Protocol):
    """Where decisions and dead letters go (Kafka in production). Returns once the broker acknowledged.

    `shadow`: a challenger policy's decisions (ShadowDecision JSON, keyed by tx_id), recorded and never acted
    on. The supervisor passes it only when there are some, so an emitter without shadow support keeps working
    while no shadow policy is configured.
    """

    async def emit(self, decisions: Sequence[tuple[str, bytes]], dead_letters: Sequence[tuple[str, bytes]],
                   *, shadow: Sequence[tuple[str, bytes]] = ()) -> None:
        ...


class DecisionAudit(Protocol):
    """Where the supervisor records that it made decisions (the hash-chained audit trail in production).

    `stored`: tx_id ▶ the Decision JSON as it will be stored and emitted (what the trail binds by digest)."""

    async def decisions_made(self, decisions: list[Decision], stored: Mapping[str, bytes], batch_id: str) -> None:
        ...


@dataclass(frozen=True, slots=True)
class InboundRecord:
    """One message as it arrived: its bytes and where it came from."""

    value: bytes | None
    key: str | None = None
    topic: str = ""
    partition: int = 0
    offset: int = 0
    ingest_ms: float = 0.0
    """When the message entered the system (producer timestamp), epoch milliseconds."""


@dataclass
class BatchResult:
    decisions: list[Decision] = field(default_factory=list)
    emitted: int = 0
    replayed: int = 0
    skipped_duplicates: int = 0
    dead_letters: list[DeadLetter] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)


def _summary(v: ScoredVerdict) -> dict[str, Any]:
    """A VerdictSummary's fields: `Decision` validates them into one inside pydantic-core, at about half the
    cost of building each VerdictSummary in Python first (docs/performance.md)."""
    return {"score": v.score, "status": v.status, "model_version": v.model_version, "reasons": v.reasons}


def build_decision(
    tx: Transaction,
    aggregated: AggregatedDecision,
    verdicts: dict[str, ScoredVerdict],
    outcome: ActionOutcome | None,
    policy_version: str,
    decided_at: datetime,
    latency_ms: float,
) -> Decision:
    """Assemble the public Decision, enforcing fail-closed whatever the aggregation agent said."""
    degraded = set(aggregated.degraded)
    degraded.update(name for name, v in verdicts.items() if v.status != "ok")
    degraded.update(name for name in ANALYSIS_AGENTS if name not in verdicts)
    reasons = list(aggregated.reasons)
    actions: list[str] = []
    alert_id = None
    if outcome is None or outcome.status != "ok":
        degraded.add("action")
        detail = outcome.detail if outcome else "action agent gave no outcome"
        reasons.append(Reason(code="ACTION_FAILED", agent="action", weight=0.0, detail=detail))
    else:
        actions, alert_id = list(outcome.actions), outcome.alert_id
    decision = aggregated.decision
    if degraded and decision == "pass":
        decision = "review"
        reasons.append(
            Reason(code="FAIL_CLOSED", agent="orchestrator", weight=0.0,
                   detail=f"degraded: {', '.join(sorted(degraded))}; pass is not allowed")
        )
    return Decision(
        tx_id=tx.tx_id,
        decision=decision,
        risk_score=aggregated.risk_score,
        decided_at=decided_at,
        latency_ms=max(0.0, latency_ms),
        reasons=reasons,
        verdicts={name: _summary(v) for name, v in verdicts.items()},  # type: ignore[misc]  # dicts: validated once by Decision
        policy_version=policy_version,
        degraded=sorted(degraded),
        actions=actions,
        alert_id=alert_id,
    )


def fallback_decision(tx_id: str, verdicts: dict[str, ScoredVerdict], detail: str) -> AggregatedDecision:
    """What the supervisor decides itself when the aggregation agent is unavailable: review, never pass."""
    hard = any(v.hard_block and v.status == "ok" for v in verdicts.values())
    degraded = sorted({"aggregation", *(n for n, v in verdicts.items() if v.status != "ok")})
    score = max((v.score for v in verdicts.values() if v.status == "ok"), default=1.0)
    return AggregatedDecision(
        tx_id=tx_id,
        decision="block" if hard else "review",
        risk_score=score,
        reasons=[Reason(code="AGGREGATION_UNAVAILABLE", agent="orchestrator", weight=0.0, detail=detail[:2048])],
        degraded=degraded,
    )


def shadow_records(
    aggregation: AggregationResponse | None, decisions: Sequence[Decision], tx_ids: Sequence[str]
) -> list[tuple[str, bytes]]:
    """(tx_id, ShadowDecision JSON) of the challenger's decisions for `tx_ids`, beside the live outcome."""
    if aggregation is None or not aggregation.shadow or aggregation.shadow_policy_version is None:
        return []
    live = {d.tx_id: d.decision for d in decisions}
    wanted = set(tx_ids)
    return [
        (d.tx_id, ShadowDecision(tx_id=d.tx_id, policy_version=aggregation.shadow_policy_version,
                                 decision=d.decision, risk_score=d.risk_score, reasons=d.reasons,
                                 live_decision=live[d.tx_id]).model_dump_json().encode())
        for d in aggregation.shadow
        if d.tx_id in wanted and d.tx_id in live
    ]
