from __future__ import annotations

import pytest
from agent_doubles import ACCOUNT, FakeTools, make_tx, reference

from riskmesh.agents._common import AgentDataError
from riskmesh.agents.base import ToolCallError
from riskmesh.agents.credit import NEUTRAL_SCORE, CreditAgent, rating_risk

SOUND = {
    "customer_id": "C1", "rating": "A", "pd": 0.01, "limit": "100000", "exposure": "10000",
    "days_past_due": 0, "as_of": "2026-10-01T00:00:00.000Z", "metadata": {}, "utilisation_after": 0.1,
}  # fmt: skip


MINE = {"customer_id": "C1", "account_id": "A1", "name": "Li Wei", "country": "CN"}


def agent_with(credit: dict, ref=None) -> tuple[CreditAgent, FakeTools]:
    def answer(arguments: dict) -> dict:
        return {"credit": {c: credit.get(c) for c in arguments["customer_ids"]}}

    tools = FakeTools(
        {
            ("customer-data", "get_customers_batch"): ref or reference(),
            ("credit-bureau", "get_credit_batch"): answer,
        }
    )
    return CreditAgent(tools), tools


def codes(verdict) -> set[str]:
    return {r.code for r in verdict.reasons}


async def test_customer_without_a_bureau_record_gets_a_neutral_no_data_verdict():
    agent, _ = agent_with({})
    [verdict] = await agent.assess([make_tx()])
    assert codes(verdict) == {"CREDIT_NO_DATA"}
    assert verdict.score == pytest.approx(NEUTRAL_SCORE)


async def test_sound_borrower_scores_low():
    agent, _ = agent_with({"C1": SOUND})
    [verdict] = await agent.assess([make_tx()])
    assert codes(verdict) == {"CREDIT_SOUND"}
    assert verdict.score < 0.05
    assert verdict.evidence["credit"]["rating"] == "A"


async def test_distressed_borrower_scores_high():
    record = {**SOUND, "rating": "CCC", "pd": 0.25, "days_past_due": 95}
    agent, _ = agent_with({"C1": record})
    [verdict] = await agent.assess([make_tx()])
    assert {"CREDIT_HIGH_PD", "CREDIT_LOW_RATING", "CREDIT_DAYS_PAST_DUE"} <= codes(verdict)
    assert verdict.score > 0.8


async def test_payment_that_would_exceed_the_limit_is_over_limit():
    agent, _ = agent_with({"C1": {**SOUND, "exposure": "95000"}})
    [verdict] = await agent.assess([make_tx(amount="8000.00")])
    assert "CREDIT_OVER_LIMIT" in codes(verdict)
    assert verdict.evidence["utilisation_after_tx"] == pytest.approx(1.03)


async def test_bureau_utilisation_is_used_when_limit_and_exposure_are_masked():
    masked = {k: v for k, v in SOUND.items() if k not in ("limit", "exposure")} | {"utilisation_after": 0.93}
    agent, _ = agent_with({"C1": masked})
    [verdict] = await agent.assess([make_tx()])
    assert "CREDIT_HIGH_UTILISATION" in codes(verdict)


async def test_incoming_money_does_not_count_against_utilisation():
    agent, tools = agent_with({"C1": {**SOUND, "exposure": "99000"}})
    cash = {"customer_id": None, "account_id": "CASH-CN-0001", "name": "cash"}
    deposit = make_tx(type="deposit", channel="branch", amount="5000", debtor=cash, creditor=MINE)
    [verdict] = await agent.assess([deposit])
    assert not codes(verdict) & {"CREDIT_OVER_LIMIT", "CREDIT_HIGH_UTILISATION"}
    [call] = tools.calls_to("credit-bureau", "get_credit_batch")
    assert call == {"customer_ids": ["C1"], "amounts": {}}


async def test_a_loan_disbursement_is_scored_on_the_borrower_and_raises_utilisation():
    agent, _ = agent_with({"C1": {**SOUND, "exposure": "90000"}})
    book = {"customer_id": None, "account_id": "LOANS-CN", "name": "RiskMesh Bank loan book"}
    [verdict] = await agent.assess([make_tx(type="loan_disbursement", channel="branch", amount="20000",
                                            debtor=book, creditor=MINE)])  # fmt: skip
    assert verdict.evidence["customer_id"] == "C1"
    assert "CREDIT_OVER_LIMIT" in codes(verdict)


async def test_customer_is_found_through_the_account_and_batch_amounts_are_summed():
    agent, tools = agent_with({"C1": SOUND}, ref=reference(accounts={"A1": ACCOUNT}))
    txs = [make_tx("T1", debtor={"customer_id": None}, amount="10.50"), make_tx("T2", amount="4.50")]
    verdicts = await agent.assess(txs)
    assert [v.evidence["customer_id"] for v in verdicts] == ["C1", "C1"]
    [call] = tools.calls_to("credit-bureau", "get_credit_batch")
    assert call == {"customer_ids": ["C1"], "amounts": {"C1": "15.00"}}


async def test_stale_bureau_record_is_noted():
    agent, _ = agent_with({"C1": {**SOUND, "as_of": "2024-01-01T00:00:00.000Z"}})
    [verdict] = await agent.assess([make_tx()])
    assert "CREDIT_STALE_DATA" in codes(verdict)


@pytest.mark.parametrize(("rating", "risky"), [("AAA", False), ("BBB-", False), ("B+", True), ("D", True),
                                               ("2", False), ("9", True)])  # fmt: skip
def test_ratings_map_to_risk_on_both_scales(rating, risky):
    assert (rating_risk(rating) > 0) is risky


async def test_bureau_failure_fails_the_batch():
    agent, tools = agent_with({})
    tools.script[("credit-bureau", "get_credit_batch")] = ToolCallError("credit-bureau", "get_credit_batch", "x")
    with pytest.raises(AgentDataError, match="credit agent"):
        await agent.assess([make_tx()])
