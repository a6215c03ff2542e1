"""Offsets after a batch: commit past the last record per partition; a commit the group refuses never raises."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from kafka import TopicPartition
from kafka.errors import CommitFailedError, IllegalGenerationError, KafkaTimeoutError, RebalanceInProgressError

from riskmesh.orchestrator.kafka_io import commit_after, rewind_to

T = "riskmesh.transactions"


@dataclass
class Rec:
    offset: int
    partition: int = 0
    topic: str = T


class Consumer:
    def __init__(self, refuse: Exception | None = None) -> None:
        self.refuse = refuse
        self.commits: list[dict[TopicPartition, int]] = []
        self.seeks: list[tuple[TopicPartition, int]] = []

    def commit(self, offsets: dict) -> None:  # type: ignore[type-arg]
        if self.refuse is not None:
            raise self.refuse
        self.commits.append({tp: o.offset for tp, o in offsets.items()})

    def assignment(self) -> set[TopicPartition]:
        return {TopicPartition(T, 0), TopicPartition(T, 1)}

    def seek(self, tp: TopicPartition, offset: int) -> None:
        self.seeks.append((tp, offset))


def test_commit_goes_one_past_the_highest_offset_of_each_partition() -> None:
    consumer = Consumer()
    assert commit_after(consumer, [Rec(7), Rec(9), Rec(8), Rec(3, partition=1)])
    assert consumer.commits == [{TopicPartition(T, 0): 10, TopicPartition(T, 1): 4}]


def test_an_empty_batch_commits_nothing() -> None:
    consumer = Consumer()
    assert commit_after(consumer, [])
    assert consumer.commits == []


@pytest.mark.parametrize("refusal", [RebalanceInProgressError("rebalancing"), CommitFailedError("gone"),
                                     IllegalGenerationError("old generation"), KafkaTimeoutError("no coordinator")])
def test_a_refused_commit_is_reported_not_raised(refusal: Exception, caplog: pytest.LogCaptureFixture) -> None:
    # the survivor of a failover commits while the group rebalances: the records come again, the worker lives
    assert commit_after(Consumer(refuse=refusal), [Rec(1)]) is False
    assert type(refusal).__name__ in caplog.text


def test_rewind_seeks_to_the_first_record_of_each_partition_still_assigned() -> None:
    consumer = Consumer()
    rewind_to(consumer, [Rec(5), Rec(4), Rec(2, partition=1), Rec(0, partition=2)])
    assert sorted(consumer.seeks) == [(TopicPartition(T, 0), 4), (TopicPartition(T, 1), 2)]
