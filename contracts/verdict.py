"""What one analysis agent says about one transaction."""

from __future__ import annotations

from typing import Any, Literal, Self

from pydantic import Field

from riskmesh.contracts.base import RiskmeshModel

__all__ = ["ANALYSIS_AGENTS", "AgentName", "AgentVerdict", "Reason", "ScoredVerdict", "VerdictStatus"]

VerdictStatus = Literal["ok", "timeout", "error", "skipped"]
AgentName = Literal["fraud", "credit", "behaviour", "compliance"]
ANALYSIS_AGENTS: tuple[str, ...] = ("fraud", "credit", "behaviour", "compliance")


class Reason(RiskmeshModel):
    """One explainable contribution to a verdict or decision. Codes are UPPER_SNAKE (docs/reason-codes.md)."""

    code: str = Field(pattern=r"^[A-Z][A-Z0-9_]*$", max_length=96)
    agent: str = Field(min_length=1, max_length=64)
    weight: float = 0.0
    detail: str = Field(default="", max_length=2048)


class ScoredVerdict(RiskmeshModel):
    """Internal: what decisions are made of, i.e. a verdict without its `evidence`.

    The supervisor and the aggregation policy read scores, statuses, reasons and `hard_block`, never evidence,
    which is about half of a verdict's bytes; the Decision keeps none of it (VerdictSummary).
    """

    tx_id: str
    agent: str
    score: float = Field(ge=0.0, le=1.0)
    status: VerdictStatus = "ok"
    reasons: list[Reason] = Field(default_factory=list)
    model_version: str
    hard_block: bool = False

    @classmethod
    def failed(cls, tx_id: str, agent: str, status: VerdictStatus, detail: str) -> Self:
        """A fail-closed placeholder for an agent that errored or missed its deadline."""
        code = "AGENT_TIMEOUT" if status == "timeout" else "AGENT_ERROR"
        return cls(
            tx_id=tx_id,
            agent=agent,
            score=1.0,
            status=status,
            reasons=[Reason(code=code, agent=agent, weight=0.0, detail=detail[:2048])],
            model_version="unavailable",
        )


class AgentVerdict(ScoredVerdict):
    """Internal: one agent's verdict on one transaction, as an analysis agent answers it."""

    evidence: dict[str, Any] = Field(default_factory=dict)
