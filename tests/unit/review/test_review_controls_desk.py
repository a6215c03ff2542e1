"""The account desk over a real in-process risk-actions MCP server: roles, four-eyes on lifts, audit, errors."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from mcp import Client

from riskmesh.agents.base import ToolCallError
from riskmesh.agents.mcp_client import McpToolCaller
from riskmesh.mcp_servers.action_store import MemoryActionStore
from riskmesh.mcp_servers.risk_actions import alert_id_for, build_risk_actions_server
from riskmesh.orchestrator.audit import MemoryAuditLog
from riskmesh.orchestrator.review.controls_desk import (
    CONSOLE_ACTIONS_CALLER,
    AccountDesk,
    Unavailable,
    review_error,
)
from riskmesh.orchestrator.review.errors import Conflict, Forbidden, InvalidRequest, NotFound
from riskmesh.orchestrator.review.ports import Actor

ANA = Actor("ana", "analyst")
SAM = Actor("sam", "supervisor")
CORA = Actor("cora", "compliance_officer")
SOL = Actor("sol", "soc_engineer")
ADAM = Actor("adam", "admin")
ALERT = alert_id_for("T-R")


def _decision(tx: str, decision: str) -> dict:
    return {"tx_id": tx, "decision": decision, "risk_score": 0.8, "amount": "900.00", "currency": "EUR",
            "debtor_account_id": "A1", "policy_version": "p1", "decided_at": datetime.now(UTC).isoformat()}


@pytest.fixture
async def desk() -> AsyncIterator[tuple[AccountDesk, MemoryAuditLog]]:
    """Account A1 with 3 blocks and one review (alert on T-R): hold + limit in force, 4 hits."""
    server = build_risk_actions_server(MemoryActionStore())
    async with Client(server) as trusted:  # unnamed in-process client: the action agent's writes
        decisions = [_decision(f"T-{n}", "block") for n in range(3)] + [_decision("T-R", "review")]
        result = await trusted.call_tool("apply_decisions_batch", {"items": decisions})
        assert not result.is_error, result.content
    audit = MemoryAuditLog()
    accounts = AccountDesk(McpToolCaller.in_process({"risk-actions": server}, CONSOLE_ACTIONS_CALLER), audit)
    try:
        yield accounts, audit
    finally:
        await accounts.aclose()


def _actions(audit: MemoryAuditLog) -> list[str]:
    return [e.action for e in audit.events()]


async def test_controls_show_the_level_active_controls_hits_and_the_transactions_action_log(desk) -> None:
    accounts, _ = desk
    found = await accounts.controls(SOL, "A1", "T-R")
    assert found["controls"] == {"frozen": False, "level": 2, "active": ["hold", "limit"], "hits": 4}
    assert [a["action"] for a in found["actions"]] == ["hold_transaction", "open_alert"]
    assert found["pending_lifts"] == []


async def test_an_analyst_requests_a_lift_once_and_the_request_is_audited_once(desk) -> None:
    accounts, audit = desk
    lift = await accounts.request_lift(ANA, "A1", "limit", "customer verified by phone")
    again = await accounts.request_lift(ANA, "A1", "limit", "asking twice")
    assert again["lift_id"] == lift["lift_id"] and lift["status"] == "pending"
    events = [e for e in audit.events() if e.action == "control.lift_requested"]
    assert len(events) == 1
    event = events[0]
    assert event.actor == "ana" and event.subject == "account:A1"
    assert event.details["role"] == "analyst" and event.details["lift_id"] == lift["lift_id"]
    assert event.details["control"] == "limit"
    assert (await accounts.controls(ANA, "A1"))["pending_lifts"][0]["lift_id"] == lift["lift_id"]


async def test_the_requester_may_not_approve_their_own_lift_but_a_second_person_may(desk) -> None:
    accounts, audit = desk
    lift = await accounts.request_lift(SAM, "A1", "limit", "false positives")
    with pytest.raises(Forbidden, match="four-eyes"):
        await accounts.approve_lift(SAM, lift["lift_id"])
    approved = await accounts.approve_lift(CORA, lift["lift_id"])
    assert approved["lift"]["status"] == "approved" and approved["lift"]["approved_by"] == "cora"
    assert approved["control"]["change"] == "lifted"
    assert (await accounts.controls(ANA, "A1"))["controls"]["active"] == ["hold"]
    assert await accounts.list_lifts(ANA, "pending") == []
    await accounts.approve_lift(CORA, lift["lift_id"])  # approving again: same answer, audited once
    assert _actions(audit) == ["control.lift_requested", "control.lift_approved"]
    event = audit.recent(1)[0]
    assert event.actor == "cora" and event.details["role"] == "compliance_officer"
    assert event.details["requested_by"] == "sam" and event.details["lift_id"] == lift["lift_id"]


async def test_only_supervisors_and_compliance_officers_approve_lifts(desk) -> None:
    accounts, _ = desk
    lift = await accounts.request_lift(ANA, "A1", "limit", "verified")
    for actor in (Actor("ben", "analyst"), SOL, ADAM):
        with pytest.raises(Forbidden):
            await accounts.approve_lift(actor, lift["lift_id"])


async def test_soc_engineers_and_admins_do_no_case_work(desk) -> None:
    accounts, audit = desk
    for actor in (SOL, ADAM):
        with pytest.raises(Forbidden):
            await accounts.request_lift(actor, "A1", "limit", "x")
        with pytest.raises(Forbidden):
            await accounts.open_case(actor, ALERT, "C1")
        with pytest.raises(Forbidden):
            await accounts.report(actor, ALERT)
        with pytest.raises(Forbidden):
            await accounts.set_risk_rating(actor, "C1", "high", "x")
    with pytest.raises(Forbidden):
        await accounts.set_risk_rating(ANA, "C1", "high", "analysts propose, seniors rate")
    assert _actions(audit) == []


async def test_the_servers_refusals_arrive_as_review_errors_with_its_message(desk) -> None:
    accounts, audit = desk
    with pytest.raises(Conflict, match="suspend_remote is not active on account A1"):
        await accounts.request_lift(ANA, "A1", "suspend_remote", "nothing to lift")
    with pytest.raises(NotFound, match="unknown lift request LF-nope"):
        await accounts.approve_lift(SAM, "LF-nope")
    with pytest.raises(NotFound, match="unknown alert"):
        await accounts.report(ANA, "AL-nope")
    with pytest.raises(InvalidRequest, match="control must be one of"):
        await accounts.request_lift(ANA, "A1", "hold", "a hold ends with the alert")
    with pytest.raises(InvalidRequest, match="reason"):
        await accounts.request_lift(ANA, "A1", "limit", "   ")
    assert _actions(audit) == []


def test_tool_errors_map_to_review_errors_by_their_meaning() -> None:
    def mapped(message: str) -> type:
        return type(review_error(ToolCallError("risk-actions", "approve_control_lift", message)))

    assert mapped("Error executing tool approve_control_lift: four-eyes: sam requested lift LF-1") is Forbidden
    assert mapped("caller 'x' may not call risk-actions.open_case") is Forbidden
    assert mapped("lift LF-1 was already approved by cora") is Conflict
    assert mapped("transport failure: ConnectError: refused") is Unavailable
    assert mapped("1 validation error for approve_control_liftArguments") is InvalidRequest
    error = review_error(ToolCallError("risk-actions", "open_case", "Error executing tool open_case: unknown alert X"))
    assert isinstance(error, NotFound) and str(error) == "unknown alert X"


async def test_a_compliance_officer_sets_a_rating_and_the_change_names_the_previous_one(desk) -> None:
    accounts, audit = desk
    await accounts.set_risk_rating(CORA, "C1", "medium", "two blocks this month")
    change = await accounts.set_risk_rating(SAM, "C1", "high", "mule pattern")
    assert change["previous"] == "medium" and change["changed"] is True and change["actor"] == "sam"
    event = audit.recent(1)[0]
    assert event.action == "customer.risk_rating_changed" and event.subject == "customer:C1"
    assert event.details == {"role": "supervisor", "customer_id": "C1", "rating": "high", "previous": "medium",
                             "changed": True, "reason": "mule pattern"}


async def test_opening_a_case_and_generating_a_report_are_audited_on_the_alert(desk) -> None:
    accounts, audit = desk
    case = await accounts.open_case(ANA, ALERT, "C1", "structuring", tx_ids=["T-0"])
    assert case["case_id"].startswith("CS-") and case["alert_ids"] == [ALERT]
    assert case["tx_ids"] == ["T-0", "T-R"] and case["opened_by"] == "ana"
    html = await accounts.report(CORA, ALERT)
    assert html.startswith("<!DOCTYPE html>") and ALERT in html and "<script" not in html
    opened, reported = audit.events_for(f"alert:{ALERT}")
    assert opened.action == "case.opened" and opened.details["case_id"] == case["case_id"]
    assert opened.actor == "ana" and opened.details["role"] == "analyst"
    assert reported.action == "report.generated" and reported.actor == "cora" and reported.details["tx_id"] == "T-R"


async def test_the_console_actions_identity_may_not_carry_out_decisions(desk) -> None:
    accounts, _ = desk
    with pytest.raises(ToolCallError, match="may not call"):
        await accounts.tools.call("risk-actions", "apply_resolutions_batch", {"resolutions": []})
