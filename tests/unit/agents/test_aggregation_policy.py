"""The aggregation agent applies the whole policy file: scopes, hard rules, fail closed, shadow policies."""

from __future__ import annotations

from pathlib import Path

import pytest
from agent_doubles import FakeTools, make_tx

from riskmesh.agents.aggregation import AggregationAgentImpl, HardRules, Policy, ThresholdOverride
from riskmesh.agents.base import ToolCallError
from riskmesh.agents.policy_file import configured_policies, load_policy_file, to_policy
from riskmesh.contracts import AgentVerdict, AggregationRequest, Reason
from riskmesh.contracts.settings import Settings

SHIPPED = Path(__file__).resolve().parents[3] / "policies" / "policy-1.yaml"
AGENTS = ("fraud", "credit", "behaviour", "compliance")
NO_RULES = HardRules(sanctions_match="block", frozen_account="off", reportable_amount="off")


def verdict(agent: str, score: float = 0.0, tx_id: str = "T1", hard_block: bool = False, reasons=()) -> AgentVerdict:
    rs = [Reason(code=c, agent=agent, weight=w, detail=c.lower()) for c, w in reasons]
    return AgentVerdict(tx_id=tx_id, agent=agent, score=score, model_version=f"{agent}-1", hard_block=hard_block,
                        reasons=rs)


def request(fraud: float = 0.0, tx_ids=("T1",), overrides=None, **tx_changes) -> AggregationRequest:
    verdicts = {a: [verdict(a, fraud if a == "fraud" else 0.0, tx_id=t) for t in tx_ids] for a in AGENTS}
    verdicts.update(overrides or {})
    txs = [make_tx(t, **tx_changes) for t in tx_ids]
    return AggregationRequest(batch_id="B1", transactions=txs, verdicts=verdicts)


def policy(**changes) -> Policy:
    base = {"version": "policy-t", "weights": {"fraud": 1.0, "credit": 0.0, "behaviour": 0.0, "compliance": 0.0},
            "review_threshold": 0.5, "block_threshold": 0.9, "hard_rules": NO_RULES}
    return Policy(**{**base, **changes})


def customer(segment: str = "retail", branch: str | None = None) -> dict:
    return {"customer_id": "C1", "type": "person", "country": "CN", "segment": segment, "kyc_risk": "low",
            "metadata": {"branch": branch} if branch else {}}


def tools(segment: str = "retail", branch: str | None = None, frozen: tuple[str, ...] = (),
          controls: object = "ok", reference_status: str = "active") -> FakeTools:
    account = {"account_id": "A1", "customer_id": "C1", "status": reference_status}
    script: dict = {("customer-data", "get_customers_batch"): {"customers": {"C1": customer(segment, branch)},
                                                                "accounts": {"A1": account, "B1": None}}}
    if controls == "ok":
        script[("risk-actions", "get_account_controls_batch")] = lambda args: {"controls": {
            a: {"frozen": a in frozen, "level": 4 if a in frozen else 0, "active": ["freeze"] if a in frozen else []}
            for a in args["account_ids"]}}
    elif isinstance(controls, Exception):
        script[("risk-actions", "get_account_controls_batch")] = controls
    return FakeTools(script)


async def decide(p: Policy, req: AggregationRequest, fake: FakeTools | None = None, shadow: Policy | None = None):
    response = await AggregationAgentImpl(p, tools=fake, shadow=shadow).aggregate(req)
    assert response.policy_version == p.version
    return response


def codes(d) -> list[str]:
    return [r.code for r in d.reasons]


# -- scopes: branch ▶ segment ▶ default --------------------------------------------------------------------

SCOPED = {"segments": {"private": ThresholdOverride(review_threshold=0.3, block_threshold=0.8)},
          "branches": {"BR-0001": ThresholdOverride(review_threshold=0.2)}}


async def test_a_segment_threshold_replaces_the_default_for_its_customers():
    req = request(fraud=0.35)
    [retail] = (await decide(policy(**SCOPED), req, tools("retail"))).decisions
    [private] = (await decide(policy(**SCOPED), req, tools("private"))).decisions
    assert (retail.decision, private.decision) == ("pass", "review")
    assert codes(private)[-1] == "AGGREGATION_THRESHOLD_OVERRIDE"
    assert "segment private" in private.reasons[-1].detail


async def test_a_branch_wins_over_the_segment_threshold_by_threshold():
    [d] = (await decide(policy(**SCOPED), request(fraud=0.25), tools("private", branch="BR-0001"))).decisions
    assert d.decision == "review", "the branch's review threshold 0.2 wins over the segment's 0.3"
    [d] = (await decide(policy(**SCOPED), request(fraud=0.85), tools("private", branch="BR-0001"))).decisions
    assert d.decision == "block", "the branch sets no block threshold: the segment's 0.8 applies"
    assert policy(**SCOPED).thresholds_for("private", "BR-0001") == (0.2, 0.8)


async def test_an_unknown_customer_is_decided_with_the_default_thresholds():
    fake = FakeTools({("customer-data", "get_customers_batch"): {"customers": {}, "accounts": {}}})
    [d] = (await decide(policy(**SCOPED), request(fraud=0.35), fake)).decisions
    assert d.decision == "pass"
    assert "AGGREGATION_THRESHOLD_OVERRIDE" not in codes(d)


async def test_customer_data_failing_applies_the_strictest_review_threshold():
    fake = FakeTools({("customer-data", "get_customers_batch"): ToolCallError("customer-data", "x", "down")})
    [d] = (await decide(policy(**SCOPED), request(fraud=0.25), fake)).decisions
    assert d.decision == "review"
    assert codes(d)[0] == "AGGREGATION_CUSTOMER_DATA_UNAVAILABLE"


async def test_an_inbound_payment_is_scoped_by_the_creditor_and_an_outbound_one_by_the_debtor():
    parties = {"creditor": {"account_id": "A1", "customer_id": "C1"},
               "debtor": {"account_id": "B1", "customer_id": None}}
    [inbound] = (await decide(policy(**SCOPED), request(fraud=0.35, type="deposit", **parties),
                              tools("private"))).decisions
    assert inbound.decision == "review", "the deposit's acting customer C1 is private: review from 0.3"
    [outbound] = (await decide(policy(**SCOPED), request(fraud=0.35, type="transfer", **parties),
                               tools("private"))).decisions
    assert outbound.decision == "pass", "the transfer's acting account B1 has no customer: default 0.5"


async def test_the_policy_refuses_a_branch_that_would_put_review_above_a_segments_block():
    with pytest.raises(ValueError, match="exceeds block"):
        policy(segments={"sme": ThresholdOverride(block_threshold=0.3)},
               branches={"B": ThresholdOverride(review_threshold=0.4)})


# -- hard rules ----------------------------------------------------------------------------------------------

def sanctioned(tx_id: str = "T1") -> AgentVerdict:
    return verdict("compliance", 1.0, tx_id=tx_id, hard_block=True,
                   reasons=[("COMPLIANCE_SANCTIONS_MATCH", 1.0), ("COMPLIANCE_PEP", 0.3)])


@pytest.mark.parametrize(("action", "expected"), [("block", "block"), ("review", "review"), ("off", "pass")])
async def test_a_confirmed_sanctions_match_follows_the_sanctions_rule(action, expected):
    p = policy(hard_rules=HardRules(sanctions_match=action))
    [d] = (await decide(p, request(overrides={"compliance": [sanctioned()]}), tools())).decisions
    assert d.decision == expected
    if action != "off":
        assert codes(d)[:2] == ["HARD_RULE_SANCTIONS_MATCH", "COMPLIANCE_SANCTIONS_MATCH"]
        assert d.reasons[0].detail.startswith(f"{action}: confirmed") or d.reasons[0].detail.startswith(action)
    else:
        assert "HARD_RULE_SANCTIONS_MATCH" not in codes(d)


async def test_a_frozen_debtor_account_blocks_whatever_the_score():
    p = policy(hard_rules=HardRules(frozen_account="block"))
    [d] = (await decide(p, request(), tools(frozen=("A1",)))).decisions
    assert (d.decision, d.risk_score) == ("block", 1.0)
    assert codes(d)[0] == "HARD_RULE_FROZEN_ACCOUNT"
    assert "debtor account A1" in d.reasons[0].detail


async def test_a_creditor_account_frozen_in_reference_data_blocks_too():
    p = policy(hard_rules=HardRules(frozen_account="block"))
    req = request(creditor={"account_id": "A1"}, debtor={"account_id": "B1", "customer_id": None})
    [d] = (await decide(p, req, tools(reference_status="frozen"))).decisions
    assert d.decision == "block"
    assert "creditor account A1" in d.reasons[0].detail


async def test_controls_unavailable_fail_closed_to_review_with_their_reason():
    p = policy(hard_rules=HardRules(frozen_account="block"))
    for broken in (tools(controls=None), tools(controls=ToolCallError("risk-actions", "x", "down"))):
        [d] = (await decide(p, request(), broken)).decisions
        assert d.decision == "review"
        assert codes(d) == ["HARD_RULE_CONTROLS_UNAVAILABLE"]


async def test_controls_are_not_asked_and_not_needed_when_the_frozen_rule_is_off():
    fake = tools(controls=None)
    [d] = (await decide(policy(), request(), fake)).decisions
    assert d.decision == "pass"
    assert fake.calls == [], "no overrides and no frozen rule: the policy needs no data"


async def test_without_a_tool_caller_a_policy_that_needs_controls_fails_closed():
    [d] = (await decide(policy(hard_rules=HardRules(frozen_account="block")), request(), None)).decisions
    assert d.decision == "review"
    assert codes(d) == ["HARD_RULE_CONTROLS_UNAVAILABLE"]


async def test_a_reportable_amount_is_reviewed_and_marked_for_reporting():
    p = policy(hard_rules=HardRules(reportable_amount="review", reportable_amount_usd=10_000))
    [small] = (await decide(p, request(amount="9999", currency="USD"), tools())).decisions
    [large] = (await decide(p, request(amount="75000", currency="CNY"), tools())).decisions
    assert small.decision == "pass"
    assert (large.decision, codes(large)) == ("review", ["HARD_RULE_REPORTABLE_AMOUNT"])
    assert "USD 10,500" in large.reasons[0].detail


async def test_the_batch_makes_one_call_per_tool_whatever_its_size():
    p = policy(hard_rules=HardRules(frozen_account="block"), **SCOPED)
    fake = tools()
    await decide(p, request(tx_ids=[f"T{i}" for i in range(50)]), fake)
    assert [(s, t) for s, t, _ in fake.calls] == [("customer-data", "get_customers_batch"),
                                                   ("risk-actions", "get_account_controls_batch")]
    assert fake.calls_to("risk-actions", "get_account_controls_batch")[0] == {"account_ids": ["A1", "B1"]}


# -- fail closed with hard rules -----------------------------------------------------------------------------

def failed(agent: str = "credit", tx_id: str = "T1") -> AgentVerdict:
    return AgentVerdict.failed(tx_id, agent, "timeout", "deadline missed")


async def test_a_failed_agent_never_yields_pass_and_a_blocking_hard_rule_still_blocks():
    p = policy(hard_rules=HardRules(sanctions_match="block", reportable_amount="review"))
    [degraded] = (await decide(p, request(overrides={"credit": [failed()]}), tools())).decisions
    assert (degraded.decision, degraded.degraded) == ("review", ["credit"])
    req = request(overrides={"credit": [failed()], "compliance": [sanctioned()]}, amount="500000")
    [both] = (await decide(p, req, tools())).decisions
    assert both.decision == "block"
    assert codes(both)[:3] == ["HARD_RULE_SANCTIONS_MATCH", "HARD_RULE_REPORTABLE_AMOUNT", "AGGREGATION_DEGRADED"]


async def test_a_timed_out_compliance_agent_is_never_pass_even_with_sanctions_off():
    p = policy(hard_rules=HardRules(sanctions_match="off"))
    [d] = (await decide(p, request(overrides={"compliance": [failed("compliance")]}), tools())).decisions
    assert d.decision == "review"


async def test_the_fail_closed_outcome_may_be_block():
    [d] = (await decide(policy(degraded_decision="block"), request(overrides={"fraud": [failed("fraud")]}),
                        tools())).decisions
    assert d.decision == "block"
    assert codes(d)[0] == "AGGREGATION_DEGRADED"


# -- the policy file and shadow mode -------------------------------------------------------------------------

def test_to_policy_carries_the_whole_file():
    p = to_policy(load_policy_file(SHIPPED))
    assert p.segments["private"] == ThresholdOverride(review_threshold=0.08, block_threshold=0.99)
    assert p.branches["BR-0001"].review_threshold == 0.10
    assert p.hard_rules == HardRules(sanctions_match="block", frozen_account="block", reportable_amount="review",
                                     reportable_amount_usd=10_000)
    assert p.degraded_decision == "review"


async def test_a_shadow_policy_decides_the_same_batch_beside_the_live_one():
    challenger = policy(version="policy-c", review_threshold=0.2)
    response = await decide(policy(), request(fraud=0.3, tx_ids=("T1", "T2")), tools(), shadow=challenger)
    assert [d.decision for d in response.decisions] == ["pass", "pass"]
    assert response.shadow_policy_version == "policy-c"
    assert [(d.tx_id, d.decision) for d in response.shadow] == [("T1", "review"), ("T2", "review")]


async def test_without_a_shadow_policy_the_response_has_no_shadow_decisions():
    response = await decide(policy(), request(), tools())
    assert (response.shadow_policy_version, response.shadow) == (None, [])


def test_configured_policies_read_the_policy_file_then_the_deployed_file_then_the_model_card(tmp_path, monkeypatch):
    monkeypatch.setenv("RISKMESH_FRAUD_MODE", "rules")  # the model card's policy is then the default
    settings = Settings(data_dir=tmp_path, _env_file=None)
    assert configured_policies(settings) == (Policy(), None)
    active = tmp_path / "policies" / "active.yaml"
    active.parent.mkdir()
    active.write_text(SHIPPED.read_text().replace("version: policy-1", "version: policy-deployed"))
    assert configured_policies(settings)[0].version == "policy-deployed"
    explicit = Settings(data_dir=tmp_path, policy_file=SHIPPED, shadow_policy_file=active, _env_file=None)
    live, shadow = configured_policies(explicit)
    assert (live.version, shadow.version if shadow else None) == ("policy-1", "policy-deployed")
