"""ActionAgentImpl.resolve: one apply_resolutions_batch call, one outcome per resolution, never raises."""

from __future__ import annotations

from agent_doubles import FakeTools, make_tx

from riskmesh.agents.action import ActionAgentImpl
from riskmesh.agents.base import ToolCallError
from riskmesh.agents.mcp_client import McpToolCaller
from riskmesh.contracts import ActionRequest, AggregatedDecision
from riskmesh.contracts.review import Resolution, ResolutionRequest
from riskmesh.mcp_servers.action_store import MemoryActionStore
from riskmesh.mcp_servers.risk_actions import alert_id_for, build_risk_actions_server
from tests.unit.mcp_servers.tool_payload import payload


def resolution(tx: str, disposition: str = "release", approved_by: str | None = None) -> Resolution:
    return Resolution(
        alert_id=alert_id_for(tx), tx_id=tx, debtor_account_id="A1", disposition=disposition,
        decided_by="alice", approved_by=approved_by, reason="checked", decided_at="2026-11-21T10:00:00Z",
    )  # fmt: skip


def request(*resolutions: Resolution) -> ResolutionRequest:
    return ResolutionRequest(request_id="R1", resolutions=list(resolutions))


async def test_resolutions_go_out_in_one_call_and_outcomes_follow_request_order():
    def apply(arguments):
        return {
            "results": {
                r["alert_id"]: {"tx_id": r["tx_id"], "actions": [f"{r['disposition']}_done"], "alert_id": r["alert_id"],
                                "controls": [{"account_id": "A1", "control": "hold", "change": "lifted", "level": 0}]}
                for r in arguments["resolutions"]
            }
        }  # fmt: skip

    tools = FakeTools({("risk-actions", "apply_resolutions_batch"): apply})
    response = await ActionAgentImpl(tools).resolve(request(resolution("T2", "block"), resolution("T1")))
    assert response.request_id == "R1"
    assert [(o.tx_id, o.actions, o.status) for o in response.outcomes] == [
        ("T2", ["block_done"], "ok"),
        ("T1", ["release_done"], "ok"),
    ]
    assert response.outcomes[0].controls[0].change == "lifted"
    [call] = tools.calls_to("risk-actions", "apply_resolutions_batch")
    assert call["resolutions"][0]["decided_at"] == "2026-11-21T10:00:00.000Z"
    assert call["resolutions"][0]["disposition"] == "block"


async def test_a_failed_call_marks_every_outcome_error_without_raising():
    tools = FakeTools({("risk-actions", "apply_resolutions_batch"): ToolCallError("risk-actions", "x", "down")})
    response = await ActionAgentImpl(tools).resolve(request(resolution("T1"), resolution("T2")))
    assert [o.status for o in response.outcomes] == ["error", "error"]
    assert all("down" in o.detail for o in response.outcomes)


async def test_a_refused_or_unanswered_item_is_an_error_alone():
    answer = {
        "results": {
            alert_id_for("T1"): {"tx_id": "T1", "error": "four-eyes: a freeze needs a second person"},
            alert_id_for("T2"): {"tx_id": "T2", "actions": ["release_transaction"], "controls": [{"bad": 1}]},
            alert_id_for("T3"): {"tx_id": "T3", "actions": ["release_transaction"], "controls": []},
        }
    }
    tools = FakeTools({("risk-actions", "apply_resolutions_batch"): answer})
    response = await ActionAgentImpl(tools).resolve(
        request(resolution("T1", "freeze"), resolution("T2"), resolution("T3"), resolution("T4"))
    )
    assert [o.status for o in response.outcomes] == ["error", "error", "ok", "error"]
    assert "four-eyes" in response.outcomes[0].detail
    assert "malformed controls" in response.outcomes[1].detail
    assert "no result" in response.outcomes[3].detail


async def test_an_empty_request_calls_nothing():
    tools = FakeTools()
    response = await ActionAgentImpl(tools).resolve(request())
    assert response.outcomes == [] and tools.calls == []


async def test_over_real_mcp_a_review_is_held_then_released_exactly_once():
    server = build_risk_actions_server(MemoryActionStore())
    async with McpToolCaller.in_process({"risk-actions": server}, caller="action") as tools:
        agent = ActionAgentImpl(tools)
        acted = await agent.act(
            ActionRequest(
                batch_id="B1", decided_at="2026-11-21T09:15:02Z", policy_version="p1", transactions=[make_tx("T1")],
                decisions=[AggregatedDecision(tx_id="T1", decision="review", risk_score=0.6)],
            )
        )  # fmt: skip
        first = await agent.resolve(request(resolution("T1")))
        again = await agent.resolve(request(resolution("T1")))
        log = await tools.call("risk-actions", "get_alert", {"alert_id": alert_id_for("T1")})
    assert acted.outcomes[0].actions == ["hold_transaction", "open_alert"]
    [outcome] = first.outcomes
    assert (outcome.status, outcome.actions) == ("ok", ["release_transaction"])
    assert [(c.control, c.change, c.level) for c in outcome.controls] == [("hold", "lifted", 0)]
    assert again.outcomes == first.outcomes
    assert log["alert"]["tx_id"] == "T1"
    assert [a["action"] for a in (await server_actions(server, "T1"))] == [
        "hold_transaction",
        "open_alert",
        "release_transaction",
    ]


async def server_actions(server, tx_id: str) -> list[dict]:
    from mcp import Client

    async with Client(server) as client:
        result = await client.call_tool("get_actions_batch", {"tx_ids": [tx_id]})
    return payload(result)["actions"][tx_id]
