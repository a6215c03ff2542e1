"""How the SOC process builds the soc-investigator and the incident-response agent (their SOC_AGENTS entries).

`a2a/soc_agents.py` registers both agents; their `build` and `executor` entries land here (imported lazily):

- soc-investigator: MCP risk-actions, customer-data, transactions (policy caller "soc-investigator"); its
  specialists come from `runtime.soc_agent_cards` (settings `soc_agent_cards`), or, when none is configured,
  from the cards of every agent the same process serves; selected by the skill tags soc+investigation.
- incident-response: MCP soc-telemetry and risk-actions (policy caller "incident-response"); its audit trail
  is `runtime.audit` (the serve process passes the Redis `AuditLog`).
"""

from __future__ import annotations

from typing import Any

from a2a.server.agent_execution import AgentExecutor

from riskmesh.a2a.soc_directory import CardDirectory
from riskmesh.a2a.soc_executors import IncidentResponseExecutor, InvestigatorExecutor
from riskmesh.agents.base import ToolCaller
from riskmesh.agents.soc.incident_response import IncidentResponder
from riskmesh.agents.soc.investigator import Investigator

__all__ = [
    "INCIDENT_RESPONSE",
    "INVESTIGATOR",
    "build_incident_response",
    "build_investigator",
    "incident_response_executor",
    "investigator_executor",
]

INVESTIGATOR = "soc-investigator"
INCIDENT_RESPONSE = "incident-response"


def build_investigator(tools: ToolCaller, runtime: Any) -> Investigator:
    cards = list(getattr(runtime, "soc_agent_cards", ()) or [])
    if not cards:
        cards = [url for name, url in runtime.agent_urls.items() if name not in (INVESTIGATOR, INCIDENT_RESPONSE)]
    directory = CardDirectory(cards, runtime.a2a_token, exclude=[f"riskmesh-{INVESTIGATOR}"])
    deadline_s = float(getattr(runtime, "soc_investigation_deadline_s", 8.0))
    return Investigator(tools, directory, deadline_s=deadline_s)


def investigator_executor(agent: Investigator, spec: Any) -> AgentExecutor:
    return InvestigatorExecutor(agent)


def build_incident_response(tools: ToolCaller, runtime: Any) -> IncidentResponder:
    return IncidentResponder(tools, getattr(runtime, "audit", None))


def incident_response_executor(agent: IncidentResponder, spec: Any) -> AgentExecutor:
    return IncidentResponseExecutor(agent)
