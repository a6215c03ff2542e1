"""The review desk over every alert-queue backend: claims, dispositions, four-eyes, SLA, audit, roles."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from review_doubles import T0, Clock, QueueBackend, RecordingResumer, make_alert, memory_backend, redis_backend

from riskmesh.orchestrator.review.desk import Desk
from riskmesh.orchestrator.review.errors import Conflict, Forbidden, InvalidRequest, NotFound
from riskmesh.orchestrator.review.ports import Actor, QueueFilter
from riskmesh.orchestrator.review.queue import SlaPolicy

ANA = Actor("ana", "analyst")
BEN = Actor("ben", "analyst")
SAM = Actor("sam", "supervisor")
SOL = Actor("sol", "soc_engineer")


@pytest.fixture(params=["memory", "redis"])
def backend(request: pytest.FixtureRequest) -> Iterator[QueueBackend]:
    sla = SlaPolicy(default_s=3600, high_risk_s=600)
    if request.param == "memory":
        yield memory_backend(sla)
        return
    b = redis_backend(request.getfixturevalue("redis_server_url"), sla)
    yield b
    assert b.client is not None
    b.client.close()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def resumer() -> RecordingResumer:
    return RecordingResumer()


@pytest.fixture
def desk(backend: QueueBackend, clock: Clock, resumer: RecordingResumer) -> Desk:
    return Desk(backend.queue, backend.audit, resumer, lease_s=600, four_eyes_usd=10_000, clock=clock)


async def test_the_queue_lists_open_alerts_highest_priority_first_with_counts(
        backend: QueueBackend, desk: Desk) -> None:
    for n, risk in enumerate([0.5, 0.9, 0.7]):
        backend.open(make_alert(n, risk=risk))
    page = await desk.queue(ANA, QueueFilter())
    assert [i.alert.alert_id for i in page.items] == ["AL-0001", "AL-0002", "AL-0000"]
    assert page.counts["open"] == 3 and page.counts["claimed"] == 0


async def test_a_claimed_alert_moves_to_claimed_and_nobody_else_can_take_it(backend: QueueBackend, desk: Desk) -> None:
    backend.open(make_alert(1))
    state = await desk.claim(ANA, "AL-0001")
    assert state.status == "claimed" and state.assignee == "ana" and state.lease_expires_at is not None
    with pytest.raises(Conflict, match="claimed by ana"):
        await desk.claim(BEN, "AL-0001")
    page = await desk.queue(BEN, QueueFilter(status="open"))
    assert page.items == [] and page.counts["claimed"] == 1
    mine = await desk.queue(ANA, QueueFilter(status="mine"))
    assert [i.alert.alert_id for i in mine.items] == ["AL-0001"]


async def test_an_expired_lease_lets_another_analyst_claim_and_the_sweep_requeues_it(
        backend: QueueBackend, desk: Desk, clock: Clock) -> None:
    backend.open(make_alert(1))
    backend.open(make_alert(2))
    await desk.claim(ANA, "AL-0001")
    await desk.claim(ANA, "AL-0002")
    clock.advance(601)
    assert (await desk.claim(BEN, "AL-0001")).assignee == "ben"
    swept = await desk.sweep()
    assert swept["leases_expired"] == 1
    _, state = await backend.queue.get("AL-0002")
    assert state.status == "open" and state.assignee is None


async def test_release_needs_the_claimant_or_a_supervisor(backend: QueueBackend, desk: Desk) -> None:
    backend.open(make_alert(1))
    await desk.claim(ANA, "AL-0001")
    with pytest.raises(Forbidden):
        await desk.release(BEN, "AL-0001")
    assert (await desk.release(SAM, "AL-0001")).status == "open"


async def test_releasing_a_small_alert_closes_it_and_resumes_the_review_once(
        backend: QueueBackend, desk: Desk, resumer: RecordingResumer) -> None:
    backend.open(make_alert(1, amount="250.00"))
    await desk.claim(ANA, "AL-0001")
    state = await desk.decide(ANA, "AL-0001", "release", "customer confirmed by phone")
    assert state.status == "closed" and state.disposition == "release" and state.decided_by == "ana"
    assert [(r.alert_id, r.disposition, r.decided_by) for r in resumer.resumed] == [("AL-0001", "release", "ana")]
    with pytest.raises(Conflict):
        await desk.decide(ANA, "AL-0001", "block", "changed my mind")
    assert len(resumer.resumed) == 1


async def test_deciding_needs_your_own_live_claim(backend: QueueBackend, desk: Desk, clock: Clock) -> None:
    backend.open(make_alert(1))
    with pytest.raises(Conflict, match="claim"):
        await desk.decide(ANA, "AL-0001", "release", "")
    await desk.claim(ANA, "AL-0001")
    with pytest.raises(Conflict, match="claim"):
        await desk.decide(BEN, "AL-0001", "release", "")
    clock.advance(601)
    with pytest.raises(Conflict, match="expired"):
        await desk.decide(ANA, "AL-0001", "release", "")


async def test_a_large_block_waits_for_a_second_analyst_who_is_not_the_proposer(
        backend: QueueBackend, desk: Desk, resumer: RecordingResumer) -> None:
    backend.open(make_alert(1, amount="25000.00", currency="USD"))
    await desk.claim(ANA, "AL-0001")
    proposed = await desk.decide(ANA, "AL-0001", "block", "mule pattern")
    assert proposed.status == "pending_approval" and proposed.proposed == "block" and resumer.resumed == []
    with pytest.raises(Forbidden, match="four-eyes"):
        await desk.approve(ANA, "AL-0001")
    with pytest.raises(Forbidden):
        await desk.approve(SOL, "AL-0001")
    approved = await desk.approve(BEN, "AL-0001")
    assert approved.status == "closed" and approved.disposition == "block"
    assert (approved.decided_by, approved.approved_by) == ("ana", "ben")
    assert [(r.disposition, r.decided_by, r.approved_by) for r in resumer.resumed] == [("block", "ana", "ben")]
    actions = [e.action for e in await desk.audit(SAM, subject="alert:AL-0001")]
    assert actions == ["alert.approved", "alert.disposition_proposed", "alert.claimed"]


async def test_a_small_block_closes_at_once_but_a_freeze_always_needs_four_eyes(
        backend: QueueBackend, desk: Desk) -> None:
    backend.open(make_alert(1, amount="900.00", currency="USD"))
    backend.open(make_alert(2, amount="900.00", currency="USD"))
    await desk.claim(ANA, "AL-0001")
    assert (await desk.decide(ANA, "AL-0001", "block", "card testing")).status == "closed"
    await desk.claim(ANA, "AL-0002")
    assert (await desk.decide(ANA, "AL-0002", "freeze", "account takeover")).status == "pending_approval"


async def test_a_rejected_proposal_goes_back_to_the_queue_with_a_note(backend: QueueBackend, desk: Desk) -> None:
    backend.open(make_alert(1, amount="50000.00", currency="USD"))
    await desk.claim(ANA, "AL-0001")
    await desk.decide(ANA, "AL-0001", "block", "looks like fraud")
    with pytest.raises(InvalidRequest):
        await desk.reject(BEN, "AL-0001", "  ")
    state = await desk.reject(BEN, "AL-0001", "customer called in, known payee")
    assert state.status == "open" and state.proposed is None and "known payee" in state.notes[-1].text


async def test_escalated_alerts_are_worked_by_supervisors(backend: QueueBackend, desk: Desk) -> None:
    backend.open(make_alert(1))
    await desk.claim(ANA, "AL-0001")
    state = await desk.decide(ANA, "AL-0001", "escalate", "needs a senior look")
    assert state.status == "escalated" and state.assignee is None
    with pytest.raises(Forbidden):
        await desk.claim(BEN, "AL-0001")
    assert (await desk.claim(SAM, "AL-0001")).assignee == "sam"


async def test_request_info_keeps_the_alert_open_and_records_what_is_needed(backend: QueueBackend, desk: Desk) -> None:
    backend.open(make_alert(1))
    await desk.claim(ANA, "AL-0001")
    with pytest.raises(InvalidRequest):
        await desk.decide(ANA, "AL-0001", "request_info", "")
    state = await desk.decide(ANA, "AL-0001", "request_info", "invoice for the payment")
    assert state.status == "info_requested" and "invoice" in state.notes[-1].text
    assert (await desk.claim(ANA, "AL-0001")).status == "claimed"


async def test_an_sla_breach_escalates_the_alert_with_the_reason(
        backend: QueueBackend, desk: Desk, clock: Clock) -> None:
    backend.open(make_alert(1, risk=0.9))  # high risk: 600 s SLA
    backend.open(make_alert(2, risk=0.3))  # 3600 s SLA
    clock.now = T0.replace(minute=11)
    assert (await desk.sweep())["sla_breached"] == 1
    _, state = await backend.queue.get("AL-0001")
    assert state.status == "escalated" and "SLA breached" in state.escalation
    _, other = await backend.queue.get("AL-0002")
    assert other.status == "open"


async def test_only_supervisors_reassign_and_soc_engineers_only_read(backend: QueueBackend, desk: Desk) -> None:
    backend.open(make_alert(1))
    with pytest.raises(Forbidden):
        await desk.reassign(ANA, "AL-0001", "ben")
    assert (await desk.reassign(SAM, "AL-0001", "ben")).assignee == "ben"
    with pytest.raises(Forbidden):
        await desk.claim(SOL, "AL-0001")
    assert (await desk.add_note(SOL, "AL-0001", "IP seen in botnet feed")).notes[-1].author == "sol"
    assert (await desk.detail(SOL, "AL-0001")).alert.alert_id == "AL-0001"


async def test_unknown_alerts_are_not_found(desk: Desk) -> None:
    with pytest.raises(NotFound):
        await desk.claim(ANA, "AL-nope")


async def test_two_analysts_racing_for_one_alert_yield_one_claim(backend: QueueBackend, desk: Desk) -> None:
    backend.open(make_alert(1))
    results = await asyncio.gather(desk.claim(ANA, "AL-0001"), desk.claim(BEN, "AL-0001"), return_exceptions=True)
    assert sum(1 for r in results if not isinstance(r, Exception)) == 1
    assert all(isinstance(r, Conflict) for r in results if isinstance(r, Exception))


async def test_every_change_is_in_the_audit_chain_and_the_chain_verifies(backend: QueueBackend, desk: Desk) -> None:
    backend.open(make_alert(1))
    await desk.claim(ANA, "AL-0001")
    await desk.add_note(ANA, "AL-0001", "called the customer")
    await desk.decide(ANA, "AL-0001", "release", "confirmed")
    events = await desk.audit(SAM, subject="alert:AL-0001")
    assert [e.action for e in events] == ["alert.decided", "alert.note_added", "alert.claimed"]
    assert {e.actor for e in events} == {"ana"} and all(e.details["tx_id"] == "T-0001" for e in events)
    assert backend.audit.verify().ok


async def test_the_recorded_resolution_is_what_recovery_resumes_with(backend: QueueBackend, desk: Desk) -> None:
    backend.open(make_alert(1))
    assert await desk.resolution_of("AL-0001") is None
    await desk.claim(ANA, "AL-0001")
    await desk.decide(ANA, "AL-0001", "release", "ok")
    resolution = await desk.resolution_of("AL-0001")
    assert resolution is not None and (resolution.disposition, resolution.tx_id) == ("release", "T-0001")
