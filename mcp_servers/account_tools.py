"""risk-actions tools about accounts and customers: graded controls and their lifts, ratings, cases, reports.

Registered on the risk-actions server by `build_risk_actions_server` (risk_actions.py), beside the
decision and resolution tools; every tool goes through the same ToolGuard.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import CallToolResult
from pydantic import Field

from riskmesh.mcp_servers.action_store import ActionStore
from riskmesh.mcp_servers.cases import Case, CaseStore, RatingUpdate, case_id_for
from riskmesh.mcp_servers.controls import ControlError, ControlStore
from riskmesh.mcp_servers.reports import REPORT_MEDIA_TYPE, render_report
from riskmesh.mcp_servers.toolkit import ToolGuard, batch_result, check_batch_size

__all__ = ["register_case_tools", "register_control_tools"]


def register_control_tools(server: MCPServer, guard: ToolGuard, controls: ControlStore) -> None:
    @server.tool(
        description=(
            "Graded controls of many accounts: level 0 none, 1 hold (transactions held for review), 2 limit "
            "(reduced daily limit), 3 suspend_remote (online_banking, mobile, api suspended), 4 freeze. Returns "
            '{"controls": {account_id: {"frozen": bool, "level": int, "active": [str], "hits": int}}} where hits '
            "counts block/review hits within the window (30 days) since the last lift."
        ),
        structured_output=False,
    )
    async def get_account_controls_batch(
        ctx: Context,
        account_ids: Annotated[list[str], Field(description="account ids")],
    ) -> CallToolResult:
        with guard.call(ctx, "get_account_controls_batch", len(account_ids)):
            check_batch_size(len(account_ids), "account_ids")
            found = await controls.accounts(account_ids)
            return batch_result({"controls": {a: c.to_json() for a, c in found.items()}})

    @server.tool(
        description=(
            "Ask to lift an active account control (limit, suspend_remote or freeze); lifting is itself reviewed: "
            "a second person approves it with approve_control_lift. Asking again while one is pending returns the "
            'pending request. Returns {"lift": {lift_id, account_id, control, requested_by, reason, requested_at, '
            "status}}; an error when the control is not active."
        ),
        structured_output=False,
    )
    async def request_control_lift(
        ctx: Context,
        account_id: Annotated[str, Field(min_length=1, max_length=256)],
        control: Annotated[Literal["limit", "suspend_remote", "freeze"], Field(description="control to lift")],
        requested_by: Annotated[str, Field(min_length=1, max_length=128)],
        reason: Annotated[str, Field(min_length=1, max_length=4000)],
    ) -> CallToolResult:
        with guard.call(ctx, "request_control_lift", 1):
            try:
                lift = await controls.request_lift(account_id, control, requested_by, reason)
            except ControlError as exc:
                raise ToolError(str(exc)) from None
            return batch_result({"lift": lift.model_dump()})

    @server.tool(
        description=(
            "Approve a pending control lift (four-eyes): refused when the approver is the requester. Lifts the "
            "control, restarts the account's hit count and returns "
            '{"lift": {...status: "approved", approved_by, approved_at}, "control": ControlChange}. Approving again '
            "by the same person returns the same answer."
        ),
        structured_output=False,
    )
    async def approve_control_lift(
        ctx: Context,
        lift_id: Annotated[str, Field(min_length=1, max_length=64)],
        approver: Annotated[str, Field(min_length=1, max_length=128)],
    ) -> CallToolResult:
        with guard.call(ctx, "approve_control_lift", 1):
            try:
                lift, change = await controls.approve_lift(lift_id, approver)
            except ControlError as exc:
                raise ToolError(str(exc)) from None
            return batch_result({"lift": lift.model_dump(), "control": change.model_dump(mode="json")})

    @server.tool(
        description='Control lift requests, newest first: {"lifts": [lift]}; status pending, approved or all.',
        structured_output=False,
    )
    async def list_control_lifts(
        ctx: Context,
        status: Literal["pending", "approved", "all"] = "pending",
        limit: Annotated[int, Field(ge=1, le=1000)] = 100,
    ) -> CallToolResult:
        with guard.call(ctx, "list_control_lifts", limit) as call:
            lifts = await controls.list_lifts(None if status == "all" else status, limit)
            call.items = len(lifts)
            return batch_result({"lifts": [lift.model_dump() for lift in lifts]})


def register_case_tools(
    server: MCPServer,
    guard: ToolGuard,
    store: ActionStore,
    controls: ControlStore,
    cases: CaseStore,
    alert_id_for: Callable[[str], str],
) -> None:
    """`alert_id_for` maps a tx_id to the id of the alert a review of it opened."""

    @server.tool(
        description=(
            "Record many customers' risk ratings (low, medium, high) with reason and actor; every change is kept. "
            'Returns {"ratings": [{customer_id, rating, previous, changed, reason, actor, at}]} in item order.'
        ),
        structured_output=False,
    )
    async def update_risk_rating_batch(
        ctx: Context,
        items: Annotated[list[RatingUpdate], Field(description="items {customer_id, rating, reason, actor}")],
    ) -> CallToolResult:
        with guard.call(ctx, "update_risk_rating_batch", len(items)):
            check_batch_size(len(items), "ratings")
            changes = await cases.update_ratings(items)
            return batch_result({"ratings": [c.model_dump() for c in changes]})

    @server.tool(
        description=(
            "Open a case grouping one customer's alerts and transactions. The case id is derived from the customer "
            "and the opening alert, so opening it again adds the new alerts and transactions to the same case. "
            'Every alert named must exist; its transaction joins the case. Returns {"case": {case_id, customer_id, '
            "opening_alert_id, opened_by, opened_at, reason, status, alert_ids, tx_ids}}."
        ),
        structured_output=False,
    )
    async def open_case(
        ctx: Context,
        customer_id: Annotated[str, Field(min_length=1, max_length=256)],
        alert_id: Annotated[str, Field(min_length=1, max_length=64, description="the alert that opens the case")],
        opened_by: Annotated[str, Field(min_length=1, max_length=128)],
        reason: Annotated[str, Field(max_length=4000)] = "",
        alert_ids: Annotated[list[str], Field(description="further alerts of this customer")] = [],  # noqa: B006
        tx_ids: Annotated[list[str], Field(description="further transactions of this customer")] = [],  # noqa: B006
    ) -> CallToolResult:
        named = list(dict.fromkeys([alert_id, *alert_ids]))
        with guard.call(ctx, "open_case", len(named) + len(tx_ids)):
            check_batch_size(len(named) + len(tx_ids), "case members")
            alerts = [await store.get_alert(a) for a in named]
            unknown = [a for a, found in zip(named, alerts, strict=True) if found is None]
            if unknown:
                raise ToolError(f"unknown alert(s) {unknown[:10]}: a case groups existing alerts")
            case = Case(
                case_id=case_id_for(customer_id, alert_id),
                customer_id=customer_id,
                opening_alert_id=alert_id,
                opened_by=opened_by,
                opened_at=_now_iso(),
                reason=reason,
                alert_ids=named,
                tx_ids=sorted({*tx_ids, *(a.tx_id for a in alerts if a is not None)}),
            )
            return batch_result({"case": (await cases.open_case(case)).model_dump()})

    @server.tool(
        description=(
            "A risk report of one alert or transaction as a self-contained HTML page: the alert and its decision "
            "reasons, the account's graded controls and the transaction's action log. HTML only (no PDF library "
            'is installed; print the page to PDF). Returns {"format": "html", "media_type", "filename", '
            '"tx_id", "alert_id", "content"}.'
        ),
        structured_output=False,
    )
    async def generate_report(
        ctx: Context,
        alert_id: Annotated[str | None, Field(max_length=64)] = None,
        tx_id: Annotated[str | None, Field(max_length=256)] = None,
        format: Literal["html"] = "html",
    ) -> CallToolResult:
        with guard.call(ctx, "generate_report", 1):
            if bool(alert_id) == bool(tx_id):
                raise ToolError("name exactly one of alert_id or tx_id")
            alert = await store.get_alert(alert_id or alert_id_for(tx_id or ""))
            if alert_id and alert is None:
                raise ToolError(f"unknown alert {alert_id}")
            subject_tx = alert.tx_id if alert is not None else str(tx_id)
            actions = (await store.get_actions([subject_tx]))[subject_tx]
            account_id = alert.debtor_account_id if alert is not None else _account_of(actions)
            found = await controls.accounts([account_id]) if account_id else {}
            html = render_report(
                tx_id=subject_tx,
                alert=alert,
                actions=actions,
                account_id=account_id,
                controls=found[account_id].to_json() if account_id else None,
                generated_at=_now_iso(),
            )
            subject = alert.alert_id if alert is not None else subject_tx
            return batch_result(
                {
                    "format": format,
                    "media_type": REPORT_MEDIA_TYPE,
                    "filename": f"risk-report-{subject}.html",
                    "tx_id": subject_tx,
                    "alert_id": alert.alert_id if alert is not None else None,
                    "content": html,
                }
            )


def _account_of(actions: list[dict[str, Any]]) -> str | None:
    return next((a["account_id"] for a in actions if isinstance(a.get("account_id"), str)), None)


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
