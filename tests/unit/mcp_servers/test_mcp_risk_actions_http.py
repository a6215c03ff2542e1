"""risk-actions served by serve.py over real streamable HTTP and Redis: decisions, escalation, resolutions."""

from __future__ import annotations

import asyncio
import signal
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from test_mcp_serve_http import START_TIMEOUT_S, _wait_ready

from riskmesh.mcp_servers.risk_actions import alert_id_for
from tests.unit.mcp_servers.tool_payload import payload

NOW = datetime.now(UTC)  # account hits are counted over a window ending at the server's clock
DECIDED_AT = NOW.isoformat()
RESOLVED_AT = (NOW + timedelta(minutes=5)).isoformat()


@pytest.fixture
async def risk_actions_url(world_dir: Path, redis_socket: str, redis_client):
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "riskmesh.mcp_servers.serve", "--world", str(world_dir),
        "--redis-url", f"unix://{redis_socket}", "--port", "risk-actions=0", "--token", "tok",
        "--log-level", "WARNING", "--only", "risk-actions",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        urls = await asyncio.wait_for(_wait_ready(process), START_TIMEOUT_S)
        yield urls["risk-actions"]
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), 20)
        except TimeoutError:
            process.kill()
            await process.wait()


def _client(url: str, caller: str) -> Client:
    http = httpx2.AsyncClient(headers={"authorization": "Bearer tok", "x-riskmesh-caller": caller}, timeout=20)
    return Client(streamable_http_client(url, http_client=http))


def _decision(n: int) -> dict:
    return {
        "tx_id": f"T{n}", "decision": "review", "risk_score": 0.6, "amount": "99.00", "currency": "EUR",
        "debtor_account_id": "A1-01", "policy_version": "p1", "decided_at": DECIDED_AT,
    }  # fmt: skip


async def test_three_reviews_limit_the_account_and_a_redelivery_changes_nothing(risk_actions_url, redis_client):
    async with _client(risk_actions_url, "action") as action:
        batch = {"items": [_decision(n) for n in range(3)]}
        first = payload(await action.call_tool("apply_decisions_batch", batch))["results"]
        again = payload(await action.call_tool("apply_decisions_batch", batch))["results"]
        resolution = {
            "alert_id": alert_id_for("T0"), "tx_id": "T0", "debtor_account_id": "A1-01", "disposition": "release",
            "decided_by": "alice", "decided_at": RESOLVED_AT,
        }  # fmt: skip
        released = await action.call_tool("apply_resolutions_batch", {"resolutions": [resolution, resolution]})
        refused = await action.call_tool("get_account_controls_batch", {"account_ids": ["A1-01"]})
    async with _client(risk_actions_url, "aggregation") as aggregation:
        controls = await aggregation.call_tool("get_account_controls_batch", {"account_ids": ["A1-01"]})
    assert first == again
    assert first["T2"]["actions"] == ["hold_transaction", "open_alert", "limit_account"]
    assert payload(released)["results"][alert_id_for("T0")]["actions"] == ["release_transaction"]
    assert refused.is_error and "may not call" in refused.content[0].text
    assert payload(controls)["controls"]["A1-01"] == {
        "frozen": False, "level": 2, "active": ["hold", "limit"], "hits": 3,
    }  # fmt: skip
    assert await redis_client.llen("riskmesh:action_log:T0") == 3
    assert await redis_client.zcard("riskmesh:controls:hits:A1-01") == 3
