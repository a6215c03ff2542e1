from __future__ import annotations

from decimal import Decimal

import pytest
from agent_doubles import CUSTOMER, FakeTools, make_tx, reference

from riskmesh.agents._common import AgentDataError
from riskmesh.agents.base import ToolCallError
from riskmesh.agents.compliance import ComplianceAgent, ComplianceConfig, ReportingThreshold


def hit(score: float, name: str = "ACME TRADING LIMITED", alias: str | None = None) -> dict:
    return {
        "entry_id": "SDN-1",
        "list": "OFAC-SDN",
        "name": name,
        "matched_alias": alias,
        "score": score,
        "why": "x",
    }


QUIET_GRAPH = {
    "known": True, "fan_in": 1, "fan_out": 2, "fan_in_24h": 0, "fan_out_24h": 1, "in_amount_24h": 0.0,
    "out_amount_24h": 120.0, "pass_through_ratio": None, "in_cycle": False, "cycle_length": None,
    "is_bad": False, "accounts_sharing_device": 0, "accounts_sharing_ip": 0, "distance_to_bad": None,
    "nearest_bad": None, "nearest_bad_reason": None,
}  # fmt: skip


def agent_with(
    matches: dict[str, list] | None = None, ref=None, config=None, graph: dict[str, dict] | None = None
) -> tuple[ComplianceAgent, FakeTools]:
    """`matches` maps a screened *name* to its watchlist hits; `graph` maps a ref ("T1:debtor") to
    changes of the quiet graph features."""

    def screen(arguments: dict) -> dict:
        return {"results": {n["ref"]: (matches or {}).get(n["name"], []) for n in arguments["names"]}}

    def features(arguments: dict) -> dict:
        return {"features": {i["ref"]: {**QUIET_GRAPH, **(graph or {}).get(i["ref"], {})} for i in arguments["items"]}}

    tools = FakeTools(
        {
            ("customer-data", "get_customers_batch"): ref or reference(),
            ("watchlists", "screen_names_batch"): screen,
            ("risk-graph", "observe_and_features_batch"): features,
        }
    )
    return ComplianceAgent(tools, config), tools


def codes(verdict) -> set[str]:
    return {r.code for r in verdict.reasons}


async def test_clean_parties_are_clear():
    agent, _ = agent_with()
    [verdict] = await agent.assess([make_tx()])
    assert codes(verdict) == {"COMPLIANCE_CLEAR"}
    assert not verdict.hard_block
    assert verdict.score < 0.05


async def test_confirmed_sanctions_match_is_a_hard_block():
    agent, _ = agent_with({"Acme Trading Ltd": [hit(0.97)]})
    [verdict] = await agent.assess([make_tx()])
    assert verdict.hard_block
    assert verdict.score == 1.0
    assert verdict.reasons[0].code == "COMPLIANCE_SANCTIONS_MATCH"
    assert "creditor" in verdict.reasons[0].detail and "SDN-1" in verdict.reasons[0].detail


async def test_identical_normalised_name_is_confirmed_even_below_the_confirmed_score():
    agent, _ = agent_with({"Li Wei": [hit(0.9, name="LI, Wei")]})
    [verdict] = await agent.assess([make_tx()])
    assert verdict.hard_block
    assert "COMPLIANCE_SANCTIONS_MATCH" in codes(verdict)


async def test_possible_match_scores_high_without_a_hard_block():
    agent, _ = agent_with({"Acme Trading Ltd": [hit(0.9)]})
    [verdict] = await agent.assess([make_tx()])
    assert not verdict.hard_block
    assert "COMPLIANCE_POSSIBLE_SANCTIONS_MATCH" in codes(verdict)
    assert verdict.score >= 0.7


async def test_both_parties_of_every_transaction_are_screened_in_one_call():
    agent, tools = agent_with()
    txs = [make_tx("T1"), make_tx("T2"), make_tx("T3", creditor={"name": "Other GmbH", "country": "DE"})]
    await agent.assess(txs)
    [call] = tools.calls_to("watchlists", "screen_names_batch")
    screened = sorted((n["name"], n["country"]) for n in call["names"])
    assert screened == [("Acme Trading Ltd", "HK"), ("Li Wei", "CN"), ("Other GmbH", "DE")]
    assert call["threshold"] == 0.88


async def test_debtor_name_comes_from_the_customer_record_when_the_payment_omits_it():
    agent, tools = agent_with()
    await agent.assess([make_tx(debtor={"name": None})])
    [call] = tools.calls_to("watchlists", "screen_names_batch")
    assert "Li Wei" in {n["name"] for n in call["names"]}


async def test_party_without_any_name_is_reported_not_skipped_silently():
    agent, _ = agent_with(ref=reference(customers={}, accounts={}))
    [verdict] = await agent.assess([make_tx(debtor={"name": None}, creditor={"name": None})])
    assert "COMPLIANCE_NAME_MISSING" in codes(verdict)


async def test_pep_and_high_kyc_risk_are_flagged():
    agent, _ = agent_with(ref=reference(customers={"C1": {**CUSTOMER, "pep": True, "kyc_risk": "high"}}))
    [verdict] = await agent.assess([make_tx()])
    assert {"COMPLIANCE_PEP", "COMPLIANCE_KYC_HIGH_RISK"} <= codes(verdict)


@pytest.mark.parametrize(
    "changes",
    [{"creditor": {"country": "IR"}}, {"geo": {"country": "KP"}}, {"creditor": {"bank_bic": "BKRUSYDAXXX"}}],
)
async def test_high_risk_jurisdiction_is_flagged_wherever_it_appears(changes):
    agent, _ = agent_with()
    [verdict] = await agent.assess([make_tx(**changes)])
    assert "COMPLIANCE_HIGH_RISK_JURISDICTION" in codes(verdict)


async def test_high_risk_jurisdictions_are_configurable():
    agent, _ = agent_with(config=ComplianceConfig(high_risk_countries=frozenset({"HK"})))
    [verdict] = await agent.assess([make_tx()])
    assert "COMPLIANCE_HIGH_RISK_JURISDICTION" in codes(verdict)


@pytest.mark.parametrize(("amount", "currency"), [("10000", "USD"), ("50000.00", "CNY")])
async def test_large_cash_amounts_are_reportable(amount, currency):
    agent, _ = agent_with()
    [verdict] = await agent.assess([make_tx(type="withdrawal", channel="branch", amount=amount, currency=currency)])
    assert "COMPLIANCE_REPORTABLE_AMOUNT" in codes(verdict)


async def test_cash_thresholds_do_not_apply_to_transfers():
    agent, _ = agent_with()
    [verdict] = await agent.assess([make_tx(amount="60000", currency="CNY")])
    assert not codes(verdict) & {"COMPLIANCE_REPORTABLE_AMOUNT", "COMPLIANCE_STRUCTURING_HINT"}


async def test_cash_just_below_the_threshold_hints_at_structuring():
    agent, _ = agent_with()
    [verdict] = await agent.assess([make_tx(type="deposit", channel="atm", amount="9500", currency="USD")])
    assert "COMPLIANCE_STRUCTURING_HINT" in codes(verdict)
    assert "COMPLIANCE_REPORTABLE_AMOUNT" not in codes(verdict)


async def test_reporting_thresholds_are_configurable():
    rule = ReportingThreshold("EUR", Decimal("15000"), "EU wire report", cash_only=False)
    agent, _ = agent_with(config=ComplianceConfig(thresholds=(rule,)))
    [verdict] = await agent.assess([make_tx(amount="20000", currency="EUR")])
    assert "COMPLIANCE_REPORTABLE_AMOUNT" in codes(verdict)


async def test_screening_failure_fails_the_batch_rather_than_skipping_screening():
    agent, tools = agent_with()
    tools.script[("watchlists", "screen_names_batch")] = ToolCallError("watchlists", "screen_names_batch", "down")
    with pytest.raises(AgentDataError, match="compliance agent"):
        await agent.assess([make_tx()])


async def test_one_graph_call_records_the_batch_and_queries_both_accounts_of_each_transaction():
    agent, tools = agent_with()
    await agent.assess([make_tx("T1"), make_tx("T2", type="deposit", channel="atm")])
    [call] = tools.calls_to("risk-graph", "observe_and_features_batch")
    assert [e["tx_id"] for e in call["transactions"]] == ["T1", "T2"]
    assert call["transactions"][0] == {
        "tx_id": "T1", "ts": "2026-11-21T09:15:02.123Z", "debtor_account_id": "A1", "creditor_account_id": "B1",
        "amount": "120.00", "device_id": "D1", "ip": "203.0.113.7", "type": "transfer",
    }  # fmt: skip
    assert "device_id" not in call["transactions"][1]  # a deposit's device is not the till's
    refs = {i["ref"]: i for i in call["items"]}
    assert set(refs) == {"T1:debtor", "T1:creditor", "T2:debtor", "T2:creditor"}
    assert refs["T1:debtor"]["device_id"] == "D1" and "device_id" not in refs["T1:creditor"]
    assert refs["T2:creditor"]["device_id"] == "D1"


async def test_quiet_graph_features_add_no_reason():
    agent, _ = agent_with()
    [verdict] = await agent.assess([make_tx()])
    assert codes(verdict) == {"COMPLIANCE_CLEAR"}
    assert verdict.evidence["graph"]["debtor"]["fan_out"] == 2


async def test_a_collecting_account_that_pays_on_is_a_mule_signal():
    graph = {"T1:creditor": {"fan_in_24h": 9, "fan_out_24h": 2, "pass_through_ratio": 0.95, "in_amount_24h": 9000.0}}
    agent, _ = agent_with(graph=graph)
    [verdict] = await agent.assess([make_tx()])
    assert "COMPLIANCE_MULE_FAN_IN_OUT" in codes(verdict)
    assert "COMPLIANCE_RAPID_PASS_THROUGH" not in codes(verdict)  # the stronger pattern explains it
    assert "creditor" in next(r.detail for r in verdict.reasons if r.code == "COMPLIANCE_MULE_FAN_IN_OUT")


async def test_money_leaving_as_fast_as_it_arrives_is_rapid_pass_through():
    agent, _ = agent_with(graph={"T1:debtor": {"pass_through_ratio": 0.98, "in_amount_24h": 5000.0}})
    [verdict] = await agent.assess([make_tx()])
    assert "COMPLIANCE_RAPID_PASS_THROUGH" in codes(verdict)
    small, _ = agent_with(graph={"T1:debtor": {"pass_through_ratio": 0.98, "in_amount_24h": 50.0}})
    assert "COMPLIANCE_RAPID_PASS_THROUGH" not in codes((await small.assess([make_tx()]))[0])


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"accounts_sharing_device": 4}, "COMPLIANCE_SHARED_DEVICE"),
        ({"accounts_sharing_ip": 7}, "COMPLIANCE_SHARED_IP"),
        ({"in_cycle": True, "cycle_length": 3}, "COMPLIANCE_PAYMENT_RING"),
        ({"distance_to_bad": 1, "nearest_bad": "account:X", "nearest_bad_reason": "mule"}, "COMPLIANCE_NEAR_KNOWN_BAD"),
    ],
)
async def test_graph_indicators_each_raise_their_reason(changes, code):
    agent, _ = agent_with(graph={"T1:debtor": changes})
    [verdict] = await agent.assess([make_tx()])
    assert code in codes(verdict)
    assert not verdict.hard_block


async def test_a_known_bad_party_weighs_more_than_one_two_hops_away():
    near, _ = agent_with(graph={"T1:creditor": {"distance_to_bad": 0, "nearest_bad": "account:B1"}})
    far, _ = agent_with(graph={"T1:creditor": {"distance_to_bad": 2, "nearest_bad": "account:Q"}})
    [v_near], [v_far] = await near.assess([make_tx()]), await far.assess([make_tx()])
    assert v_near.score > v_far.score > 0.1


async def test_a_failing_graph_fails_the_batch_closed():
    agent, tools = agent_with()
    tools.script[("risk-graph", "observe_and_features_batch")] = ToolCallError(
        "risk-graph", "observe_and_features_batch", "down")
    with pytest.raises(AgentDataError, match=r"risk-graph\.observe_and_features_batch"):
        await agent.assess([make_tx()])
