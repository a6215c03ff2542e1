"""Evidence through real in-process MCP servers: the servers' field policy masks per console role."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from mcp import Client

from riskmesh.agents.base import ToolCallError
from riskmesh.agents.mcp_client import McpToolCaller
from riskmesh.contracts import Alert
from riskmesh.mcp_servers.policy import AccessPolicy
from riskmesh.mcp_servers.serve import build_servers
from riskmesh.orchestrator.console.evidence import ROLE_CALLERS, McpEvidence, history_summary

CUSTOMER = {"customer_id": "C1", "name": "Li Wei", "type": "person", "country": "CN", "segment": "retail",
            "kyc_risk": "low", "date_of_birth": "1980-02-03", "onboarded_at": "2020-01-02T03:04:05Z",
            "address": "1 Bund Road, Shanghai"}
ACCOUNT = {"account_id": "A1-01", "customer_id": "C1", "opened_at": "2020-01-02T03:04:05Z", "product": "current",
           "currency": "CNY", "status": "active"}


@pytest.fixture
async def servers(tmp_path: Path):
    (tmp_path / "customers.jsonl").write_text(json.dumps(CUSTOMER) + "\n")
    (tmp_path / "accounts.jsonl").write_text(json.dumps(ACCOUNT) + "\n")
    servers = build_servers(tmp_path, None, only=["customer-data", "transactions", "risk-graph"])
    history = [{"tx_id": f"H{i}", "ts": f"2026-03-01T0{i}:00:00Z", "account_id": "A1-01", "amount": 10.0 * (i + 1),
                "currency": "CNY", "country": "CN", "creditor_account_id": "B-9"} for i in range(3)]
    async with Client(servers["transactions"]) as trusted:  # unnamed in-process client: the stream's writer
        await trusted.call_tool("features_batch", {"transactions": history, "observe": True})
    return servers


@pytest.fixture
async def evidence(servers):
    source = McpEvidence.in_process(servers)
    try:
        yield source
    finally:
        await source.aclose()


ALERT = Alert(alert_id="AL-1", tx_id="T-9", created_at=datetime(2026, 3, 1, 12, tzinfo=UTC), risk_score=0.9,
              amount=Decimal("5000"), currency="CNY", debtor_account_id="A1-01", policy_version="p1")


async def test_an_analyst_sees_the_customer_with_identity_and_address_fields_masked(evidence) -> None:
    seen = await evidence.evidence(ALERT, "analyst")
    assert seen["errors"] == {}
    customer = seen["customer"]
    assert customer["name"] == "***" and customer["date_of_birth"] == "***" and customer["metadata"] == "***"
    assert customer["kyc_risk"] == "low" and customer["country"] == "CN"
    assert seen["masked_fields"] == ["date_of_birth", "metadata", "name"]
    assert seen["account"]["account_id"] == "A1-01"


async def test_a_compliance_officer_sees_the_same_customer_in_full(evidence) -> None:
    seen = await evidence.evidence(ALERT, "compliance_officer")
    assert seen["customer"]["name"] == "Li Wei"
    assert seen["customer"]["date_of_birth"] == "1980-02-03"
    assert seen["customer"]["metadata"] == {"address": "1 Bund Road, Shanghai"}
    assert seen["masked_fields"] == []


async def test_a_soc_engineer_does_not_receive_the_date_of_birth_at_all(evidence) -> None:
    seen = await evidence.evidence(ALERT, "soc_engineer")
    assert "date_of_birth" not in seen["customer"] and seen["customer"]["name"] == "***"


async def test_recent_history_comes_newest_first_with_a_summary_before_the_alert(evidence) -> None:
    seen = await evidence.evidence(ALERT, "analyst")
    assert [row["tx_id"] for row in seen["history"]] == ["H2", "H1", "H0"]
    assert seen["history"][0]["ts"] == "2026-03-01T02:00:00.000Z"
    assert seen["history_summary"]["count"] == 3
    assert seen["history_summary"]["amount_max"] == 30.0
    assert seen["history_summary"]["count_24h"] == 3


async def test_the_graph_neighbourhood_links_the_account_to_its_owner(evidence) -> None:
    graph = (await evidence.evidence(ALERT, "analyst"))["neighbourhood"]
    assert graph["found"] is True
    ids = {node["id"] for node in graph["nodes"]}
    assert {"account:A1-01", "customer:C1"} <= ids


async def test_a_missing_server_is_reported_per_part_and_the_rest_is_still_shown(servers) -> None:
    partial = {k: v for k, v in servers.items() if k != "risk-graph"}
    source = McpEvidence.in_process(partial)
    try:
        seen = await source.evidence(ALERT, "analyst")
    finally:
        await source.aclose()
    assert "risk-graph" in seen["errors"]["neighbourhood"]
    assert seen["customer"]["kyc_risk"] == "low"


async def test_console_identities_may_only_read_and_never_write_history(servers) -> None:
    policy = AccessPolicy.default()
    for caller in set(ROLE_CALLERS.values()):
        assert not policy.allows(caller, "transactions", "features_batch")
        assert not policy.allows(caller, "risk-graph", "mark_bad_batch")
    async with McpToolCaller.in_process(servers, "console-analyst") as tools:
        with pytest.raises(ToolCallError, match="may not call"):
            await tools.call("transactions", "features_batch", {"transactions": [], "observe": True})


def test_the_history_summary_ignores_transactions_after_the_alert() -> None:
    rows = [{"tx_id": "late", "ts": "2026-03-02T00:00:00Z", "amount": 1e6},
            {"tx_id": "old", "ts": "2026-02-01T00:00:00Z", "amount": 5}]
    summary = history_summary(rows, datetime(2026, 3, 1, tzinfo=UTC))
    assert summary["count"] == 1 and summary["count_24h"] == 0 and summary["amount_max"] == 5
