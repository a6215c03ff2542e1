"""The MCP side of an agent: one long-lived `mcp.Client` session per MCP server.

Design notes
- Sessions open lazily on first use (under one asyncio.Lock per server) and stay open: a new
  MCP session per call costs a handshake and a connection, which batching is meant to avoid.
- Each session lives inside its own *owner task*. `mcp.Client` enters anyio task groups and
  cancel scopes, which must be exited by the task that entered them; a dedicated task lets any
  caller task use the session and any task close it.
- A transport failure drops the session, so the next call reconnects: MCP servers get restarted.
- A tool error (`is_error`) keeps the session: the server answered, the request was bad.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from typing import Any, cast

import httpx2
import orjson
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.server.mcpserver import MCPServer
from mcp.types import CallToolResult, RequestParamsMeta, TextContent

from riskmesh.agents.base import ToolCallError

__all__ = ["CALLER_HEADER", "CALLER_META", "McpToolCaller"]

logger = logging.getLogger(__name__)

CALLER_HEADER = "x-riskmesh-caller"
"""Names the calling agent to the MCP server, which applies that caller's permissions and masking."""
CALLER_META = "io.riskmesh/caller"
"""The same name in each request's `_meta`: how in-process calls (no HTTP headers) say who calls."""


class _Session:
    """One connected `mcp.Client` (and the HTTP pool it uses), owned by a background task until `close()`."""

    def __init__(self, client: Client, server: str, http: httpx2.AsyncClient | None = None) -> None:
        self.client = client
        self.server = server
        self._http = http
        self._stop = asyncio.Event()
        self._ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._task: asyncio.Task[None] | None = None

    @property
    def alive(self) -> bool:
        return self._task is not None and not self._task.done() and not self._stop.is_set()

    async def open(self, timeout_s: float) -> None:
        self._task = asyncio.create_task(self._own(), name=f"mcp-session-{self.server}")
        try:
            async with asyncio.timeout(timeout_s):
                await asyncio.shield(self._ready)
        except BaseException:
            if not self._ready.done():
                self._ready.cancel()
            await self.close(timeout_s)
            raise

    async def _own(self) -> None:
        try:
            async with contextlib.AsyncExitStack() as stack:
                if self._http is not None:  # the transport does not close a pool it was given
                    await stack.enter_async_context(self._http)
                await stack.enter_async_context(self.client)
                self._ready.set_result(None)
                await self._stop.wait()
        except BaseException as exc:  # the owner task reports every way a session can end
            if not self._ready.done():
                self._ready.set_exception(exc if isinstance(exc, Exception) else ConnectionError(repr(exc)))
            elif not isinstance(exc, asyncio.CancelledError):
                logger.warning("MCP session to %s ended: %r", self.server, exc)
            if isinstance(exc, asyncio.CancelledError):
                raise

    async def close(self, timeout_s: float) -> None:
        self._stop.set()
        task = self._task
        if task is None or task.done():
            return
        done, _ = await asyncio.wait({task}, timeout=timeout_s)
        if not done:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


class McpToolCaller:
    """ToolCaller over MCP: streamable HTTP to each server URL, or in-process server instances.

    `calls` counts tool calls per server (attempts, successful or not).
    """

    def __init__(
        self,
        urls: Mapping[str, str],
        caller: str,
        token: str | None = None,
        timeout_s: float = 10.0,
    ) -> None:
        self.caller = caller
        self.timeout_s = timeout_s
        self.calls: dict[str, int] = {}
        self._meta = cast(RequestParamsMeta, {CALLER_META: caller})
        self._token = token
        self._urls = dict(urls)
        self._servers: dict[str, MCPServer] = {}
        self._sessions: dict[str, _Session] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    @classmethod
    def in_process(cls, servers: Mapping[str, MCPServer], caller: str, timeout_s: float = 10.0) -> McpToolCaller:
        """Real MCP to server instances in this process (tests, the embedded single-process mode).

        There are no HTTP headers in process: the caller name travels in each request's `_meta`
        (`CALLER_META`), so the servers apply the same per-caller policy as over HTTP.
        """
        tools = cls({}, caller, timeout_s=timeout_s)
        tools._servers = dict(servers)
        return tools

    @property
    def servers(self) -> list[str]:
        return sorted({*self._urls, *self._servers})

    def _new_session(self, server: str) -> _Session:
        if server in self._servers:
            return _Session(Client(self._servers[server], read_timeout_seconds=self.timeout_s), server)
        headers = {CALLER_HEADER: self.caller}
        if self._token:
            headers["authorization"] = f"Bearer {self._token}"
        http = httpx2.AsyncClient(headers=headers, timeout=self.timeout_s)
        transport = streamable_http_client(self._urls[server], http_client=http)
        return _Session(Client(transport, read_timeout_seconds=self.timeout_s), server, http)

    async def _session(self, server: str) -> _Session:
        session = self._sessions.get(server)
        if session is not None and session.alive:
            return session
        lock = self._locks.setdefault(server, asyncio.Lock())
        async with lock:
            session = self._sessions.get(server)
            if session is not None and session.alive:
                return session
            if session is not None:
                await self._drop(server, session)
            session = self._new_session(server)
            await session.open(self.timeout_s)
            self._sessions[server] = session
            return session

    async def _drop(self, server: str, session: _Session) -> None:
        if self._sessions.get(server) is session:
            del self._sessions[server]
        await session.close(self.timeout_s)

    async def call(self, server: str, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
        """Call `tool` on `server`; return its JSON answer (see `_structured`) or raise ToolCallError."""
        if server not in self._urls and server not in self._servers:
            raise ToolCallError(server, tool, f"no MCP server configured for {server!r} (caller {self.caller})")
        self.calls[server] = self.calls.get(server, 0) + 1
        session: _Session | None = None
        try:
            session = await self._session(server)
            async with asyncio.timeout(self.timeout_s):
                result = await session.client.call_tool(tool, arguments, meta=self._meta)
        # Transport boundary: connection refused, a closed stream, a timeout or a protocol error all
        # arrive as different types (connect errors inside anyio ExceptionGroups). Every one of them
        # means the same thing to an agent: the tool was not reached. Drop the session and report it.
        except Exception as exc:
            if session is not None:
                await self._drop(server, session)
            raise ToolCallError(server, tool, f"transport failure: {_describe(exc)}") from exc
        return _structured(server, tool, result)

    async def aclose(self) -> None:
        """Close every open session."""
        sessions, self._sessions = self._sessions, {}
        for session in sessions.values():
            await session.close(self.timeout_s)

    async def __aenter__(self) -> McpToolCaller:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


def _structured(server: str, tool: str, result: CallToolResult) -> dict[str, Any]:
    """The answer's JSON object: its structured content, or its one JSON text block.

    riskmesh servers answer with one text block (cheaper than structured content, see
    `riskmesh.mcp_servers.toolkit`); other MCP servers may use structured content.
    """
    texts = [c.text for c in result.content if isinstance(c, TextContent)]
    if result.is_error:
        raise ToolCallError(server, tool, "; ".join(texts) or "the tool reported an error without detail")
    if isinstance(result.structured_content, dict):
        return result.structured_content
    if len(texts) == 1:
        with contextlib.suppress(orjson.JSONDecodeError):
            parsed = orjson.loads(texts[0])
            if isinstance(parsed, dict):
                return parsed
    raise ToolCallError(server, tool, "the tool returned no structured content")


def _describe(exc: BaseException) -> str:
    if isinstance(exc, BaseExceptionGroup):
        return "; ".join(_describe(e) for e in exc.exceptions)
    if isinstance(exc, TimeoutError):
        return "timed out"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
