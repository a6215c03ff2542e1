"""risk-graph MCP server: links between customers, accounts, devices, IPs and payees, for mule and ring signals.

`observe_batch` feeds the graph from the stream (idempotent per tx_id); `graph_features_batch`
answers per item: shared devices / IPs, fan-in and fan-out, 24h pass-through, small payment
cycles and the distance to a known-bad node. Agents that do both every micro-batch (fraud,
compliance) call `observe_and_features_batch`: the same two steps in one round trip.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import CallToolResult
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, TypeAdapter

from riskmesh.mcp_servers.graph_store import NODE_KINDS, GraphStore, GraphTx, node_id
from riskmesh.mcp_servers.policy import AccessPolicy
from riskmesh.mcp_servers.toolkit import BATCH_JSON_DESCRIPTION, ToolGuard, batch_items, batch_result, check_batch_size

__all__ = ["SERVER_NAME", "BadNode", "FeatureQuery", "GraphEvent", "build_risk_graph_server"]

SERVER_NAME = "risk-graph"
VERSION = "0.1.0"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)
_Id = Annotated[str, Field(min_length=1, max_length=256)]


class GraphEvent(BaseModel):
    """One transaction as the graph sees it (extra keys are ignored)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    tx_id: _Id
    ts: AwareDatetime
    debtor_account_id: _Id
    creditor_account_id: _Id
    amount: float = Field(ge=0, allow_inf_nan=False, description="decimal string or number")
    device_id: str | None = Field(default=None, max_length=256)
    ip: str | None = Field(default=None, max_length=64)
    type: str | None = Field(default=None, max_length=64, description="the transaction type (rings: transfer, payment)")

    def to_tx(self) -> GraphTx:
        ts_ms = (self.ts - _EPOCH) // _MS
        return GraphTx(self.tx_id, ts_ms, self.debtor_account_id, self.creditor_account_id, self.amount,
                       self.device_id, self.ip, self.type)  # fmt: skip


class FeatureQuery(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    ref: _Id
    account_id: _Id
    device_id: str | None = Field(default=None, max_length=256)
    ip: str | None = Field(default=None, max_length=64)
    counterparty_account_id: str | None = Field(default=None, max_length=256)


_Events = Annotated[
    list[GraphEvent] | None,
    Field(description="items {tx_id, ts, debtor_account_id, creditor_account_id, amount, device_id?, ip?, type?}"),
]
_Queries = Annotated[
    list[FeatureQuery] | None,
    Field(description="items {ref, account_id, device_id?, ip?, counterparty_account_id?}"),
]
_Json = Annotated[str, Field(description=BATCH_JSON_DESCRIPTION)]  # plain str: the SDK pre-parses any other type
_EVENTS = TypeAdapter(list[GraphEvent])
_QUERIES = TypeAdapter(list[FeatureQuery])


class BadNode(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    kind: Literal["customer", "account", "device", "ip"]
    id: _Id
    reason: str = Field(default="flagged", max_length=512)


def build_risk_graph_server(
    store: GraphStore, *, token: str | None = None, policy: AccessPolicy | None = None
) -> MCPServer:
    """An MCPServer over `store` (in memory: `MemoryGraphStore`)."""
    server = MCPServer(
        SERVER_NAME,
        version=VERSION,
        instructions="Risk graph of customers, accounts, devices, IPs and payees. One call per micro-batch.",
    )
    guard = ToolGuard(SERVER_NAME, token, policy)

    @server.tool(
        description=(
            "Record many transactions into the graph in one call (payment edge debtor ▶ creditor, the "
            "debtor account's device and IP). Idempotent per tx_id: a transaction seen before is "
            'ignored. Returns {"observed": n new, "ignored": n already seen}.'
        ),
        structured_output=False,
    )
    async def observe_batch(
        ctx: Context,
        transactions: _Events = None,
        transactions_json: _Json = "",
    ) -> CallToolResult:
        with guard.call(ctx, "observe_batch", 0) as call:
            events = batch_items(call, "transactions", transactions, transactions_json, _EVENTS)
            new = await store.observe([t.to_tx() for t in events])
            return batch_result({"observed": new, "ignored": len(events) - new})

    @server.tool(
        description=(
            "Graph features of many accounts in one call. Returns "
            '{"features": {ref: {"known", "fan_in", "fan_out", "fan_in_24h", "fan_out_24h", '
            '"in_amount_24h", "out_amount_24h", "pass_through_ratio" (out/in over 24h, null without '
            'inflow), "in_cycle", "cycle_length" (≤ 4 hops), "is_bad", "accounts_sharing_device", '
            '"accounts_sharing_ip", "distance_to_bad" (hops ≤ 4 from the account, device, IP or '
            'counterparty to a known-bad node, null if farther), "nearest_bad", "nearest_bad_reason"}}}. '
            "Windows use stream time (the latest transaction observed)."
        ),
        structured_output=False,
    )
    async def graph_features_batch(
        ctx: Context,
        items: _Queries = None,
        items_json: _Json = "",
    ) -> CallToolResult:
        with guard.call(ctx, "graph_features_batch", 0) as call:
            queries = batch_items(call, "items", items, items_json, _QUERIES)
            features = await store.features([q.model_dump() for q in queries])
            return batch_result({"features": features})

    @server.tool(
        description=(
            "observe_batch then graph_features_batch in one round trip, for an agent that feeds the graph "
            "and reads it every micro-batch: the transactions are recorded first (idempotent per tx_id), so "
            "the features see them whoever recorded them first. Returns "
            '{"observed": n new, "ignored": n already seen, "features": {ref: {...}}} with the features of '
            "graph_features_batch."
        ),
        structured_output=False,
    )
    async def observe_and_features_batch(
        ctx: Context,
        transactions: _Events = None,
        items: _Queries = None,
        transactions_json: _Json = "",
        items_json: _Json = "",
    ) -> CallToolResult:
        with guard.call(ctx, "observe_and_features_batch", 0) as call:
            events = batch_items(call, "transactions", transactions, transactions_json, _EVENTS)
            queries = batch_items(call, "items", items, items_json, _QUERIES)
            new = await store.observe([t.to_tx() for t in events])
            features = await store.features([q.model_dump() for q in queries])
            return batch_result({"observed": new, "ignored": len(events) - new, "features": features})

    @server.tool(
        description=(
            "Flag many nodes as known-bad (confirmed mule, fraudster device, ...). Returns "
            '{"marked": n newly flagged}. Distances to bad nodes use them from the next query on.'
        ),
        structured_output=False,
    )
    async def mark_bad_batch(
        ctx: Context,
        nodes: Annotated[list[BadNode], Field(description="items {kind: customer|account|device|ip, id, reason?}")],
    ) -> CallToolResult:
        with guard.call(ctx, "mark_bad_batch", len(nodes)):
            check_batch_size(len(nodes), "nodes")
            marked = await store.mark_bad({node_id(n.kind, n.id): n.reason for n in nodes})
            return batch_result({"marked": marked})

    @server.tool(
        description=(
            "The neighbourhood of one node for the analyst console: "
            '{"node", "found", "nodes": [{"id", "kind", "hops", "bad"}], "edges": [{"source", "target", '
            '"kind", ...}]}. node is "kind:id", e.g. "account:A000123-01".'
        ),
        structured_output=False,
    )
    async def neighbourhood(
        ctx: Context,
        node: Annotated[str, Field(min_length=3, max_length=300, description='"kind:id"')],
        depth: Annotated[int, Field(ge=1, le=3)] = 2,
        max_nodes: Annotated[int, Field(ge=1, le=1000)] = 200,
    ) -> CallToolResult:
        with guard.call(ctx, "neighbourhood", 1):
            if node.split(":", 1)[0] not in NODE_KINDS:
                raise ToolError(f"node {node!r} must start with one of {', '.join(NODE_KINDS)} and ':'")
            return batch_result(await store.neighbourhood(node, depth, max_nodes))

    return server
