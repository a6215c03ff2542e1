from __future__ import annotations

import asyncio
import socket

import anyio
import pytest
import uvicorn
from mcp.server.mcpserver import Context, MCPServer
from mcp.types import CallToolResult, TextContent

from riskmesh.agents.base import ToolCaller, ToolCallError
from riskmesh.agents.mcp_client import McpToolCaller


def make_server() -> MCPServer:
    server = MCPServer("customer-data")

    @server.tool(structured_output=False)
    async def echo(value: int, ctx: Context) -> CallToolResult:
        headers = ctx.headers or {}
        return CallToolResult(
            content=[],
            structured_content={
                "value": value,
                "caller": headers.get("x-riskmesh-caller"),
                "auth": headers.get("authorization"),
            },
        )

    @server.tool(structured_output=False)
    async def as_text(value: int) -> CallToolResult:
        return CallToolResult(content=[TextContent(type="text", text=f'{{"value": {value}}}')])

    @server.tool(structured_output=False)
    async def refuse(value: int) -> CallToolResult:
        return CallToolResult(content=[TextContent(type="text", text="caller fraud may not read x")], is_error=True)

    return server


async def test_call_returns_the_structured_content_of_an_in_process_server():
    tools = McpToolCaller.in_process({"customer-data": make_server()}, caller="fraud")
    try:
        assert isinstance(tools, ToolCaller)
        assert (await tools.call("customer-data", "echo", {"value": 3}))["value"] == 3
        assert await tools.call("customer-data", "as_text", {"value": 4}) == {"value": 4}
        assert tools.calls == {"customer-data": 2}
    finally:
        await tools.aclose()


async def test_one_session_per_server_is_kept_across_calls():
    tools = McpToolCaller.in_process({"customer-data": make_server()}, caller="fraud")
    try:
        await asyncio.gather(*(tools.call("customer-data", "echo", {"value": i}) for i in range(5)))
        first = tools._sessions["customer-data"]
        await tools.call("customer-data", "echo", {"value": 9})
        assert tools._sessions["customer-data"] is first
    finally:
        await tools.aclose()
    assert tools._sessions == {}


async def test_tool_error_becomes_tool_call_error_with_the_server_text_and_keeps_the_session():
    tools = McpToolCaller.in_process({"customer-data": make_server()}, caller="fraud")
    try:
        await tools.call("customer-data", "echo", {"value": 1})
        session = tools._sessions["customer-data"]
        with pytest.raises(ToolCallError, match="caller fraud may not read x") as caught:
            await tools.call("customer-data", "refuse", {"value": 1})
        assert (caught.value.server, caught.value.tool) == ("customer-data", "refuse")
        with pytest.raises(ToolCallError, match="value"):
            await tools.call("customer-data", "echo", {"value": "not a number"})
        assert tools._sessions["customer-data"] is session
    finally:
        await tools.aclose()


async def test_unconfigured_server_is_a_tool_call_error():
    tools = McpToolCaller({}, caller="fraud")
    with pytest.raises(ToolCallError, match="no MCP server configured"):
        await tools.call("credit-bureau", "get_credit_batch", {})


async def test_transport_failure_drops_the_session_and_the_next_call_reconnects(monkeypatch):
    tools = McpToolCaller.in_process({"customer-data": make_server()}, caller="fraud")
    try:
        await tools.call("customer-data", "echo", {"value": 1})
        broken = tools._sessions["customer-data"]

        async def closed(*args, **kwargs):
            raise anyio.ClosedResourceError

        monkeypatch.setattr(broken.client, "call_tool", closed)
        with pytest.raises(ToolCallError, match="transport failure: ClosedResourceError"):
            await tools.call("customer-data", "echo", {"value": 2})
        assert "customer-data" not in tools._sessions
        assert (await tools.call("customer-data", "echo", {"value": 3}))["value"] == 3
        assert tools._sessions["customer-data"] is not broken
    finally:
        await tools.aclose()


async def test_unreachable_url_is_a_tool_call_error():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    tools = McpToolCaller({"watchlists": f"http://127.0.0.1:{port}/mcp"}, caller="compliance", timeout_s=5)
    with pytest.raises(ToolCallError, match="transport failure"):
        await tools.call("watchlists", "screen_names_batch", {"names": []})
    await tools.aclose()


async def test_http_calls_carry_the_caller_and_token_and_survive_a_server_restart():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    async def serve() -> tuple[uvicorn.Server, asyncio.Task]:
        """A fresh server process stand-in on the same port (session managers run once per app)."""
        app = make_server().streamable_http_app(streamable_http_path="/mcp", stateless_http=True, json_response=True)
        config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
        server = uvicorn.Server(config)
        task = asyncio.create_task(server.serve())
        async with asyncio.timeout(10):
            while not server.started:
                assert not task.done(), "the MCP test server failed to start"
                await asyncio.sleep(0.01)
        return server, task

    tools = McpToolCaller({"customer-data": f"http://127.0.0.1:{port}/mcp"}, caller="fraud", token="t0k")
    server, task = await serve()
    try:
        answer = await tools.call("customer-data", "echo", {"value": 1})
        assert (answer["caller"], answer["auth"]) == ("fraud", "Bearer t0k")
        server.should_exit = True
        await task
        with pytest.raises(ToolCallError):
            await tools.call("customer-data", "echo", {"value": 2})
        server, task = await serve()
        assert (await tools.call("customer-data", "echo", {"value": 3}))["value"] == 3
        assert tools.calls == {"customer-data": 3}
    finally:
        await tools.aclose()
        server.should_exit = True
        await task
