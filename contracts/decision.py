"""The public Decision format (CONTRACTS.md v1): Kafka `riskmesh.decisions` value, A2A assess output."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from riskmesh.contracts.base import RiskmeshModel, UtcDatetime
from riskmesh.contracts.verdict import Reason, VerdictStatus

__all__ = ["Decision", "DecisionOutcome", "VerdictSummary"]

DecisionOutcome = Literal["pass", "block", "review"]


class VerdictSummary(RiskmeshModel):
    score: float | None = Field(default=None, ge=0.0, le=1.0)
    status: VerdictStatus = "skipped"
    model_version: str | None = None
    reasons: list[Reason] = Field(default_factory=list)


class Decision(RiskmeshModel):
    schema_version: Literal["1"] = "1"
    tx_id: str = Field(min_length=1, max_length=128)
    decision: DecisionOutcome
    risk_score: float = Field(ge=0.0, le=1.0)
    decided_at: UtcDatetime
    latency_ms: float = Field(ge=0.0)
    reasons: list[Reason] = Field(default_factory=list)
    verdicts: dict[str, VerdictSummary] = Field(default_factory=dict)
    policy_version: str
    degraded: list[str] = Field(default_factory=list)
    actions: list[str] = Field(default_factory=list)
    alert_id: str | None = None

    @model_validator(mode="after")
    def _fail_closed(self) -> Decision:
        not_ok = sorted(name for name, v in self.verdicts.items() if v.status != "ok")
        missing = [name for name in not_ok if name not in self.degraded]
        if missing:
            raise ValueError(f"verdicts {missing} are not ok but are not listed in degraded")
        if self.degraded and self.decision == "pass":
            raise ValueError(f"a decision with degraded agents {self.degraded} can never be pass")
        return self
