"""One MCP call per tool per micro-batch, whatever the batch size: agents against real in-process servers."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import REGISTRY

from riskmesh.agents.mcp_client import McpToolCaller
from riskmesh.agents.registry import MCP_SERVERS_FOR_AGENT, build_agent
from riskmesh.contracts import Transaction
from riskmesh.mcp_servers.serve import build_servers

EXPECTED_TOOLS = {
    "compliance": {
        ("customer-data", "get_customers_batch"),
        ("watchlists", "screen_names_batch"),
        ("risk-graph", "observe_and_features_batch"),
    },
    "behaviour": {("transactions", "features_batch")},
    "credit": {("customer-data", "get_customers_batch"), ("credit-bureau", "get_credit_batch")},
}


class CountingCaller:
    """Wraps the real MCP caller and counts (server, tool) calls."""

    def __init__(self, inner: McpToolCaller) -> None:
        self.inner = inner
        self.counts: Counter[tuple[str, str]] = Counter()

    async def call(self, server: str, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
        self.counts[(server, tool)] += 1
        return await self.inner.call(server, tool, arguments)


def _batch(size: int, start: int) -> list[Transaction]:
    return [
        Transaction.model_validate(
            {
                "schema_version": "1", "tx_id": f"B{start + i}", "ts": f"2026-11-21T09:{i % 60:02d}:00Z",
                "type": "transfer", "channel": "mobile", "amount": f"{10 + i}.00", "currency": "CNY",
                "debtor": {"customer_id": "C1", "account_id": "A1-01", "name": "Li Wei", "country": "CN"},
                "creditor": {"account_id": f"X{i % 37}", "name": f"Payee {i % 37} Trading Ltd", "country": "HK"},
                "device": {"device_id": f"D-{i % 11}", "ip": f"198.51.100.{i % 200}"},
            }
        )
        for i in range(size)
    ]  # fmt: skip


def _server_calls(server: str, tool: str, caller: str) -> float:
    labels = {"server": server, "tool": tool, "caller": caller}
    return sum(REGISTRY.get_sample_value("riskmesh_mcp_calls_total", {**labels, "outcome": o}) or 0.0
               for o in ("ok", "masked"))  # fmt: skip


@pytest.mark.parametrize("kind", sorted(EXPECTED_TOOLS))
async def test_each_agent_calls_each_of_its_tools_once_per_micro_batch_whatever_the_batch_size(
    kind: str, world_dir: Path
) -> None:
    servers = build_servers(world_dir, None)
    inner = McpToolCaller.in_process({s: servers[s] for s in MCP_SERVERS_FOR_AGENT[kind]}, caller=kind)
    tools = CountingCaller(inner)
    agent = build_agent(kind, tools)
    try:
        for start, size in enumerate((1, 50, 500)):
            tools.counts.clear()
            before = {key: _server_calls(*key, kind) for key in EXPECTED_TOOLS[kind]}
            verdicts = await agent.assess(_batch(size, start * 1000))
            assert len(verdicts) == size
            assert dict(tools.counts) == dict.fromkeys(EXPECTED_TOOLS[kind], 1), (size, tools.counts)
            seen = {key: _server_calls(*key, kind) - before[key] for key in EXPECTED_TOOLS[kind]}
            assert seen == dict.fromkeys(EXPECTED_TOOLS[kind], 1.0), (size, seen)  # the servers agree
    finally:
        await inner.aclose()
