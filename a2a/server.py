"""One A2A server per agent: JSON-RPC, HTTP+JSON and gRPC bindings in one asyncio loop, bearer auth.

HTTP (uvicorn + Starlette) serves the agent card, `/healthz`, JSON-RPC at `/` and the REST routes at the
root; gRPC (grpc.aio) serves the same request handler. Both refuse calls without the bearer token.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
from collections.abc import Iterator
from typing import Any

import grpc
import uvicorn
from a2a.server.agent_execution import AgentExecutor, RequestContext
from a2a.server.context import ServerCallContext
from a2a.server.events import Event, EventQueue
from a2a.server.request_handlers import GrpcHandler
from a2a.server.routes import create_agent_card_routes, create_jsonrpc_routes, create_rest_routes
from a2a.types import AgentCard, Message, Role, SendMessageRequest, Task, a2a_pb2_grpc
from a2a.utils.constants import AGENT_CARD_WELL_KNOWN_PATH
from a2a.utils.errors import InternalError, InvalidAgentResponseError, InvalidParamsError
from a2a.utils.task import validate_history_length
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from riskmesh.a2a.auth import BearerAuthMiddleware, GrpcBearerAuthInterceptor
from riskmesh.a2a.cards import GRPC_MAX_MESSAGE_BYTES, build_agent_card
from riskmesh.a2a.executor import BatchExecutor, ValidatingRequestHandler
from riskmesh.a2a.task_store import BoundedTaskStore

__all__ = ["AgentServer", "answer_without_task", "serve_agent", "stop_servers"]


async def stop_servers(grpc_server: Any, grpc_handler: Any, http: Any, http_task: asyncio.Task[None] | None,
                       grace_s: float) -> None:
    """Stop a gRPC + uvicorn pair: stop accepting, let in-flight calls finish for up to `grace_s`, then close.

    gRPC calls whose callers left get the grace period, then what is still running is cancelled; uvicorn is
    asked to exit and forced after `grace_s + 5` s.
    """
    if grpc_server is not None:
        await grpc_server.stop(grace_s)
    if grpc_handler is not None and grpc_handler.inflight:
        _, stuck = await asyncio.wait(grpc_handler.inflight, timeout=grace_s)
        for task in stuck:
            task.cancel()
    if http is not None and http_task is not None:
        http.should_exit = True
        try:
            await asyncio.wait_for(http_task, timeout=grace_s + 5)
        except TimeoutError:
            http.force_exit = True
            http_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await http_task

logger = logging.getLogger(__name__)


class _OneMessage(EventQueue):
    """Holds the one Message a message-only executor enqueues (the SDK's way to run an executor by hand)."""

    def __init__(self) -> None:
        self.reply: Message | None = None

    async def enqueue_event(self, event: Event) -> None:
        if not isinstance(event, Message) or self.reply is not None:
            raise InvalidAgentResponseError(message="a message-only reply must be exactly one Message")
        self.reply = event


def _check_envelope(params: SendMessageRequest) -> None:
    """The SDK's required-field check (message_id, role, parts), without walking every payload value.

    `validate_proto_required_fields` recurses into `data` parts; for a transaction converted to a protobuf
    Struct that walk cost a quarter of the gateway's JSON-RPC time, and no field below a Part is required.
    """
    message = params.message
    missing = [name for name, present in (("message", params.HasField("message")),
                                          ("message.message_id", bool(message.message_id)),
                                          ("message.role", message.role != Role.ROLE_UNSPECIFIED),
                                          ("message.parts", bool(message.parts))) if not present]
    if missing:
        raise InvalidParamsError(message="Validation failed",
                                 data={"errors": [{"field": f, "message": "Field is required"} for f in missing]})
    validate_history_length(params.configuration)


async def answer_without_task(executor: AgentExecutor, params: SendMessageRequest,
                              context: ServerCallContext) -> Message:
    """Run `executor` for a call that is answered with one Message: no ActiveTask, queue, locks or store read.

    DefaultRequestHandler pays for all of those on every send, before it knows the executor replies with a
    Message and never creates a Task; callers route here only sends that name no Task and ask for none.
    """
    _check_envelope(params)
    queue = _OneMessage()
    await executor.execute(RequestContext(context, params), queue)
    if queue.reply is None:
        raise InternalError(message="the agent sent no reply")
    return queue.reply


class _MessageOnlyHandler(ValidatingRequestHandler):
    """Agent sends that name no Task and ask for no push go straight to the executor (it only ever replies
    with a Message); anything else takes the SDK's full path."""

    async def on_message_send(self, params: SendMessageRequest, context: ServerCallContext) -> Message | Task:
        if params.message.task_id or params.configuration.HasField("task_push_notification_config"):
            return await super().on_message_send(params, context)
        return await answer_without_task(self.agent_executor, params, context)


CARD_CACHE_CONTROL = "public, max-age=60"
HEALTH_PATH = "/healthz"
STARTUP_TIMEOUT_S = 10.0


class _DetachedGrpcHandler(GrpcHandler):
    """A client deadline must not cancel the SDK call half-way (a2a-sdk 1.3.0 work-around).

    `ActiveTask.subscribe` swallows `CancelledError`; `on_message_send` then waits forever for a Task
    that a Message reply never creates, so every gRPC call cancelled by its deadline would leave a stuck
    coroutine behind. Here the SDK call runs in a task of its own and finishes normally (bounded by the
    executor's time limit) even when the caller has gone.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.inflight: set[asyncio.Task[Any]] = set()

    async def SendMessage(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        task = asyncio.create_task(super().SendMessage(request, context))
        self.inflight.add(task)
        task.add_done_callback(self._forget)
        return await asyncio.shield(task)

    def _forget(self, task: asyncio.Task[Any]) -> None:
        self.inflight.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.debug("gRPC call finished after its caller left: %r", task.exception())


class _NoSignalServer(uvicorn.Server):
    """uvicorn's `serve()` takes over SIGINT/SIGTERM; here the owner of the loop handles signals."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def _listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.listen(1024)
    sock.setblocking(False)
    return sock


class AgentServer:
    """Serves one agent on `http://host:http_port/` and `host:grpc_port`; `start()`/`stop()` or `async with`.

    Ports are fixed (not 0): the card advertises them before the sockets are bound.
    """

    def __init__(
        self,
        agent: Any,
        kind: str,
        *,
        host: str,
        http_port: int,
        grpc_port: int,
        token: str,
        version: str,
    ) -> None:
        if not token:
            raise ValueError("an A2A agent needs a bearer token")
        self.kind = kind
        self.host = host
        self.http_port = http_port
        self.grpc_port = grpc_port
        self.base_url = f"http://{host}:{http_port}/"
        self.grpc_target = f"{host}:{grpc_port}"
        self.card: AgentCard = build_agent_card(kind, self.base_url, self.grpc_target, version)
        self._token = token
        self._executor = BatchExecutor(agent, kind)
        self.task_store = BoundedTaskStore()
        self._handler = _MessageOnlyHandler(self._executor, task_store=self.task_store, agent_card=self.card)
        self._http: _NoSignalServer | None = None
        self._http_task: asyncio.Task[None] | None = None
        self._grpc: grpc.aio.Server | None = None
        self._grpc_handler: _DetachedGrpcHandler | None = None

    def build_app(self) -> Starlette:
        """The Starlette app: card and /healthz are public, everything else needs the bearer token."""
        routes: list[BaseRoute] = [
            *create_agent_card_routes(self.card, cache_control=CARD_CACHE_CONTROL),
            Route(HEALTH_PATH, self._health, methods=["GET"]),
            *create_jsonrpc_routes(self._handler, "/"),
            *create_rest_routes(self._handler),
        ]
        auth = Middleware(
            BearerAuthMiddleware, token=self._token, public_paths=(AGENT_CARD_WELL_KNOWN_PATH, HEALTH_PATH)
        )
        return Starlette(routes=routes, middleware=[auth])

    async def _health(self, request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok", "agent": self.kind, "version": self.card.version})

    def _build_grpc(self) -> grpc.aio.Server:
        server = grpc.aio.server(
            interceptors=[GrpcBearerAuthInterceptor(self._token)],
            options=[
                ("grpc.max_receive_message_length", GRPC_MAX_MESSAGE_BYTES),
                ("grpc.max_send_message_length", GRPC_MAX_MESSAGE_BYTES),
                ("grpc.so_reuseport", 0),  # a second server on the same port must fail, not share it
            ],
        )
        self._grpc_handler = _DetachedGrpcHandler(self._handler)
        a2a_pb2_grpc.add_A2AServiceServicer_to_server(self._grpc_handler, server)
        return server

    @property
    def running(self) -> bool:
        return self._http_task is not None and not self._http_task.done()

    async def start(self) -> None:
        """Bind both ports and return once both accept connections; OSError if a port is taken."""
        if self._http_task is not None:
            raise RuntimeError("server already started")
        sock = _listen(self.host, self.http_port)
        config = uvicorn.Config(self.build_app(), log_level="warning", lifespan="off", timeout_graceful_shutdown=2)
        self._http = _NoSignalServer(config)
        self._http_task = asyncio.create_task(self._http.serve(sockets=[sock]), name=f"a2a-http-{self.kind}")
        try:
            self._grpc = self._build_grpc()
            if self._grpc.add_insecure_port(self.grpc_target) == 0:
                raise OSError(f"cannot bind gRPC port {self.grpc_target}")
            await self._grpc.start()
            await self._wait_http_started()
        except BaseException:
            await self.stop()
            raise
        logger.info("%s agent serving %s and grpc %s", self.kind, self.base_url, self.grpc_target)

    async def _wait_http_started(self) -> None:
        assert self._http is not None and self._http_task is not None
        async with asyncio.timeout(STARTUP_TIMEOUT_S):
            while not self._http.started:
                if self._http_task.done():
                    self._http_task.result()
                    raise RuntimeError(f"HTTP server for {self.kind} exited during startup")
                await asyncio.sleep(0.005)

    async def stop(self, grace_s: float = 1.0) -> None:
        """Stop accepting, let in-flight calls finish for up to `grace_s`, then close both servers."""
        grpc_server, self._grpc = self._grpc, None
        http_task, self._http_task = self._http_task, None
        await stop_servers(grpc_server, self._grpc_handler, self._http, http_task, grace_s)
        self._http = None

    async def wait(self) -> None:
        """Return when the HTTP server exits on its own (or raise what ended it)."""
        if self._http_task is not None:
            await asyncio.shield(self._http_task)

    async def __aenter__(self) -> AgentServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()


async def serve_agent(
    agent: Any, kind: str, host: str, http_port: int, grpc_port: int, token: str, version: str
) -> None:
    """Serve until SIGTERM or SIGINT, then drain and stop both bindings."""
    server = AgentServer(agent, kind, host=host, http_port=http_port, grpc_port=grpc_port, token=token, version=version)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await server.start()
        stopped = asyncio.create_task(stop.wait())
        ended = asyncio.create_task(server.wait())
        done, _ = await asyncio.wait({stopped, ended}, return_when=asyncio.FIRST_COMPLETED)
        for task in (stopped, ended):
            if task not in done:
                task.cancel()
        if ended in done and ended.exception() is not None:
            logger.error("%s agent HTTP server failed: %s", kind, ended.exception())
        logger.info("%s agent shutting down", kind)
    finally:
        await server.stop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
