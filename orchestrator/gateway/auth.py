"""The gateway's auth edge on every binding: credentials, rate limit, then the scope of the skill called.

HTTP (JSON-RPC at `/`, HTTP+JSON at the root): a pure ASGI middleware reads the body of send calls to see
which skill (and whether a Task) is asked for, and refuses with 401 / 403 / 429 — a JSON-RPC error object on
the JSON-RPC endpoint, a `google.rpc.Status`-shaped error elsewhere — before the SDK sees the call. gRPC: an
interceptor refuses with UNAUTHENTICATED / PERMISSION_DENIED / RESOURCE_EXHAUSTED. The agent card and
/healthz stay public. The executor checks the scope again from the call context (defence in depth).
Refused calls are logged (client id and reason, never the secret).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

import grpc
import orjson
from a2a.auth.user import UnauthenticatedUser, User
from a2a.server.context import ServerCallContext
from a2a.server.request_handlers import DefaultGrpcServerCallContextBuilder
from a2a.types import SendMessageRequest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from riskmesh.orchestrator.gateway.clients import Authenticator, AuthError, Principal
from riskmesh.orchestrator.gateway.payloads import (
    PayloadError,
    message_skill,
    proto_wants_task,
    send_request_skill,
    send_request_wants_task,
)
from riskmesh.orchestrator.gateway.skills import TASK_SCOPE, UnknownSkill, required_scopes

__all__ = [
    "AUTH_STATE_KEY",
    "JSONRPC_AUTH_CODES",
    "GatewayAuthMiddleware",
    "GatewayGrpcAuthInterceptor",
    "GatewayGrpcContextBuilder",
    "principal_of",
]

log = logging.getLogger("riskmesh.gateway.auth")

AUTH_STATE_KEY = "auth"
"""ServerCallContext.state key of the Principal (the SDK copies Starlette's `request.auth` there)."""
MAX_BODY_BYTES = 16 * 1024 * 1024
JSONRPC_AUTH_CODES = {401: -32041, 403: -32043, 429: -32029}
"""JSON-RPC error codes of refused calls (server-defined range; the HTTP status is sent as well)."""
_HTTP_STATUS = {401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 429: "RESOURCE_EXHAUSTED", 413: "INVALID_ARGUMENT"}
_GRPC_CODES = {401: grpc.StatusCode.UNAUTHENTICATED, 403: grpc.StatusCode.PERMISSION_DENIED,
               429: grpc.StatusCode.RESOURCE_EXHAUSTED}
_SEND_METHODS = frozenset({"SendMessage", "SendStreamingMessage"})
_TASK_METHODS = frozenset({"GetTask", "ListTasks", "CancelTask", "SubscribeToTask", "CreateTaskPushNotificationConfig",
                           "GetTaskPushNotificationConfig", "ListTaskPushNotificationConfigs",
                           "DeleteTaskPushNotificationConfig"})


def principal_of(context: ServerCallContext) -> Principal | None:
    found = context.state.get(AUTH_STATE_KEY)
    return found if isinstance(found, Principal) else None


def _send_scopes(params: Mapping[str, Any]) -> tuple[frozenset[str], str] | None:
    """Scopes a send call needs and the skill it names; None when the body cannot tell (the SDK refuses it)."""
    try:
        skill = send_request_skill(params)
    except (PayloadError, UnknownSkill):
        return None
    task = send_request_wants_task(params)
    return required_scopes(skill, task), skill.skill_id + (" as a Task" if task else "")


def _scopes_of_jsonrpc(body: Mapping[str, Any]) -> tuple[frozenset[str], str] | None:
    method = body.get("method")
    if method in _SEND_METHODS and isinstance(body.get("params"), Mapping):
        return _send_scopes(body["params"])
    if method in _TASK_METHODS:
        return frozenset({TASK_SCOPE}), str(method)
    return None


def _scopes_of_rest(path: str, body: Mapping[str, Any] | None) -> tuple[frozenset[str], str] | None:
    if path.endswith(("/message:send", "/message:stream")):
        return _send_scopes(body) if body is not None else None
    if "/tasks" in path:
        return frozenset({TASK_SCOPE}), "task methods"
    return None


class GatewayAuthMiddleware:
    """Pure ASGI: authenticates every non-public request, charges the rate limit, checks the skill's scope."""

    def __init__(self, app: ASGIApp, authenticator: Authenticator, public_paths: Iterable[str],
                 jsonrpc_path: str = "/") -> None:
        self._app = app
        self._auth = authenticator
        self._public = frozenset(public_paths)
        self._jsonrpc = jsonrpc_path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self._public:
            await self._app(scope, receive, send)
            return
        path, method = scope["path"], scope["method"]
        is_jsonrpc = path == self._jsonrpc and method == "POST"
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        body: bytes | None = None
        parsed: Any = None
        try:
            if method == "POST":  # read first, so a JSON-RPC refusal can echo the request id
                body = await _read_body(receive)
                try:
                    parsed = orjson.loads(body) if body else None
                except orjson.JSONDecodeError:
                    parsed = None  # the SDK answers with its own parse error
            principal = self._auth.authenticate(headers)
            needed = None
            if isinstance(parsed, Mapping) or method != "POST":
                needed = (_scopes_of_jsonrpc(parsed) if is_jsonrpc and isinstance(parsed, Mapping)
                          else _scopes_of_rest(path, parsed if isinstance(parsed, Mapping) else None))
            if needed is not None:
                Authenticator.authorize(principal, needed[0], needed[1])
        except AuthError as exc:
            log.warning("refused %s %s: %s", method, path, exc.message)
            rpc_id = parsed.get("id") if is_jsonrpc and isinstance(parsed, Mapping) else None
            await _refuse(send, exc, rpc_id if is_jsonrpc else _NOT_JSONRPC)
            return
        except _BodyTooLarge:
            await _refuse(send, AuthError(413, f"request body exceeds {MAX_BODY_BYTES} bytes"), _NOT_JSONRPC)
            return
        scope = {**scope, "user": principal, "auth": principal}
        await self._app(scope, _replay(body, receive) if body is not None else receive, send)


_NOT_JSONRPC = object()


class _BodyTooLarge(Exception):
    pass


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise _BodyTooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # http.disconnect, for streaming responses that watch for it

    return replay


async def _refuse(send: Send, exc: AuthError, rpc_id: Any) -> None:
    status = _HTTP_STATUS.get(exc.status, "UNAUTHENTICATED")
    if rpc_id is _NOT_JSONRPC:
        payload: dict[str, Any] = {"error": {"code": exc.status, "status": status, "message": exc.message}}
    else:
        payload = {"jsonrpc": "2.0", "id": rpc_id, "error": {
            "code": JSONRPC_AUTH_CODES.get(exc.status, -32600), "message": exc.message,
            "data": {"status": status, "http_status": exc.status}}}
    body = orjson.dumps(payload)
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if exc.status == 401:
        headers.append((b"www-authenticate", b'Bearer realm="riskmesh-gateway"'))
    if exc.retry_after_s is not None:
        headers.append((b"retry-after", str(max(1, round(exc.retry_after_s + 0.5))).encode()))
    await send({"type": "http.response.start", "status": exc.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


# --- gRPC --------------------------------------------------------------------------------------------------

def _metadata(details: Any) -> dict[str, str]:
    return {str(k).lower(): (v.decode() if isinstance(v, bytes) else str(v))
            for k, v in (details.invocation_metadata or ())}


def _wrap(handler: grpc.RpcMethodHandler, check: Callable[[Any], AuthError | None]) -> grpc.RpcMethodHandler:
    """`handler` with `check(request)` first: aborts with the refusal's gRPC code when it returns one."""
    kw = {"request_deserializer": handler.request_deserializer, "response_serializer": handler.response_serializer}
    if handler.unary_unary:
        inner_unary = handler.unary_unary

        async def unary(request: Any, context: grpc.aio.ServicerContext) -> Any:
            refusal = check(request)
            if refusal is not None:
                await context.abort(_GRPC_CODES[refusal.status], refusal.message)
            return await inner_unary(request, context)

        return grpc.unary_unary_rpc_method_handler(unary, **kw)
    inner_stream = handler.unary_stream

    async def stream(request: Any, context: grpc.aio.ServicerContext) -> Any:
        refusal = check(request)
        if refusal is not None:
            await context.abort(_GRPC_CODES[refusal.status], refusal.message)
        async for item in inner_stream(request, context):
            yield item

    return grpc.unary_stream_rpc_method_handler(stream, **kw)


class GatewayGrpcAuthInterceptor(grpc.aio.ServerInterceptor):
    """Authenticates from `authorization` / `x-api-key` metadata, charges the rate limit, checks scopes."""

    def __init__(self, authenticator: Authenticator) -> None:
        self._auth = authenticator

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(handler_call_details)
        if handler is None:
            return handler
        method = handler_call_details.method.rsplit("/", 1)[-1]
        try:
            principal = self._auth.authenticate(_metadata(handler_call_details))
            if method in _TASK_METHODS:
                Authenticator.authorize(principal, frozenset({TASK_SCOPE}), method)
        except AuthError as exc:
            log.warning("refused gRPC %s: %s", method, exc.message)
            refusal = exc
            return _wrap(handler, lambda _request: refusal)
        if method not in _SEND_METHODS:
            return handler

        def check(request: SendMessageRequest) -> AuthError | None:
            try:
                skill = message_skill(request.message)
            except (PayloadError, UnknownSkill):
                return None  # the handler refuses it with InvalidParams
            task = proto_wants_task(request)
            try:
                Authenticator.authorize(principal, required_scopes(skill, task), skill.skill_id)
            except AuthError as exc:
                log.warning("refused gRPC %s: %s", method, exc.message)
                return exc
            return None

        return _wrap(handler, check)


class _GrpcUser(User):
    def __init__(self, principal: Principal) -> None:
        self._principal = principal

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def user_name(self) -> str:
        return self._principal.client_id


class GatewayGrpcContextBuilder(DefaultGrpcServerCallContextBuilder):
    """Puts the caller (already authenticated by the interceptor) into the ServerCallContext."""

    def __init__(self, authenticator: Authenticator) -> None:
        self._auth = authenticator

    def build(self, context: grpc.aio.ServicerContext) -> ServerCallContext:
        call_context = super().build(context)
        metadata = {str(k).lower(): (v.decode() if isinstance(v, bytes) else str(v))
                    for k, v in (context.invocation_metadata() or ())}
        principal = self._auth.identify(metadata)
        call_context.state[AUTH_STATE_KEY] = principal
        call_context.user = _GrpcUser(principal) if principal is not None else UnauthenticatedUser()
        return call_context
