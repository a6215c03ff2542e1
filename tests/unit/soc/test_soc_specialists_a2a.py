"""The three specialists over real A2A HTTP, hosted by the SOC serve process code, reading soc-telemetry over MCP."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest
import uvicorn
from a2a.client import A2ACardResolver, ClientConfig, ClientFactory
from a2a.types import Message, Part, Role, SendMessageRequest, TaskState
from soc_specialist_world import SocWorld

from riskmesh.a2a.soc_serve import parse_args, serve_soc
from riskmesh.agents.soc.investigator import WINDOW_AFTER, WINDOW_BEFORE
from riskmesh.contracts.investigation import (
    FINDINGS_MEDIA_TYPE,
    INVESTIGATION_REQUEST_MEDIA_TYPE,
    FindingBatch,
    Indicator,
    InvestigationRequest,
)
from riskmesh.mcp_servers.serve import build_servers, http_app

TOKEN, MCP_TOKEN = "soc-test-token", "soc-test-mcp-token"
AGENTS = ("network-log", "endpoint-forensics", "threat-intel")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
async def soc_agents(soc_world: SocWorld) -> AsyncIterator[dict[str, str]]:
    """soc-telemetry over streamable HTTP and the three agents in one `serve_soc`, on free ports."""
    mcp_port = free_port()
    app = http_app(build_servers(soc_world.directory, token=MCP_TOKEN, only=["soc-telemetry"])["soc-telemetry"])
    mcp = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=mcp_port, log_level="error", lifespan="on"))
    mcp_task = asyncio.create_task(mcp.serve())
    args = parse_args(["--token", TOKEN, "--mcp-token", MCP_TOKEN, "--mcp",
                       f"soc-telemetry=http://127.0.0.1:{mcp_port}/mcp", *(f"--agent={a}=0" for a in AGENTS)])
    stop, urls = asyncio.Event(), asyncio.get_running_loop().create_future()
    soc_task = asyncio.create_task(serve_soc(args, stop, urls.set_result))
    try:
        async with asyncio.timeout(15):
            while not mcp.started:  # noqa: ASYNC110 (uvicorn offers a flag, not an event)
                await asyncio.sleep(0.01)
            yield await urls
    finally:
        stop.set()
        mcp.should_exit = True
        async with asyncio.timeout(10):
            await asyncio.gather(soc_task, mcp_task, return_exceptions=True)


def takeover_request(soc_world: SocWorld) -> InvestigationRequest:
    """What the investigator sends for a takeover alert: account, customer, device, IP; 72 h before to 1 h after."""
    t = soc_world.telemetry.takeovers[-1]
    at = datetime.fromtimestamp(t.first_ms / 1000, UTC)
    indicators = [Indicator(kind=k, value=v) for k, v in  # type: ignore[arg-type]
                  (("account", t.account_id), ("customer", t.customer_id), ("device", t.device_id), ("ip", t.ip))]
    return InvestigationRequest(investigation_id=f"INV-{uuid.uuid4().hex[:8]}", alert_id="AL-test",
                                indicators=indicators, window_start=at - WINDOW_BEFORE, window_end=at + WINDOW_AFTER,
                                requested_by="test")


async def stream(url: str, request: InvestigationRequest) -> list:
    async with httpx.AsyncClient(headers={"authorization": f"Bearer {TOKEN}"}, timeout=10) as http:
        card = await A2ACardResolver(http, url).get_agent_card()
        client = ClientFactory(ClientConfig(streaming=True, httpx_client=http)).create(card)
        message = Message(message_id=uuid.uuid4().hex, role=Role.ROLE_USER, parts=[
            Part(raw=request.model_dump_json().encode(), media_type=INVESTIGATION_REQUEST_MEDIA_TYPE)])
        async with asyncio.timeout(10):
            return [event async for event in client.send_message(SendMessageRequest(message=message))]


def batches(events: list) -> list[FindingBatch]:
    return [FindingBatch.model_validate_json(p.raw) for e in events if e.HasField("artifact_update")
            for p in e.artifact_update.artifact.parts if p.media_type == FINDINGS_MEDIA_TYPE]


@pytest.mark.parametrize(("agent", "expected"), [
    ("network-log", {"credential_stuffing", "account_compromise"}),
    ("endpoint-forensics", {"new_device", "malware_process", "login_from_new_device"}),
    ("threat-intel", {"ioc_sighting", "campaign_attribution"}),
])
async def test_each_specialist_streams_its_steps_and_finds_the_linked_incident(soc_agents, soc_world, agent, expected):
    request = takeover_request(soc_world)
    events = await stream(soc_agents[agent], request)
    found = batches(events)
    assert len(found) >= 2 and found[-1].final and not any(b.final for b in found[:-1])
    assert all(b.agent == agent and b.investigation_id == request.investigation_id for b in found)
    kinds = {f.kind for b in found for f in b.findings}
    assert expected <= kinds, f"{agent} found {kinds}"
    notes = [e.status_update.status.message.parts[0].text for e in events if e.HasField("status_update")
             and e.status_update.status.state == TaskState.TASK_STATE_WORKING and e.status_update.status.message.parts]
    assert any("…" in n for n in notes)
    last = events[-1]
    assert last.HasField("status_update") and last.status_update.status.state == TaskState.TASK_STATE_COMPLETED


async def test_the_alert_ip_of_a_takeover_is_tied_to_stuffing_by_the_network_agent(soc_agents, soc_world):
    request = takeover_request(soc_world)
    found = [f for b in batches(await stream(soc_agents["network-log"], request)) for f in b.findings]
    ip = next(i.value for i in request.indicators if i.kind == "ip")
    assert any(f.kind == "credential_stuffing" and Indicator(kind="ip", value=ip) in f.entities for f in found)


async def test_cards_advertise_streaming_and_skill_tags_and_calls_need_the_token(soc_agents):
    async with httpx.AsyncClient(timeout=5) as http:
        for agent, url in soc_agents.items():
            card = (await http.get(url + ".well-known/agent-card.json")).json()
            assert card["capabilities"]["streaming"] is True
            assert card["skills"][0]["tags"][:2] == ["soc", "investigation"]
            assert card["skills"][0]["id"].startswith("investigate-") and card["name"] == f"riskmesh-{agent}"
            refused = await http.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "SendMessage", "params": {}})
            assert refused.status_code == 401


@pytest.mark.parametrize(("part", "message"), [
    ({"text": json.dumps({"investigation_id": "I-1", "requested_by": "x"}), "mediaType": "application/json"},
     "window_start"),
    ({"text": "not json", "mediaType": "application/json"}, "not valid JSON"),
    ({"text": "{}", "mediaType": "image/png"}, "is not accepted"),
])
@pytest.mark.parametrize("method", ["SendMessage", "SendStreamingMessage"])
async def test_bad_input_gets_one_clear_a2a_error_and_no_task(soc_agents, part, message, method):
    body = {"jsonrpc": "2.0", "id": 1, "method": method,
            "params": {"message": {"messageId": "m-1", "role": "ROLE_USER", "parts": [part]}}}
    headers = {"authorization": f"Bearer {TOKEN}", "A2A-Version": "1.0"}
    async with httpx.AsyncClient(timeout=5) as http:
        response = await http.post(soc_agents["threat-intel"], json=body, headers=headers)
    assert response.headers["content-type"] == "application/json"  # refused before a stream (or a task) opens
    error = response.json()["error"]
    assert message in error["message"] and error["code"] in (-32600, -32602, -32005)


def test_the_process_refuses_unknown_agents_and_missing_tokens(monkeypatch):
    monkeypatch.delenv("RISKMESH_A2A_TOKEN", raising=False)
    for argv in (["--agent", "network-log=1"], ["--token", "t", "--agent", "oracle=1"], ["--token", "t"]):
        with pytest.raises(SystemExit), contextlib.redirect_stderr(None):
            parse_args(argv)
