"""Where everything of a running stack is: written by the launcher, read by workers and CLI commands."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

__all__ = ["AGENT_KINDS", "MCP_HOSTS", "MCP_SERVERS", "SOC_AGENTS", "AgentEndpoint", "StackInfo"]

AGENT_KINDS: tuple[str, ...] = ("fraud", "credit", "behaviour", "compliance", "aggregation", "action")
MCP_SERVERS: tuple[str, ...] = (
    "customer-data", "transactions", "credit-bureau", "watchlists", "risk-graph", "risk-actions", "soc-telemetry",
)
MCP_HOSTS: dict[str, tuple[str, ...]] = {
    "mcp-history": ("transactions", "credit-bureau"),
    "mcp-reference": ("customer-data", "watchlists", "risk-graph", "risk-actions", "soc-telemetry"),
}
"""The MCP host processes of the embedded stack and the servers each one serves.

One process for all seven servers was the busiest process of the stack and, being one event loop, a ceiling
of one core for every tool call of every agent (docs/performance.md). The transactions server (features from
each account's history, the largest tool cost) gets a process of its own; the risk graph keeps its in-memory
state in exactly one process."""
SOC_AGENTS: tuple[str, ...] = (
    "network-log", "endpoint-forensics", "threat-intel", "soc-investigator", "incident-response",
)


@dataclass(frozen=True)
class AgentEndpoint:
    url: str
    grpc: str

    @property
    def card_url(self) -> str:
        return self.url.rstrip("/") + "/.well-known/agent-card.json"


@dataclass
class StackInfo:
    kafka: str
    redis: str
    agents: dict[str, AgentEndpoint] = field(default_factory=dict)
    mcp: dict[str, str] = field(default_factory=dict)
    world_dir: str = ""
    console: str = ""
    """The analyst console (review service) base URL, e.g. http://127.0.0.1:8700/."""
    gateway: AgentEndpoint | None = None
    """The risk-gateway A2A agent (the service for other banking systems)."""
    soc_agents: dict[str, str] = field(default_factory=dict)
    """SOC agents (soc-investigator, incident-response, network-log, …) ▶ their base URL."""

    def agent_endpoints(self) -> dict[str, tuple[str, str]]:
        return {k: (e.url, e.grpc) for k, e in self.agents.items()}

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2))
        tmp.replace(path)

    @classmethod
    def read(cls, path: str | Path) -> StackInfo:
        data = json.loads(Path(path).read_text())
        agents = {k: AgentEndpoint(**v) for k, v in data.pop("agents", {}).items()}
        gateway = data.pop("gateway", None)
        return cls(agents=agents, gateway=AgentEndpoint(**gateway) if gateway else None, **data)
