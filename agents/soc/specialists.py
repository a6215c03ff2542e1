"""The three SOC specialists by name: network-log, endpoint-forensics, threat-intel.

Each is built from one ToolCaller that reaches the soc-telemetry MCP server under the agent's own name
(its least-privilege policy entry) and streams `Progress` and `FindingBatch` events per step.
"""

from __future__ import annotations

from riskmesh.agents.base import ToolCaller
from riskmesh.agents.soc.base import Specialist
from riskmesh.agents.soc.endpoint import EndpointForensicsAgent
from riskmesh.agents.soc.network import NetworkLogAgent
from riskmesh.agents.soc.threat_intel import ThreatIntelAgent

__all__ = ["SPECIALISTS", "build_specialist"]

SPECIALISTS: dict[str, type[Specialist]] = {
    NetworkLogAgent.name: NetworkLogAgent,
    EndpointForensicsAgent.name: EndpointForensicsAgent,
    ThreatIntelAgent.name: ThreatIntelAgent,
}
"""Agent name (also its MCP caller name) ▶ class."""


def build_specialist(name: str, tools: ToolCaller) -> Specialist:
    try:
        return SPECIALISTS[name](tools)
    except KeyError:
        raise ValueError(f"unknown SOC specialist {name!r}; expected one of {', '.join(SPECIALISTS)}") from None
