from __future__ import annotations

from agent_doubles import FakeTools, make_tx

from riskmesh.agents.action import ActionAgentImpl
from riskmesh.agents.base import ToolCallError
from riskmesh.contracts import ActionRequest, AggregatedDecision, Reason


def request(*decisions: tuple[str, str], transactions=None) -> ActionRequest:
    txs = transactions if transactions is not None else [make_tx(t) for t, _ in decisions]
    return ActionRequest(
        batch_id="B1",
        decided_at="2026-11-21T09:15:02.140Z",
        policy_version="policy-1",
        transactions=txs,
        decisions=[
            AggregatedDecision(
                tx_id=t, decision=d, risk_score=0.7,
                reasons=[Reason(code="FRAUD_VELOCITY", agent="fraud", weight=0.4, detail="x")],
            )
            for t, d in decisions
        ],
    )  # fmt: skip


async def test_decisions_are_applied_in_one_call_and_outcomes_follow_decision_order():
    def apply(arguments):
        return {
            "results": {
                i["tx_id"]: {"actions": [f"{i['decision']}_done"], "alert_id": None} for i in arguments["items"]
            }
        }

    tools = FakeTools({("risk-actions", "apply_decisions_batch"): apply})
    response = await ActionAgentImpl(tools).act(request(("T2", "review"), ("T1", "pass")))
    assert [o.tx_id for o in response.outcomes] == ["T2", "T1"]
    assert [o.actions for o in response.outcomes] == [["review_done"], ["pass_done"]]
    assert all(o.status == "ok" for o in response.outcomes)
    [call] = tools.calls_to("risk-actions", "apply_decisions_batch")
    assert call["items"][0] == {
        "tx_id": "T2", "decision": "review", "risk_score": 0.7, "amount": "120.00", "currency": "CNY",
        "debtor_account_id": "A1",
        "reasons": [{"code": "FRAUD_VELOCITY", "agent": "fraud", "weight": 0.4, "detail": "x"}],
        "degraded": [], "policy_version": "policy-1", "decided_at": "2026-11-21T09:15:02.140Z",
    }  # fmt: skip


async def test_alert_ids_are_passed_back():
    tools = FakeTools(
        {
            ("risk-actions", "apply_decisions_batch"): {
                "results": {"T1": {"actions": ["hold_transaction"], "alert_id": "AL-1"}}
            }
        }
    )
    [outcome] = (await ActionAgentImpl(tools).act(request(("T1", "review")))).outcomes
    assert (outcome.actions, outcome.alert_id) == (["hold_transaction"], "AL-1")


async def test_failed_call_marks_every_outcome_error_without_raising():
    tools = FakeTools({("risk-actions", "apply_decisions_batch"): ToolCallError("risk-actions", "apply", "down")})
    response = await ActionAgentImpl(tools).act(request(("T1", "block"), ("T2", "pass")))
    assert [o.status for o in response.outcomes] == ["error", "error"]
    assert all("down" in o.detail for o in response.outcomes)


async def test_item_without_a_result_is_an_error_alone():
    tools = FakeTools({("risk-actions", "apply_decisions_batch"): {"results": {"T1": {"actions": []}}}})
    response = await ActionAgentImpl(tools).act(request(("T1", "pass"), ("T2", "pass")))
    assert [o.status for o in response.outcomes] == ["ok", "error"]


async def test_decision_without_its_transaction_is_an_error_and_is_not_sent():
    tools = FakeTools({("risk-actions", "apply_decisions_batch"): {"results": {"T1": {"actions": []}}}})
    req = request(("T1", "pass"), ("T9", "block"), transactions=[make_tx("T1")])
    response = await ActionAgentImpl(tools).act(req)
    assert [o.status for o in response.outcomes] == ["ok", "error"]
    assert [i["tx_id"] for i in tools.calls_to("risk-actions", "apply_decisions_batch")[0]["items"]] == ["T1"]


async def test_per_item_error_from_the_server_is_reported():
    tools = FakeTools({("risk-actions", "apply_decisions_batch"): {"results": {"T1": {"error": "account locked"}}}})
    [outcome] = (await ActionAgentImpl(tools).act(request(("T1", "block")))).outcomes
    assert (outcome.status, outcome.detail) == ("error", "account locked")
