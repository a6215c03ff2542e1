"""Offsets after a batch: commit past the last record per partition; a commit the group refuses never raises."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from confluent_kafka import KafkaError, KafkaException, TopicPartition

from riskmesh.orchestrator.kafka_io import Position, commit_after, rewind_to

T = "riskmesh.transactions"


@dataclass
class Rec:
    offset: int
    partition: int = 0
    topic: str = T


@dataclass
class Committed:
    topic: str
    partition: int
    offset: int
    error: KafkaError | None


class Consumer:
    """The part of confluent_kafka.Consumer that commit_after and rewind_to use."""

    def __init__(self, refuse: Exception | None = None, partition_error: KafkaError | None = None) -> None:
        self.refuse = refuse
        self.partition_error = partition_error
        self.commits: list[dict[TopicPartition, int]] = []
        self.seeks: list[tuple[TopicPartition, int]] = []

    def commit(self, offsets: list[TopicPartition], asynchronous: bool = True) -> list:
        assert asynchronous is False  # the commit must be durable before the worker moves on
        if self.refuse is not None:
            raise self.refuse
        self.commits.append({TopicPartition(tp.topic, tp.partition): tp.offset for tp in offsets})
        if self.partition_error is not None:  # what librdkafka returns: each partition with its own error
            return [Committed(tp.topic, tp.partition, tp.offset, self.partition_error if i == 0 else None)
                    for i, tp in enumerate(offsets)]
        return offsets

    def assignment(self) -> list[TopicPartition]:
        return [TopicPartition(T, 0), TopicPartition(T, 1)]

    def seek(self, tp: TopicPartition) -> None:
        self.seeks.append((TopicPartition(tp.topic, tp.partition), tp.offset))


def test_commit_goes_one_past_the_highest_offset_of_each_partition() -> None:
    consumer = Consumer()
    assert commit_after(consumer, [Rec(7), Rec(9), Rec(8), Rec(3, partition=1)])
    assert consumer.commits == [{TopicPartition(T, 0): 10, TopicPartition(T, 1): 4}]


def test_positions_of_librdkafka_messages_commit_like_records() -> None:
    consumer = Consumer()
    assert commit_after(consumer, [Position(T, 1, 4), Position(T, 1, 6)])
    assert consumer.commits == [{TopicPartition(T, 1): 7}]


def test_an_empty_batch_commits_nothing() -> None:
    consumer = Consumer()
    assert commit_after(consumer, [])
    assert consumer.commits == []


@pytest.mark.parametrize("code", [KafkaError.REBALANCE_IN_PROGRESS, KafkaError.ILLEGAL_GENERATION,
                                  KafkaError.UNKNOWN_MEMBER_ID, KafkaError.NOT_COORDINATOR,
                                  KafkaError.COORDINATOR_NOT_AVAILABLE, KafkaError._TIMED_OUT,
                                  KafkaError._NO_OFFSET, KafkaError._TRANSPORT])
def test_a_refused_commit_is_reported_not_raised(code: int, caplog: pytest.LogCaptureFixture) -> None:
    # the survivor of a failover commits while the group rebalances: the records come again, the worker lives
    refusal = KafkaException(KafkaError(code, "refused"))
    assert commit_after(Consumer(refuse=refusal), [Rec(1)]) is False
    assert KafkaError(code).name() in caplog.text


def test_a_partition_refused_inside_a_successful_commit_request_is_reported(caplog: pytest.LogCaptureFixture) -> None:
    consumer = Consumer(partition_error=KafkaError(KafkaError.UNKNOWN_MEMBER_ID))
    assert commit_after(consumer, [Rec(1), Rec(2, partition=1)]) is False
    assert "UNKNOWN_MEMBER_ID" in caplog.text


def test_committing_on_a_closed_consumer_is_reported_not_raised() -> None:
    assert commit_after(Consumer(refuse=RuntimeError("Consumer closed")), [Rec(1)]) is False


def test_rewind_seeks_to_the_first_record_of_each_partition_still_assigned() -> None:
    consumer = Consumer()
    rewind_to(consumer, [Rec(5), Rec(4), Rec(2, partition=1), Rec(0, partition=2)])
    assert sorted(consumer.seeks) == [(TopicPartition(T, 0), 4), (TopicPartition(T, 1), 2)]
