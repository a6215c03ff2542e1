from __future__ import annotations

import pytest
from agent_doubles import COLD_START, FakeTools, features, features_for, make_tx

from riskmesh.agents._common import AgentDataError
from riskmesh.agents.base import ToolCallError
from riskmesh.agents.behaviour import BehaviourAgent


def agent_with(feats: dict) -> tuple[BehaviourAgent, FakeTools]:
    tools = FakeTools({("transactions", "features_batch"): features_for(default=feats)})
    return BehaviourAgent(tools), tools


def codes(verdict) -> set[str]:
    return {r.code for r in verdict.reasons}


async def test_cold_start_gives_a_neutral_no_history_verdict():
    agent, _ = agent_with(COLD_START)
    [verdict] = await agent.assess([make_tx(amount="99999.00")])
    assert codes(verdict) == {"BEHAVIOUR_NO_HISTORY"}
    assert verdict.reasons[0].weight == 0.0
    assert verdict.score < 0.05


async def test_behaviour_records_the_batch_into_profiles():
    agent, tools = agent_with(features())
    await agent.assess([make_tx("T1"), make_tx("T2")])
    [call] = tools.calls_to("transactions", "features_batch")
    assert call["observe"] is True
    assert [t["tx_id"] for t in call["transactions"]] == ["T1", "T2"]


async def test_consistent_payment_scores_low():
    agent, _ = agent_with(features())
    [verdict] = await agent.assess([make_tx(amount="110.00")])
    assert codes(verdict) == {"BEHAVIOUR_CONSISTENT"}
    assert verdict.score < 0.05


async def test_amount_many_deviations_above_the_mean_is_flagged_with_its_zscore():
    agent, _ = agent_with(features())
    [verdict] = await agent.assess([make_tx(amount="400.00")])
    assert "BEHAVIOUR_AMOUNT_ZSCORE" in codes(verdict)
    assert verdict.evidence["amount_zscore"] == pytest.approx(10.0)


async def test_perfectly_regular_account_still_gets_an_amount_scale():
    agent, _ = agent_with(features(amount_std=0.0))
    [verdict] = await agent.assess([make_tx(amount="200.00")])
    assert "BEHAVIOUR_AMOUNT_ZSCORE" in codes(verdict)


async def test_new_device_new_country_and_new_payee_each_explain_themselves():
    agent, _ = agent_with(features(known_device=False, known_country=False, known_payee=False, last_country="CN"))
    [verdict] = await agent.assess([make_tx(geo={"country": "SG"})])
    assert {"BEHAVIOUR_NEW_DEVICE", "BEHAVIOUR_NEW_COUNTRY", "BEHAVIOUR_NEW_PAYEE"} <= codes(verdict)


async def test_new_device_with_an_unusual_amount_is_the_stronger_reason():
    agent, _ = agent_with(features(known_device=False))
    [verdict] = await agent.assess([make_tx(amount="400.00")])
    assert "BEHAVIOUR_NEW_DEVICE_HIGH_AMOUNT" in codes(verdict)
    assert "BEHAVIOUR_NEW_DEVICE" not in codes(verdict)


async def test_country_change_within_minutes_is_impossible_travel():
    agent, _ = agent_with(features(last_country="CN", seconds_since_last=600.0, known_country=False))
    [verdict] = await agent.assess([make_tx(geo={"country": "BR"})])
    assert "BEHAVIOUR_IMPOSSIBLE_TRAVEL" in codes(verdict)
    assert "BEHAVIOUR_NEW_COUNTRY" not in codes(verdict)
    assert verdict.score >= 0.5


async def test_country_change_after_days_is_not_impossible_travel():
    agent, _ = agent_with(features(last_country="CN", seconds_since_last=5 * 86_400.0))
    [verdict] = await agent.assess([make_tx(geo={"country": "BR"})])
    assert "BEHAVIOUR_IMPOSSIBLE_TRAVEL" not in codes(verdict)


async def test_bursts_of_transactions_devices_and_payees_are_flagged():
    agent, _ = agent_with(features(count_1h=11, distinct_devices_24h=4, distinct_payees_24h=7))
    [verdict] = await agent.assess([make_tx()])
    assert {"BEHAVIOUR_VELOCITY_SPIKE", "BEHAVIOUR_MANY_DEVICES", "BEHAVIOUR_MANY_PAYEES"} <= codes(verdict)


async def test_thin_history_skips_amount_scoring_but_says_so():
    agent, _ = agent_with(features(n_history=2))
    [verdict] = await agent.assess([make_tx(amount="5000.00")])
    assert "BEHAVIOUR_THIN_HISTORY" in codes(verdict)
    assert "BEHAVIOUR_AMOUNT_ZSCORE" not in codes(verdict)


async def test_transactions_server_failure_fails_the_batch():
    tools = FakeTools({("transactions", "features_batch"): ToolCallError("transactions", "features_batch", "down")})
    with pytest.raises(AgentDataError, match="behaviour agent"):
        await BehaviourAgent(tools).assess([make_tx()])


async def test_payment_without_a_device_is_never_a_new_device():
    agent, tools = agent_with(features(known_device=False, known_ip=False))
    [verdict] = await agent.assess([make_tx(device=None, amount="400.00")])
    assert not codes(verdict) & {
        "BEHAVIOUR_NEW_DEVICE",
        "BEHAVIOUR_NEW_DEVICE_HIGH_AMOUNT",
        "BEHAVIOUR_NEW_IP",
    }
    [call] = tools.calls_to("transactions", "features_batch")
    assert "device_id" not in call["transactions"][0]


async def test_a_new_merchant_on_a_card_purchase_is_not_a_new_payee():
    agent, _ = agent_with(features(known_payee=False, distinct_payees_24h=9))
    [verdict] = await agent.assess([make_tx(type="card_purchase", channel="card", merchant={"mcc": "5411"})])
    assert not codes(verdict) & {"BEHAVIOUR_NEW_PAYEE", "BEHAVIOUR_MANY_PAYEES"}


async def test_deposits_are_profiled_on_the_receiving_customers_account():
    agent, tools = agent_with(features())
    cash = {"customer_id": None, "account_id": "CASH-CN-0001", "name": "cash"}
    mine = {"customer_id": "C1", "account_id": "A1", "name": "Li Wei"}
    await agent.assess([make_tx(type="deposit", channel="atm", debtor=cash, creditor=mine)])
    [item] = tools.calls_to("transactions", "features_batch")[0]["transactions"]
    assert (item["account_id"], item["creditor_account_id"]) == ("A1", "CASH-CN-0001")


async def test_travel_is_judged_on_where_the_customer_was_not_on_the_merchants_country():
    agent, tools = agent_with(features(last_country="CN", seconds_since_last=60.0, known_country=False))
    [verdict] = await agent.assess([make_tx(geo=None, merchant={"country": "US"})])
    assert not codes(verdict) & {"BEHAVIOUR_IMPOSSIBLE_TRAVEL", "BEHAVIOUR_NEW_COUNTRY"}
    assert "country" not in tools.calls_to("transactions", "features_batch")[0]["transactions"][0]
