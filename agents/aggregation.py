"""Aggregation agent: one decision per transaction from the analysis verdicts and a versioned policy.

Order of rules, per transaction:
1. Verdicts with status other than `ok`, and expected agents without a verdict, are *degraded*.
2. A hard block from an ok verdict (e.g. a confirmed sanctions match) ▶ `block`, risk 1.0.
3. Otherwise the risk score of the ok verdicts decides: ≥ block_threshold ▶ `block`,
   ≥ review_threshold ▶ `review`, else `pass`.
4. Fail closed: a degraded decision is never `pass`; it becomes `review` with AGGREGATION_DEGRADED.

Risk score (`combine="noisy_or"`, the default): `1 - Π(1 - weight_a * score_a)` over ok verdicts.
Unlike a weighted mean it does not dilute one strong signal with three quiet agents, and an agent
with weight 0 cannot move it. `combine="weighted_mean"` is available for comparison.
Pure and deterministic: no I/O, no clock, stable ordering.

Calibrated policy: `riskmesh train` writes a policy into the model card (fraud score dominating,
compliance hard rules kept, behaviour and credit with a small weight, thresholds chosen on the
training holdout for a review budget). `deployed_policy()` reads it from the registry at start.
Such a policy names the fraud model it was calibrated for (`fraud_model_version`): a batch whose
fraud verdicts come from another model (e.g. the rules fallback) is decided by the fallback policy.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from riskmesh.agents._common import approx_usd
from riskmesh.contracts import (
    ANALYSIS_AGENTS,
    AgentVerdict,
    AggregatedDecision,
    AggregationRequest,
    AggregationResponse,
    DecisionOutcome,
    Reason,
    Transaction,
)

__all__ = ["AggregationAgentImpl", "Policy", "deployed_policy"]

AGENT = "aggregation"
log = logging.getLogger("riskmesh.agents.aggregation")


class Policy(BaseModel):
    """A versioned scoring policy. Every decision records `version`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: str = Field(default="policy-1", min_length=1)
    weights: dict[str, float] = Field(
        default_factory=lambda: {"fraud": 1.0, "compliance": 1.0, "behaviour": 0.8, "credit": 0.4},
        description="agent ▶ trust in 0..1; every agent named here is expected to answer",
    )
    review_threshold: float = Field(default=0.5, ge=0.0, le=1.0)
    block_threshold: float = Field(default=0.9, ge=0.0, le=1.0)
    combine: Literal["noisy_or", "weighted_mean"] = "noisy_or"
    max_reasons: int = Field(default=8, ge=1, le=64)
    high_value_usd: float | None = Field(
        default=None, gt=0,
        description="value-aware review: above this amount (≈USD) the review threshold shrinks, so a large "
                    "payment needs less evidence to be reviewed (expected loss = risk x amount); None: off",
    )
    high_value_power: float = Field(default=0.5, ge=0.0, le=2.0)
    fraud_model_version: str | None = Field(
        default=None, description="the fraud model this policy was calibrated for (None: any fraud scorer)"
    )

    @model_validator(mode="after")
    def _coherent(self) -> Policy:
        if self.review_threshold > self.block_threshold:
            raise ValueError("review_threshold must not exceed block_threshold")
        bad = sorted(name for name, w in self.weights.items() if not 0.0 <= w <= 1.0)
        if bad:
            raise ValueError(f"weights must be within 0..1: {bad}")
        return self

    def review_threshold_for(self, amount_usd: float | None) -> float:
        """The review threshold for a transaction of this size (the policy's threshold up to high_value_usd)."""
        if self.high_value_usd is None or amount_usd is None or amount_usd <= self.high_value_usd:
            return self.review_threshold
        return self.review_threshold * (self.high_value_usd / amount_usd) ** self.high_value_power

    @property
    def expected_agents(self) -> tuple[str, ...]:
        ordered = [a for a in ANALYSIS_AGENTS if a in self.weights]
        return (*ordered, *sorted(set(self.weights) - set(ordered)))


def deployed_policy(model_dir: Path | str | None = None) -> Policy:
    """The policy in the current model card of the registry (`RISKMESH_MODEL_DIR`), else the default.

    With `RISKMESH_FRAUD_MODE=rules` the fraud agent ignores the model, so the default policy applies.
    """
    import os

    from riskmesh.agents.model import SCORING_MODE_ENV, ModelRegistry

    if os.environ.get(SCORING_MODE_ENV, "").lower() == "rules":
        return Policy()
    try:
        card = ModelRegistry(model_dir).card()
        return Policy.model_validate(card["policy"]) if card and card.get("policy") else Policy()
    except (OSError, ValueError, KeyError, json.JSONDecodeError) as exc:
        log.error("the model card's policy could not be read, using the default policy: %s", exc)
        return Policy()


class AggregationAgentImpl:
    name = AGENT

    def __init__(self, policy: Policy | None = None, fallback: Policy | None = None) -> None:
        self.policy = policy or Policy()
        self.fallback = fallback or Policy()

    @property
    def policy_version(self) -> str:
        return self.policy.version

    @property
    def model_version(self) -> str:
        return self.policy.version

    async def aggregate(self, request: AggregationRequest) -> AggregationResponse:
        return self.decide(request)

    def decide(self, request: AggregationRequest) -> AggregationResponse:
        """The synchronous core of `aggregate`."""
        wanted = self.policy.fraud_model_version
        fraud = request.verdicts.get("fraud", [])
        if wanted is not None and fraud and not any(v.model_version == wanted for v in fraud):
            return AggregationAgentImpl(self.fallback).decide(request)
        by_agent: dict[str, dict[str, AgentVerdict]] = {}
        for agent in sorted(request.verdicts):
            index: dict[str, AgentVerdict] = {}
            for verdict in request.verdicts[agent]:
                index.setdefault(verdict.tx_id, verdict)
            by_agent[agent] = index
        agents = [*self.policy.expected_agents, *sorted(set(by_agent) - set(self.policy.weights))]
        decisions = [self._one(tx, agents, by_agent) for tx in request.transactions]
        return AggregationResponse(batch_id=request.batch_id, policy_version=self.policy.version, decisions=decisions)

    def _one(
        self, tx: Transaction, agents: list[str], by_agent: dict[str, dict[str, AgentVerdict]]
    ) -> AggregatedDecision:
        ok: list[AgentVerdict] = []
        degraded: dict[str, str] = {}
        for agent in agents:
            verdict = by_agent.get(agent, {}).get(tx.tx_id)
            if verdict is None:
                degraded[agent] = "missing"
            elif verdict.status != "ok":
                detail = verdict.reasons[0].detail if verdict.reasons else ""
                degraded[agent] = f"{verdict.status}: {detail}" if detail else verdict.status
            else:
                ok.append(verdict)
        blockers = [v for v in ok if v.hard_block]
        risk = 1.0 if blockers else self._risk(ok)
        decision: DecisionOutcome
        if blockers or risk >= self.policy.block_threshold:
            decision = "block"
        elif risk >= self.policy.review_threshold_for(approx_usd(tx.amount, tx.currency)) or degraded:
            decision = "review"
        else:
            decision = "pass"
        return AggregatedDecision(
            tx_id=tx.tx_id,
            decision=decision,
            risk_score=round(min(1.0, max(0.0, risk)), 4),
            reasons=self._reasons(ok, blockers, degraded),
            degraded=sorted(degraded),
        )

    def _risk(self, ok: list[AgentVerdict]) -> float:
        weights = self.policy.weights
        if self.policy.combine == "weighted_mean":
            total = sum(weights.get(v.agent, 0.0) for v in ok)
            return sum(weights.get(v.agent, 0.0) * v.score for v in ok) / total if total else 0.0
        keep = 1.0
        for v in ok:
            keep *= 1.0 - weights.get(v.agent, 0.0) * v.score
        return 1.0 - keep

    def _reasons(self, ok: list[AgentVerdict], blockers: list[AgentVerdict], degraded: dict[str, str]) -> list[Reason]:
        first: list[Reason] = []
        for v in blockers:
            top = max(v.reasons, key=lambda r: (r.weight, r.code), default=None)
            if top is not None:
                first.append(top)
            else:
                first.append(Reason(code="AGGREGATION_HARD_BLOCK", agent=AGENT, weight=1.0, detail=v.agent))
        if degraded:
            listed = "; ".join(f"{agent} {why}" for agent, why in sorted(degraded.items()))
            first.append(
                Reason(
                    code="AGGREGATION_DEGRADED",
                    agent=AGENT,
                    weight=0.0,
                    detail=f"decided without {', '.join(sorted(degraded))} ({listed})"[:2048],
                )
            )
        rank = {agent: i for i, agent in enumerate(self.policy.expected_agents)}
        rest = sorted(
            (r for v in ok for r in v.reasons if r.weight > 0 and r not in first),
            key=lambda r: (-r.weight, rank.get(r.agent, len(rank)), r.agent, r.code, r.detail),
        )
        return (first + rest)[: self.policy.max_reasons]
