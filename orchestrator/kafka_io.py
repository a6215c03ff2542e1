"""Kafka edges of the worker: a micro-batching consumer and an acknowledged producer (kafka-python)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable, Sequence
from typing import Any, Protocol

from kafka import KafkaConsumer, KafkaProducer, OffsetAndMetadata, TopicPartition
from kafka.errors import KafkaError

from riskmesh.contracts.settings import Settings
from riskmesh.orchestrator.pipeline import InboundRecord

__all__ = ["BatchConsumer", "KafkaEmitter", "commit_after", "make_producer", "rewind_to"]

log = logging.getLogger("riskmesh.kafka")


class Positioned(Protocol):
    """A consumed record's place: kafka-python's ConsumerRecord and our InboundRecord both have it."""

    @property
    def topic(self) -> str: ...
    @property
    def partition(self) -> int: ...
    @property
    def offset(self) -> int: ...


def commit_after(consumer: Any, records: Iterable[Positioned]) -> bool:
    """Commit past the last record of each partition, once the records' effects are durable.

    A commit the group refuses is not a failure of the batch: a rebalance moved the partitions or the
    generation changed (RebalanceInProgress, CommitFailed, IllegalGeneration, UnknownMemberId), or the
    coordinator is away. The records then come again to their next owner, and idempotent processing
    absorbs them. So this logs, returns False and never raises: a lost commit must not kill a worker.
    """
    offsets: dict[TopicPartition, OffsetAndMetadata] = {}
    for r in records:
        tp = TopicPartition(r.topic, r.partition)
        if tp not in offsets or offsets[tp].offset < r.offset + 1:
            offsets[tp] = OffsetAndMetadata(r.offset + 1, "", -1)
    if not offsets:
        return True
    try:
        consumer.commit(offsets)
    except KafkaError as exc:
        log.warning("offset commit refused (%s: %s); %d partitions' records will be delivered again",
                    type(exc).__name__, exc, len(offsets))
        return False
    return True


def rewind_to(consumer: Any, records: Iterable[Positioned]) -> None:
    """Seek back to the first record of each still-assigned partition so the records are delivered again."""
    first: dict[TopicPartition, int] = {}
    for r in records:
        tp = TopicPartition(r.topic, r.partition)
        first[tp] = min(first.get(tp, r.offset), r.offset)
    assigned = consumer.assignment()
    for tp, offset in first.items():
        if tp in assigned:
            consumer.seek(tp, offset)


def make_producer(bootstrap: str, **overrides: Any) -> KafkaProducer:
    """A producer that waits for the leader's ack. No idempotence: tansu does not support it."""
    config: dict[str, Any] = {
        "bootstrap_servers": bootstrap,
        "acks": 1,
        "linger_ms": 2,
        "batch_size": 256 * 1024,
        "max_request_size": 8 * 1024 * 1024,
        "retries": 5,
        "enable_idempotence": False,
    }
    config.update(overrides)
    return KafkaProducer(**config)


class KafkaEmitter:
    """Sends decisions, dead letters and shadow decisions, then blocks until every send is acknowledged."""

    def __init__(self, producer: KafkaProducer, decisions_topic: str, dlq_topic: str, timeout_s: float = 30,
                 shadow_topic: str | None = None) -> None:
        self._producer = producer
        self._decisions = decisions_topic
        self._dlq = dlq_topic
        self._shadow = shadow_topic
        self._timeout = timeout_s

    def _send_all(self, decisions: Sequence[tuple[str, bytes]], dead: Sequence[tuple[str, bytes]],
                  shadow: Sequence[tuple[str, bytes]] = ()) -> None:
        futures = [self._producer.send(self._decisions, key=k.encode(), value=v) for k, v in decisions]
        futures += [self._producer.send(self._dlq, key=k.encode() or None, value=v) for k, v in dead]
        if self._shadow is not None:
            futures += [self._producer.send(self._shadow, key=k.encode(), value=v) for k, v in shadow]
        self._producer.flush(timeout=self._timeout)
        for f in futures:
            f.get(timeout=self._timeout)  # raises KafkaError if the broker refused it

    async def emit(self, decisions: Sequence[tuple[str, bytes]], dead_letters: Sequence[tuple[str, bytes]],
                   *, shadow: Sequence[tuple[str, bytes]] = ()) -> None:
        await asyncio.to_thread(self._send_all, decisions, dead_letters, shadow)


class BatchConsumer:
    """A consumer-group member that hands out micro-batches (≤ max size records or ≤ max wait)."""

    def __init__(self, bootstrap: str, settings: Settings, client_id: str) -> None:
        self.settings = settings
        self._consumer = KafkaConsumer(
            settings.topic_transactions,
            bootstrap_servers=bootstrap,
            group_id=settings.consumer_group,
            client_id=client_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            session_timeout_ms=settings.session_timeout_ms,
            heartbeat_interval_ms=settings.heartbeat_interval_ms,
            max_poll_records=settings.batch_max_size,
            max_poll_interval_ms=300_000,
            fetch_max_wait_ms=min(settings.batch_max_wait_ms, 100),
        )

    def poll_batch(self) -> list[InboundRecord]:
        """Block until a batch is full or the max wait after its first record has passed."""
        max_size = self.settings.batch_max_size
        wait_s = self.settings.batch_max_wait_ms / 1000
        out: list[InboundRecord] = []
        first_at: float | None = None
        while len(out) < max_size:
            if first_at is None:
                timeout_ms = 200
            else:
                left = wait_s - (time.monotonic() - first_at)
                if left <= 0:
                    break
                timeout_ms = max(1, int(left * 1000))
            polled = self._consumer.poll(timeout_ms=timeout_ms, max_records=max_size - len(out))
            for tp, msgs in polled.items():
                for m in msgs:
                    out.append(InboundRecord(
                        value=m.value,
                        key=m.key.decode("utf-8", errors="replace") if m.key else None,
                        topic=tp.topic,
                        partition=tp.partition,
                        offset=m.offset,
                        ingest_ms=float(m.timestamp),
                    ))
            if out and first_at is None:
                first_at = time.monotonic()
            if not out:
                break  # idle: give control back so the caller can notice shutdown
        return out

    def commit(self, records: list[InboundRecord]) -> bool:
        """Commit past the batch (only after emitting); False when the group refused it (see commit_after)."""
        return commit_after(self._consumer, records)

    def rewind(self, records: list[InboundRecord]) -> None:
        """Seek back to the first record of each partition so a failed batch is delivered again."""
        rewind_to(self._consumer, records)

    def assignment(self) -> set[TopicPartition]:
        return set(self._consumer.assignment())

    def close(self) -> None:
        self._consumer.close(autocommit=False)

