"""One place that knows every agent kind: how to build it and which MCP servers it may reach."""

from __future__ import annotations

from typing import Any

from riskmesh.agents.action import ActionAgentImpl
from riskmesh.agents.aggregation import AggregationAgentImpl, Policy
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
    "aggregation": ("customer-data", "risk-actions"),
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


def build_agent(
    kind: str, tools: ToolCaller | None = None, *, policy: Policy | None = None, shadow: Policy | None = None
) -> Any:
    """The agent of `kind`. `tools` is required for every kind but aggregation (which without them cannot see
    segments, branches or account controls, and fails closed where its policy needs them).

    Fraud scores with the current model of the registry (`RISKMESH_MODEL_DIR`, rules when there is none).
    Aggregation decides with `policy` (and `shadow` as challenger), else the configured policy files
    (`configured_policies`: RISKMESH_POLICY_FILE, the deployed active.yaml, else the model card's policy).
    """
    if kind not in AGENT_KINDS:
        raise ValueError(f"unknown agent kind {kind!r}; expected one of {', '.join(AGENT_KINDS)}")
    if kind == "aggregation":
        if policy is None:
            from riskmesh.agents.policy_file import configured_policies

            policy, configured_shadow = configured_policies()
            shadow = shadow if shadow is not None else configured_shadow
        return AggregationAgentImpl(policy, tools=tools, shadow=shadow)
    if tools is None:
        raise ValueError(f"the {kind} agent needs a ToolCaller for {', '.join(MCP_SERVERS_FOR_AGENT[kind])}")
    if kind == "action":
        return ActionAgentImpl(tools)
    if kind == "fraud":
        return FraudAgent.from_environment(tools)
    return _ANALYSIS[kind](tools)
