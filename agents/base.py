"""The ports an agent depends on and the shape every agent offers to the A2A edge."""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from riskmesh.contracts import (
    ActionRequest,
    ActionResponse,
    AgentVerdict,
    AggregationRequest,
    AggregationResponse,
    Transaction,
)

__all__ = ["ActionAgent", "AggregationAgent", "AnalysisAgent", "ToolCallError", "ToolCaller"]


class ToolCallError(RuntimeError):
    """An MCP tool answered with an error or could not be reached."""

    def __init__(self, server: str, tool: str, message: str) -> None:
        super().__init__(f"{server}.{tool}: {message}")
        self.server = server
        self.tool = tool


@runtime_checkable
class ToolCaller(Protocol):
    """How an agent reaches data: one call per tool per micro-batch, through MCP."""

    async def call(self, server: str, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
        """Call `tool` on MCP server `server`; return its structured content or raise ToolCallError."""
        ...


class AnalysisAgent(Protocol):
    name: str
    model_version: str

    async def assess(self, transactions: list[Transaction]) -> list[AgentVerdict]:
        """One verdict per transaction, in the same order."""
        ...


class AggregationAgent(Protocol):
    name: str
    policy_version: str

    async def aggregate(self, request: AggregationRequest) -> AggregationResponse: ...


class ActionAgent(Protocol):
    name: str

    async def act(self, request: ActionRequest) -> ActionResponse: ...
