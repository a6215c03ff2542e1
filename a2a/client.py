"""The typed A2A client the orchestrator keeps for hours: one long-lived SDK client per agent.

Each `AgentClient` resolves its agent's card once, builds one sender over one gRPC channel (or one
bounded httpx pool), and sends every batch as one raw JSON part. Every failure surfaces as
`AgentCallError` (`AgentTimeout` for deadlines). After a connection failure the channel and card are
dropped and rebuilt, so an agent restart costs at most one failed call (none for idempotent calls,
which are retried once on a fresh channel).

On gRPC the sender calls the generated A2A 1.0 stub's `SendMessage` itself, with the metadata the SDK
client would attach: the SDK's per-call layers (interceptors, no-op tracing wrappers, response
re-wrapping) cost about a third of each agent call in the gateway's profile. JSON-RPC and HTTP+JSON keep
the SDK client.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Iterator, Mapping
from typing import Literal, Protocol, TypeVar

import grpc
import httpx
from a2a.client import (
    A2ACardResolver,
    AuthInterceptor,
    Client,
    ClientCallContext,
    ClientConfig,
    ClientFactory,
)
from a2a.client.client_factory import major_minor
from a2a.client.errors import A2AClientError, A2AClientTimeoutError
from a2a.client.interceptors import BeforeArgs
from a2a.client.transports.grpc import _map_grpc_error
from a2a.types import (
    AgentCard,
    AgentInterface,
    Message,
    Part,
    Role,
    SendMessageRequest,
    SendMessageResponse,
    StreamResponse,
    a2a_pb2_grpc,
)
from a2a.utils.constants import PROTOCOL_VERSION_1_0, PROTOCOL_VERSION_CURRENT, VERSION_HEADER, TransportProtocol
from a2a.utils.errors import A2AError
from pydantic import ValidationError

from riskmesh.a2a.auth import BearerCredentials
from riskmesh.a2a.cards import GRPC_MAX_MESSAGE_BYTES
from riskmesh.a2a.skills import skill_for
from riskmesh.contracts import (
    ACTION_REQUEST_MEDIA_TYPE,
    AGGREGATION_REQUEST_MEDIA_TYPE,
    BATCH_MEDIA_TYPE,
    ActionRequest,
    ActionResponse,
    AggregationRequest,
    AggregationResponse,
    AssessBatchRequest,
    AssessBatchResponse,
    RiskmeshModel,
    describe_validation_error,
)

__all__ = ["AgentCallError", "AgentClient", "AgentPool", "AgentTimeout", "Binding"]

logger = logging.getLogger(__name__)

Binding = Literal["grpc", "jsonrpc", "http_json"]
_PROTOCOLS: dict[str, str] = {
    "grpc": TransportProtocol.GRPC,
    "jsonrpc": TransportProtocol.JSONRPC,
    "http_json": TransportProtocol.HTTP_JSON,
}
_GRPC_OPTIONS = [
    ("grpc.max_receive_message_length", GRPC_MAX_MESSAGE_BYTES),
    ("grpc.max_send_message_length", GRPC_MAX_MESSAGE_BYTES),
    # A fresh channel must really reconnect: with the global subchannel pool it would inherit the old
    # channel's subchannel, still in reconnect backoff, and fail at once with the stale error.
    ("grpc.use_local_subchannel_pool", 1),
    ("grpc.initial_reconnect_backoff_ms", 200),
    ("grpc.max_reconnect_backoff_ms", 2000),
]
ModelT = TypeVar("ModelT", bound=RiskmeshModel)
Reply = SendMessageResponse | StreamResponse
"""What a send returns: either holds the agent's `message` or a `task`."""


class AgentCallError(RuntimeError):
    """A call to an agent failed: refused, errored, unreachable, or answered outside the contract."""

    def __init__(self, agent: str, message: str) -> None:
        super().__init__(f"{agent}: {message}")
        self.agent = agent
        self.message = message


class AgentTimeout(AgentCallError):
    """The agent did not answer within the deadline."""


def _causes(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _is_connection_failure(exc: BaseException) -> bool:
    """The transport could not reach the agent (refused, reset, GOAWAY), as opposed to an agent answer."""
    for cause in _causes(exc):
        if isinstance(cause, grpc.aio.AioRpcError) and cause.code() == grpc.StatusCode.UNAVAILABLE:
            return True
        if isinstance(cause, httpx.TransportError) and not isinstance(cause, httpx.TimeoutException):
            return True
    return False


def _http_refusal(exc: BaseException) -> str | None:
    """`HTTP 401: <server's reason>` when an HTTP status error is behind `exc` (the SDK drops the body)."""
    for cause in _causes(exc):
        if isinstance(cause, httpx.HTTPStatusError):
            response = cause.response
            try:
                reason = response.json()["error"]["message"]
            except (ValueError, KeyError, TypeError):
                reason = response.reason_phrase
            return f"HTTP {response.status_code}: {reason}"
    return None


class _Sender(Protocol):
    async def send(self, request: SendMessageRequest, timeout_s: float) -> Reply | None:
        """The agent's first reply (None if it sent none); A2A failures raise the SDK's errors."""
        ...

    async def close(self) -> None: ...


class _SdkSender:
    """JSON-RPC and HTTP+JSON: the SDK client, with its interceptors and transports."""

    def __init__(self, client: Client) -> None:
        self._client = client

    async def send(self, request: SendMessageRequest, timeout_s: float) -> Reply | None:
        stream = self._client.send_message(request, context=ClientCallContext(timeout=timeout_s))
        async with contextlib.aclosing(stream):  # type: ignore[type-var]
            async for event in stream:
                return event
        return None

    async def close(self) -> None:
        await self._client.close()


class _GrpcSender:
    """gRPC: the generated stub's `SendMessage`, sent as the SDK's gRPC transport sends it.

    Same request message, same metadata (worked out once per channel), same deadline; a failed call is
    mapped by the SDK's own gRPC error table, so errors read the same as through the SDK client.
    """

    def __init__(self, channel: grpc.aio.Channel, metadata: tuple[tuple[str, str], ...], tenant: str) -> None:
        self._channel = channel
        self._send_message = a2a_pb2_grpc.A2AServiceStub(channel).SendMessage
        self._metadata = metadata
        self._tenant = tenant

    async def send(self, request: SendMessageRequest, timeout_s: float) -> Reply | None:
        if self._tenant:
            request.tenant = request.tenant or self._tenant
        try:
            reply: SendMessageResponse = await self._send_message(
                request, metadata=self._metadata, timeout=timeout_s
            )
        except grpc.aio.AioRpcError as exc:
            _map_grpc_error(exc)  # always raises: A2AClientTimeoutError, the agent's A2AError, A2AClientError
        return reply

    async def close(self) -> None:
        await self._channel.close()


def _grpc_interface(card: AgentCard) -> AgentInterface:
    """The card's A2A 1.0 gRPC interface (the protocol this client speaks)."""
    for interface in card.supported_interfaces:
        if (interface.protocol_binding == TransportProtocol.GRPC and interface.protocol_version
                and major_minor(interface.protocol_version) == major_minor(PROTOCOL_VERSION_1_0)):
            return interface
    raise ValueError("no compatible transports found: the card offers no A2A 1.0 gRPC interface")


async def _grpc_metadata(card: AgentCard, token: str) -> tuple[tuple[str, str], ...]:
    """The A2A version plus what the SDK's AuthInterceptor adds for this card's security schemes."""
    args = BeforeArgs(input=None, method="send_message", agent_card=card, context=ClientCallContext())
    await AuthInterceptor(BearerCredentials(token)).before(args)
    params = args.context.service_parameters if args.context is not None else None
    return ((VERSION_HEADER.lower(), PROTOCOL_VERSION_CURRENT),
            *((key.lower(), value) for key, value in (params or {}).items()))


class AgentClient:
    """One agent, one sender, one channel; safe to share between concurrent graph runs."""

    def __init__(
        self,
        kind: str,
        base_url: str,
        token: str,
        *,
        binding: Binding = "grpc",
        grpc_target: str | None = None,
        default_timeout_s: float = 5.0,
        max_connections: int = 32,
    ) -> None:
        if binding not in _PROTOCOLS:
            raise ValueError(f"unknown binding {binding!r}; expected one of {', '.join(_PROTOCOLS)}")
        self.kind = kind
        self.base_url = base_url
        self.binding: Binding = binding
        self.grpc_target = grpc_target
        self.default_timeout_s = default_timeout_s
        self.calls = 0
        self._token = token
        limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections)
        self._http = httpx.AsyncClient(limits=limits, timeout=httpx.Timeout(default_timeout_s))
        self._card: AgentCard | None = None
        self._sender: _Sender | None = None
        self._lock = asyncio.Lock()
        self._closed = False

    @property
    def card(self) -> AgentCard | None:
        return self._card

    def _channel(self, url: str) -> grpc.aio.Channel:
        # The configured target wins over the card's: the orchestrator's config says where the agent
        # is reachable from here (e.g. behind a load balancer); the card says which bindings exist.
        return grpc.aio.insecure_channel(self.grpc_target or url, options=_GRPC_OPTIONS)

    async def start(self) -> AgentCard:
        """Resolve the card and build the sender now rather than on the first call."""
        try:
            await self._ensure_sender()
        except Exception as exc:  # top-level: every failure leaves here as AgentCallError
            raise self._to_call_error(exc) from exc
        assert self._card is not None
        return self._card

    async def _ensure_sender(self) -> _Sender:
        async with self._lock:
            if self._closed:
                raise AgentCallError(self.kind, "client is closed")
            if self._sender is None:
                if self._card is None:
                    self._card = await A2ACardResolver(self._http, self.base_url).get_agent_card()
                self._sender = await self._build_sender(self._card)
            return self._sender

    async def _build_sender(self, card: AgentCard) -> _Sender:
        if self.binding == "grpc":
            interface = _grpc_interface(card)
            metadata = await _grpc_metadata(card, self._token)
            return _GrpcSender(self._channel(interface.url), metadata, interface.tenant)
        config = ClientConfig(
            streaming=False,
            supported_protocol_bindings=[_PROTOCOLS[self.binding]],
            httpx_client=self._http,
        )
        client = ClientFactory(config).create(card, interceptors=[AuthInterceptor(BearerCredentials(self._token))])
        return _SdkSender(client)

    async def _reset(self, broken: _Sender) -> None:
        """Drop a sender whose connection failed (and the card: the agent may come back changed)."""
        async with self._lock:
            if self._sender is not broken:
                return  # a concurrent call already replaced it
            self._sender, self._card = None, None
        with contextlib.suppress(Exception):
            await broken.close()
        logger.info("%s agent: connection failed, the next call reconnects", self.kind)

    async def call(self, payload: bytes, media_type: str, timeout_s: float, *, retry: bool = True) -> bytes:
        """Send `payload` as one raw part; return the raw bytes of the reply's first part.

        `retry` resends once, on a fresh channel, after a connection failure: only for idempotent calls.
        """
        self.calls += 1
        try:
            async with asyncio.timeout(timeout_s):
                for attempt in (1, 2):
                    sender = await self._ensure_sender()
                    try:
                        return await self._send(sender, payload, media_type, timeout_s)
                    except Exception as exc:
                        if not _is_connection_failure(exc):
                            raise
                        await self._reset(sender)
                        if not retry or attempt == 2:
                            raise
                raise AssertionError("unreachable")
        except Exception as exc:  # top-level: every failure leaves here as AgentCallError
            raise self._to_call_error(exc, timeout_s) from exc

    async def _send(self, sender: _Sender, payload: bytes, media_type: str, timeout_s: float) -> bytes:
        message = Message(
            role=Role.ROLE_USER,
            message_id=uuid.uuid4().hex,
            parts=[Part(raw=payload, media_type=media_type)],
        )
        reply = await sender.send(SendMessageRequest(message=message), timeout_s)
        if reply is not None and reply.HasField("message"):
            return self._reply_bytes(reply.message)
        if reply is not None and reply.HasField("task"):
            raise AgentCallError(self.kind, f"expected a Message reply, got a Task in state {reply.task.status.state}")
        raise AgentCallError(self.kind, "the agent sent no reply")

    def _reply_bytes(self, message: Message) -> bytes:
        if not message.parts:
            raise AgentCallError(self.kind, "the reply has no parts")
        part = message.parts[0]
        if part.HasField("raw"):
            return part.raw
        if part.HasField("text"):
            return part.text.encode("utf-8")
        raise AgentCallError(self.kind, f"the reply part holds {part.WhichOneof('content')}, not raw JSON")

    def _to_call_error(self, exc: BaseException, timeout_s: float | None = None) -> AgentCallError:
        if isinstance(exc, AgentCallError):
            return exc
        if isinstance(exc, TimeoutError | A2AClientTimeoutError):
            limit = f" of {timeout_s:g} s" if timeout_s is not None else ""
            return AgentTimeout(self.kind, f"no answer within the deadline{limit}")
        if isinstance(exc, A2AError) and not isinstance(exc, A2AClientError):  # the agent's own answer
            return AgentCallError(self.kind, f"{type(exc).__name__}: {exc.message}")
        refusal = _http_refusal(exc)
        if refusal is not None:
            return AgentCallError(self.kind, refusal)
        if isinstance(exc, A2AError):
            return AgentCallError(self.kind, exc.message)
        return AgentCallError(self.kind, f"{type(exc).__name__}: {exc}")

    async def _typed(
        self,
        request: RiskmeshModel,
        media_type: str,
        model: type[ModelT],
        timeout_s: float | None,
        retry: bool,
    ) -> ModelT:
        deadline_ms = getattr(request, "deadline_ms", None)
        timeout = timeout_s or (deadline_ms / 1000 if deadline_ms else self.default_timeout_s)
        body = await self.call(request.model_dump_json().encode("utf-8"), media_type, timeout, retry=retry)
        try:
            return model.model_validate_json(body)
        except ValidationError as exc:
            reason, _ = describe_validation_error(exc)
            raise AgentCallError(self.kind, f"reply breaks the {model.__name__} contract: {reason}") from exc

    async def assess(self, request: AssessBatchRequest, timeout_s: float | None = None) -> AssessBatchResponse:
        return await self._typed(request, BATCH_MEDIA_TYPE, AssessBatchResponse, timeout_s, retry=True)

    async def aggregate(self, request: AggregationRequest, timeout_s: float | None = None) -> AggregationResponse:
        return await self._typed(request, AGGREGATION_REQUEST_MEDIA_TYPE, AggregationResponse, timeout_s, True)

    async def act(self, request: ActionRequest, timeout_s: float | None = None) -> ActionResponse:
        """Not retried on connection failure: controls and alerts must not be applied twice by us."""
        return await self._typed(request, ACTION_REQUEST_MEDIA_TYPE, ActionResponse, timeout_s, retry=False)

    async def aclose(self) -> None:
        async with self._lock:
            self._closed = True
            sender, self._sender = self._sender, None
        if sender is not None:
            with contextlib.suppress(Exception):
                await sender.close()
        await self._http.aclose()


class AgentPool:
    """One `AgentClient` per agent kind, built once at startup and kept for the life of the process."""

    def __init__(
        self,
        endpoints: Mapping[str, tuple[str, str]],
        token: str,
        binding: Binding = "grpc",
        *,
        default_timeout_s: float = 5.0,
    ) -> None:
        for kind in endpoints:
            skill_for(kind)  # ValueError naming the known kinds
        self.binding = binding
        self._clients = {
            kind: AgentClient(
                kind,
                base_url,
                token,
                binding=binding,
                grpc_target=grpc_target,
                default_timeout_s=default_timeout_s,
            )
            for kind, (base_url, grpc_target) in endpoints.items()
        }

    async def start(self) -> None:
        """Resolve every card concurrently; AgentCallError names every agent that could not be reached."""
        results = await asyncio.gather(*(c.start() for c in self._clients.values()), return_exceptions=True)
        failed = [r for r in results if isinstance(r, BaseException)]
        if failed:
            raise AgentCallError(
                ",".join(e.agent if isinstance(e, AgentCallError) else "?" for e in failed),
                "; ".join(str(e) for e in failed),
            )

    def get(self, kind: str) -> AgentClient:
        try:
            return self._clients[kind]
        except KeyError:
            raise KeyError(f"no agent {kind!r} in the pool; configured: {', '.join(self._clients)}") from None

    @property
    def kinds(self) -> tuple[str, ...]:
        return tuple(self._clients)

    @property
    def calls(self) -> dict[str, int]:
        """Calls made per agent since start (failed ones included)."""
        return {kind: client.calls for kind, client in self._clients.items()}

    async def aclose(self) -> None:
        await asyncio.gather(*(c.aclose() for c in self._clients.values()))
