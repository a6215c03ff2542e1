"""Fake SOC specialists and MCP tools, served for real on free 127.0.0.1 ports (uvicorn in the test's loop)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import uvicorn
from a2a.helpers import new_task, new_text_part
from a2a.server.agent_execution import AgentExecutor, RequestContext
from a2a.server.events import EventQueue
from a2a.server.tasks import TaskUpdater
from a2a.types import AgentSkill, TaskState
from starlette.applications import Starlette

from riskmesh.a2a.soc_agents import build_soc_app, soc_card
from riskmesh.a2a.soc_client import part_bytes, raw_part
from riskmesh.agents.base import ToolCallError
from riskmesh.contracts.investigation import FINDINGS_MEDIA_TYPE, Finding, FindingBatch, Indicator

TOKEN = "test-soc-token"
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def finding(agent: str, fid: str, *entities: tuple[str, str], minutes: int = 0, confidence: float = 0.8,
            severity: str = "high", kind: str = "suspicious_login", **evidence: Any) -> Finding:
    return Finding(finding_id=fid, agent=agent, kind=kind, summary=f"{agent} saw {kind}", severity=severity,
                   confidence=confidence, observed_at=T0 + timedelta(minutes=minutes),
                   entities=[Indicator(kind=k, value=v) for k, v in entities], evidence=evidence)


class FakeSpecialist(AgentExecutor):
    """Streams `batches` (one artifact each, `gap_s` apart) then completes; `mode` fail / hang / raise."""

    def __init__(self, name: str, batches: list[FindingBatch], *, gap_s: float = 0.05, mode: str = "ok") -> None:
        self.name = name
        self.batches = batches
        self.gap_s = gap_s
        self.mode = mode
        self.requests: list[bytes] = []

    async def execute(self, context: RequestContext, event_queue: EventQueue) -> None:
        assert context.message is not None
        self.requests.append(part_bytes(context.message.parts[0]) or b"")
        if self.mode == "raise":
            raise RuntimeError("endpoint telemetry unreachable")
        await event_queue.enqueue_event(new_task(context.task_id, context.context_id, TaskState.TASK_STATE_SUBMITTED))
        updater = TaskUpdater(event_queue, context.task_id, context.context_id)
        await updater.start_work(updater.new_agent_message([new_text_part("querying")]))
        for n, batch in enumerate(self.batches):
            await asyncio.sleep(self.gap_s)
            await updater.add_artifact([raw_part(batch.model_dump_json().encode(), FINDINGS_MEDIA_TYPE)],
                                       artifact_id=f"findings-{n}", name=batch.step)
        if self.mode == "hang":
            await asyncio.sleep(3600)
        if self.mode == "fail":
            await updater.failed(updater.new_agent_message([new_text_part("flow store down")]))
            return
        await updater.complete()

    async def cancel(self, context: RequestContext, event_queue: EventQueue) -> None:
        return None


def specialist_app(executor: AgentExecutor, name: str, url: str, tags: list[str] | None = None) -> Starlette:
    card = soc_card("soc-investigator", url, "test")  # a streaming card; its skill is replaced below
    card.name = name
    del card.skills[:]
    card.skills.append(AgentSkill(id=f"investigate-{name}", name=name, description=name,
                                  tags=tags or ["soc", "investigation", name],
                                  input_modes=["application/json"], output_modes=[FINDINGS_MEDIA_TYPE]))
    return build_soc_app(executor, card, TOKEN)


Serve = Callable[[Starlette, int | None], Awaitable[str]]


@pytest.fixture
async def serve() -> AsyncIterator[Serve]:
    """`await serve(app)` ▶ its base URL on a free port; every server stops after the test."""
    servers: list[tuple[uvicorn.Server, asyncio.Task[None]]] = []

    async def start(app: Starlette, port: int | None = None) -> str:
        port = port or free_port()
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error", lifespan="off"))
        task = asyncio.create_task(server.serve())
        servers.append((server, task))
        async with asyncio.timeout(5):
            while not server.started:
                if task.done():
                    task.result()
                await asyncio.sleep(0.01)
        return f"http://127.0.0.1:{port}/"

    yield start
    for server, _ in servers:
        server.should_exit = True
    for server, task in servers:
        try:
            async with asyncio.timeout(5):
                await task
        except TimeoutError:
            server.force_exit = True
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def serve_specialist(serve: Serve, executor: FakeSpecialist, tags: list[str] | None = None) -> str:
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    return await serve(specialist_app(executor, executor.name, url, tags), port)


class FakeTools:
    """ToolCaller double: canned answers per (server, tool), every call recorded; `fail` names tools that error."""

    def __init__(self, answers: dict[tuple[str, str], dict[str, Any]] | None = None,
                 fail: set[tuple[str, str]] | None = None) -> None:
        self.answers = answers or {}
        self.fail = fail or set()
        self.calls: list[tuple[str, str, dict[str, Any]]] = []

    async def call(self, server: str, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
        self.calls.append((server, tool, arguments))
        if (server, tool) in self.fail:
            raise ToolCallError(server, tool, "refused")
        return self.answers.get((server, tool), {"ok": True})


def alert_tools() -> FakeTools:
    """The MCP answers an alert investigation reads: alert AL-1 on account A-1 of customer C-1, tx T-1."""
    return FakeTools({
        ("risk-actions", "get_alert"): {"alert": {
            "alert_id": "AL-1", "tx_id": "T-1", "created_at": "2026-03-01T12:00:00.000Z", "risk_score": 0.9,
            "amount": "5000", "currency": "EUR", "debtor_account_id": "A-1", "reasons": [], "degraded": [],
            "policy_version": "p1", "status": "open"}},
        ("customer-data", "get_customers_batch"): {"customers": {}, "accounts": {}, "owners": {"A-1": "C-1"}},
        ("transactions", "recent_history"): {"account_id": "A-1", "transactions": [
            {"tx_id": "T-0", "ts": "2026-02-28T10:00:00.000Z", "device_id": "D-old", "ip": "198.51.100.1"},
            {"tx_id": "T-1", "ts": "2026-03-01T11:59:00.000Z", "device_id": "D-9", "ip": "203.0.113.9"},
        ]},
    })


def three_specialists() -> list[FakeSpecialist]:
    """network, endpoint and threat-intel fakes that corroborate each other on IP 203.0.113.9 and host H-7."""
    net = FakeSpecialist("network-log", [
        FindingBatch(investigation_id="x", agent="network-log", step="auth-logs", findings=[
            finding("network-log", "n1", ("ip", "203.0.113.9"), ("account", "A-1"), minutes=5,
                    kind="credential_stuffing")]),
        FindingBatch(investigation_id="x", agent="network-log", step="flows", findings=[
            finding("network-log", "n2", ("ip", "203.0.113.9"), ("host", "H-7"), minutes=-30, kind="c2_beacon")]),
    ])
    endpoint = FakeSpecialist("endpoint-forensics", [
        FindingBatch(investigation_id="x", agent="endpoint-forensics", step="processes", findings=[
            finding("endpoint-forensics", "e1", ("host", "H-7"), ("customer", "C-1"), minutes=-10,
                    kind="malware_process", severity="critical", confidence=0.9)]),
    ])
    intel = FakeSpecialist("threat-intel", [
        FindingBatch(investigation_id="x", agent="threat-intel", step="ioc-feed", findings=[
            finding("threat-intel", "t1", ("ip", "203.0.113.9"), minutes=-60, kind="ioc_match",
                    reputation="malicious")]),
    ])
    return [net, endpoint, intel]
