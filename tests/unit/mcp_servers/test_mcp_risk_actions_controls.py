"""risk-actions beyond decisions: resolutions, account controls, lifts, ratings, cases, reports, policy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from mcp import Client

from riskmesh.agents.base import ToolCallError
from riskmesh.agents.mcp_client import McpToolCaller
from riskmesh.mcp_servers.action_store import MemoryActionStore, RedisActionStore
from riskmesh.mcp_servers.cases import case_id_for
from riskmesh.mcp_servers.risk_actions import alert_id_for, build_risk_actions_server
from tests.unit.mcp_servers.tool_payload import payload

NOW = datetime.now(UTC)  # account hits are counted over a window ending at the server's clock
DECIDED_AT = NOW.isoformat()
RESOLVED_AT = (NOW + timedelta(minutes=5)).isoformat()


def _decision(tx: str, decision: str = "review", account: str = "A1", detail: str = "new device") -> dict:
    return {
        "tx_id": tx, "decision": decision, "risk_score": 0.7, "amount": "250.00", "currency": "EUR",
        "debtor_account_id": account, "policy_version": "policy-7", "decided_at": DECIDED_AT,
        "reasons": [{"code": "BEHAVIOUR_NEW_DEVICE", "agent": "behaviour", "weight": 0.3, "detail": detail}],
    }  # fmt: skip


def _resolution(tx: str, disposition: str = "release", approved_by: str | None = None, account: str = "A1") -> dict:
    return {
        "alert_id": alert_id_for(tx), "tx_id": tx, "debtor_account_id": account, "disposition": disposition,
        "decided_by": "alice", "approved_by": approved_by, "reason": "called the customer",
        "decided_at": RESOLVED_AT,
    }  # fmt: skip


@pytest.fixture(params=["memory", "redis"])
def server(request):
    if request.param == "memory":
        return build_risk_actions_server(MemoryActionStore())
    return build_risk_actions_server(RedisActionStore(request.getfixturevalue("redis_client")))


async def _call(client: Client, tool: str, arguments: dict) -> dict:
    result = await client.call_tool(tool, arguments)
    assert not result.is_error, result.content
    return payload(result)


async def test_resolutions_act_once_per_alert_and_refuse_bad_items_alone(server) -> None:
    async with Client(server) as client:
        await _call(client, "apply_decisions_batch", {"items": [_decision("T1"), _decision("T2"), _decision("T3")]})
        batch = [
            _resolution("T1"),
            _resolution("T2", "freeze"),  # no second person
            _resolution("T3", "block", account="A9"),  # not the alert's account
            _resolution("T4"),  # no such alert
        ]
        first = (await _call(client, "apply_resolutions_batch", {"resolutions": batch}))["results"]
        again = (await _call(client, "apply_resolutions_batch", {"resolutions": batch[:1]}))["results"]
        log = (await _call(client, "get_actions_batch", {"tx_ids": ["T1", "T2"]}))["actions"]
    released = first[alert_id_for("T1")]
    assert released["tx_id"] == "T1" and released["actions"] == ["release_transaction"]
    assert released["controls"][0]["change"] == "lifted"
    assert again[alert_id_for("T1")] == released
    assert "four-eyes" in first[alert_id_for("T2")]["error"]
    assert "not tx T3 on account A9" in first[alert_id_for("T3")]["error"]
    assert first[alert_id_for("T4")] == {"tx_id": "T4", "error": f"unknown alert {alert_id_for('T4')}"}
    assert [e["action"] for e in log["T1"]] == ["hold_transaction", "open_alert", "release_transaction"]
    assert [e["action"] for e in log["T2"]] == ["hold_transaction", "open_alert"]


async def test_account_controls_have_the_shape_the_aggregation_agent_reads(server) -> None:
    async with Client(server) as client:
        await _call(client, "apply_decisions_batch", {"items": [_decision("T1")]})
        await _call(client, "apply_resolutions_batch", {"resolutions": [_resolution("T1", "freeze", "bob")]})
        controls = (await _call(client, "get_account_controls_batch", {"account_ids": ["A1", "A2"]}))["controls"]
    assert controls == {
        "A1": {"frozen": True, "level": 4, "active": ["freeze"], "hits": 2},
        "A2": {"frozen": False, "level": 0, "active": [], "hits": 0},
    }


async def test_a_lift_is_refused_to_its_requester_and_granted_to_a_second_person(server) -> None:
    async with Client(server) as client:
        await _call(client, "apply_decisions_batch", {"items": [_decision(f"T{n}", "block") for n in range(3)]})
        lift = (
            await _call(
                client,
                "request_control_lift",
                {"account_id": "A1", "control": "limit", "requested_by": "alice", "reason": "verified"},
            )
        )["lift"]
        same = await client.call_tool("approve_control_lift", {"lift_id": lift["lift_id"], "approver": "alice"})
        pending = (await _call(client, "list_control_lifts", {}))["lifts"]
        approved = await _call(client, "approve_control_lift", {"lift_id": lift["lift_id"], "approver": "bob"})
        inactive = await client.call_tool(
            "request_control_lift", {"account_id": "A1", "control": "freeze", "requested_by": "a", "reason": "r"}
        )
        after = (await _call(client, "get_account_controls_batch", {"account_ids": ["A1"]}))["controls"]["A1"]
    assert same.is_error and "four-eyes" in same.content[0].text
    assert [x["lift_id"] for x in pending] == [lift["lift_id"]]
    assert approved["lift"]["status"] == "approved" and approved["lift"]["approved_by"] == "bob"
    assert approved["control"]["change"] == "lifted" and approved["control"]["level"] == 0
    assert inactive.is_error and "not active" in inactive.content[0].text
    assert after == {"frozen": False, "level": 0, "active": [], "hits": 0}


async def test_ratings_keep_the_previous_value_and_cases_are_one_per_customer_and_opening_alert(server) -> None:
    async with Client(server) as client:
        await _call(client, "apply_decisions_batch", {"items": [_decision("T1"), _decision("T2")]})
        item = {"customer_id": "C1", "rating": "high", "reason": "mule pattern", "actor": "alice"}
        ratings = await _call(client, "update_risk_rating_batch", {"items": [item, {**item, "rating": "high"}]})
        opened = {"customer_id": "C1", "alert_id": alert_id_for("T1"), "opened_by": "alice", "reason": "mule?"}
        first = (await _call(client, "open_case", opened))["case"]
        grown = (await _call(client, "open_case", {**opened, "alert_ids": [alert_id_for("T2")]}))["case"]
        unknown = await client.call_tool("open_case", {**opened, "alert_ids": ["AL-nope"]})
    assert [(r["previous"], r["rating"], r["changed"]) for r in ratings["ratings"]] == [
        (None, "high", True),
        ("high", "high", False),
    ]
    assert first["case_id"] == grown["case_id"] == case_id_for("C1", alert_id_for("T1"))
    assert first["tx_ids"] == ["T1"] and grown["tx_ids"] == ["T1", "T2"]
    assert grown["opened_at"] == first["opened_at"] and grown["status"] == "open"
    assert unknown.is_error and "AL-nope" in unknown.content[0].text


async def test_the_report_is_self_contained_escaped_html_with_reasons_controls_and_log(server) -> None:
    async with Client(server) as client:
        await _call(client, "apply_decisions_batch", {"items": [_decision("T1", detail="<script>x</script>")]})
        await _call(client, "apply_resolutions_batch", {"resolutions": [_resolution("T1", "block")]})
        by_alert = await _call(client, "generate_report", {"alert_id": alert_id_for("T1")})
        by_tx = await _call(client, "generate_report", {"tx_id": "T1"})
        neither = await client.call_tool("generate_report", {})
        pdf = await client.call_tool("generate_report", {"tx_id": "T1", "format": "pdf"})
    html = by_alert["content"]
    assert by_alert["format"] == "html" and by_alert["media_type"].startswith("text/html")
    assert by_alert["filename"] == f"risk-report-{alert_id_for('T1')}.html"
    assert html.startswith("<!DOCTYPE html>") and "<script>" not in html and "&lt;script&gt;" in html
    assert "BEHAVIOUR_NEW_DEVICE" in html and "release_transaction" not in html
    assert "block_transaction" in html and "hold_transaction" in html and "alice" in html
    assert "http" not in html  # no external assets
    assert by_tx["alert_id"] == alert_id_for("T1") and by_tx["tx_id"] == "T1"
    assert neither.is_error and pdf.is_error


async def test_each_caller_gets_only_its_tools() -> None:
    server = build_risk_actions_server(MemoryActionStore())
    async with McpToolCaller.in_process({"risk-actions": server}, caller="aggregation") as aggregation:
        controls = await aggregation.call("risk-actions", "get_account_controls_batch", {"account_ids": ["A1"]})
        with pytest.raises(ToolCallError, match=r"may not call risk-actions\.apply_resolutions_batch"):
            await aggregation.call("risk-actions", "apply_resolutions_batch", {"resolutions": []})
    async with McpToolCaller.in_process({"risk-actions": server}, caller="action") as action:
        assert await action.call("risk-actions", "apply_resolutions_batch", {"resolutions": []}) == {"results": {}}
        with pytest.raises(ToolCallError, match="may not call"):
            await action.call("risk-actions", "approve_control_lift", {"lift_id": "LF-1", "approver": "x"})
    assert controls["controls"]["A1"]["level"] == 0


async def test_a_redelivery_with_another_decision_keeps_the_first_and_is_logged(server, caplog) -> None:
    async with Client(server) as client:
        for n in range(3):
            await _call(client, "apply_decisions_batch", {"items": [_decision(f"T{n}")]})
        with caplog.at_level("WARNING", logger="riskmesh.mcp.risk-actions"):
            same = await _call(client, "apply_decisions_batch", {"items": [_decision("T2")]})
            other = await _call(client, "apply_decisions_batch", {"items": [_decision("T2", "pass")]})
    assert same == other
    assert same["results"]["T2"]["actions"] == ["hold_transaction", "open_alert", "limit_account"]
    assert [r.getMessage().count("differ") for r in caplog.records] == [1]
