"""The soc-telemetry MCP server in process: read tools by indicator and window, IOC tools, containment, policy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from soc_specialist_world import SocWorld

from riskmesh.agents.base import ToolCallError
from riskmesh.agents.mcp_client import McpToolCaller
from riskmesh.mcp_servers.serve import build_servers
from riskmesh.mcp_servers.soc_store import TelemetryStore
from riskmesh.mcp_servers.soc_telemetry import build_soc_telemetry_server

SOC = "soc-telemetry"


@pytest.fixture(scope="module")
def soc_server(soc_world: SocWorld):
    return build_soc_telemetry_server(TelemetryStore.load(soc_world.directory))


def window(soc_world: SocWorld) -> dict[str, str]:
    t = soc_world.telemetry.takeovers[0]
    at = datetime.fromtimestamp(t.first_ms / 1000, UTC)
    return {"window_start": (at - timedelta(hours=72)).isoformat(), "window_end": (at + timedelta(hours=1)).isoformat()}


async def call(server, caller: str, tool: str, args: dict) -> dict:
    async with McpToolCaller.in_process({SOC: server}, caller=caller) as tools:
        return await tools.call(SOC, tool, args)


async def test_an_account_indicator_finds_its_customers_logins_including_the_botnet_ones(soc_server, soc_world):
    t = soc_world.telemetry.takeovers[0]
    answer = await call(soc_server, "network-log", "auth_events",
                        {"indicators": [{"kind": "account", "value": t.account_id}], **window(soc_world)})
    records = answer["records"]
    assert records and {r["customer_id"] for r in records} == {t.customer_id}
    assert any(r["ip"] == t.ip and r["result"] == "success" for r in records)
    assert answer["total"] == len(records) and answer["truncated"] is False


async def test_limit_truncates_and_says_so(soc_server, soc_world):
    ip = soc_world.telemetry.takeovers[0].ip
    answer = await call(soc_server, "network-log", "auth_events",
                        {"indicators": [{"kind": "ip", "value": ip}], "limit": 2, **window(soc_world)})
    assert len(answer["records"]) == 2 and answer["total"] > 2 and answer["truncated"] is True


async def test_flows_of_a_bot_show_401s_at_the_login_endpoint(soc_server, soc_world):
    ip = soc_world.telemetry.takeovers[0].ip
    answer = await call(soc_server, "network-log", "network_flows",
                        {"indicators": [{"kind": "ip", "value": ip}], **window(soc_world)})
    assert sum(r["http_401"] for r in answer["records"]) >= 5


async def test_ioc_lookup_and_sightings_connect_the_victim_to_listed_iocs(soc_server, soc_world):
    t = soc_world.telemetry.takeovers[0]
    listed = next(i for i in soc_world.telemetry.iocs if i["kind"] == "ip")
    found = await call(soc_server, "threat-intel", "ioc_lookup", {"indicators": [
        {"kind": "ip", "value": listed["value"]}, {"kind": "ip", "value": "192.0.2.1"},
        {"kind": "account", "value": "x"}]})
    assert [m["value"] for m in found["matches"]] == [listed["value"]]
    assert found["misses"] == [{"kind": "ip", "value": "192.0.2.1"}]
    seen = await call(soc_server, "threat-intel", "ioc_sightings",
                      {"indicators": [{"kind": "customer", "value": t.customer_id}], **window(soc_world)})
    kinds = {s["ioc"]["kind"] for s in seen["sightings"]}
    assert "hash" in kinds and all(s["entities"] == [{"kind": "customer", "value": t.customer_id}]
                                   for s in seen["sightings"])


@pytest.mark.parametrize(("caller", "tool"), [("threat-intel", "auth_events"), ("network-log", "endpoint_events"),
                                               ("endpoint-forensics", "block_ip"), ("fraud", "auth_events")])
async def test_each_caller_reaches_only_the_tools_its_policy_lists(soc_server, soc_world, caller, tool):
    args = {"ip": "192.0.2.1", "actor": "x", "reason": "y"} if tool == "block_ip" else {
        "indicators": [{"kind": "ip", "value": "192.0.2.1"}], **window(soc_world)}
    with pytest.raises(ToolCallError, match=f"may not call soc-telemetry.{tool}"):
        await call(soc_server, caller, tool, args)


async def test_a_window_longer_than_a_month_or_reversed_is_refused(soc_server):
    for start, end in (("2026-01-01T00:00:00Z", "2026-03-01T00:00:00Z"),
                       ("2026-01-02T00:00:00Z", "2026-01-01T00:00:00Z")):
        with pytest.raises(ToolCallError, match="window"):
            await call(soc_server, "network-log", "auth_events", {
                "indicators": [{"kind": "ip", "value": "192.0.2.1"}], "window_start": start, "window_end": end})


async def test_containment_is_recorded_once_per_target_and_listed(soc_world):
    server = build_soc_telemetry_server(TelemetryStore.load(soc_world.directory))
    first = await call(server, "incident-response", "block_ip", {"ip": "203.0.113.9", "actor": "sol", "reason": "bot"})
    again = await call(server, "incident-response", "block_ip",
                       {"ip": "203.0.113.9", "requested_by": "ana", "reason": "again"})
    assert first["created"] is True and again["created"] is False
    assert again["containment"] == first["containment"] and first["containment"]["actor"] == "sol"
    reset = await call(server, "incident-response", "force_password_reset", {"user": "c000001", "actor": "sol"})
    assert reset["containment"]["target"] == "user:c000001"
    with pytest.raises(ToolCallError, match="not an IP"):
        await call(server, "incident-response", "block_ip", {"ip": "999.1.1.1", "actor": "sol"})
    with pytest.raises(ToolCallError, match="exactly one"):
        await call(server, "incident-response", "force_password_reset", {"actor": "sol"})
    listed = await call(server, "", "list_containment", {})  # unnamed in-process tooling is trusted
    assert [c["action"] for c in listed["containment"]] == ["block_ip", "force_password_reset"]


def test_the_mcp_host_serves_soc_telemetry_from_the_world_directory(soc_world):
    servers = build_servers(soc_world.directory, only=["soc-telemetry"])
    assert list(servers) == ["soc-telemetry"]
