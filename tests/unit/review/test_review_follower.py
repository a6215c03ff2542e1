"""The decision follower: review decisions open review threads; offsets are committed only after that."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime

from confluent_kafka import KafkaError, KafkaException, TopicPartition
from langgraph.checkpoint.memory import InMemorySaver
from review_graph_doubles import FakeActionAgent

from riskmesh.contracts import Decision, VerdictSummary
from riskmesh.contracts.settings import Settings
from riskmesh.orchestrator.review.follower import DecisionFollower, FollowerStats, tickets_from
from riskmesh.orchestrator.review.graph import ReviewGraph
from riskmesh.orchestrator.review.labels import MemoryLabelSink

TOPIC = "riskmesh.decisions"


def decision(tx_id: str, outcome: str, alert_id: str | None = None) -> bytes:
    return Decision(tx_id=tx_id, decision=outcome, risk_score=0.8 if outcome != "pass" else 0.1,
                    decided_at=datetime(2026, 11, 21, tzinfo=UTC), latency_ms=3.0, policy_version="policy-1",
                    verdicts={"fraud": VerdictSummary(score=0.8, status="ok")},
                    alert_id=alert_id).model_dump_json().encode()


class Msg:
    """What confluent_kafka.Consumer.consume returns: accessors are methods."""

    def __init__(self, value: bytes | None, offset: int, partition: int = 0, topic: str = TOPIC) -> None:
        self._value, self._offset, self._partition, self._topic = value, offset, partition, topic

    def value(self) -> bytes | None:
        return self._value

    def offset(self) -> int:
        return self._offset

    def partition(self) -> int:
        return self._partition

    def topic(self) -> str:
        return self._topic

    def error(self) -> None:
        return None


class FakeConsumer:
    def __init__(self, batches: list[list[Msg]]) -> None:
        self.batches = batches
        self.commits: list[dict] = []
        self.seeks: list[tuple[TopicPartition, int]] = []
        self.closed = False
        self.all_committed = threading.Event()

    def consume(self, num_messages: int, timeout: float) -> list[Msg]:
        return self.batches.pop(0)[:num_messages] if self.batches else []

    def commit(self, offsets: list[TopicPartition], asynchronous: bool = True) -> list[TopicPartition]:
        self.commits.append({TopicPartition(tp.topic, tp.partition): tp.offset for tp in offsets})
        if not self.batches:
            self.all_committed.set()
        return offsets

    def assignment(self) -> list[TopicPartition]:
        return [TopicPartition(TOPIC, 0), TopicPartition(TOPIC, 1)]

    def seek(self, tp: TopicPartition) -> None:
        self.seeks.append((TopicPartition(tp.topic, tp.partition), tp.offset))

    def close(self) -> None:
        self.closed = True


class FailingOpener:
    async def open_many(self, reviews) -> int:
        raise ConnectionError("checkpoint database unavailable")


def test_only_review_decisions_with_an_alert_become_tickets_and_bad_records_are_counted():
    stats = FollowerStats()
    values = [
        decision("T-1", "pass"),
        decision("T-2", "review", "AL-2"),
        b"{not json",
        b"[1, 2]",
        None,
        b'{"decision": "review", "tx_id": "T-3"}',  # a review that is not a valid Decision
        decision("T-4", "review"),  # valid, but without alert_id
        decision("T-5", "block"),
    ]
    tickets = tickets_from(values, stats)
    assert [(t.alert_id, t.tx_id, t.policy_version) for t in tickets] == [("AL-2", "T-2", "policy-1")]
    assert (stats.records, stats.reviews, stats.bad) == (8, 1, 5)


async def test_a_batch_opens_its_reviews_and_then_commits_past_every_record():
    graph = ReviewGraph(InMemorySaver(), FakeActionAgent(), MemoryLabelSink())
    consumer = FakeConsumer([[Msg(decision("T-1", "pass"), 10), Msg(decision("T-2", "review", "AL-2"), 11),
                              Msg(b"garbage", 12), Msg(decision("T-3", "review", "AL-3"), 5, partition=1)]])
    follower = DecisionFollower("unused:9092", Settings(), graph, consumer=consumer)
    assert await follower.step() == 4
    assert await graph.pending() == ["AL-2", "AL-3"]
    assert consumer.commits == [{TopicPartition(TOPIC, 0): 13, TopicPartition(TOPIC, 1): 6}]
    assert (follower.stats.opened, follower.stats.bad) == (2, 1)


async def test_when_opening_fails_nothing_is_committed_and_the_batch_is_delivered_again():
    consumer = FakeConsumer([[Msg(decision("T-2", "review", "AL-2"), 11), Msg(decision("T-4", "review", "AL-4"), 12)]])
    follower = DecisionFollower("unused:9092", Settings(), FailingOpener(), consumer=consumer, retry_s=0.0)
    assert await follower.step() == 0
    assert consumer.commits == []
    assert consumer.seeks == [(TopicPartition(TOPIC, 0), 11)]
    assert follower.stats.failed_batches == 1


async def test_run_follows_until_stopped_and_closes_the_consumer():
    graph = ReviewGraph(InMemorySaver(), FakeActionAgent(), MemoryLabelSink())
    consumer = FakeConsumer([[Msg(decision("T-2", "review", "AL-2"), 0)], [Msg(decision("T-2", "review", "AL-2"), 0)]])
    follower = DecisionFollower("unused:9092", Settings(), graph, consumer=consumer)
    stop = asyncio.Event()
    task = asyncio.create_task(follower.run(stop))
    assert await asyncio.to_thread(consumer.all_committed.wait, 10)
    stop.set()
    await asyncio.wait_for(task, 10)
    assert consumer.closed
    assert follower.stats.opened == 1  # the redelivered decision opened nothing new
    assert await graph.pending() == ["AL-2"]


async def test_a_commit_refused_by_a_rebalance_is_not_fatal_the_batch_counts_as_handled():
    class Rebalancing(FakeConsumer):
        def commit(self, offsets: list[TopicPartition], asynchronous: bool = True) -> list[TopicPartition]:
            raise KafkaException(KafkaError(KafkaError.REBALANCE_IN_PROGRESS, "the group is rebalancing"))

    graph = ReviewGraph(InMemorySaver(), FakeActionAgent(), MemoryLabelSink())
    consumer = Rebalancing([[Msg(decision("T-2", "review", "AL-2"), 3)]])
    follower = DecisionFollower("unused:9092", Settings(), graph, consumer=consumer)
    assert await follower.step() == 1
    assert await graph.pending() == ["AL-2"]  # opened; its new owner re-opens it idempotently
