"""Bearer-token auth for the A2A edge, the same token on both sides of each binding.

Server: an ASGI middleware for JSON-RPC and HTTP+JSON (the agent card and /healthz stay public) and a
gRPC server interceptor reading the `authorization` metadata. Client: a CredentialService for the SDK's
AuthInterceptor, which sends `Authorization: Bearer <token>` as an HTTP header or as gRPC metadata,
whichever binding the client uses, for the `bearer` scheme the card declares.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import grpc
from a2a.client import ClientCallContext, CredentialService
from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["BearerAuthMiddleware", "BearerCredentials", "GrpcBearerAuthInterceptor", "check_bearer"]

MISSING = "missing bearer token: send 'Authorization: Bearer <token>'"
INVALID = "invalid bearer token"


def check_bearer(header: str | None, token: str) -> str | None:
    """None when `header` carries `token`; otherwise the reason to refuse, for the caller to read."""
    if not header:
        return MISSING
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return MISSING
    if not hmac.compare_digest(value.strip().encode(), token.encode()):
        return INVALID
    return None


class BearerAuthMiddleware:
    """Pure ASGI (no BaseHTTPMiddleware, which buffers bodies): 401 with a JSON reason on a bad token."""

    def __init__(self, app: ASGIApp, token: str, public_paths: Iterable[str]) -> None:
        if not token:
            raise ValueError("an empty bearer token would let every caller in")
        self._app = app
        self._token = token
        self._public = frozenset(public_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self._public:
            await self._app(scope, receive, send)
            return
        header = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"authorization"), None)
        reason = check_bearer(header, self._token)
        if reason is None:
            await self._app(scope, receive, send)
            return
        body = json.dumps({"error": {"code": 401, "status": "UNAUTHENTICATED", "message": reason}}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 401,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"www-authenticate", b'Bearer realm="riskmesh"'),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def _refusal(handler: grpc.RpcMethodHandler, reason: str) -> grpc.RpcMethodHandler:
    """A handler of the same arity as `handler` that aborts with UNAUTHENTICATED."""

    async def abort_unary(request: Any, context: grpc.aio.ServicerContext) -> Any:
        await context.abort(grpc.StatusCode.UNAUTHENTICATED, reason)

    async def abort_stream(request: Any, context: grpc.aio.ServicerContext) -> Any:
        await context.abort(grpc.StatusCode.UNAUTHENTICATED, reason)
        yield  # pragma: no cover - makes this an async generator

    kw = {
        "request_deserializer": handler.request_deserializer,
        "response_serializer": handler.response_serializer,
    }
    if handler.unary_unary:
        return grpc.unary_unary_rpc_method_handler(abort_unary, **kw)
    if handler.unary_stream:
        return grpc.unary_stream_rpc_method_handler(abort_stream, **kw)
    if handler.stream_unary:
        return grpc.stream_unary_rpc_method_handler(abort_unary, **kw)
    return grpc.stream_stream_rpc_method_handler(abort_stream, **kw)


class GrpcBearerAuthInterceptor(grpc.aio.ServerInterceptor):
    """Refuses every RPC whose `authorization` metadata does not carry the bearer token."""

    def __init__(self, token: str) -> None:
        if not token:
            raise ValueError("an empty bearer token would let every caller in")
        self._token = token

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        metadata = handler_call_details.invocation_metadata or ()
        header = next((str(v) for k, v in metadata if k == "authorization"), None)
        reason = check_bearer(header, self._token)
        handler = await continuation(handler_call_details)
        if reason is None or handler is None:
            return handler
        return _refusal(handler, reason)


class BearerCredentials(CredentialService):
    """The one service token, offered for every bearer scheme a card declares."""

    def __init__(self, token: str) -> None:
        self._token = token

    async def get_credentials(self, security_scheme_name: str, context: ClientCallContext | None) -> str | None:
        return self._token
