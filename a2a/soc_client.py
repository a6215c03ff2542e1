"""Streaming A2A tasks for the SOC path: one long-lived SDK client per agent, events as plain `TaskEvent`s.

The soc-investigator streams its specialists with it, and the CLI (`riskmesh investigate`) and the console
stream the investigator and the incident-response agent with it. Bindings: JSON-RPC (SSE), or HTTP+JSON
(SSE); the card says where. The bearer token travels as a default header of the client's httpx pool, so it
reaches agents whatever security scheme their card declares; the card itself is public.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field

import httpx
from a2a.client import A2ACardResolver, Client, ClientConfig, ClientFactory
from a2a.types import (
    AgentCard,
    Message,
    Part,
    Role,
    SendMessageConfiguration,
    SendMessageRequest,
    StreamResponse,
    TaskState,
)
from a2a.utils.constants import TransportProtocol
from google.protobuf.json_format import MessageToJson

__all__ = [
    "TERMINAL_STATES",
    "ArtifactChunk",
    "TaskEvent",
    "TaskStreamClient",
    "part_bytes",
    "raw_part",
    "state_name",
    "to_task_event",
]

TERMINAL_STATES = frozenset({"completed", "failed", "canceled", "rejected"})
"""Plus "input-required", which ends a stream without ending the task."""
_HTTP_TIMEOUT = httpx.Timeout(10.0, read=30.0)


def state_name(state: int) -> str:
    """TaskState.TASK_STATE_INPUT_REQUIRED ▶ "input-required"."""
    return TaskState.Name(state).removeprefix("TASK_STATE_").lower().replace("_", "-")  # type: ignore[arg-type]


def raw_part(body: bytes, media_type: str) -> Part:
    return Part(raw=body, media_type=media_type)


def part_bytes(part: Part) -> bytes | None:
    """The JSON a part carries: raw bytes, text, or a data part rendered as JSON; None for a URL part."""
    content = part.WhichOneof("content")
    if content == "raw":
        return part.raw
    if content == "text":
        return part.text.encode("utf-8")
    if content == "data":
        return MessageToJson(part.data, indent=None).encode("utf-8")
    return None


@dataclass(frozen=True, slots=True)
class ArtifactChunk:
    artifact_id: str
    name: str
    media_type: str
    body: bytes
    append: bool = False
    last_chunk: bool = False


@dataclass(frozen=True, slots=True)
class TaskEvent:
    """One streamed event: the task's state after it, a status text, and artifact chunks it brought."""

    task_id: str
    context_id: str
    state: str
    text: str = ""
    artifacts: tuple[ArtifactChunk, ...] = field(default_factory=tuple)

    @property
    def ended(self) -> bool:
        """The stream ends here: the task finished or waits for input."""
        return self.state in TERMINAL_STATES or self.state == "input-required"


def _chunks(artifact_id: str, name: str, parts: Sequence[Part], append: bool = False,
            last: bool = False) -> list[ArtifactChunk]:
    bodies = ((p.media_type, part_bytes(p)) for p in parts)
    return [ArtifactChunk(artifact_id, name, media, body, append, last) for media, body in bodies if body is not None]


def _text(message: Message) -> str:
    return " ".join(p.text for p in message.parts if p.WhichOneof("content") == "text")


def to_task_event(event: StreamResponse, last: TaskEvent | None) -> TaskEvent:
    """The SDK's StreamResponse as a TaskEvent (a direct Message reply counts as a completed task)."""
    task_id = last.task_id if last else ""
    context_id = last.context_id if last else ""
    state = last.state if last else "submitted"
    if event.HasField("task"):
        t = event.task
        chunks = [c for a in t.artifacts for c in _chunks(a.artifact_id, a.name, a.parts, last=True)]
        return TaskEvent(t.id, t.context_id, state_name(t.status.state), _text(t.status.message), tuple(chunks))
    if event.HasField("status_update"):
        u = event.status_update
        return TaskEvent(u.task_id, u.context_id, state_name(u.status.state), _text(u.status.message))
    if event.HasField("artifact_update"):
        a = event.artifact_update
        art = a.artifact
        return TaskEvent(a.task_id, a.context_id, state, "",
                         tuple(_chunks(art.artifact_id, art.name, art.parts, a.append, a.last_chunk)))
    if event.HasField("message"):
        m = event.message
        chunks = _chunks("reply", "reply", m.parts, last=True)
        return TaskEvent(m.task_id or task_id, m.context_id or context_id, "completed", _text(m), tuple(chunks))
    return TaskEvent(task_id, context_id, state)


class TaskStreamClient:
    """One agent, one streaming SDK client and one httpx pool, built on first use and kept."""

    def __init__(self, base_url: str, token: str, *, card: AgentCard | None = None,
                 http: httpx.AsyncClient | None = None) -> None:
        self.base_url = base_url
        self._card = card
        self._own_http = http is None
        self._http = http or httpx.AsyncClient(headers={"authorization": f"Bearer {token}"}, timeout=_HTTP_TIMEOUT)
        self._client: Client | None = None
        self._lock = asyncio.Lock()

    async def card(self) -> AgentCard:
        async with self._lock:
            if self._card is None:
                self._card = await A2ACardResolver(self._http, self.base_url).get_agent_card()
            return self._card

    async def _sdk(self) -> Client:
        card = await self.card()
        async with self._lock:
            if self._client is None:
                config = ClientConfig(
                    streaming=True,
                    httpx_client=self._http,
                    supported_protocol_bindings=[TransportProtocol.JSONRPC, TransportProtocol.HTTP_JSON],
                )
                self._client = ClientFactory(config).create(card)
            return self._client

    async def stream(self, parts: Sequence[Part], *, task_id: str | None = None,
                     context_id: str | None = None) -> AsyncIterator[TaskEvent]:
        """Send one message (to a new task, or to `task_id` waiting for input) and yield its events until the
        task ends or waits for input again."""
        client = await self._sdk()
        message = Message(role=Role.ROLE_USER, message_id=uuid.uuid4().hex, parts=list(parts),
                          task_id=task_id or "", context_id=context_id or "")
        request = SendMessageRequest(message=message, configuration=SendMessageConfiguration(history_length=0))
        last: TaskEvent | None = None
        events = client.send_message(request)
        async with contextlib.aclosing(events):  # type: ignore[type-var]
            async for raw in events:
                last = to_task_event(raw, last)
                yield last
                if last.ended:
                    return

    async def aclose(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(Exception):
                await client.close()
        if self._own_http:
            await self._http.aclose()
