"""Per-caller permission policy: refusals, field masking and the call log, over HTTP and in process."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import httpx2
import pytest
import uvicorn
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from pydantic import ValidationError

from riskmesh.agents.base import ToolCallError
from riskmesh.agents.mcp_client import McpToolCaller
from riskmesh.mcp_servers.policy import DEFAULT_POLICY, AccessPolicy, load_policy
from riskmesh.mcp_servers.serve import build_servers, http_app
from tests.unit.mcp_servers.tool_payload import payload


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
async def customer_data_url(world_dir: Path) -> AsyncIterator[str]:
    """customer-data over real streamable HTTP (uvicorn in this process), bearer token `tok`."""
    app = http_app(build_servers(world_dir, None, token="tok", only=["customer-data"])["customer-data"])
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    task = asyncio.create_task(server.serve())
    async with asyncio.timeout(10):
        while not server.started:
            assert not task.done(), "customer-data failed to start"
            await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        server.should_exit = True
        await task


def _call_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.getMessage().startswith("mcp call")]


async def test_the_behaviour_identity_cannot_read_names_and_is_refused_other_tools_and_both_are_logged(
    customer_data_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    tools = McpToolCaller({"customer-data": customer_data_url}, caller="behaviour", token="tok")
    try:
        with caplog.at_level(logging.INFO, logger="riskmesh.mcp.customer-data"):
            seen = await tools.call("customer-data", "get_customers_batch", {"customer_ids": ["C1", "C2"]})
            with pytest.raises(ToolCallError) as refused:
                await tools.call("customer-data", "get_devices_batch", {"device_ids": ["D-1"]})
    finally:
        await tools.aclose()
    assert all("name" not in c for c in seen["customers"].values())
    assert seen["customers"]["C1"]["segment"] == "retail"
    assert "caller 'behaviour' may not call customer-data.get_devices_batch" in str(refused.value)
    logged = [(r.mcp_caller, r.mcp_tool, r.mcp_outcome, r.mcp_items, r.mcp_masked) for r in _call_records(caplog)]
    assert logged == [
        ("behaviour", "get_customers_batch", "masked", 2, 2),
        ("behaviour", "get_devices_batch", "denied", 1, 0),
    ]


async def test_a_caller_without_a_name_is_refused_over_http(customer_data_url: str) -> None:
    http = httpx2.AsyncClient(headers={"authorization": "Bearer tok"}, timeout=10)
    async with Client(streamable_http_client(customer_data_url, http_client=http)) as client:
        result = await client.call_tool("get_customers_batch", {"customer_ids": ["C1"]})
    assert result.is_error
    assert "caller 'unknown' may not call customer-data.get_customers_batch" in result.content[0].text


async def test_in_process_callers_are_named_in_the_request_meta_and_held_to_their_policy(world_dir: Path) -> None:
    servers = build_servers(world_dir, None, only=["customer-data"])
    fraud = McpToolCaller.in_process(servers, caller="fraud")
    compliance = McpToolCaller.in_process(servers, caller="compliance")
    try:
        as_fraud = await fraud.call("customer-data", "get_customers_batch", {"customer_ids": ["C1"]})
        as_compliance = await compliance.call("customer-data", "get_customers_batch", {"customer_ids": ["C1"]})
    finally:
        await fraud.aclose()
        await compliance.aclose()
    assert as_fraud["customers"]["C1"]["name"] == "***"
    assert as_fraud["customers"]["C1"]["kyc_risk"] == "low"
    assert as_compliance["customers"]["C1"]["name"] == "Li Wei"
    assert as_compliance["customers"]["C1"]["pep"] is False


async def test_an_unnamed_in_process_client_is_trusted_code_and_sees_everything(world_dir: Path) -> None:
    servers = build_servers(world_dir, None, only=["customer-data"])
    async with Client(servers["customer-data"]) as client:
        result = await client.call_tool("get_devices_batch", {"device_ids": ["D-1"]})
    assert payload(result)["devices"]["D-1"]["customer_ids"] == ["C1"]


async def test_every_tool_named_in_the_default_policy_exists_on_its_server(world_dir: Path) -> None:
    servers = build_servers(world_dir, None)
    for caller, rules in DEFAULT_POLICY.items():
        for server, tools in rules["tools"].items():
            assert server in servers, f"{caller}: unknown server {server}"
            if tools != "*":
                known = {t.name for t in await servers[server].list_tools()}
                assert set(tools) <= known, f"{caller}: {set(tools) - known} not on {server}"


def test_a_policy_file_replaces_the_default_and_a_bad_action_is_refused_at_start_up(tmp_path: Path) -> None:
    path = tmp_path / "policy.json"
    path.write_text(json.dumps({"auditor": {"tools": {"customer-data": "*"}, "fields": {}}}))
    policy = load_policy(path)
    assert policy.allows("auditor", "customer-data", "get_devices_batch")
    assert not policy.allows("fraud", "customer-data", "get_customers_batch")
    assert load_policy(None) == AccessPolicy.default()
    with pytest.raises(ValidationError):
        AccessPolicy.from_table({"x": {"tools": {}, "fields": {"customer": {"name": "shred"}}}})
