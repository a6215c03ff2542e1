"""What every riskmesh MCP server shares: caller identity, bearer-token check, call logging, results.

Every tool is a batch tool: one call per micro-batch. Results travel as `structured_content`
without an output schema, because structured output validates and serialises big batches twice.
"""

from __future__ import annotations

import hmac
import logging
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import CallToolResult
from prometheus_client import Counter, Histogram

__all__ = [
    "CALLER_HEADER",
    "IN_PROCESS_CALLER",
    "MAX_BATCH_ITEMS",
    "ToolCall",
    "ToolGuard",
    "batch_result",
    "check_batch_size",
]

CALLER_HEADER = "x-riskmesh-caller"
IN_PROCESS_CALLER = "in-process"
MAX_BATCH_ITEMS = 10_000
"""Largest batch a tool accepts; the orchestrator's batches are at most a few hundred items."""


def batch_result(payload: dict[str, Any]) -> CallToolResult:
    """A tool answer carried only as structured content (no text copy, no output schema)."""
    return CallToolResult(content=[], structured_content=payload)


def check_batch_size(count: int, what: str) -> None:
    if count > MAX_BATCH_ITEMS:
        raise ToolError(f"batch too large: {count} {what}, at most {MAX_BATCH_ITEMS} per call")


@dataclass
class ToolCall:
    """One tool invocation, as the guard logs it."""

    caller: str
    tool: str
    items: int
    outcome: str = "ok"


MCP_CALLS = Counter(
    "riskmesh_mcp_calls", "MCP tool calls", ["server", "tool", "caller", "outcome"]
)
MCP_CALL_SECONDS = Histogram(
    "riskmesh_mcp_call_seconds", "MCP tool call duration", ["server", "tool"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)
MCP_ITEMS = Counter("riskmesh_mcp_items", "items processed by MCP batch tools", ["server", "tool"])


class ToolGuard:
    """Authenticates the caller of each tool call and logs the call (caller, tool, outcome, items, ms).

    Calls over HTTP carry headers: when the server was built with a token, `authorization` must be
    `Bearer <token>`. In-process calls (an `mcp.Client` bound to the server instance) carry no
    headers and are trusted: they never left the process.
    """

    def __init__(self, server: str, token: str | None = None) -> None:
        self.server = server
        self._token = token
        self.logger = logging.getLogger(f"riskmesh.mcp.{server}")

    def _caller(self, headers: Mapping[str, str] | None) -> str:
        if headers is None:
            return IN_PROCESS_CALLER
        return headers.get(CALLER_HEADER) or "unknown"

    def _authenticate(self, headers: Mapping[str, str] | None) -> None:
        if headers is None or self._token is None:
            return
        supplied = headers.get("authorization") or ""
        expected = f"Bearer {self._token}"
        if not hmac.compare_digest(supplied.encode(), expected.encode()):
            reason = "missing bearer token" if not supplied else "invalid bearer token"
            raise ToolError(f"unauthorised: {reason} for MCP server '{self.server}'")

    @contextmanager
    def call(self, ctx: Context | None, tool: str, items: int) -> Iterator[ToolCall]:
        """Authenticate, run the body, log one line whatever happens."""
        headers = _headers_of(ctx)
        record = ToolCall(caller=self._caller(headers), tool=tool, items=items)
        started = time.perf_counter()
        try:
            try:
                self._authenticate(headers)
            except ToolError:
                record.outcome = "denied"
                raise
            yield record
        except ToolError as exc:
            if record.outcome == "ok":
                record.outcome = "rejected"
            self.logger.info("tool call refused: %s", exc)
            raise
        except BaseException:
            record.outcome = "error"
            raise
        finally:
            elapsed_ms = (time.perf_counter() - started) * 1000
            MCP_CALLS.labels(self.server, record.tool, record.caller, record.outcome).inc()
            MCP_CALL_SECONDS.labels(self.server, record.tool).observe(elapsed_ms / 1000)
            MCP_ITEMS.labels(self.server, record.tool).inc(record.items)
            self.logger.info(
                "mcp call server=%s caller=%s tool=%s outcome=%s items=%d duration_ms=%.2f",
                self.server,
                record.caller,
                record.tool,
                record.outcome,
                record.items,
                elapsed_ms,
            )


def _headers_of(ctx: Context | None) -> Mapping[str, str] | None:
    if ctx is None:
        return None
    try:
        return ctx.headers
    except ValueError:  # no request context: called directly, not through MCP
        return None
