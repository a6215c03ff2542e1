"""The review service's health routes: liveness never waits on the review backlog."""

from __future__ import annotations

import asyncio

from starlette.applications import Starlette
from starlette.testclient import TestClient

from riskmesh.orchestrator.console.wiring import PendingReviews, health_routes


def test_healthz_answers_without_counting_the_backlog_and_the_count_has_its_own_route() -> None:
    counted: list[int] = []

    async def pending() -> list[str]:  # a large backlog: counting is slow, and must not touch /healthz
        counted.append(1)
        await asyncio.sleep(0.01)
        return [f"AL-{i}" for i in range(1800)]

    client = TestClient(Starlette(routes=health_routes(PendingReviews(pending))))
    assert client.get("/healthz").json() == {"ok": True}
    assert counted == []
    reply = client.get("/healthz/reviews")
    assert reply.json() == {"pending_reviews": 1800} and reply.headers["cache-control"] == "no-store"
    assert counted == [1]
