"""The soc-investigator over real A2A: card discovery by tags, parallel streaming fan-out, merged incident."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from soc_investigation_doubles import (
    TOKEN,
    FakeSpecialist,
    Serve,
    alert_tools,
    free_port,
    serve_specialist,
    three_specialists,
)

from riskmesh.a2a.soc_agents import INVESTIGATOR, build_investigator_executor, build_soc_app, soc_card
from riskmesh.a2a.soc_client import TaskEvent, TaskStreamClient, raw_part
from riskmesh.a2a.soc_directory import CardDirectory
from riskmesh.contracts.investigation import INCIDENT_MEDIA_TYPE, IncidentView


async def start_investigator(serve: Serve, card_urls: list[str], deadline_s: float = 3.0) -> str:
    executor, _ = build_investigator_executor(alert_tools(), card_urls, TOKEN, deadline_s=deadline_s)
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    return await serve(build_soc_app(executor, soc_card(INVESTIGATOR, url, "test"), TOKEN), port)


async def investigate(url: str, payload: dict[str, object]) -> list[TaskEvent]:
    client = TaskStreamClient(url, TOKEN)
    try:
        async with asyncio.timeout(10):
            return [e async for e in client.stream([raw_part(json.dumps(payload).encode(), "application/json")])]
    finally:
        await client.aclose()


def incidents(events: list[TaskEvent]) -> list[IncidentView]:
    return [IncidentView.model_validate_json(c.body) for e in events for c in e.artifacts
            if c.media_type == INCIDENT_MEDIA_TYPE]


async def test_an_alert_investigation_streams_every_specialist_and_completes_with_the_merged_incident(
        serve: Serve) -> None:
    fakes = three_specialists()
    urls = [await serve_specialist(serve, f) for f in fakes]
    investigator = await start_investigator(serve, urls)
    started = time.monotonic()
    events = await investigate(investigator, {"alert_id": "AL-1", "requested_by": "sol"})
    assert time.monotonic() - started < 10
    assert events[-1].state == "completed"
    views = incidents(events)
    assert len(views) >= 5  # the first view, each of the four batches, each completion: streamed as they came
    final = views[-1]
    assert final.status == "complete" and final.alert_id == "AL-1"
    assert {p.state for p in final.agents.values()} == {"completed"}
    assert [t.finding_id for t in final.timeline] == ["t1", "n2", "e1", "n1"]  # ordered by observed_at
    ip = next(r for r in final.indicators if r.indicator.value == "203.0.113.9")
    assert ip.reputation == "malicious" and ip.sources == ["network-log", "threat-intel"]
    assert final.affected_accounts == ["A-1"]
    assert final.confidence > 0.9
    assert any("finding(s)" in e.text for e in events if e.state == "working")  # per-agent progress lines
    sent = json.loads(fakes[0].requests[0])
    assert {(i["kind"], i["value"]) for i in sent["indicators"]} == {
        ("account", "A-1"), ("customer", "C-1"), ("device", "D-9"), ("ip", "203.0.113.9")}
    assert sent["window_start"] == "2026-02-26T11:59:00.000Z" and sent["window_end"] == "2026-03-01T12:59:00.000Z"


@pytest.mark.parametrize("mode,state", [("fail", "failed"), ("raise", "failed"), ("hang", "timeout")])
async def test_a_failing_or_slow_specialist_makes_the_incident_partial_and_never_hangs(
        serve: Serve, mode: str, state: str) -> None:
    fakes = three_specialists()
    fakes[1].mode = mode
    urls = [await serve_specialist(serve, f) for f in fakes]
    investigator = await start_investigator(serve, urls, deadline_s=1.5)
    started = time.monotonic()
    events = await investigate(investigator, {"alert_id": "AL-1"})
    assert time.monotonic() - started < 5
    final = incidents(events)[-1]
    assert events[-1].state == "completed"
    assert final.status == "partial"
    assert final.agents["endpoint-forensics"].state == state
    assert final.agents["network-log"].state == "completed"
    assert {t.finding_id for t in final.timeline} >= {"n1", "n2", "t1"}


async def test_an_unreachable_card_is_skipped_and_untagged_agents_are_not_asked(serve: Serve) -> None:
    fakes = three_specialists()
    other = FakeSpecialist("fraud-helper", [])
    urls = [await serve_specialist(serve, f) for f in fakes]
    urls.append(await serve_specialist(serve, other, tags=["risk"]))
    urls.append(f"http://127.0.0.1:{free_port()}/")  # nothing listens there
    directory = CardDirectory(urls, TOKEN, fetch_timeout_s=1.0)
    try:
        found = await directory.specialists()
        assert sorted(s.name for s in found) == ["endpoint-forensics", "network-log", "threat-intel"]
        assert await directory.specialists() == found  # cached within the TTL: same clients
    finally:
        await directory.aclose()
    assert other.requests == []


async def test_an_unknown_alert_fails_the_task_with_the_reason(serve: Serve) -> None:
    urls = [await serve_specialist(serve, f) for f in three_specialists()]
    executor, _ = build_investigator_executor(alert_tools(), urls, TOKEN)
    executor.investigator.tools.answers[("risk-actions", "get_alert")] = {"alert": None}  # type: ignore[attr-defined]
    port = free_port()
    url = await serve(build_soc_app(executor, soc_card(INVESTIGATOR, f"http://127.0.0.1:{port}/", "t"), TOKEN), port)
    events = await investigate(url, {"alert_id": "AL-404"})
    assert events[-1].state == "failed" and "unknown alert AL-404" in events[-1].text
