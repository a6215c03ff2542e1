"""VerdictBuilder: the verdict every rule-based agent answers with."""

from __future__ import annotations

from riskmesh.agents._common import VerdictBuilder


def test_the_same_reason_given_twice_is_one_shared_object() -> None:
    first, second = VerdictBuilder("fraud", "T1"), VerdictBuilder("fraud", "T2")
    first.add("FRAUD_NO_HISTORY", 0.0, "no earlier transactions")
    second.add("FRAUD_NO_HISTORY", 0.0, "no earlier transactions")
    assert first.reasons[0] is second.reasons[0]
    assert first.reasons[0].weight == 0.0 and isinstance(first.reasons[0].weight, float)


def test_reasons_with_different_weights_or_details_stay_distinct() -> None:
    v = VerdictBuilder("fraud", "T1")
    v.add("FRAUD_VELOCITY", 0.25, "5 transactions in the last hour")
    v.add("FRAUD_VELOCITY", 0.4, "5 transactions in the last hour")
    v.add("FRAUD_VELOCITY", 0.4, "12 transactions in the last hour")
    assert len({id(r) for r in v.reasons}) == 3


def test_a_given_score_replaces_the_noisy_or_but_not_a_hard_block() -> None:
    v = VerdictBuilder("fraud", "T1")
    v.add("FRAUD_VELOCITY", 0.4, "many")
    assert v.build("m1", "QUIET", "", score=0.123456).score == 0.1235
    v.hard_block = True
    assert v.build("m1", "QUIET", "", score=0.1).score == 1.0


def test_without_a_score_the_verdict_scores_the_noisy_or_of_its_reasons() -> None:
    v = VerdictBuilder("credit", "T1", baseline=0.0)
    v.add("CREDIT_HIGH_PD", 0.5, "pd")
    v.add("CREDIT_DAYS_PAST_DUE", 0.5, "dpd")
    verdict = v.build("m1", "QUIET", "")
    assert verdict.score == 0.75
    assert [r.code for r in verdict.reasons] == ["CREDIT_DAYS_PAST_DUE", "CREDIT_HIGH_PD"]
