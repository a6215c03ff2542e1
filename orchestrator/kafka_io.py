"""Kafka edges of the worker: a micro-batching consumer and an acknowledged producer (kafka-python)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any

from kafka import KafkaConsumer, KafkaProducer, OffsetAndMetadata, TopicPartition

from riskmesh.contracts.settings import Settings
from riskmesh.orchestrator.pipeline import InboundRecord

__all__ = ["BatchConsumer", "KafkaEmitter", "make_producer"]


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

    def commit(self, records: list[InboundRecord]) -> None:
        """Commit the offsets after the last record of each partition (only after emitting)."""
        offsets: dict[TopicPartition, OffsetAndMetadata] = {}
        for r in records:
            tp = TopicPartition(r.topic, r.partition)
            if tp not in offsets or offsets[tp].offset < r.offset + 1:
                offsets[tp] = OffsetAndMetadata(r.offset + 1, "", -1)
        if offsets:
            self._consumer.commit(offsets)

    def rewind(self, records: list[InboundRecord]) -> None:
        """Seek back to the first record of each partition so a failed batch is delivered again."""
        first: dict[TopicPartition, int] = {}
        for r in records:
            tp = TopicPartition(r.topic, r.partition)
            first[tp] = min(first.get(tp, r.offset), r.offset)
        assigned = self._consumer.assignment()
        for tp, offset in first.items():
            if tp in assigned:
                self._consumer.seek(tp, offset)

    def assignment(self) -> set[TopicPartition]:
        return set(self._consumer.assignment())

    def close(self) -> None:
        self._consumer.close(autocommit=False)

