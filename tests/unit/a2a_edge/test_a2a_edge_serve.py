"""The agent process entrypoint: arguments, wiring of agent and tool caller, clean stop on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import types

import httpx
import pytest
from a2a_edge_doubles import TOKEN, FakeAnalysisAgent, free_port, make_tx

from riskmesh.a2a.client import AgentClient
from riskmesh.a2a.serve import parse_args, run
from riskmesh.contracts import AssessBatchRequest


def test_arguments_name_the_agent_ports_and_each_mcp_server():
    args = parse_args(
        [
            "--agent",
            "fraud",
            "--http-port",
            "8001",
            "--grpc-port",
            "9001",
            "--token",
            "t",
            "--mcp",
            "customer-data=http://127.0.0.1:7001/mcp",
            "--mcp",
            "transactions=http://127.0.0.1:7002/mcp",
        ]
    )
    assert (args.agent, args.host, args.http_port, args.grpc_port, args.token) == (
        "fraud",
        "127.0.0.1",
        8001,
        9001,
        "t",
    )
    assert dict(args.mcp) == {
        "customer-data": "http://127.0.0.1:7001/mcp",
        "transactions": "http://127.0.0.1:7002/mcp",
    }


def test_tokens_may_come_from_the_environment_instead_of_the_process_list(monkeypatch):
    monkeypatch.setenv("RISKMESH_A2A_TOKEN", "from-env")
    monkeypatch.setenv("RISKMESH_MCP_TOKEN", "mcp-env")
    args = parse_args(["--agent", "credit", "--http-port", "1", "--grpc-port", "2"])
    assert (args.token, args.mcp_token) == ("from-env", "mcp-env")


@pytest.mark.parametrize(
    "argv",
    [
        ["--agent", "fraud", "--http-port", "1", "--grpc-port", "2"],  # no token anywhere
        ["--agent", "oracle", "--http-port", "1", "--grpc-port", "2", "--token", "t"],
        ["--agent", "fraud", "--http-port", "1", "--grpc-port", "2", "--token", "t", "--mcp", "no-url"],
        ["--agent", "fraud", "--http-port", "1", "--grpc-port", "2", "--token", "t", "--mcp", "a=u", "--mcp", "a=v"],
    ],
)
def test_bad_arguments_stop_the_process_before_anything_starts(monkeypatch, argv):
    monkeypatch.delenv("RISKMESH_A2A_TOKEN", raising=False)
    with pytest.raises(SystemExit) as stopped:
        parse_args(argv)
    assert stopped.value.code == 2


class FakeToolCaller:
    instances: list[FakeToolCaller] = []

    def __init__(self, urls: dict[str, str], caller: str, token: str) -> None:
        self.urls, self.caller, self.token, self.closed = urls, caller, token, False
        FakeToolCaller.instances.append(self)

    async def call(self, server, tool, arguments):
        return {}

    async def aclose(self) -> None:
        self.closed = True


@pytest.fixture
def fake_wiring(monkeypatch):
    """Stand-ins for riskmesh.agents.registry / mcp_client, so this test does not depend on agent logic."""
    FakeToolCaller.instances.clear()
    built: list[tuple[str, object]] = []

    def build_agent(kind, tools):
        built.append((kind, tools))
        return FakeAnalysisAgent(kind)

    registry = types.SimpleNamespace(build_agent=build_agent, MCP_SERVERS_FOR_AGENT={"behaviour": ("transactions",)})
    monkeypatch.setitem(sys.modules, "riskmesh.agents.registry", registry)
    monkeypatch.setitem(sys.modules, "riskmesh.agents.mcp_client", types.SimpleNamespace(McpToolCaller=FakeToolCaller))
    return built


async def _wait_healthy(url: str) -> None:
    async with httpx.AsyncClient(timeout=1.0) as http, asyncio.timeout(10):
        while True:
            try:
                if (await http.get(url)).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.02)


async def test_the_entrypoint_serves_the_built_agent_and_closes_its_tool_caller_on_sigterm(fake_wiring):
    http_port, grpc_port = free_port(), free_port()
    args = parse_args(
        [
            "--agent",
            "behaviour",
            "--http-port",
            str(http_port),
            "--grpc-port",
            str(grpc_port),
            "--token",
            TOKEN,
            "--mcp",
            "transactions=http://127.0.0.1:1/mcp",
            "--mcp",
            "watchlists=http://127.0.0.1:2/mcp",
            "--mcp-token",
            "mcp-t",
        ]
    )
    serving = asyncio.create_task(run(args))
    client = AgentClient("behaviour", f"http://127.0.0.1:{http_port}/", TOKEN)
    try:
        await _wait_healthy(f"http://127.0.0.1:{http_port}/healthz")
        response = await client.assess(AssessBatchRequest(batch_id="b", transactions=[make_tx(1)]), timeout_s=10)
        assert response.agent == "behaviour"
        os.kill(os.getpid(), signal.SIGTERM)  # serve_agent's handler turns this into a clean stop
        await asyncio.wait_for(serving, timeout=10)
    finally:
        await client.aclose()
        if not serving.done():
            serving.cancel()
    [tools] = FakeToolCaller.instances
    assert (tools.urls, tools.caller, tools.token) == ({"transactions": "http://127.0.0.1:1/mcp"}, "behaviour", "mcp-t")
    assert tools.closed
    assert [kind for kind, _ in fake_wiring] == ["behaviour"]
