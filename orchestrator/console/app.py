"""The analyst console: a Starlette app serving the single-page UI (static/) and its JSON API under /api.

`create_app` takes every dependency (review desk, authenticator, evidence, dashboard source, policy deployer,
settings) and reads nothing at import or from the environment; the process that serves it wires them once.

Authentication is a session cookie (browsers) or `Authorization: Bearer` (machines); cookie-authenticated writes
must echo the session's CSRF token in `X-CSRF-Token`. Each handler checks the caller's role against
`auth.PERMISSIONS` before it reaches the desk, which enforces its own rules again (claims, four-eyes).
Errors are `{"error": {"code", "message"}}` with the status of `ERROR_STATUS`.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import inspect
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast, get_args

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from riskmesh.contracts.review import DispositionKind
from riskmesh.orchestrator.audit import AuditLog
from riskmesh.orchestrator.console.account_api import account_routes
from riskmesh.orchestrator.console.auth import (
    PERMISSIONS,
    Authenticator,
    Principal,
    TooManyAttempts,
    Unauthenticated,
    require,
)
from riskmesh.orchestrator.console.dashboard import DashboardSource
from riskmesh.orchestrator.console.investigate_api import Investigations, investigate_routes
from riskmesh.orchestrator.review.controls_desk import AccountDesk, Unavailable
from riskmesh.orchestrator.review.errors import HTTP_STATUS, Forbidden, InvalidRequest, NotFound, ReviewError
from riskmesh.orchestrator.review.ports import Actor, EvidenceSource, QueueFilter, QueuePage, ReviewDesk

__all__ = ["ERROR_STATUS", "ConsoleSettings", "CsrfFailed", "NotConfigured", "PolicyDeployer", "create_app"]

logger = logging.getLogger("riskmesh.console")

STATIC_DIR = Path(__file__).parent / "static"
PolicyDeployer = Callable[[str, Actor], "dict[str, Any] | Awaitable[dict[str, Any]]"]
_DISPOSITIONS = frozenset(get_args(DispositionKind))
_SORTS = frozenset({"priority", "age", "amount", "sla"})
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class CsrfFailed(Forbidden):
    code = "csrf_failed"


class NotConfigured(ReviewError):
    code = "not_configured"


ERROR_STATUS: dict[type[ReviewError], int] = {
    Unauthenticated: 401, TooManyAttempts: 429, NotConfigured: 503, Unavailable: 503, **HTTP_STATUS,
}
"""The desk's table plus the console's own errors; the most specific class of an error wins."""


@dataclass(frozen=True, slots=True)
class ConsoleSettings:
    session_cookie: str = "rm_session"
    cookie_secure: bool = False
    """Set behind TLS (production): the browser then sends the cookie over HTTPS only."""
    events_poll_s: float = 0.5
    events_max_s: float = 300.0
    """One SSE connection lives this long; the browser reconnects on its own (and re-authenticates)."""
    events_heartbeat_s: float = 15.0
    max_body_bytes: int = 1_000_000
    title: str = "riskmesh console"


def _status_of(exc: ReviewError) -> int:
    for cls in type(exc).__mro__:
        if cls in ERROR_STATUS:
            return ERROR_STATUS[cls]  # type: ignore[index]
    return 400


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class _SecurityHeaders:
    """Strict CSP (everything is served from here), no framing, no caching of API answers.

    A response that sets one of these headers itself keeps its own (the risk report's stricter CSP)."""

    _HEADERS = [
        (b"content-security-policy", b"default-src 'self'; img-src 'self' data:; style-src 'self'; "
                                     b"script-src 'self'; connect-src 'self'; frame-ancestors 'none'; "
                                     b"base-uri 'none'; form-action 'self'"),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"no-referrer"),
        (b"x-frame-options", b"DENY"),
    ]

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        api = str(scope.get("path", "")).startswith("/api/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [(name, value) for name, value in self._HEADERS if name not in present]
                if api:
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _page_json(page: QueuePage) -> dict[str, Any]:
    return {
        "items": [{"alert": i.alert.model_dump(mode="json"), "state": i.state.model_dump(mode="json")}
                  for i in page.items],
        "counts": page.counts,
        "now": _now_iso(),
    }


def _fingerprint(page: QueuePage) -> str:
    parts = [f"{i.state.alert_id}:{i.state.version}:{i.state.status}" for i in page.items]
    parts.append(json.dumps(page.counts, sort_keys=True))
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


class _Console:
    """The API handlers over the injected dependencies."""

    def __init__(self, desk: ReviewDesk, auth: Authenticator, evidence: EvidenceSource | None,
                 dashboard: DashboardSource | None, deploy_policy: PolicyDeployer | None,
                 audit_log: AuditLog | None, settings: ConsoleSettings) -> None:
        self.desk = desk
        self.auth = auth
        self.evidence = evidence
        self.dashboard = dashboard
        self.deploy_policy = deploy_policy
        self.audit_log = audit_log
        self.settings = settings

    # -- plumbing ------------------------------------------------------------------------------

    async def principal(self, request: Request, permission: str | None = None) -> Principal:
        header = request.headers.get("authorization", "")
        if header[:7].lower() == "bearer ":
            found = await self.auth.from_token(header[7:].strip())
            if found is None:
                raise Unauthenticated("invalid or revoked API token")
        else:
            raw = request.cookies.get(self.settings.session_cookie)
            found = await self.auth.from_session(raw) if raw else None
            if found is None:
                raise Unauthenticated("sign in first" if not raw else "your session has ended; sign in again")
            if request.method not in _SAFE_METHODS:
                sent = request.headers.get("x-csrf-token", "").encode()
                if not hmac.compare_digest(sent, (found.csrf_token or "").encode()):
                    raise CsrfFailed("missing or wrong X-CSRF-Token header")
        if permission is not None:
            require(found, permission)
        return found

    async def body(self, request: Request) -> dict[str, Any]:
        if int(request.headers.get("content-length") or 0) > self.settings.max_body_bytes:
            raise InvalidRequest("request body too large")
        if "application/json" not in request.headers.get("content-type", ""):
            raise InvalidRequest("send the body as application/json")
        raw = await request.body()
        try:
            data = json.loads(raw or b"{}")
        except ValueError as exc:
            raise InvalidRequest(f"body is not valid JSON: {exc}") from exc
        if not isinstance(data, dict):
            raise InvalidRequest("body must be a JSON object")
        return data

    async def record(self, actor: str, action: str, subject: str, details: dict[str, Any] | None = None) -> None:
        if self.audit_log is not None:
            await asyncio.to_thread(self.audit_log.append, actor, action, subject, details)

    @staticmethod
    def actor(principal: Principal) -> Actor:
        return Actor(principal.username, principal.role)

    @staticmethod
    def _text(data: dict[str, Any], key: str, *, required: bool = True, max_len: int = 4000) -> str:
        value = data.get(key, "")
        if not isinstance(value, str) or (required and not value.strip()) or len(value) > max_len:
            raise InvalidRequest(f"'{key}' must be a {'non-empty ' if required else ''}string of ≤ {max_len}")
        return value.strip()

    # -- session -------------------------------------------------------------------------------

    async def login(self, request: Request) -> Response:
        data = await self.body(request)  # JSON only: a cross-site form cannot post it without a preflight
        username, password = data.get("username"), data.get("password")
        if not isinstance(username, str) or not isinstance(password, str):
            raise InvalidRequest("send username and password")
        client = request.client.host if request.client else "unknown"
        try:
            raw, session = await self.auth.login(username.strip(), password, client)
        except Unauthenticated:
            await self.record("console", "login.failed", f"user:{username[:64]}", {"client": client})
            raise
        await self.record(session.username, "login", f"user:{session.username}", {"client": client})
        response = JSONResponse({"user": self._me(Principal(session.username, session.role, "session")),
                                 "csrf_token": session.csrf_token})
        response.set_cookie(self.settings.session_cookie, raw, max_age=int(self.auth.session_max_s), path="/",
                            httponly=True, samesite="strict", secure=self.settings.cookie_secure)
        return response

    async def logout(self, request: Request) -> Response:
        raw = request.cookies.get(self.settings.session_cookie)
        if raw:
            principal = await self.principal(request)
            await self.auth.logout(raw)
            await self.record(principal.username, "logout", f"user:{principal.username}")
        response = JSONResponse({"ok": True})
        response.delete_cookie(self.settings.session_cookie, path="/", httponly=True, samesite="strict",
                               secure=self.settings.cookie_secure)
        return response

    @staticmethod
    def _me(principal: Principal) -> dict[str, Any]:
        return {"username": principal.username, "role": principal.role,
                "permissions": sorted(PERMISSIONS.get(principal.role, frozenset()))}

    async def me(self, request: Request) -> Response:
        principal = await self.principal(request)
        return JSONResponse({"user": self._me(principal), "csrf_token": principal.csrf_token})

    # -- queue and alerts ----------------------------------------------------------------------

    def _filter(self, request: Request, principal: Principal) -> QueueFilter:
        q = request.query_params
        status = q.get("status") or "active"
        if status == "escalated":
            require(principal, "queue.escalated")
        sort = q.get("sort") or "priority"
        if sort not in _SORTS:
            raise InvalidRequest(f"sort must be one of {', '.join(sorted(_SORTS))}")
        try:
            min_risk = float(q["min_risk"]) if q.get("min_risk") else None
            min_amount = float(q["min_amount"]) if q.get("min_amount") else None
            limit = min(max(int(q.get("limit") or 200), 1), 500)
        except ValueError as exc:
            raise InvalidRequest("min_risk, min_amount and limit must be numbers") from exc
        return QueueFilter(status=status, min_risk=min_risk, min_amount=min_amount,
                           currency=(q.get("currency") or None), search=(q.get("search") or "").strip() or None,
                           sort=sort, limit=limit)  # type: ignore[arg-type]

    async def queue(self, request: Request) -> Response:
        principal = await self.principal(request, "queue.read")
        page = await self.desk.queue(self.actor(principal), self._filter(request, principal))
        return JSONResponse(_page_json(page))

    async def alert(self, request: Request) -> Response:
        principal = await self.principal(request, "alert.read")
        detail = await self.desk.detail(self.actor(principal), request.path_params["alert_id"])
        evidence = detail.evidence
        if not evidence and self.evidence is not None:
            evidence = await self.evidence.evidence(detail.alert, principal.role)
        state, me = detail.state, principal.username
        can = {
            "claim": "alert.claim" in PERMISSIONS[principal.role] and state.status in ("open", "escalated",
                                                                                         "info_requested"),
            "release": state.assignee == me and state.status == "claimed",
            "decide": "alert.decide" in PERMISSIONS[principal.role] and state.assignee == me
            and state.status == "claimed",
            "approve": "alert.approve" in PERMISSIONS[principal.role] and state.status == "pending_approval"
            and state.proposed_by != me,
            "reassign": "alert.reassign" in PERMISSIONS[principal.role] and state.status != "closed",
            "note": "alert.note" in PERMISSIONS[principal.role] and state.status != "closed",
        }
        return JSONResponse({
            "alert": detail.alert.model_dump(mode="json"),
            "state": state.model_dump(mode="json"),
            "decision": detail.decision,
            "evidence": evidence,
            "audit": [e.model_dump(mode="json") for e in detail.audit],
            "four_eyes_required": detail.four_eyes_required,
            "can": can,
            "now": _now_iso(),
        })

    async def action(self, request: Request) -> Response:
        alert_id, verb = request.path_params["alert_id"], request.path_params["action"]
        handler = self._actions.get(verb)
        if handler is None:
            raise NotFound(f"no action {verb!r}")
        permission, run = handler
        principal = await self.principal(request, permission)
        data = await self.body(request) if verb not in ("claim", "release", "approve") else {}
        state = await run(self, self.actor(principal), alert_id, data)
        return JSONResponse({"state": state.model_dump(mode="json")})

    async def _claim(self, actor: Actor, alert_id: str, data: dict[str, Any]) -> Any:
        return await self.desk.claim(actor, alert_id)

    async def _release(self, actor: Actor, alert_id: str, data: dict[str, Any]) -> Any:
        return await self.desk.release(actor, alert_id)

    async def _reassign(self, actor: Actor, alert_id: str, data: dict[str, Any]) -> Any:
        to_user = self._text(data, "to", max_len=64)
        target = await self.auth.store.get_user(to_user)
        if target is None or target.disabled or "alert.decide" not in PERMISSIONS.get(target.role, frozenset()):
            raise InvalidRequest(f"{to_user!r} is not a user who can work alerts")
        return await self.desk.reassign(actor, alert_id, to_user)

    async def _note(self, actor: Actor, alert_id: str, data: dict[str, Any]) -> Any:
        return await self.desk.add_note(actor, alert_id, self._text(data, "text"))

    async def _decide(self, actor: Actor, alert_id: str, data: dict[str, Any]) -> Any:
        disposition = data.get("disposition")
        if disposition not in _DISPOSITIONS:
            raise InvalidRequest(f"disposition must be one of {', '.join(sorted(_DISPOSITIONS))}")
        return await self.desk.decide(actor, alert_id, cast(DispositionKind, disposition), self._text(data, "reason"))

    async def _approve(self, actor: Actor, alert_id: str, data: dict[str, Any]) -> Any:
        await self._not_own_proposal(actor, alert_id)
        return await self.desk.approve(actor, alert_id)

    async def _reject(self, actor: Actor, alert_id: str, data: dict[str, Any]) -> Any:
        await self._not_own_proposal(actor, alert_id)
        return await self.desk.reject(actor, alert_id, self._text(data, "reason"))

    async def _not_own_proposal(self, actor: Actor, alert_id: str) -> None:
        """Four-eyes, checked here as well as in the desk: nobody confirms their own proposal."""
        state = (await self.desk.detail(actor, alert_id)).state
        if state.proposed_by == actor.username:
            raise Forbidden("four-eyes: a second person must approve or reject your own proposal")

    _actions: dict[str, tuple[str, Callable[..., Awaitable[Any]]]] = {
        "claim": ("alert.claim", _claim),
        "release": ("alert.claim", _release),
        "reassign": ("alert.reassign", _reassign),
        "notes": ("alert.note", _note),
        "decide": ("alert.decide", _decide),
        "approve": ("alert.approve", _approve),
        "reject": ("alert.approve", _reject),
    }

    # -- audit, dashboard, live updates ----------------------------------------------------------

    async def audit(self, request: Request) -> Response:
        principal = await self.principal(request, "audit.read")
        try:
            limit = min(max(int(request.query_params.get("limit") or 200), 1), 1000)
        except ValueError as exc:
            raise InvalidRequest("limit must be a number") from exc
        subject = request.query_params.get("subject") or None
        events = await self.desk.audit(self.actor(principal), limit, subject)
        return JSONResponse({"events": [e.model_dump(mode="json") for e in events]})

    async def dashboard_view(self, request: Request) -> Response:
        principal = await self.principal(request, "dashboard.read")
        snapshot = await self.dashboard.snapshot() if self.dashboard is not None else {}
        page = await self.desk.queue(self.actor(principal), QueueFilter(status="active", sort="sla", limit=500))
        now = datetime.now(UTC)
        ages = [(now - i.state.created_at).total_seconds() for i in page.items]
        snapshot["queue"] = {
            "counts": page.counts,
            "depth": len(page.items),
            "sla_breached": sum(1 for i in page.items if i.state.sla_due_at <= now),
            "oldest_s": round(max(ages), 1) if ages else None,
        }
        snapshot["now"] = _now_iso()
        return JSONResponse(snapshot)

    async def events(self, request: Request) -> Response:
        principal = await self.principal(request, "queue.read")
        actor = self.actor(principal)
        return StreamingResponse(self._event_stream(actor), media_type="text/event-stream",
                                 headers={"cache-control": "no-store", "x-accel-buffering": "no"})

    async def _event_stream(self, actor: Actor) -> AsyncIterator[str]:
        """`queue` events whenever the queue changes (polled every `events_poll_s`), comments as heartbeats."""
        loop = asyncio.get_running_loop()
        s = self.settings
        deadline, last, beat = loop.time() + s.events_max_s, "", loop.time()
        yield "retry: 1000\n\n"
        try:
            token_of = getattr(self.desk, "change_token", None)  # cheap: a counter and the open index's head
            while loop.time() < deadline:
                if token_of is not None:
                    mark, data = await token_of(), {}
                else:
                    page = await self.desk.queue(actor, QueueFilter(status="active", limit=500))
                    mark = _fingerprint(page)
                    data = {"counts": page.counts, "size": len(page.items)}
                if mark != last:
                    last, beat = mark, loop.time()
                    data.update(version=mark, at=_now_iso())
                    yield f"event: queue\nid: {mark}\ndata: {json.dumps(data)}\n\n"
                elif loop.time() - beat >= s.events_heartbeat_s:
                    beat = loop.time()
                    yield ": keep-alive\n\n"
                await asyncio.sleep(s.events_poll_s)
        except Exception:  # top of a long-lived stream: log, end it, the browser reconnects
            logger.exception("event stream for %s failed", actor.username)
            yield "event: error\ndata: {}\n\n"

    # -- administration ------------------------------------------------------------------------

    async def put_policy(self, request: Request) -> Response:
        principal = await self.principal(request, "policy.write")
        if self.deploy_policy is None:
            raise NotConfigured("policy deployment is not configured in this console")
        if "json" in request.headers.get("content-type", ""):
            text = self._text(await self.body(request), "yaml", max_len=self.settings.max_body_bytes)
        else:
            raw = await request.body()
            if len(raw) > self.settings.max_body_bytes:
                raise InvalidRequest("policy too large")
            text = raw.decode("utf-8", errors="strict")
        try:
            result = self.deploy_policy(text, self.actor(principal))
            if inspect.isawaitable(result):
                result = await result
        except ValueError as exc:
            raise InvalidRequest(f"policy rejected: {exc}") from exc
        return JSONResponse({"result": result})

    async def users(self, request: Request) -> Response:
        principal = await self.principal(request, "users.manage")
        if request.method == "GET":
            return JSONResponse({"users": [u.public() for u in await self.auth.store.list_users()]})
        data = await self.body(request)
        password = data.get("password")
        user = await self.auth.add_user(self._text(data, "username", max_len=64), self._text(data, "role"),
                                        password if isinstance(password, str) else None,
                                        machine=bool(data.get("machine")))
        await self.record(principal.username, "user.saved", f"user:{user.username}", {"role": user.role})
        return JSONResponse({"user": user.public()}, status_code=201)

    async def tokens(self, request: Request) -> Response:
        principal = await self.principal(request, "tokens.manage")
        data = await self.body(request)
        username = self._text(data, "username", max_len=64)
        label = self._text(data, "label", required=False, max_len=100)
        token = await self.auth.issue_token(username, label)
        await self.record(principal.username, "token.issued", f"user:{username}", {"label": label or "api"})
        return JSONResponse({"username": username, "token": token}, status_code=201)


def create_app(
    *,
    desk: ReviewDesk,
    auth: Authenticator,
    evidence: EvidenceSource | None = None,
    dashboard: DashboardSource | None = None,
    deploy_policy: PolicyDeployer | None = None,
    audit_log: AuditLog | None = None,
    settings: ConsoleSettings | None = None,
    accounts: AccountDesk | None = None,
    investigations: Investigations | None = None,
) -> Starlette:
    """The console app. `evidence` fills alert details the desk returns without evidence; `audit_log` records
    sign-ins and administration (the desk records alert actions; `deploy_policy` records policy changes).
    `accounts` adds the account API (controls, lifts, ratings, cases, reports: account_api.py); `investigations`
    the SOC trigger (start an investigation from an alert, relay its incident view: investigate_api.py)."""
    settings = settings or ConsoleSettings()
    api = _Console(desk, auth, evidence, dashboard, deploy_policy, audit_log, settings)

    async def index(request: Request) -> Response:
        return FileResponse(STATIC_DIR / "index.html", headers={"cache-control": "no-cache"})

    async def healthz(request: Request) -> Response:
        return JSONResponse({"ok": True})

    async def review_error(request: Request, exc: Exception) -> Response:
        if not isinstance(exc, ReviewError):  # registered for ReviewError only
            raise exc
        return _error(_status_of(exc), exc.code, str(exc))

    async def http_error(request: Request, exc: Exception) -> Response:
        if not isinstance(exc, HTTPException):  # registered for HTTPException only
            raise exc
        if not request.url.path.startswith("/api/"):
            return Response(exc.detail, status_code=exc.status_code)
        return _error(exc.status_code, "not_found" if exc.status_code == 404 else "http_error", exc.detail)

    async def server_error(request: Request, exc: Exception) -> Response:
        logger.exception("console request %s %s failed", request.method, request.url.path, exc_info=exc)
        return _error(500, "internal", "internal error; see the console log")

    routes = [
        Route("/", index),
        Route("/healthz", healthz),
        Route("/api/login", api.login, methods=["POST"]),
        Route("/api/logout", api.logout, methods=["POST"]),
        Route("/api/me", api.me),
        Route("/api/queue", api.queue),
        Route("/api/alerts/{alert_id}", api.alert),
        *(account_routes(api, accounts) if accounts is not None else []),
        *(investigate_routes(api, investigations) if investigations is not None else []),
        Route("/api/alerts/{alert_id}/{action}", api.action, methods=["POST"]),
        Route("/api/audit", api.audit),
        Route("/api/dashboard", api.dashboard_view),
        Route("/api/events", api.events),
        Route("/api/policy", api.put_policy, methods=["PUT"]),
        Route("/api/users", api.users, methods=["GET", "POST"]),
        Route("/api/tokens", api.tokens, methods=["POST"]),
        Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
    ]
    app = Starlette(
        routes=routes,
        exception_handlers={ReviewError: review_error, HTTPException: http_error, Exception: server_error},
    )
    app.add_middleware(_SecurityHeaders)
    app.state.console = api
    return app
