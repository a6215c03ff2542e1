"""The aggregation agent against the real MCP servers in process, as its caller policy lets it see them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agent_doubles import make_tx

from riskmesh.agents.aggregation import AggregationAgentImpl, ThresholdOverride
from riskmesh.agents.mcp_client import McpToolCaller
from riskmesh.agents.policy_file import load_policy_file, to_policy
from riskmesh.agents.registry import MCP_SERVERS_FOR_AGENT
from riskmesh.contracts import AgentVerdict, AggregationRequest
from riskmesh.mcp_servers.serve import build_servers
from riskmesh.orchestrator.synth import World

SHIPPED = Path(__file__).resolve().parents[3] / "policies" / "policy-1.yaml"


class Recording:
    def __init__(self, inner: McpToolCaller) -> None:
        self.inner = inner
        self.answers: list[tuple[str, dict[str, Any]]] = []

    async def call(self, server: str, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
        answer = await self.inner.call(server, tool, arguments)
        self.answers.append((tool, answer))
        return answer


async def test_segment_branch_and_frozen_accounts_come_through_mcp_without_customer_names(tmp_path: Path) -> None:
    world = World.generate(seed=5, customers=20)
    frozen = world.accounts[0]
    normal = next(a for a in world.accounts if a.customer_id != frozen.customer_id)
    world.accounts[0] = frozen.model_copy(update={"status": "frozen"})
    world.write(tmp_path)
    owner = next(c for c in world.customers if c.customer_id == normal.customer_id)
    servers = build_servers(tmp_path, None)
    caller = McpToolCaller.in_process({s: servers[s] for s in MCP_SERVERS_FOR_AGENT["aggregation"]},
                                      caller="aggregation")
    tools = Recording(caller)
    policy = to_policy(load_policy_file(SHIPPED)).model_copy(update={
        "branches": {owner.metadata["branch"]: ThresholdOverride(review_threshold=0.01)},
        "hard_rules": to_policy(load_policy_file(SHIPPED)).hard_rules.model_copy(update={"reportable_amount": "off"}),
    })
    txs = [make_tx("T1", debtor={"customer_id": frozen.customer_id, "account_id": frozen.account_id}),
           make_tx("T2", debtor={"customer_id": normal.customer_id, "account_id": normal.account_id})]
    verdicts = {a: [AgentVerdict(tx_id=t.tx_id, agent=a, score=0.05, model_version="x") for t in txs]
                for a in ("fraud", "credit", "behaviour", "compliance")}
    try:
        response = await AggregationAgentImpl(policy, tools=tools).aggregate(
            AggregationRequest(batch_id="B", transactions=txs, verdicts=verdicts))
    finally:
        await caller.aclose()
    by_id = {d.tx_id: d for d in response.decisions}
    assert (by_id["T1"].decision, by_id["T1"].reasons[0].code) == ("block", "HARD_RULE_FROZEN_ACCOUNT")
    assert by_id["T2"].decision == "review"
    assert by_id["T2"].reasons[-1].code == "AGGREGATION_THRESHOLD_OVERRIDE"
    assert owner.metadata["branch"] in by_id["T2"].reasons[-1].detail
    assert [tool for tool, _ in tools.answers] == ["get_customers_batch", "get_account_controls_batch"]
    customers = tools.answers[0][1]["customers"]
    assert customers and all("name" not in c for c in customers.values() if c), "names are dropped for aggregation"
