"""Kafka in ▶ supervisor ▶ agents over A2A ▶ MCP ▶ Kafka out, on the real embedded stack."""

from __future__ import annotations

import orjson
import pytest

from riskmesh.agents.registry import MCP_SERVERS_FOR_AGENT
from riskmesh.contracts import Decision
from riskmesh.orchestrator.demo import collect_call_counts

pytestmark = pytest.mark.integration


def test_every_transaction_gets_one_explainable_decision_and_every_agent_and_mcp_server_is_used(running):
    prefix = running.send(600)
    tap = running.tap(prefix)
    try:
        assert tap.wait_for(600, timeout_s=120), f"only {tap.stats.decisions} decisions"
        assert tap.stats.messages == 600
        assert tap.stats.dlq == 0
    finally:
        tap.stop()
    a2a, mcp = collect_call_counts(running.info)
    for agent in ("fraud", "credit", "behaviour", "compliance", "aggregation", "action"):
        assert a2a.get(agent, 0) > 0, a2a
    for server in set().union(*MCP_SERVERS_FOR_AGENT.values()):  # soc-telemetry only serves investigations
        assert mcp.get(server, 0) > 0, mcp
    assert sum(tap.stats.outcomes.values()) == 600


def test_decisions_carry_verdicts_reasons_and_versions(running):
    import time

    from confluent_kafka import OFFSET_BEGINNING, TopicPartition

    from riskmesh.orchestrator.kafka_io import make_reader, partitions_of

    prefix = running.send(50)
    tap = running.tap(prefix)
    try:
        assert tap.wait_for(50, timeout_s=60)
    finally:
        tap.stop()
    topic = running.settings.topic_decisions
    consumer = make_reader(running.info.kafka, "test-decisions-read")
    consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions_of(consumer, topic)])
    found: list[Decision] = []
    idle_since = time.monotonic()
    while time.monotonic() - idle_since < 3:  # the end of the topic: 3 s without a record
        msgs = [m for m in consumer.consume(500, 0.2) if m.error() is None]
        if msgs:
            idle_since = time.monotonic()
        found += [Decision.model_validate_json(m.value()) for m in msgs
                  if orjson.loads(m.value())["tx_id"].startswith(prefix)]
    consumer.close()
    assert len(found) == 50
    for d in found:
        assert set(d.verdicts) == {"fraud", "credit", "behaviour", "compliance"}
        assert all(v.model_version for v in d.verdicts.values())
        assert d.policy_version
        if d.decision == "review":
            assert d.alert_id and "hold_transaction" in d.actions


def test_malformed_messages_go_to_the_dlq_with_their_reason_and_the_rest_is_decided(running):
    prefix = running.send(300, bad=30)
    tap = running.tap(prefix)
    try:
        assert tap.wait_for(300, dlq=30, timeout_s=120), (tap.stats.decisions, tap.stats.dlq)
        assert tap.stats.dlq == 30
        assert all(d["reason"] and d["error_type"] for d in tap.dead)
        assert set(tap.stats.dlq_reasons) >= {"invalid_json", "invalid_transaction", "oversized"}
    finally:
        tap.stop()


def test_the_same_transactions_sent_twice_yield_one_decision_each(running):
    import redis

    from riskmesh.orchestrator.procs import wait_until
    from riskmesh.orchestrator.worker import STATS_PIPELINE

    r = redis.Redis.from_url(running.info.redis)
    skipped_before = int(r.hget(STATS_PIPELINE, "skipped_duplicates") or 0)
    prefix = running.send(1000, seed=21)
    tap = running.tap(prefix)
    try:
        assert tap.wait_for(1000, timeout_s=120)
        running.send(1000, seed=21, prefix=prefix)
        wait_until(lambda: int(r.hget(STATS_PIPELINE, "skipped_duplicates") or 0) >= skipped_before + 1000,
                   120, "the second copy to be processed")
        tap.wait_for(1001, timeout_s=1.0)  # give any stray duplicate a moment to arrive
        assert tap.stats.decisions == 1000
        assert tap.stats.messages == 1000, f"{tap.stats.messages} decision messages for 1000 transactions"
    finally:
        tap.stop()
        r.close()


def test_decisions_are_in_the_hash_chained_audit_trail_and_it_verifies(running):
    import redis

    from riskmesh.orchestrator.audit import RedisAuditLog, decision_digest
    from riskmesh.orchestrator.decision_store import unpack

    prefix = running.send(100)
    tap = running.tap(prefix)
    try:
        assert tap.wait_for(100, timeout_s=60)
    finally:
        tap.stop()
    log = RedisAuditLog.from_url(running.info.redis)
    audited = {tx_id: digest for e in log.events() if e.action == "decisions.made"
               for tx_id, _, digest in e.details["decisions"]}
    assert {t for t in audited if t.startswith(prefix)} == set(tap.seen)
    store = redis.Redis.from_url(running.info.redis)
    try:  # each audited digest is the one of the decision as stored
        for tx_id in list(tap.seen)[:20]:
            stored = store.get(f"riskmesh:decision:{tx_id}")
            assert stored is not None and decision_digest(unpack(stored)[0]) == audited[tx_id]
    finally:
        store.close()
    result = log.verify()
    assert result.ok, result
