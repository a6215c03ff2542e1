"""watchlists MCP server: sanctions / PEP / internal-list name screening, one call per micro-batch."""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.types import CallToolResult
from pydantic import BaseModel, ConfigDict, Field

from riskmesh.mcp_servers.policy import AccessPolicy
from riskmesh.mcp_servers.screening import MAX_CANDIDATES, NameScreener
from riskmesh.mcp_servers.toolkit import ToolGuard, batch_result, check_batch_size

__all__ = ["SERVER_NAME", "NameQuery", "build_watchlists_server"]

SERVER_NAME = "watchlists"
VERSION = "0.1.0"


class NameQuery(BaseModel):
    """One name to screen; `ref` is the caller's key for the answer (e.g. "T-1:debtor")."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    ref: str = Field(min_length=1, max_length=256)
    name: str = Field(max_length=1024)
    country: str | None = Field(default=None, description="ISO 3166-1 alpha-2, breaks ties between entries")


def build_watchlists_server(
    screener: NameScreener, *, token: str | None = None, policy: AccessPolicy | None = None
) -> MCPServer:
    """An MCPServer screening names against the entries indexed in `screener`."""
    server = MCPServer(
        SERVER_NAME,
        version=VERSION,
        instructions="Sanctions and watchlist name screening (fuzzy, order- and accent-insensitive).",
    )
    guard = ToolGuard(SERVER_NAME, token, policy)

    @server.tool(
        description=(
            "Screen many names against the watchlists in one call. Names are compared after "
            "normalising case, diacritics, punctuation, company forms (LLC, Ltd, GmbH, OOO, ...) and "
            "word order. Returns "
            '{"results": {ref: [{"entry_id", "list", "name", "matched_alias", "score" (0..1), "why", '
            f'"type", "programs", "country_match"}}]}}, best first, at most {MAX_CANDIDATES} per name; '
            "[] = no candidate at or above the threshold."
        ),
        structured_output=False,
    )
    async def screen_names_batch(
        ctx: Context,
        names: Annotated[list[NameQuery], Field(description="items {ref, name, country?}")],
        threshold: Annotated[
            float, Field(ge=0.5, le=1.0, description="lowest score (0..1) reported as a candidate")
        ] = 0.88,
    ) -> CallToolResult:
        with guard.call(ctx, "screen_names_batch", len(names)):
            check_batch_size(len(names), "names")
            results: dict[str, list[dict[str, Any]]] = {}
            for query in names:
                results[query.ref] = screener.screen(query.name, query.country, threshold)
            return batch_result({"results": results})

    @server.tool(
        description='Size of the screening index: {"entries": n, "names": n (names + aliases)}.',
        structured_output=False,
    )
    async def watchlist_stats(ctx: Context) -> CallToolResult:
        with guard.call(ctx, "watchlist_stats", 0):
            return batch_result({"entries": len(screener.entries), "names": len(screener)})

    return server
