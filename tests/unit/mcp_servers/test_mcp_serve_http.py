"""serve.py as its own process: real streamable HTTP, health checks, bearer token, clean SIGTERM."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from riskmesh.mcp_servers.serve import READY_PREFIX
from tests.unit.mcp_servers.tool_payload import payload

START_TIMEOUT_S = 60


async def _wait_ready(process: asyncio.subprocess.Process) -> dict[str, str]:
    """The `name=url` pairs of the ready line; fail (bounded) if the process ends or stays silent."""
    assert process.stdout is not None
    while True:
        line = (await process.stdout.readline()).decode()
        if not line:
            stderr = (await process.stderr.read()).decode() if process.stderr else ""
            pytest.fail(f"serve.py exited before it was ready: {stderr[-2000:]}")
        if line.startswith(READY_PREFIX):
            return dict(pair.split("=", 1) for pair in line[len(READY_PREFIX) :].split())


@pytest.fixture
async def served(world_dir: Path, redis_socket: str):
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "riskmesh.mcp_servers.serve",
        "--world",
        str(world_dir),
        "--redis-url",
        f"unix://{redis_socket}",
        "--host",
        "127.0.0.1",
        "--port",
        "customer-data=0",
        "--port",
        "transactions=0",
        "--token",
        "tok",
        "--log-level",
        "WARNING",
        "--only",
        "customer-data",
        "transactions",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        urls = await asyncio.wait_for(_wait_ready(process), START_TIMEOUT_S)
        yield process, urls
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), 20)
            except TimeoutError:
                process.kill()
                await process.wait()


def _client(url: str, token: str) -> Client:
    http = httpx2.AsyncClient(headers={"authorization": f"Bearer {token}", "x-riskmesh-caller": "fraud"}, timeout=20)
    return Client(streamable_http_client(url, http_client=http))


async def test_the_servers_answer_over_http_refuse_a_wrong_token_and_stop_on_sigterm(served) -> None:
    process, urls = served
    assert set(urls) == {"customer-data", "transactions"}
    async with httpx2.AsyncClient(timeout=10) as http:
        health = await http.get(urls["customer-data"].removesuffix("/mcp") + "/healthz")
    assert health.status_code == 200

    async with _client(urls["customer-data"], "tok") as client:
        result = await client.call_tool("get_customers_batch", {"customer_ids": ["C1"], "account_ids": ["A1-01"]})
    assert not result.is_error, result.content
    customer = payload(result)["customers"]["C1"]
    assert customer["name"] == "***" and customer["kyc_risk"] == "low"  # the fraud caller's policy masks names

    async with _client(urls["transactions"], "tok") as client:
        tx = {
            "tx_id": "T1",
            "ts": "2026-11-21T09:15:02Z",
            "account_id": "A1-01",
            "amount": "5",
            "currency": "CNY",
        }
        features = await client.call_tool("features_batch", {"transactions": [tx]})
    assert payload(features)["features"]["T1"]["n_history"] == 0

    async with _client(urls["customer-data"], "wrong") as client:
        refused = await client.call_tool("get_customers_batch", {"customer_ids": ["C1"], "account_ids": []})
    assert refused.is_error
    assert "unauthorised" in refused.content[0].text

    process.send_signal(signal.SIGTERM)
    assert await asyncio.wait_for(process.wait(), 20) == 0
