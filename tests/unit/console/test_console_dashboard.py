"""Dashboard figures from the workers' Redis counters and agent card probes."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest
from redis.asyncio import Redis

from riskmesh.orchestrator.console.dashboard import RedisDashboard
from riskmesh.orchestrator.worker import STATS_PIPELINE, WORKERS_KEY


@pytest.fixture
async def client(redis_socket: str) -> AsyncIterator[Redis]:
    client = Redis(unix_socket_path=redis_socket)
    await client.flushdb()
    try:
        yield client
    finally:
        await client.aclose()


def _agents() -> httpx.AsyncClient:
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.host == "down":
            raise httpx.ConnectError("refused", request=request)
        return httpx.Response(200, json={"name": "fraud"})

    return httpx.AsyncClient(transport=httpx.MockTransport(answer))


async def test_rates_come_from_counter_differences_and_agents_are_probed_once_per_ttl(client) -> None:
    now = [100.0]
    probes = _agents()
    dash = RedisDashboard(client, {"fraud": "http://up/card", "credit": "http://down/card"}, http=probes,
                          clock=lambda: now[0])
    await client.hset(STATS_PIPELINE, mapping={"decided": 1000, "review": 20, "latency_ms_sum": 5000})
    await client.hset(WORKERS_KEY, "w1", json.dumps({"partitions": ["t:0"], "pid": 1, "at": 0}))
    first = await dash.snapshot()
    assert first["rates"]["decisions_per_s"] is None
    assert first["agents"]["fraud"]["ok"] is True and first["agents"]["credit"]["ok"] is False
    assert first["workers"]["w1"]["partitions"] == ["t:0"]

    now[0] += 2
    await client.hset(STATS_PIPELINE, mapping={"decided": 3000, "review": 50, "latency_ms_sum": 15000})
    second = await dash.snapshot()
    assert second["rates"]["decisions_per_s"] == 1000.0
    assert second["rates"]["review_rate"] == round(50 / 3000, 4)
    assert second["rates"]["latency_ms"] == 5.0
    assert second["pipeline"]["decided"] == 3000
    await probes.aclose()


async def test_without_review_or_latency_counters_those_figures_are_null(client) -> None:
    dash = RedisDashboard(client, {}, clock=lambda: 0.0)
    snapshot = await dash.snapshot()
    assert snapshot["rates"]["review_rate"] is None and snapshot["rates"]["latency_ms"] is None
    assert snapshot["agents"] == {}
    await dash.aclose()
