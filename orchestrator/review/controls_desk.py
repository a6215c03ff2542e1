"""Account work of the console: graded controls and their reviewed lifts, risk ratings, cases, risk reports.

`AccountDesk` is the use case between the console and the risk-actions MCP server, which it calls with one
caller identity ("console-actions", whose MCP policy allows exactly the tools used here). Each method checks
the actor's role first (the server trusts its caller to have done so), calls the tool, then appends the audit
event. Four-eyes on lifts is checked here and again by the server, which is the source of truth.

The MCP call and the audit append cannot share a transaction. The server's writes are idempotent (asking for a
lift again returns the pending one, approving again returns the same answer, a case id is derived from customer
and alert), and lift events are appended once per lift id: so when the audit append fails after the change,
retrying the request records the event without acting twice.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any, Literal, cast, get_args

from riskmesh.agents.base import ToolCaller, ToolCallError
from riskmesh.orchestrator.audit import AuditLog
from riskmesh.orchestrator.review.errors import Conflict, Forbidden, InvalidRequest, NotFound, ReviewError
from riskmesh.orchestrator.review.ports import Actor

__all__ = [
    "APPROVERS",
    "CASE_WORKERS",
    "CONSOLE_ACTIONS_CALLER",
    "RATERS",
    "READERS",
    "AccountDesk",
    "Unavailable",
    "review_error",
]

CONSOLE_ACTIONS_CALLER = "console-actions"
SERVER = "risk-actions"
READERS = frozenset({"analyst", "supervisor", "compliance_officer", "soc_engineer", "admin"})
CASE_WORKERS = frozenset({"analyst", "supervisor", "compliance_officer"})
"""Request lifts, open cases, generate reports (SOC engineers only read; admins do no case work)."""
APPROVERS = frozenset({"supervisor", "compliance_officer"})
"""Approve a control lift: never the one who requested it."""
RATERS = frozenset({"supervisor", "compliance_officer"})
LiftControl = Literal["limit", "suspend_remote", "freeze"]
Rating = Literal["low", "medium", "high"]
_LIFT_STATUSES = frozenset({"pending", "approved", "all"})
_LIFT_SCAN = 1000
"""How many lifts `approve_lift` reads to find the requester (the server checks four-eyes regardless)."""


class Unavailable(ReviewError):
    """risk-actions could not be reached (the console answers 503)."""

    code = "unavailable"


_ERROR_RULES: tuple[tuple[tuple[str, ...], type[ReviewError]], ...] = (
    (("transport failure", "no MCP server configured"), Unavailable),
    (("four-eyes", "may not call", "unauthorised"), Forbidden),
    (("unknown lift", "unknown alert"), NotFound),
    (("already approved", "is not active on account"), Conflict),
)


def review_error(exc: ToolCallError) -> ReviewError:
    """The review error for a tool's refusal, carrying the server's message (without the MCP framing)."""
    message = str(exc).removeprefix(f"{exc.server}.{exc.tool}: ")
    message = message.removeprefix(f"Error executing tool {exc.tool}: ")
    message = "\n".join(line for line in message.splitlines() if "errors.pydantic.dev" not in line)
    for needles, kind in _ERROR_RULES:
        if any(needle in message for needle in needles):
            return kind(message)
    return InvalidRequest(message)


def _require(actor: Actor, roles: frozenset[str], what: str) -> None:
    if actor.role not in roles:
        raise Forbidden(f"a {actor.role.replace('_', ' ')} may not {what}")


def _text(value: str, name: str, max_len: int = 4000) -> str:
    value = value.strip()
    if not value or len(value) > max_len:
        raise InvalidRequest(f"'{name}' must be a non-empty string of ≤ {max_len}")
    return value


class AccountDesk:
    """Controls, lifts, ratings, cases and reports for console users, over risk-actions and the audit trail."""

    def __init__(self, tools: ToolCaller, audit_log: AuditLog) -> None:
        self.tools = tools
        self.audit_log = audit_log

    async def aclose(self) -> None:
        close = getattr(self.tools, "aclose", None)
        if close is not None:
            await close()

    # -- plumbing ------------------------------------------------------------------------------------

    async def _call(self, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
        try:
            return await self.tools.call(SERVER, tool, arguments)
        except ToolCallError as exc:
            raise review_error(exc) from exc

    async def _audit(self, actor: Actor, action: str, subject: str, details: dict[str, Any]) -> None:
        await asyncio.to_thread(self.audit_log.append, actor.username, action, subject,
                                {"role": actor.role, **details})

    async def _audited(self, subject: str, action: str, lift_id: str) -> bool:
        events = await asyncio.to_thread(self.audit_log.events_for, subject, 200)
        return any(e.action == action and e.details.get("lift_id") == lift_id for e in events)

    # -- reading -------------------------------------------------------------------------------------

    async def controls(self, actor: Actor, account_id: str, tx_id: str | None = None) -> dict[str, Any]:
        """The account's controls in force, its pending lifts and (given `tx_id`) that transaction's action log."""
        _require(actor, READERS, "read account controls")
        account_id = _text(account_id, "account_id", 256)
        calls = [
            self._call("get_account_controls_batch", {"account_ids": [account_id]}),
            self._call("list_control_lifts", {"status": "pending", "limit": _LIFT_SCAN}),
        ]
        if tx_id:
            calls.append(self._call("get_actions_batch", {"tx_ids": [tx_id]}))
        found = await asyncio.gather(*calls)
        lifts = [lift for lift in found[1]["lifts"] if lift.get("account_id") == account_id]
        return {
            "account_id": account_id,
            "controls": found[0]["controls"].get(account_id, {}),
            "pending_lifts": lifts,
            "tx_id": tx_id,
            "actions": found[2]["actions"].get(tx_id, []) if tx_id else [],
        }

    async def list_lifts(self, actor: Actor, status: str = "pending") -> list[dict[str, Any]]:
        """Lift requests, newest first; `status` pending, approved or all."""
        _require(actor, READERS, "read control lifts")
        if status not in _LIFT_STATUSES:
            raise InvalidRequest(f"status must be one of {', '.join(sorted(_LIFT_STATUSES))}")
        return list((await self._call("list_control_lifts", {"status": status, "limit": _LIFT_SCAN}))["lifts"])

    # -- control lifts -------------------------------------------------------------------------------

    async def request_lift(self, actor: Actor, account_id: str, control: str, reason: str) -> dict[str, Any]:
        """A pending lift of an active control; the pending one (whoever asked) when it was already requested."""
        _require(actor, CASE_WORKERS, "request a control lift")
        if control not in get_args(LiftControl):
            raise InvalidRequest(f"control must be one of {', '.join(get_args(LiftControl))} (a hold ends with "
                                 "the alert's resolution)")
        account_id = _text(account_id, "account_id", 256)
        answer = await self._call("request_control_lift", {"account_id": account_id, "control": control,
                                                           "requested_by": actor.username,
                                                           "reason": _text(reason, "reason")})
        lift: dict[str, Any] = answer["lift"]
        subject = f"account:{account_id}"
        if not await self._audited(subject, "control.lift_requested", lift["lift_id"]):
            await self._audit(actor, "control.lift_requested", subject,
                              {"lift_id": lift["lift_id"], "account_id": account_id, "control": control,
                               "requested_by": lift["requested_by"], "reason": lift["reason"]})
        return lift

    async def approve_lift(self, actor: Actor, lift_id: str) -> dict[str, Any]:
        """Four-eyes: a supervisor or compliance officer other than the requester lifts the control."""
        _require(actor, APPROVERS, "approve a control lift")
        lift_id = _text(lift_id, "lift_id", 64)
        known = next((lift for lift in await self.list_lifts(actor, "all") if lift["lift_id"] == lift_id), None)
        if known is not None and known["requested_by"] == actor.username:
            raise Forbidden(f"four-eyes: you requested lift {lift_id}; a second person must approve it")
        answer = await self._call("approve_control_lift", {"lift_id": lift_id, "approver": actor.username})
        lift, change = answer["lift"], answer["control"]
        subject = f"account:{lift['account_id']}"
        if not await self._audited(subject, "control.lift_approved", lift_id):
            await self._audit(actor, "control.lift_approved", subject,
                              {"lift_id": lift_id, "account_id": lift["account_id"], "control": lift["control"],
                               "requested_by": lift["requested_by"], "level": change.get("level")})
        return {"lift": lift, "control": change}

    # -- customers and cases -------------------------------------------------------------------------

    async def set_risk_rating(self, actor: Actor, customer_id: str, rating: str, reason: str) -> dict[str, Any]:
        """Record the customer's risk rating (low, medium, high); the change says the rating it replaced."""
        _require(actor, RATERS, "change a customer's risk rating")
        if rating not in get_args(Rating):
            raise InvalidRequest(f"rating must be one of {', '.join(get_args(Rating))}")
        customer_id = _text(customer_id, "customer_id", 256)
        item = {"customer_id": customer_id, "rating": rating, "reason": _text(reason, "reason"),
                "actor": actor.username}
        change = cast(dict[str, Any], (await self._call("update_risk_rating_batch", {"items": [item]}))["ratings"][0])
        await self._audit(actor, "customer.risk_rating_changed", f"customer:{customer_id}",
                          {"customer_id": customer_id, "rating": rating, "previous": change.get("previous"),
                           "changed": change.get("changed"), "reason": item["reason"]})
        return change

    async def open_case(self, actor: Actor, alert_id: str, customer_id: str, reason: str = "",
                        alert_ids: Iterable[str] = (), tx_ids: Iterable[str] = ()) -> dict[str, Any]:
        """Open (or add to) the case of `customer_id` opened by `alert_id`."""
        _require(actor, CASE_WORKERS, "open a case")
        alert_id, customer_id = _text(alert_id, "alert_id", 64), _text(customer_id, "customer_id", 256)
        more_alerts, more_txs = [a for a in alert_ids if a != alert_id], list(tx_ids)
        answer = await self._call("open_case", {"customer_id": customer_id, "alert_id": alert_id,
                                                "opened_by": actor.username, "reason": reason.strip()[:4000],
                                                "alert_ids": more_alerts, "tx_ids": more_txs})
        case: dict[str, Any] = answer["case"]
        await self._audit(actor, "case.opened", f"alert:{alert_id}",
                          {"case_id": case["case_id"], "customer_id": customer_id, "alert_ids": case["alert_ids"],
                           "tx_ids": case["tx_ids"], "reason": reason.strip()[:4000]})
        return case

    async def report(self, actor: Actor, alert_id: str) -> str:
        """The alert's self-contained HTML risk report (alert, reasons, account controls, action log)."""
        _require(actor, CASE_WORKERS, "generate a risk report")
        alert_id = _text(alert_id, "alert_id", 64)
        answer = await self._call("generate_report", {"alert_id": alert_id, "format": "html"})
        await self._audit(actor, "report.generated", f"alert:{alert_id}",
                          {"alert_id": alert_id, "tx_id": answer.get("tx_id"), "format": answer.get("format")})
        return str(answer["content"])
