"""Aggregation agent: one decision per transaction from the analysis verdicts and a versioned policy.

Order of rules, per transaction (the policy file, policies/*.yaml, sets every knob; see agents/policy_file.py):
1. Verdicts with status other than `ok`, and expected agents without a verdict, are *degraded*.
2. Hard rules, before the score, each `block | review | off`: a confirmed sanctions match (the compliance
   agent's hard-blocking COMPLIANCE_SANCTIONS_MATCH) ▶ HARD_RULE_SANCTIONS_MATCH; a frozen debtor or
   creditor account (reference status or a risk-actions control) ▶ HARD_RULE_FROZEN_ACCOUNT, and when the
   controls cannot be read ▶ HARD_RULE_CONTROLS_UNAVAILABLE, at least `review`; an amount at or above
   `reportable_amount_usd` (≈USD) ▶ HARD_RULE_REPORTABLE_AMOUNT (review and report). A hard rule that
   blocks sets the risk score to 1.0.
3. The risk score of the ok verdicts against the thresholds of the acting customer's scope, threshold by
   threshold branch ▶ segment ▶ default: ≥ block ▶ `block`, ≥ review (shrunk for high values) ▶ `review`.
4. Fail closed: a degraded decision is at least `degraded_decision` (review, or block) with
   AGGREGATION_DEGRADED; a hard rule that blocks still blocks.
The outcome is the most severe of steps 2 to 4. Reasons are ranked: blocking hard rules, reviewing hard rules,
degradation, then the agents' weighted reasons by weight.

Risk score (`combine="noisy_or"`, the default): `1 - Π(1 - weight_a * score_a)` over ok verdicts.
Unlike a weighted mean it does not dilute one strong signal with three quiet agents, and an agent
with weight 0 cannot move it. `combine="weighted_mean"` is available for comparison.
`decide` is pure and deterministic (no I/O, no clock); `aggregate` first fetches, once per batch and only
what the policy needs, the customers' segment and branch and the accounts' controls (agents/policy_facts.py).

Calibrated policy: `riskmesh train` writes a policy into the model card (fraud score dominating,
compliance hard rules kept, behaviour and credit with a small weight, thresholds chosen on the
training holdout for a review budget). `deployed_policy()` reads it from the registry at start; it is the
fallback when no policy file is configured (`RISKMESH_POLICY_FILE`, see `configured_policies`).
Such a policy names the fraud model it was calibrated for (`fraud_model_version`): a batch whose
fraud verdicts come from another model (e.g. the rules fallback) is decided by the fallback policy.

Shadow mode: with a challenger policy the agent also decides every batch with it (same verdicts, same
facts) and returns those decisions in `AggregationResponse.shadow`; they are recorded, never acted on.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from riskmesh.agents._common import approx_usd
from riskmesh.agents.base import ToolCaller
from riskmesh.agents.policy_facts import BatchFacts, gather_facts
from riskmesh.contracts import (
    ANALYSIS_AGENTS,
    AggregatedDecision,
    AggregationRequest,
    AggregationResponse,
    DecisionOutcome,
    Reason,
    ScoredVerdict,
    TxFacts,
)

__all__ = ["AggregationAgentImpl", "HardRules", "Policy", "ThresholdOverride", "deployed_policy"]

AGENT = "aggregation"
log = logging.getLogger("riskmesh.agents.aggregation")

RuleAction = Literal["block", "review", "off"]
SEVERITY: dict[str, int] = {"pass": 0, "review": 1, "block": 2}
SANCTIONS_CODE = "COMPLIANCE_SANCTIONS_MATCH"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ThresholdOverride(_Frozen):
    """A segment's or branch's thresholds; one left out falls back to the next scope."""

    review_threshold: float | None = Field(default=None, ge=0.0, le=1.0)
    block_threshold: float | None = Field(default=None, ge=0.0, le=1.0)


class HardRules(_Frozen):
    """Rules that decide before the score. These defaults are those of model-card policies (sanctions only);
    a policy file turns the others on (agents/policy_file.py)."""

    sanctions_match: RuleAction = "block"
    frozen_account: RuleAction = "off"
    reportable_amount: RuleAction = "off"
    reportable_amount_usd: float = Field(default=10_000.0, gt=0)


def resolve_thresholds(
    review: float, block: float, *scopes: ThresholdOverride | None
) -> tuple[float, float]:
    """(review, block) after applying `scopes` in order, threshold by threshold (the last one set wins)."""
    for scope in scopes:
        if scope is not None:
            review = scope.review_threshold if scope.review_threshold is not None else review
            block = scope.block_threshold if scope.block_threshold is not None else block
    return review, block


class Policy(_Frozen):
    """A versioned scoring policy with its hard rules. Every decision records `version`."""

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
    segments: dict[str, ThresholdOverride] = Field(default_factory=dict, description="segment ▶ override")
    branches: dict[str, ThresholdOverride] = Field(default_factory=dict, description="branch id ▶ override")
    hard_rules: HardRules = Field(default_factory=HardRules)
    degraded_decision: Literal["review", "block"] = Field(
        default="review", description="fail closed: what a decision with a missing or failed agent is at least"
    )

    @model_validator(mode="after")
    def _coherent(self) -> Policy:
        if self.review_threshold > self.block_threshold:
            raise ValueError("review_threshold must not exceed block_threshold")
        for segment in (None, *sorted(self.segments)):
            for branch in (None, *sorted(self.branches)):
                review, block = self.thresholds_for(segment, branch)
                if review > block:
                    raise ValueError(f"segment {segment} / branch {branch}: review {review} exceeds block {block}")
        bad = sorted(name for name, w in self.weights.items() if not 0.0 <= w <= 1.0)
        if bad:
            raise ValueError(f"weights must be within 0..1: {bad}")
        return self

    def review_threshold_for(self, amount_usd: float | None, review: float | None = None) -> float:
        """The review threshold (`review`, default the policy's) for a transaction of this size: unchanged up
        to high_value_usd, then shrinking as (high_value_usd / amount) ** high_value_power."""
        base = self.review_threshold if review is None else review
        if self.high_value_usd is None or amount_usd is None or amount_usd <= self.high_value_usd:
            return base
        return base * (self.high_value_usd / amount_usd) ** self.high_value_power

    def thresholds_for(self, segment: str | None = None, branch: str | None = None) -> tuple[float, float]:
        """(review, block) for a customer's segment and branch: branch ▶ segment ▶ default, per threshold."""
        return resolve_thresholds(
            self.review_threshold, self.block_threshold,
            self.segments.get(segment) if segment else None, self.branches.get(branch) if branch else None,
        )

    def strictest_thresholds(self) -> tuple[float, float]:
        """Used when the customer's scope is unknown because customer-data failed: the lowest review
        threshold any scope has (fail closed), the default block threshold (no block on missing data)."""
        reviews = [self.thresholds_for(s, b)[0] for s in (None, *self.segments) for b in (None, *self.branches)]
        return min(reviews), self.block_threshold

    @property
    def has_overrides(self) -> bool:
        return bool(self.segments or self.branches)

    @property
    def needs_customers(self) -> bool:
        """Segment and branch set the thresholds; reference data also tells which accounts are frozen."""
        return self.has_overrides or self.hard_rules.frozen_account != "off"

    @property
    def needs_controls(self) -> bool:
        return self.hard_rules.frozen_account != "off"

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
    """Decides batches with `policy` (and `fallback` when the fraud model is not the one it was calibrated for);
    with `shadow`, also decides them with that challenger. `tools` reaches customer-data and risk-actions."""

    name = AGENT

    def __init__(
        self,
        policy: Policy | None = None,
        fallback: Policy | None = None,
        *,
        tools: ToolCaller | None = None,
        shadow: Policy | None = None,
    ) -> None:
        self.policy = policy or Policy()
        self.fallback = fallback or Policy()
        self.tools = tools
        self.shadow = shadow

    @property
    def policy_version(self) -> str:
        return self.policy.version

    @property
    def model_version(self) -> str:
        return self.policy.version

    async def aggregate(self, request: AggregationRequest) -> AggregationResponse:
        policies = [self._live_for(request), *([self.shadow] if self.shadow else [])]
        facts = await gather_facts(
            self.tools, request.transactions,
            customers=any(p.needs_customers for p in policies), controls=any(p.needs_controls for p in policies),
        )
        return self.decide(request, facts)

    def decide(self, request: AggregationRequest, facts: BatchFacts | None = None) -> AggregationResponse:
        """The synchronous core of `aggregate`. Without `facts`, whatever the policy would look up is unknown."""
        if facts is None:
            facts = BatchFacts.unavailable("no customer or control data was looked up")
        live = self._live_for(request)
        by_agent = _index(request)
        response = AggregationResponse(
            batch_id=request.batch_id, policy_version=live.version, decisions=_decide(live, request, by_agent, facts)
        )
        if self.shadow is None:
            return response
        shadow = _decide(self.shadow, request, by_agent, facts)
        return response.model_copy(update={"shadow_policy_version": self.shadow.version, "shadow": shadow})

    def _live_for(self, request: AggregationRequest) -> Policy:
        wanted = self.policy.fraud_model_version
        fraud = request.verdicts.get("fraud", [])
        if wanted is not None and fraud and not any(v.model_version == wanted for v in fraud):
            return self.fallback
        return self.policy


def _index(request: AggregationRequest) -> dict[str, dict[str, ScoredVerdict]]:
    by_agent: dict[str, dict[str, ScoredVerdict]] = {}
    for agent in sorted(request.verdicts):
        index: dict[str, ScoredVerdict] = {}
        for verdict in request.verdicts[agent]:
            index.setdefault(verdict.tx_id, verdict)
        by_agent[agent] = index
    return by_agent


def _decide(
    policy: Policy, request: AggregationRequest, by_agent: dict[str, dict[str, ScoredVerdict]], facts: BatchFacts
) -> list[AggregatedDecision]:
    agents = [*policy.expected_agents, *sorted(set(by_agent) - set(policy.weights))]
    return [_one(policy, tx, agents, by_agent, facts) for tx in request.transactions]


def _one(
    policy: Policy, tx: TxFacts, agents: list[str], by_agent: dict[str, dict[str, ScoredVerdict]],
    facts: BatchFacts,
) -> AggregatedDecision:
    ok: list[ScoredVerdict] = []
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
    usd = approx_usd(tx.amount, tx.currency)
    rules = _hard_rules(policy, tx, ok, facts, usd)
    notes: list[Reason] = []
    segment, branch = facts.segment_and_branch(tx)
    review_t, block_t = policy.thresholds_for(segment, branch)
    if policy.has_overrides and facts.customer_error:
        review_t, block_t = policy.strictest_thresholds()
        notes.append(Reason(code="AGGREGATION_CUSTOMER_DATA_UNAVAILABLE", agent=AGENT, weight=0.0,
                            detail=f"strictest review threshold {review_t:g} applied: {facts.customer_error}"[:2048]))
    elif (review_t, block_t) != (policy.review_threshold, policy.block_threshold):
        scope = ", ".join(f"{k} {v}" for k, v in (("segment", segment), ("branch", branch)) if v)
        notes.append(Reason(code="AGGREGATION_THRESHOLD_OVERRIDE", agent=AGENT, weight=0.0,
                            detail=f"{scope}: review ≥ {review_t:g}, block ≥ {block_t:g}"))
    blocked = any(action == "block" for action, _ in rules)
    risk = 1.0 if blocked else _risk(policy, ok)
    decision: DecisionOutcome = "pass"
    if risk >= block_t:
        decision = "block"
    elif risk >= policy.review_threshold_for(usd, review_t):
        decision = "review"
    floors: list[DecisionOutcome] = [action for action, _ in rules]
    if degraded:
        floors.append(policy.degraded_decision)
    for floor in floors:
        if SEVERITY[floor] > SEVERITY[decision]:
            decision = floor
    return AggregatedDecision(
        tx_id=tx.tx_id,
        decision=decision,
        risk_score=round(min(1.0, max(0.0, risk)), 4),
        reasons=_reasons(policy, ok, rules, degraded, notes, decision),
        degraded=sorted(degraded),
    )


def _hard_rules(
    policy: Policy, tx: TxFacts, ok: list[ScoredVerdict], facts: BatchFacts, usd: float | None
) -> list[tuple[DecisionOutcome, Reason]]:
    """(outcome, reason) of every hard rule that fires, blocking ones first, then in rule order."""
    rules = policy.hard_rules
    fired: list[tuple[DecisionOutcome, Reason]] = []

    def fire(action: RuleAction, code: str, detail: str) -> None:
        if action != "off":
            fired.append((action, Reason(code=code, agent=AGENT, weight=1.0, detail=f"{action}: {detail}"[:2048])))

    for v in (v for v in ok if v.hard_block):
        sanction = next((r for r in v.reasons if r.code == SANCTIONS_CODE), None)
        if sanction is not None or v.agent == "compliance":
            fire(rules.sanctions_match, "HARD_RULE_SANCTIONS_MATCH", sanction.detail if sanction else v.agent)
        else:  # a hard block the policy has no rule for: the agent's own strongest reason decides
            top = max(v.reasons, key=lambda r: (r.weight, r.code), default=None)
            fired.append(("block", top or Reason(code="AGGREGATION_HARD_BLOCK", agent=AGENT, weight=1.0,
                                                 detail=v.agent)))
    if rules.frozen_account != "off":
        states = {role: facts.frozen(p.account_id) for role, p in (("debtor", tx.debtor), ("creditor", tx.creditor))}
        frozen = [f"{role} account {getattr(tx, role).account_id}" for role, s in states.items() if s]
        if frozen:
            fire(rules.frozen_account, "HARD_RULE_FROZEN_ACCOUNT", " and ".join(frozen) + " frozen")
        elif None in states.values():
            fired.append(("review", Reason(code="HARD_RULE_CONTROLS_UNAVAILABLE", agent=AGENT, weight=1.0,
                                           detail=f"review: account controls unknown: {facts.controls_error}"[:2048])))
    if rules.reportable_amount != "off":
        if usd is None:
            fire("review", "HARD_RULE_REPORTABLE_AMOUNT", f"no USD rate for {tx.currency}: cannot tell if reportable")
        elif usd >= rules.reportable_amount_usd:
            fire(rules.reportable_amount, "HARD_RULE_REPORTABLE_AMOUNT",
                 f"{tx.amount} {tx.currency} ≈ USD {usd:,.0f} ≥ {rules.reportable_amount_usd:,.0f}: report")
    return sorted(fired, key=lambda item: -SEVERITY[item[0]])


def _risk(policy: Policy, ok: list[ScoredVerdict]) -> float:
    weights = policy.weights
    if policy.combine == "weighted_mean":
        total = sum(weights.get(v.agent, 0.0) for v in ok)
        return sum(weights.get(v.agent, 0.0) * v.score for v in ok) / total if total else 0.0
    keep = 1.0
    for v in ok:
        keep *= 1.0 - weights.get(v.agent, 0.0) * v.score
    return 1.0 - keep


def _reasons(
    policy: Policy, ok: list[ScoredVerdict], rules: list[tuple[DecisionOutcome, Reason]], degraded: dict[str, str],
    notes: list[Reason], decision: DecisionOutcome,
) -> list[Reason]:
    """Most important first: hard rules (blocking ones first), degradation, data gaps, then agent reasons by
    weight; a threshold override is named last, and only when the decision is not pass."""
    first = [reason for _, reason in rules]
    if degraded:
        listed = "; ".join(f"{agent} {why}" for agent, why in sorted(degraded.items()))
        first.append(Reason(code="AGGREGATION_DEGRADED", agent=AGENT, weight=0.0,
                            detail=f"decided without {', '.join(sorted(degraded))} ({listed})"[:2048]))
    first += [n for n in notes if n.code == "AGGREGATION_CUSTOMER_DATA_UNAVAILABLE"]
    rank = {agent: i for i, agent in enumerate(policy.expected_agents)}
    rest = sorted(
        (r for v in ok for r in v.reasons if r.weight > 0 and r not in first),
        key=lambda r: (-r.weight, rank.get(r.agent, len(rank)), r.agent, r.code, r.detail),
    )
    last = [n for n in notes if n.code == "AGGREGATION_THRESHOLD_OVERRIDE" and decision != "pass"]
    return (first + rest + last)[: policy.max_reasons]
