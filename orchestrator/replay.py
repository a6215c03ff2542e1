"""Replay labelled history in time order through the in-process MCP servers, as the online path sees it.

Used by `riskmesh train` (features + the other agents' verdicts for calibration) and its tests.
The servers and tool callers are the InProcessPipeline's wiring: real MCP to in-memory servers,
micro-batches of 500 in time order, history recorded as it goes (`observe=True`), so each
transaction's features describe only what came before it — exactly what the fraud agent gets online.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import orjson

from riskmesh.agents._common import approx_usd
from riskmesh.contracts import Transaction

__all__ = ["BATCH", "Replay", "Replayer", "load_labelled", "usd_amounts"]

BATCH = 500
OTHER_AGENTS: tuple[str, ...] = ("credit", "behaviour", "compliance")


def load_labelled(path: Path | str, *, require_label: bool = True) -> list[Transaction]:
    """Transactions of a JSONL file in time order (stable for equal times); blank lines skipped."""
    txs: list[Transaction] = []
    with open(path, "rb") as fh:
        for number, line in enumerate(fh, 1):
            if not line.strip():
                continue
            tx = Transaction.model_validate(orjson.loads(line))
            if require_label and tx.label is None:
                raise ValueError(f"{path}:{number}: transaction {tx.tx_id} has no label")
            txs.append(tx)
    return sorted(txs, key=lambda t: t.ts)


def usd_amounts(txs: Iterable[Transaction]) -> np.ndarray:
    """Approximate USD amounts (the raw amount when the currency has no rate), to add across currencies."""
    return np.asarray([approx_usd(t.amount, t.currency) or float(t.amount) for t in txs], dtype=np.float64)


@dataclass
class Replay:
    """What a replay produced, one row per transaction in replay order."""

    x: np.ndarray
    scores: dict[str, np.ndarray] = field(default_factory=dict)
    hard_block: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    graph_available: bool = False


class Replayer:
    """In-memory MCP servers over `world_dir` (None: no reference data) and the fraud feature path."""

    def __init__(self, world_dir: Path | None, *, other_agents: bool = True) -> None:
        from riskmesh.agents.mcp_client import McpToolCaller
        from riskmesh.agents.registry import MCP_SERVERS_FOR_AGENT, build_agent
        from riskmesh.mcp_servers.serve import build_servers

        servers = build_servers(world_dir, None)
        fraud_servers = [*MCP_SERVERS_FOR_AGENT["fraud"], *(["risk-graph"] if "risk-graph" in servers else [])]
        self.fraud_tools = McpToolCaller.in_process({s: servers[s] for s in dict.fromkeys(fraud_servers)}, "fraud")
        self.callers = {k: McpToolCaller.in_process({s: servers[s] for s in MCP_SERVERS_FOR_AGENT[k]}, caller=k)
                        for k in (OTHER_AGENTS if other_agents else ())}
        self.agents = {k: build_agent(k, c) for k, c in self.callers.items()}

    async def run(self, txs: Sequence[Transaction], batch: int = BATCH) -> Replay:
        from riskmesh.agents.features import FEATURE_NAMES, feature_matrix, fetch_inputs

        parts: list[np.ndarray] = []
        scores: dict[str, list[float]] = {k: [] for k in self.agents}
        hard: list[bool] = []
        graph = False
        for start in range(0, len(txs), batch):
            chunk = [t.without_label() for t in txs[start:start + batch]]
            inputs, *verdicts = await asyncio.gather(
                fetch_inputs(self.fraud_tools, "fraud", chunk, observe=True),
                *(agent.assess(chunk) for agent in self.agents.values()),
            )
            graph = graph or inputs.graph_available
            parts.append(feature_matrix(chunk, inputs))
            flags = [False] * len(chunk)
            for kind, answer in zip(self.agents, verdicts, strict=True):
                scores[kind].extend(v.score for v in answer)
                flags = [f or v.hard_block for f, v in zip(flags, answer, strict=True)]
            hard.extend(flags)
        x = np.vstack(parts) if parts else np.zeros((0, len(FEATURE_NAMES)))
        return Replay(x, {k: np.asarray(v) for k, v in scores.items()}, np.asarray(hard, dtype=bool), graph)

    async def aclose(self) -> None:
        await self.fraud_tools.aclose()
        for caller in self.callers.values():
            await caller.aclose()
