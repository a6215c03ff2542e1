"""incident-response over real A2A: the proposal waits input-required; steps run only after approval, audited."""

from __future__ import annotations

import asyncio
import json

from soc_investigation_doubles import TOKEN, FakeTools, Serve, free_port, three_specialists

from riskmesh.a2a.soc_agents import INCIDENT_RESPONSE, build_incident_response_executor, build_soc_app, soc_card
from riskmesh.a2a.soc_client import TaskEvent, TaskStreamClient, raw_part
from riskmesh.agents.soc.incident_response import propose_containment
from riskmesh.agents.soc.merge import IncidentBuilder
from riskmesh.contracts.investigation import CONTAINMENT_MEDIA_TYPE, INCIDENT_MEDIA_TYPE, ContainmentProposal, Indicator
from riskmesh.orchestrator.audit import MemoryAuditLog


def incident() -> object:
    builder = IncidentBuilder("INV-1", alert_id="AL-1", subjects=[Indicator(kind="account", value="A-1")],
                              agents=[f.name for f in three_specialists()])
    for fake in three_specialists():
        for batch in fake.batches:
            builder.add_batch(batch, source=fake.name)
        builder.set_progress(fake.name, "completed")
    return builder.view()


async def start(serve: Serve) -> tuple[str, FakeTools, MemoryAuditLog]:
    tools, audit = FakeTools({("risk-actions", "open_case"): {"case": {"case_id": "CASE-1",
                                                                     "opening_alert_id": "AL-1"}}}), MemoryAuditLog()
    port = free_port()
    card = soc_card(INCIDENT_RESPONSE, f"http://127.0.0.1:{port}/", "test")
    url = await serve(build_soc_app(build_incident_response_executor(tools, audit), card, TOKEN), port)
    return url, tools, audit


async def send(client: TaskStreamClient, payload: object, media_type: str = "application/json",
               task: TaskEvent | None = None) -> list[TaskEvent]:
    part = raw_part(json.dumps(payload).encode(), media_type)
    async with asyncio.timeout(10):
        return [e async for e in client.stream([part], task_id=task.task_id if task else None,
                                               context_id=task.context_id if task else None)]


def proposal_of(events: list[TaskEvent]) -> ContainmentProposal:
    return [ContainmentProposal.model_validate_json(c.body) for e in events for c in e.artifacts
            if c.media_type == CONTAINMENT_MEDIA_TYPE][-1]


def test_the_proposal_blocks_malicious_ips_isolates_infected_hosts_resets_and_freezes() -> None:
    proposal = propose_containment(incident())  # type: ignore[arg-type]
    assert [(s.step_id, s.action, s.target) for s in proposal.steps] == [
        ("s1", "block_ip", "203.0.113.9"),
        ("s2", "isolate_host", "H-7"),
        ("s3", "force_password_reset", "C-1"),
        ("s4", "freeze_account", "A-1"),
    ]
    assert proposal.status == "awaiting_approval" and all(s.status == "proposed" for s in proposal.steps)


async def test_the_task_waits_for_approval_and_no_step_runs_before_it(serve: Serve) -> None:
    url, tools, audit = await start(serve)
    client = TaskStreamClient(url, TOKEN)
    try:
        events = await send(client, json.loads(incident().model_dump_json()), INCIDENT_MEDIA_TYPE)  # type: ignore[attr-defined]
        waiting = events[-1]
        assert waiting.state == "input-required" and "awaiting SOC engineer approval" in waiting.text
        assert proposal_of(events).status == "awaiting_approval"
        assert tools.calls == []  # nothing ran
        garbled = await send(client, {"approve": "maybe"}, task=waiting)
        assert garbled[-1].state == "input-required" and tools.calls == []
        done = await send(client, {"approve": True, "approved_by": "sol", "steps": ["s1", "s2", "s4"]}, task=waiting)
    finally:
        await client.aclose()
    assert done[-1].state == "completed"
    executed = proposal_of(done)
    assert executed.approved_by == "sol" and executed.status == "partially_executed"
    assert [s.status for s in executed.steps] == ["done", "done", "rejected", "done"]
    assert [(server, tool) for server, tool, _ in tools.calls] == [
        ("soc-telemetry", "block_ip"), ("soc-telemetry", "isolate_host"), ("risk-actions", "open_case")]
    freeze_args = tools.calls[2][2]
    assert freeze_args["alert_id"] == "AL-1" and freeze_args["customer_id"] == "C-1" and "A-1" in freeze_args["reason"]
    assert "four-eyes freeze requested: case CASE-1" in executed.steps[3].detail
    actions = [(e.actor, e.action) for e in audit.events()]
    assert actions == [("a2a-caller", "containment.proposed"), ("sol", "containment.approved"),
                       ("sol", "containment.step_done"), ("sol", "containment.step_done"),
                       ("sol", "containment.step_done")]
    assert all(e.subject == "investigation:INV-1" for e in audit.events())
    assert audit.verify().ok


async def test_a_rejection_runs_nothing_and_a_failed_tool_marks_its_step_failed(serve: Serve) -> None:
    url, tools, audit = await start(serve)
    client = TaskStreamClient(url, TOKEN)
    try:
        body = {"incident": json.loads(incident().model_dump_json()), "requested_by": "sol"}  # type: ignore[attr-defined]
        first = (await send(client, body))[-1]
        rejected = await send(client, {"approve": False, "approved_by": "sol", "reason": "false positive"}, task=first)
        assert proposal_of(rejected).status == "rejected" and tools.calls == []
        tools.fail = {("soc-telemetry", "isolate_host")}
        second = (await send(client, body))[-1]
        done = await send(client, {"approve": True, "approved_by": "sam"}, task=second)
    finally:
        await client.aclose()
    assert [s.status for s in proposal_of(done).steps] == ["done", "failed", "done", "done"]
    reset = next(args for server, tool, args in tools.calls if tool == "force_password_reset")
    assert reset == {"customer_id": "C-1", "reason": reset["reason"], "requested_by": "sam"}
    assert proposal_of(done).status == "partially_executed"
    assert "containment.rejected" in [e.action for e in audit.events()]
    assert "containment.step_failed" in [e.action for e in audit.events()]
