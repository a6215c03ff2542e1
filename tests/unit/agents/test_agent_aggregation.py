from __future__ import annotations

import pytest
from agent_doubles import make_tx
from pydantic import ValidationError

from riskmesh.agents.aggregation import AggregationAgentImpl, Policy
from riskmesh.contracts import AgentVerdict, AggregationRequest, Decision, Reason, VerdictSummary

AGENTS = ("fraud", "credit", "behaviour", "compliance")


def verdict(agent: str, score: float = 0.02, tx_id: str = "T1", hard_block: bool = False, reasons=()) -> AgentVerdict:
    rs = [Reason(code=c, agent=agent, weight=w, detail=c.lower()) for c, w in reasons]
    return AgentVerdict(tx_id=tx_id, agent=agent, score=score, model_version=f"{agent}-1",
                        hard_block=hard_block, reasons=rs)  # fmt: skip


def request(overrides: dict[str, list[AgentVerdict]] | None = None, tx_ids=("T1",)) -> AggregationRequest:
    verdicts = {a: [verdict(a, tx_id=t) for t in tx_ids] for a in AGENTS}
    verdicts.update(overrides or {})
    return AggregationRequest(batch_id="B1", transactions=[make_tx(t) for t in tx_ids], verdicts=verdicts)


async def decide(req: AggregationRequest, policy: Policy | None = None):
    response = await AggregationAgentImpl(policy).aggregate(req)
    assert response.policy_version == (policy or Policy()).version
    return response.decisions


async def test_quiet_verdicts_pass():
    [d] = await decide(request())
    assert d.decision == "pass"
    assert d.risk_score < 0.2
    assert d.degraded == []


async def test_hard_block_wins_over_a_low_score():
    hard = verdict("compliance", score=0.3, hard_block=True, reasons=[("COMPLIANCE_SANCTIONS_MATCH", 1.0)])
    [d] = await decide(request({"compliance": [hard]}), Policy(weights={**dict.fromkeys(AGENTS, 0.1)}))
    assert d.decision == "block"
    assert d.risk_score == 1.0
    assert [r.code for r in d.reasons[:2]] == ["HARD_RULE_SANCTIONS_MATCH", "COMPLIANCE_SANCTIONS_MATCH"]


async def test_one_strong_signal_is_not_diluted_by_quiet_agents():
    [d] = await decide(request({"fraud": [verdict("fraud", 0.7, reasons=[("FRAUD_VELOCITY", 0.4)])]}))
    assert d.decision == "review"
    assert d.reasons[0].code == "FRAUD_VELOCITY"


async def test_score_above_the_block_threshold_blocks():
    [d] = await decide(request({"fraud": [verdict("fraud", 0.95)]}))
    assert d.decision == "block"


async def test_degraded_batch_is_never_pass():
    failed = AgentVerdict.failed("T1", "credit", "timeout", "deadline 2000 ms missed")
    [d] = await decide(request({"credit": [failed]}))
    assert d.decision == "review"
    assert d.degraded == ["credit"]
    assert d.reasons[0].code == "AGGREGATION_DEGRADED"
    assert "credit" in d.reasons[0].detail and "deadline" in d.reasons[0].detail
    assert d.risk_score < 0.2, "a failed verdict's placeholder score is not averaged in"


async def test_missing_agent_verdict_counts_as_degraded():
    req = request()
    req = req.model_copy(update={"verdicts": {a: v for a, v in req.verdicts.items() if a != "behaviour"}})
    [d] = await decide(req)
    assert d.degraded == ["behaviour"]
    assert d.decision == "review"


async def test_verdict_missing_for_one_transaction_degrades_only_that_transaction():
    req = request(tx_ids=("T1", "T2"), overrides={"fraud": [verdict("fraud", tx_id="T2")]})
    d1, d2 = await decide(req)
    assert (d1.decision, d1.degraded) == ("review", ["fraud"])
    assert (d2.decision, d2.degraded) == ("pass", [])


async def test_degraded_and_blocking_score_still_blocks_and_lists_the_degradation():
    failed = AgentVerdict.failed("T1", "credit", "error", "boom")
    [d] = await decide(request({"credit": [failed], "fraud": [verdict("fraud", 0.99)]}))
    assert d.decision == "block"
    assert d.degraded == ["credit"]
    assert "AGGREGATION_DEGRADED" in {r.code for r in d.reasons}


async def test_decisions_satisfy_the_public_fail_closed_contract():
    failed = AgentVerdict.failed("T1", "credit", "error", "boom")
    req = request({"credit": [failed]})
    [d] = await decide(req)
    Decision(
        tx_id=d.tx_id, decision=d.decision, risk_score=d.risk_score, decided_at="2026-11-21T09:15:02.140Z",
        latency_ms=1.0, reasons=d.reasons, policy_version="policy-1", degraded=d.degraded,
        verdicts={a: VerdictSummary(score=v[0].score, status=v[0].status) for a, v in req.verdicts.items()},
    )  # fmt: skip


async def test_reasons_are_ranked_by_weight_and_capped():
    many = [(f"FRAUD_R{i}", i / 20) for i in range(1, 12)]
    [d] = await decide(request({"fraud": [verdict("fraud", 0.3, reasons=many)]}))
    assert len(d.reasons) == 8
    assert [r.weight for r in d.reasons] == sorted((r.weight for r in d.reasons), reverse=True)
    assert d.reasons[0].code == "FRAUD_R11"


async def test_neutral_reasons_stay_in_the_verdicts_not_the_decision():
    [d] = await decide(request({"behaviour": [verdict("behaviour", reasons=[("BEHAVIOUR_NO_HISTORY", 0.0)])]}))
    assert d.reasons == []


async def test_aggregation_is_deterministic_whatever_the_verdict_order():
    scored = {
        "fraud": [verdict("fraud", 0.6, reasons=[("FRAUD_VELOCITY", 0.3), ("FRAUD_RISKY_MCC", 0.3)])],
        "behaviour": [verdict("behaviour", 0.6, reasons=[("BEHAVIOUR_NEW_DEVICE", 0.3)])],
    }
    forward = request(scored)
    backward = forward.model_copy(update={"verdicts": dict(reversed(list(forward.verdicts.items())))})
    assert await decide(forward) == await decide(backward)


async def test_weighted_mean_is_available_as_a_policy_choice():
    policy = Policy(version="policy-mean", combine="weighted_mean", weights=dict.fromkeys(AGENTS, 1.0))
    [d] = await decide(request({"fraud": [verdict("fraud", 0.82)]}), policy)
    assert d.risk_score == pytest.approx((0.82 + 3 * 0.02) / 4)


def test_policy_rejects_a_review_threshold_above_the_block_threshold():
    with pytest.raises(ValidationError, match="review_threshold"):
        Policy(review_threshold=0.9, block_threshold=0.5)


def test_policy_rejects_weights_outside_zero_to_one():
    with pytest.raises(ValidationError, match="fraud"):
        Policy(weights={"fraud": 1.5})


def test_value_aware_policy_reviews_large_payments_on_less_evidence():
    from riskmesh.agents.aggregation import Policy

    policy = Policy(review_threshold=0.2, block_threshold=0.9, high_value_usd=10_000, high_value_power=0.5)
    assert policy.review_threshold_for(500) == 0.2
    assert policy.review_threshold_for(None) == 0.2
    assert policy.review_threshold_for(40_000) == pytest.approx(0.1)
    assert Policy(review_threshold=0.2).review_threshold_for(1e9) == 0.2
