from __future__ import annotations

import pytest
from agent_doubles import ACCOUNT, COLD_START, FakeTools, features, features_for, make_tx, reference

from riskmesh.agents._common import AgentDataError
from riskmesh.agents.base import ToolCallError
from riskmesh.agents.fraud import FraudAgent


def agent_with(feats: dict | None = None, ref=None, per_tx: dict | None = None) -> tuple[FraudAgent, FakeTools]:
    tools = FakeTools(
        {
            ("customer-data", "get_customers_batch"): ref or reference(),
            ("transactions", "features_batch"): features_for(per_tx, feats or features()),
        }
    )
    return FraudAgent(tools), tools


def codes(verdict) -> set[str]:
    return {r.code for r in verdict.reasons}


async def test_routine_payment_on_an_established_account_scores_low():
    agent, _ = agent_with()
    [verdict] = await agent.assess([make_tx()])
    assert verdict.status == "ok"
    assert verdict.score < 0.1
    assert codes(verdict) == {"FRAUD_NO_RISK_SIGNAL"}
    assert verdict.model_version == "fraud-rules-1"
    assert verdict.evidence["features"]["n_history"] == 40


async def test_high_amount_from_a_new_device_far_above_habit_scores_high():
    agent, _ = agent_with(features(known_device=False, known_ip=False))
    [verdict] = await agent.assess([make_tx(amount="5000.00")])
    assert {"FRAUD_AMOUNT_ABOVE_HABIT", "FRAUD_NEW_DEVICE_HIGH_AMOUNT", "FRAUD_NEW_IP_HIGH_AMOUNT"} <= codes(verdict)
    assert verdict.score > 0.7
    assert verdict.reasons == sorted(verdict.reasons, key=lambda r: -r.weight)


async def test_new_device_with_a_habitual_amount_is_not_flagged():
    agent, _ = agent_with(features(known_device=False))
    [verdict] = await agent.assess([make_tx(amount="110.00")])
    assert "FRAUD_NEW_DEVICE_HIGH_AMOUNT" not in codes(verdict)


@pytest.mark.parametrize(("status", "code"), [("frozen", "FRAUD_ACCOUNT_FROZEN"), ("closed", "FRAUD_ACCOUNT_CLOSED")])
async def test_debits_from_a_frozen_or_closed_account_score_very_high(status, code):
    agent, _ = agent_with(ref=reference(accounts={"A1": {**ACCOUNT, "status": status}}))
    [verdict] = await agent.assess([make_tx()])
    assert code in codes(verdict)
    assert verdict.score >= 0.9


async def test_unknown_customer_at_cold_start_gets_reasons_and_a_modest_score():
    agent, _ = agent_with(COLD_START, ref=reference(customers={}, accounts={}))
    [verdict] = await agent.assess([make_tx(debtor={"customer_id": "C-new", "account_id": "A-new"})])
    assert {"FRAUD_NO_HISTORY", "FRAUD_UNKNOWN_CUSTOMER"} <= codes(verdict)
    assert verdict.score < 0.3


async def test_velocity_and_a_risky_merchant_category_add_up():
    agent, _ = agent_with(features(count_1h=12))
    [verdict] = await agent.assess([make_tx(type="card_purchase", channel="card", merchant={"mcc": "6051"})])
    assert {"FRAUD_VELOCITY", "FRAUD_RISKY_MCC"} <= codes(verdict)


async def test_exceeding_the_daily_limit_is_flagged():
    agent, _ = agent_with(features(sum_24h=49_950.0))
    [verdict] = await agent.assess([make_tx(amount="100.00")])
    assert "FRAUD_DAILY_LIMIT_EXCEEDED" in codes(verdict)


async def test_payment_to_a_frozen_creditor_account_is_flagged():
    frozen = {**ACCOUNT, "account_id": "B1", "customer_id": "C9", "status": "frozen"}
    agent, _ = agent_with(ref=reference(accounts={"A1": ACCOUNT, "B1": frozen}))
    [verdict] = await agent.assess([make_tx()])
    assert "FRAUD_CREDITOR_ACCOUNT_RESTRICTED" in codes(verdict)


async def test_fraud_reads_features_without_recording_them_in_one_call_per_batch():
    agent, tools = agent_with()
    txs = [make_tx(f"T{i}") for i in range(5)]
    await agent.assess(txs)
    [call] = tools.calls_to("transactions", "features_batch")
    assert call["observe"] is False
    assert [t["tx_id"] for t in call["transactions"]] == [t.tx_id for t in txs]
    assert call["transactions"][0] == {
        "tx_id": "T0", "ts": "2026-11-21T09:15:02.123Z", "account_id": "A1", "amount": "120.00",
        "currency": "CNY", "creditor_account_id": "B1", "channel": "mobile", "device_id": "D1",
        "ip": "203.0.113.7", "country": "CN",
    }  # fmt: skip
    [ref_call] = tools.calls_to("customer-data", "get_customers_batch")
    assert ref_call == {"customer_ids": ["C1"], "account_ids": ["A1", "B1"]}


async def test_verdicts_come_back_in_request_order():
    agent, _ = agent_with(per_tx={"T2": features(count_1h=20)})
    txs = [make_tx("T3"), make_tx("T1"), make_tx("T2")]
    verdicts = await agent.assess(txs)
    assert [v.tx_id for v in verdicts] == ["T3", "T1", "T2"]
    assert "FRAUD_VELOCITY" in codes(verdicts[2])


async def test_failing_tool_call_fails_the_whole_batch_with_a_clear_error():
    tools = FakeTools(
        {
            ("customer-data", "get_customers_batch"): reference(),
            ("transactions", "features_batch"): ToolCallError("transactions", "features_batch", "boom"),
        }
    )
    with pytest.raises(AgentDataError, match=r"fraud agent: tool call failed: transactions\.features_batch: boom"):
        await FraudAgent(tools).assess([make_tx()])


async def test_malformed_tool_answer_fails_the_batch():
    agent, tools = agent_with()
    tools.script[("transactions", "features_batch")] = {"unexpected": {}}
    with pytest.raises(AgentDataError, match="features"):
        await agent.assess([make_tx()])


async def test_empty_batch_makes_no_calls():
    agent, tools = agent_with()
    assert await agent.assess([]) == []
    assert tools.calls == []
