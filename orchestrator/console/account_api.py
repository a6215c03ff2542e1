"""The console's account API: graded controls and their lifts, customer risk ratings, cases and risk reports.

Handlers over `review.controls_desk.AccountDesk`, registered by `create_app` when it is given one. They follow
app.py's conventions, through the console's own plumbing: session or bearer authentication, the CSRF header on
cookie-authenticated writes, a permission from `auth.PERMISSIONS` checked before the desk (which checks the role
again), JSON bodies, and review errors answered as `{"error": {"code", "message"}}`.
"""

from __future__ import annotations

from typing import Any, Protocol

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from riskmesh.orchestrator.console.auth import Principal
from riskmesh.orchestrator.review.controls_desk import AccountDesk
from riskmesh.orchestrator.review.errors import InvalidRequest
from riskmesh.orchestrator.review.ports import Actor

__all__ = ["REPORT_CSP", "account_routes"]

REPORT_CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; "
              "form-action 'none'; frame-ancestors 'none'; sandbox")
"""The report is a self-contained page with one inline stylesheet: no script, no fetch, no form, own origin."""


class ConsoleRequests(Protocol):
    """What the handlers need of the console (app._Console): who calls, and the JSON body."""

    async def principal(self, request: Request, permission: str | None = None) -> Principal: ...

    async def body(self, request: Request) -> dict[str, Any]: ...


def _actor(principal: Principal) -> Actor:
    return Actor(principal.username, principal.role)


def _string(data: dict[str, Any], key: str, *, required: bool = True, max_len: int = 4000) -> str:
    value = data.get(key, "")
    if not isinstance(value, str) or (required and not value.strip()) or len(value) > max_len:
        raise InvalidRequest(f"'{key}' must be a {'non-empty ' if required else ''}string of ≤ {max_len}")
    return value.strip()


def _strings(data: dict[str, Any], key: str, max_items: int = 100) -> list[str]:
    value = data.get(key) or []
    if not isinstance(value, list) or len(value) > max_items or not all(isinstance(v, str) and v for v in value):
        raise InvalidRequest(f"'{key}' must be a list of at most {max_items} ids")
    return value


class AccountApi:
    def __init__(self, console: ConsoleRequests, desk: AccountDesk) -> None:
        self.console = console
        self.desk = desk

    async def _actor(self, request: Request, permission: str) -> Actor:
        return _actor(await self.console.principal(request, permission))

    async def controls(self, request: Request) -> Response:
        actor = await self._actor(request, "account.read")
        tx_id = request.query_params.get("tx_id") or None
        found = await self.desk.controls(actor, request.path_params["account_id"], tx_id)
        return JSONResponse(found)

    async def request_lift(self, request: Request) -> Response:
        actor = await self._actor(request, "control.lift_request")
        data = await self.console.body(request)
        lift = await self.desk.request_lift(actor, request.path_params["account_id"],
                                            _string(data, "control", max_len=32), _string(data, "reason"))
        return JSONResponse({"lift": lift})

    async def lifts(self, request: Request) -> Response:
        actor = await self._actor(request, "account.read")
        lifts = await self.desk.list_lifts(actor, request.query_params.get("status") or "pending")
        return JSONResponse({"lifts": lifts})

    async def approve_lift(self, request: Request) -> Response:
        actor = await self._actor(request, "control.lift_approve")
        return JSONResponse(await self.desk.approve_lift(actor, request.path_params["lift_id"]))

    async def rating(self, request: Request) -> Response:
        actor = await self._actor(request, "customer.rate")
        data = await self.console.body(request)
        change = await self.desk.set_risk_rating(actor, request.path_params["customer_id"],
                                                 _string(data, "rating", max_len=16), _string(data, "reason"))
        return JSONResponse({"rating": change})

    async def open_case(self, request: Request) -> Response:
        actor = await self._actor(request, "case.open")
        data = await self.console.body(request)
        case = await self.desk.open_case(actor, request.path_params["alert_id"],
                                         _string(data, "customer_id", max_len=256),
                                         _string(data, "reason", required=False),
                                         _strings(data, "alert_ids"), _strings(data, "tx_ids"))
        return JSONResponse({"case": case})

    async def report(self, request: Request) -> Response:
        actor = await self._actor(request, "report.generate")
        alert_id = request.path_params["alert_id"]
        html = await self.desk.report(actor, alert_id)
        filename = "risk-report-" + "".join(c for c in alert_id if c.isalnum() or c in "-_")[:64] + ".html"
        return Response(html, media_type="text/html; charset=utf-8", headers={
            "content-disposition": f'inline; filename="{filename}"',
            "content-security-policy": REPORT_CSP,
        })


def account_routes(console: ConsoleRequests, desk: AccountDesk) -> list[Route]:
    """The account API's routes; register them before the console's generic /api/alerts/{id}/{action}."""
    api = AccountApi(console, desk)
    return [
        Route("/api/accounts/{account_id}/controls", api.controls),
        Route("/api/accounts/{account_id}/lifts", api.request_lift, methods=["POST"]),
        Route("/api/lifts", api.lifts),
        Route("/api/lifts/{lift_id}/approve", api.approve_lift, methods=["POST"]),
        Route("/api/customers/{customer_id}/rating", api.rating, methods=["POST"]),
        Route("/api/alerts/{alert_id}/case", api.open_case, methods=["POST"]),
        Route("/api/alerts/{alert_id}/report", api.report),
    ]
