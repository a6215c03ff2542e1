"""The supervisor graph with in-memory doubles for the agents, the decision store and Kafka."""

from __future__ import annotations

import asyncio
import copy
import json

import orjson
import pytest

from riskmesh.contracts import (
    ActionOutcome,
    ActionRequest,
    ActionResponse,
    AgentVerdict,
    AggregatedDecision,
    AggregationRequest,
    AggregationResponse,
    AssessBatchRequest,
    AssessBatchResponse,
    Decision,
    Reason,
)
from riskmesh.orchestrator.decision_store import MemoryDecisionStore
from riskmesh.orchestrator.graph import Supervisor
from riskmesh.orchestrator.pipeline import InboundRecord
from tests.conftest import VALID_TX


class FakeAgents:
    """Analysis agents score 0.1; aggregation passes below 0.5 unless degraded; action records what it did."""

    def __init__(self) -> None:
        self.broken: set[str] = set()
        self.slow: set[str] = set()
        self.calls: list[str] = []

    async def call(self, agent: str, payload: bytes, media_type: str, timeout_s: float) -> bytes:
        self.calls.append(agent)
        if agent in self.slow:
            await asyncio.sleep(timeout_s * 5)
        if agent in self.broken:
            raise ConnectionError(f"{agent} is down")
        if agent == "aggregation":
            req = AggregationRequest.model_validate_json(payload)
            out = []
            for i, tx in enumerate(req.transactions):
                degraded = sorted(a for a, vs in req.verdicts.items() if vs[i].status != "ok")
                score = max(vs[i].score for vs in req.verdicts.values())
                decision = "review" if degraded or score >= 0.5 else "pass"
                out.append(AggregatedDecision(tx_id=tx.tx_id, decision=decision, risk_score=score,
                                              degraded=degraded))
            return AggregationResponse(batch_id=req.batch_id, policy_version="policy-test",
                                       decisions=out).model_dump_json().encode()
        if agent == "action":
            areq = ActionRequest.model_validate_json(payload)
            outcomes = [ActionOutcome(tx_id=d.tx_id, actions=["hold_transaction"] if d.decision == "review" else [])
                        for d in areq.decisions]
            return ActionResponse(batch_id=areq.batch_id, outcomes=outcomes).model_dump_json().encode()
        breq = AssessBatchRequest.model_validate_json(payload)
        verdicts = [AgentVerdict(tx_id=t.tx_id, agent=agent, score=0.1, model_version=f"{agent}-1",
                                 reasons=[Reason(code="OK", agent=agent)]) for t in breq.transactions]
        return AssessBatchResponse(batch_id=breq.batch_id, agent=agent, model_version=f"{agent}-1",
                                   verdicts=verdicts).model_dump_json().encode()


class ListEmitter:
    def __init__(self) -> None:
        self.decisions: list[tuple[str, bytes]] = []
        self.dead: list[tuple[str, bytes]] = []

    async def emit(self, decisions, dead_letters) -> None:
        self.decisions += list(decisions)
        self.dead += list(dead_letters)


def _records(n: int, start: int = 0) -> list[InboundRecord]:
    out = []
    for i in range(start, start + n):
        tx = copy.deepcopy(VALID_TX)
        tx["tx_id"] = f"T-{i:06d}"
        out.append(InboundRecord(value=json.dumps(tx).encode(), key="A1", topic="t", partition=0, offset=i))
    return out


@pytest.fixture
def parts():
    agents, store, emitter = FakeAgents(), MemoryDecisionStore(), ListEmitter()
    sup = Supervisor(agents, store, emitter, deadline_s=0.2)
    return agents, store, emitter, sup


def _decisions(emitter: ListEmitter) -> list[Decision]:
    return [Decision.model_validate_json(v) for _, v in emitter.decisions]


async def test_one_batch_makes_one_call_per_agent_and_one_decision_per_transaction(parts):
    agents, _, emitter, sup = parts
    result = await sup.run(_records(20))
    assert result.emitted == 20
    assert sorted(agents.calls) == sorted(["fraud", "credit", "behaviour", "compliance", "aggregation", "action"])
    decisions = _decisions(emitter)
    assert {d.decision for d in decisions} == {"pass"}
    assert all(set(d.verdicts) == {"fraud", "credit", "behaviour", "compliance"} for d in decisions)
    assert all(d.policy_version == "policy-test" for d in decisions)


async def test_a_failing_agent_is_listed_in_degraded_and_nothing_passes(parts):
    agents, _, emitter, sup = parts
    agents.broken.add("compliance")
    await sup.run(_records(10))
    decisions = _decisions(emitter)
    assert len(decisions) == 10
    assert all(d.decision != "pass" and "compliance" in d.degraded for d in decisions)
    assert all(d.verdicts["compliance"].status == "error" for d in decisions)


async def test_an_agent_missing_its_deadline_gets_a_timeout_verdict(parts):
    agents, _, emitter, sup = parts
    agents.slow.add("fraud")
    await sup.run(_records(3))
    decisions = _decisions(emitter)
    assert all(d.verdicts["fraud"].status == "timeout" and d.decision == "review" for d in decisions)


async def test_an_unavailable_aggregation_agent_fails_closed_to_review(parts):
    agents, _, emitter, sup = parts
    agents.broken.add("aggregation")
    await sup.run(_records(3))
    decisions = _decisions(emitter)
    assert all(d.decision == "review" and "aggregation" in d.degraded for d in decisions)
    assert all(any(r.code == "AGGREGATION_UNAVAILABLE" for r in d.reasons) for d in decisions)


async def test_a_failed_action_agent_turns_pass_into_review(parts):
    agents, _, emitter, sup = parts
    agents.broken.add("action")
    await sup.run(_records(2))
    assert all(d.decision == "review" and "action" in d.degraded for d in _decisions(emitter))


async def test_a_redelivered_batch_emits_nothing_new(parts):
    _, _, emitter, sup = parts
    await sup.run(_records(10))
    again = await sup.run(_records(10))
    assert len(emitter.decisions) == 10
    assert again.emitted == 0 and again.skipped_duplicates == 10


async def test_a_recorded_but_unemitted_decision_is_re_emitted_unchanged(parts):
    _, store, emitter, sup = parts
    stored = b'{"tx_id":"T-000001","stored":true}'
    await store.record({"T-000001": stored})
    await sup.run(_records(3))
    sent = dict(emitter.decisions)
    assert sent["T-000001"] == stored
    assert len(sent) == 3


async def test_invalid_messages_go_to_the_dlq_with_reason_and_the_batch_around_them_is_decided(parts):
    _, _, emitter, sup = parts
    records = _records(4)
    broken = copy.deepcopy(VALID_TX)
    broken["amount"] = "-3"
    records.insert(2, InboundRecord(value=json.dumps(broken).encode(), key="K", topic="t", partition=0, offset=99))
    records.insert(0, InboundRecord(value=b"{oops", key="K2", topic="t", partition=1, offset=7))
    result = await sup.run(records)
    assert result.emitted == 4
    dead = [orjson.loads(v) for _, v in emitter.dead]
    assert [d["error_type"] for d in dead] == ["invalid_json", "invalid_transaction"]
    assert "amount" in dead[1]["reason"] and dead[1]["fields"] == ["amount"] and dead[1]["offset"] == 99
    assert dead[0]["raw"] == "{oops"


async def test_a_redelivered_bad_message_is_dead_lettered_once(parts):
    _, _, emitter, sup = parts
    bad = [InboundRecord(value=b"nope", topic="t", partition=0, offset=5)]
    await sup.run(bad)
    await sup.run(bad)
    assert len(emitter.dead) == 1


async def test_duplicate_tx_ids_inside_one_batch_are_decided_once(parts):
    sup = parts[3]
    records = _records(3) + _records(3)
    result = await sup.run(records)
    assert result.emitted == 3 and result.skipped_duplicates == 3


async def test_every_new_decision_is_written_to_the_audit_trail_once():
    from riskmesh.orchestrator.audit import DecisionAuditTrail, MemoryAuditLog, decision_digest

    log = MemoryAuditLog()
    sup = Supervisor(FakeAgents(), MemoryDecisionStore(), ListEmitter(), deadline_s=0.2,
                     audit=DecisionAuditTrail(log, actor="orchestrator:test"))
    emitter = sup.emitter
    await sup.run(_records(5))
    await sup.run(_records(5))  # redelivered: nothing new is decided, nothing new is audited
    [event] = list(log.events())
    assert event.action == "decisions.made" and event.subject.startswith("batch:")
    assert event.details["policy_versions"] == ["policy-test"] and event.details["count"] == 5
    emitted = dict(emitter.decisions)  # type: ignore[attr-defined]
    assert event.details["decisions"] == [[f"T-{i:06d}", "pass", decision_digest(emitted[f"T-{i:06d}"])]
                                          for i in range(5)]  # bound to the very JSON emitted
    assert log.verify().ok
