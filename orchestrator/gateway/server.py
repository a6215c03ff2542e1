"""Serves the risk gateway: JSON-RPC at `/`, HTTP+JSON at the root, gRPC, the card and /healthz.

The card (`/.well-known/agent-card.json`, with Cache-Control and ETag) and `/healthz` are public; every other
call passes the gateway's auth edge (auth.py) first.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import grpc
import uvicorn
from a2a.server.request_handlers import DefaultRequestHandler
from a2a.server.routes import create_agent_card_routes, create_jsonrpc_routes, create_rest_routes
from a2a.types import AgentCard, a2a_pb2_grpc
from a2a.utils.constants import AGENT_CARD_WELL_KNOWN_PATH
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from riskmesh.a2a.cards import GRPC_MAX_MESSAGE_BYTES
from riskmesh.a2a.server import _DetachedGrpcHandler, _listen, _NoSignalServer, stop_servers
from riskmesh.orchestrator.gateway.auth import (
    GatewayAuthMiddleware,
    GatewayGrpcAuthInterceptor,
    GatewayGrpcContextBuilder,
)
from riskmesh.orchestrator.gateway.clients import Authenticator

__all__ = ["CARD_CACHE_CONTROL", "HEALTH_PATH", "GatewayServer"]

log = logging.getLogger("riskmesh.gateway.server")

CARD_CACHE_CONTROL = "public, max-age=300"
HEALTH_PATH = "/healthz"
STARTUP_TIMEOUT_S = 10.0


class GatewayServer:
    """`start()` binds HTTP on `host:http_port` and gRPC on `host:grpc_port`; `stop()` drains both."""

    def __init__(self, handler: DefaultRequestHandler, card: AgentCard, authenticator: Authenticator, *,
                 host: str, http_port: int, grpc_port: int,
                 health: Callable[[], dict[str, Any]] | None = None) -> None:
        self.card = card
        self.host = host
        self.http_port = http_port
        self.grpc_port = grpc_port
        self.base_url = f"http://{host}:{http_port}/"
        self._handler = handler
        self._auth = authenticator
        self._health_extra = health or dict
        self._http: _NoSignalServer | None = None
        self._http_task: asyncio.Task[None] | None = None
        self._grpc: grpc.aio.Server | None = None
        self._grpc_handler: _DetachedGrpcHandler | None = None

    def build_app(self) -> Starlette:
        routes: list[BaseRoute] = [
            *create_agent_card_routes(self.card, cache_control=CARD_CACHE_CONTROL),
            Route(HEALTH_PATH, self._health, methods=["GET"]),
            *create_jsonrpc_routes(self._handler, "/"),
            *create_rest_routes(self._handler),
        ]
        auth = Middleware(GatewayAuthMiddleware, authenticator=self._auth,
                          public_paths=(AGENT_CARD_WELL_KNOWN_PATH, HEALTH_PATH))
        return Starlette(routes=routes, middleware=[auth])

    async def _health(self, request: Request) -> JSONResponse:
        body = {"status": "ok", "agent": self.card.name, "version": self.card.version, **self._health_extra()}
        return JSONResponse(body, headers={"cache-control": "no-store"})

    def _build_grpc(self) -> grpc.aio.Server:
        server = grpc.aio.server(
            interceptors=[GatewayGrpcAuthInterceptor(self._auth)],
            options=[("grpc.max_receive_message_length", GRPC_MAX_MESSAGE_BYTES),
                     ("grpc.max_send_message_length", GRPC_MAX_MESSAGE_BYTES), ("grpc.so_reuseport", 0)])
        self._grpc_handler = _DetachedGrpcHandler(self._handler, context_builder=GatewayGrpcContextBuilder(self._auth))
        a2a_pb2_grpc.add_A2AServiceServicer_to_server(self._grpc_handler, server)
        return server

    async def start(self) -> None:
        if self._http_task is not None:
            raise RuntimeError("server already started")
        sock = _listen(self.host, self.http_port)
        config = uvicorn.Config(self.build_app(), log_level="warning", lifespan="off", timeout_graceful_shutdown=2)
        self._http = _NoSignalServer(config)
        self._http_task = asyncio.create_task(self._http.serve(sockets=[sock]), name="gateway-http")
        try:
            self._grpc = self._build_grpc()
            if self._grpc.add_insecure_port(f"{self.host}:{self.grpc_port}") == 0:
                raise OSError(f"cannot bind gRPC port {self.host}:{self.grpc_port}")
            await self._grpc.start()
            async with asyncio.timeout(STARTUP_TIMEOUT_S):
                while not self._http.started:
                    if self._http_task.done():
                        self._http_task.result()
                        raise RuntimeError("the gateway's HTTP server exited during startup")
                    await asyncio.sleep(0.005)
        except BaseException:
            await self.stop()
            raise
        log.info("risk gateway serving %s and grpc %s:%d", self.base_url, self.host, self.grpc_port)

    async def stop(self, grace_s: float = 1.0) -> None:
        grpc_server, self._grpc = self._grpc, None
        http_task, self._http_task = self._http_task, None
        await stop_servers(grpc_server, self._grpc_handler, self._http, http_task, grace_s)
        self._http = None
        await self._handler.aclose()

    async def wait(self) -> None:
        if self._http_task is not None:
            await asyncio.shield(self._http_task)
