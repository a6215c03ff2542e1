"""Dashboard figures: throughput and review rate from the workers' Redis counters, agent health from their cards.

Workers add to `riskmesh:stats:pipeline` (decided, emitted, batches, … and, when present, `review` and
`latency_ms_sum`) after every batch. Rates are differences between samples this source keeps over a sliding
window, so every console replica computes them alone and nothing extra is written. Agent health is one GET of
each agent's card (or /healthz) URL, cached for a few seconds so that many open dashboards cost one probe.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any, Protocol

import httpx
import redis.asyncio as aioredis

from riskmesh.orchestrator.topology import StackInfo
from riskmesh.orchestrator.worker import STATS_A2A_CALLS, STATS_PIPELINE, WORKERS_KEY

__all__ = ["DashboardSource", "RedisDashboard", "StaticDashboard", "agent_health_urls"]


class DashboardSource(Protocol):
    async def snapshot(self) -> dict[str, Any]:
        """{"pipeline": {...}, "rates": {...}, "agents": {name: {ok, ms, detail}}, "workers": {...}}."""
        ...


def agent_health_urls(stack: StackInfo) -> dict[str, str]:
    """Agent name ▶ the URL whose answer says it is up (its agent card)."""
    return {name: endpoint.card_url for name, endpoint in stack.agents.items()}


def _ints(raw: Mapping[Any, Any]) -> dict[str, int]:
    return {(k.decode() if isinstance(k, bytes) else str(k)): int(v) for k, v in raw.items()}


class RedisDashboard:
    def __init__(self, client: aioredis.Redis, agents: Mapping[str, str] | None = None, *,
                 http: httpx.AsyncClient | None = None, window_s: float = 10.0, health_ttl_s: float = 5.0,
                 probe_timeout_s: float = 1.0, clock: Callable[[], float] = time.monotonic) -> None:
        self._r = client
        self._agents = dict(agents or {})
        self._http = http
        self._own_http = http is None
        self.window_s = window_s
        self.health_ttl_s = health_ttl_s
        self.probe_timeout_s = probe_timeout_s
        self._clock = clock
        self._samples: deque[tuple[float, dict[str, int]]] = deque()
        self._health: dict[str, Any] = {}
        self._health_at = float("-inf")
        self._health_lock = asyncio.Lock()

    async def aclose(self) -> None:
        if self._http is not None and self._own_http:
            await self._http.aclose()

    async def snapshot(self) -> dict[str, Any]:
        async with self._r.pipeline(transaction=False) as pipe:
            pipe.hgetall(STATS_PIPELINE)
            pipe.hgetall(STATS_A2A_CALLS)
            pipe.hgetall(WORKERS_KEY)
            pipeline_raw, a2a_raw, workers_raw = await pipe.execute()
        pipeline = _ints(pipeline_raw)
        workers = {(k.decode() if isinstance(k, bytes) else k): json.loads(v) for k, v in workers_raw.items()}
        return {
            "pipeline": pipeline,
            "a2a_calls": _ints(a2a_raw),
            "rates": self._rates(pipeline),
            "workers": workers,
            "agents": await self._agent_health(),
        }

    def _rates(self, pipeline: dict[str, int]) -> dict[str, float | None]:
        now = self._clock()
        self._samples.append((now, pipeline))
        while len(self._samples) > 2 and now - self._samples[1][0] >= self.window_s:
            self._samples.popleft()
        then, old = self._samples[0]
        span = now - then

        def delta(name: str) -> int:
            return pipeline.get(name, 0) - old.get(name, 0)

        decided = delta("decided")
        total = pipeline.get("decided", 0)
        return {
            "decisions_per_s": round(decided / span, 1) if span > 0 else None,
            "review_rate": round(pipeline["review"] / total, 4) if "review" in pipeline and total else None,
            "latency_ms": round(delta("latency_ms_sum") / decided, 1)
            if "latency_ms_sum" in pipeline and decided > 0 else None,
            "window_s": round(span, 1),
        }

    async def _agent_health(self) -> dict[str, Any]:
        async with self._health_lock:
            if self._clock() - self._health_at < self.health_ttl_s:
                return self._health
            if self._http is None:
                self._http = httpx.AsyncClient(timeout=self.probe_timeout_s)
            names = sorted(self._agents)
            results = await asyncio.gather(*(self._probe(self._http, self._agents[n]) for n in names))
            self._health = dict(zip(names, results, strict=True))
            self._health_at = self._clock()
            return self._health

    async def _probe(self, http: httpx.AsyncClient, url: str) -> dict[str, Any]:
        started = time.perf_counter()
        try:
            response = await http.get(url, timeout=self.probe_timeout_s)
        except httpx.HTTPError as exc:
            return {"ok": False, "ms": None, "detail": type(exc).__name__}
        ms = round((time.perf_counter() - started) * 1000, 1)
        return {"ok": response.status_code < 400, "ms": ms, "detail": f"HTTP {response.status_code}"}


class StaticDashboard:
    """A fixed snapshot: tests and a console started without a stack."""

    def __init__(self, snapshot: dict[str, Any] | None = None) -> None:
        self._snapshot = snapshot or {"pipeline": {}, "a2a_calls": {}, "rates": {}, "workers": {}, "agents": {}}

    async def snapshot(self) -> dict[str, Any]:
        return dict(self._snapshot)
