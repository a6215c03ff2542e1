"""One place that knows every agent kind: how to build it and which MCP servers it may reach."""

from __future__ import annotations

from typing import Any

from riskmesh.agents.action import ActionAgentImpl
from riskmesh.agents.aggregation import AggregationAgentImpl, Policy, deployed_policy
from riskmesh.agents.base import ToolCaller
from riskmesh.agents.behaviour import BehaviourAgent
from riskmesh.agents.compliance import ComplianceAgent
from riskmesh.agents.credit import CreditAgent
from riskmesh.agents.fraud import FraudAgent

__all__ = ["AGENT_KINDS", "AGENT_VERSION", "ANALYSIS_KINDS", "MCP_SERVERS_FOR_AGENT", "build_agent"]

AGENT_VERSION = "0.1.0"
"""Version of the agent logic package, for agent cards; each agent also has its own `model_version`."""

MCP_SERVERS_FOR_AGENT: dict[str, tuple[str, ...]] = {
    "fraud": ("customer-data", "transactions", "risk-graph"),
    "credit": ("credit-bureau", "customer-data"),
    "behaviour": ("transactions",),
    "compliance": ("watchlists", "customer-data", "risk-graph"),
    "aggregation": (),
    "action": ("risk-actions",),
}
"""Which MCP servers each agent reaches: its ToolCaller needs exactly these (least privilege)."""

ANALYSIS_KINDS: tuple[str, ...] = ("fraud", "credit", "behaviour", "compliance")
AGENT_KINDS: tuple[str, ...] = (*ANALYSIS_KINDS, "aggregation", "action")

_ANALYSIS = {
    "fraud": FraudAgent,
    "credit": CreditAgent,
    "behaviour": BehaviourAgent,
    "compliance": ComplianceAgent,
}


def build_agent(kind: str, tools: ToolCaller | None = None, *, policy: Policy | None = None) -> Any:
    """The agent of `kind`. `tools` is required for every kind but aggregation; `policy` is aggregation's.

    Fraud scores with the current model of the registry (`RISKMESH_MODEL_DIR`, rules when there is none)
    and aggregation, without a `policy`, uses the one calibrated for that model (riskmesh.agents.model).
    """
    if kind not in AGENT_KINDS:
        raise ValueError(f"unknown agent kind {kind!r}; expected one of {', '.join(AGENT_KINDS)}")
    if kind == "aggregation":
        return AggregationAgentImpl(policy if policy is not None else deployed_policy())
    if tools is None:
        raise ValueError(f"the {kind} agent needs a ToolCaller for {', '.join(MCP_SERVERS_FOR_AGENT[kind])}")
    if kind == "action":
        return ActionAgentImpl(tools)
    if kind == "fraud":
        return FraudAgent.from_environment(tools)
    return _ANALYSIS[kind](tools)
