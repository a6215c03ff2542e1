"""The librdkafka clients without a broker: acknowledged sends fail loudly, micro-batches respect size and wait."""

from __future__ import annotations

import time

import pytest
from confluent_kafka import KafkaError, KafkaException

from riskmesh.contracts.settings import Settings
from riskmesh.orchestrator.kafka_io import BatchConsumer, KafkaEmitter, make_producer

NOWHERE = "127.0.0.1:9"  # discard port: nothing listens, every connection is refused


def test_records_the_broker_never_acknowledges_raise_once_the_timeout_has_passed() -> None:
    producer = make_producer(NOWHERE)
    started = time.monotonic()
    with pytest.raises(KafkaException) as caught:
        producer.produce_all([("t", b"k", b"v")] * 3, timeout_s=0.3)
    assert caught.value.args[0].code() == KafkaError._MSG_TIMED_OUT
    assert "3 records not acknowledged" in caught.value.args[0].str()
    assert time.monotonic() - started < 5
    assert producer.close(timeout=0.1) is False  # what is left is dropped, not waited for (message.timeout.ms)


def test_a_full_local_queue_is_waited_out_then_reported_never_silently_dropped() -> None:
    producer = make_producer(NOWHERE, config={"queue.buffering.max.messages": 2})
    with pytest.raises(KafkaException) as caught:
        producer.produce_all([("t", b"k", b"v")] * 5, timeout_s=0.3)
    assert caught.value.args[0].code() == KafkaError._QUEUE_FULL
    producer.close(timeout=0)


def test_a_compression_codec_librdkafka_does_not_know_is_refused_at_once() -> None:
    make_producer(NOWHERE, compression="zstd").close(timeout=0)
    with pytest.raises(KafkaException):
        make_producer(NOWHERE, compression="no-such-codec")


class RecordingProducer:
    def __init__(self) -> None:
        self.records: list[tuple[str, bytes | None, bytes]] = []

    def produce_all(self, records, timeout_s: float = 30.0) -> int:
        self.records.extend(records)
        return len(records)


async def test_decisions_are_keyed_by_tx_id_dead_letters_by_their_original_key() -> None:
    producer = RecordingProducer()
    emitter = KafkaEmitter(producer, "dec", "dlq", shadow_topic="shadow")  # type: ignore[arg-type]
    await emitter.emit([("T-1", b"d1")], [("acct-9", b"x"), ("", b"y")], shadow=[("T-1", b"s1")])
    assert producer.records == [("dec", b"T-1", b"d1"), ("dlq", b"acct-9", b"x"), ("dlq", None, b"y"),
                                ("shadow", b"T-1", b"s1")]


class Msg:
    def __init__(self, offset: int, key: bytes | None = b"A-1") -> None:
        self._offset, self._key = offset, key

    def error(self) -> None:
        return None

    def value(self) -> bytes:
        return b"{}"

    def key(self) -> bytes | None:
        return self._key

    def topic(self) -> str:
        return "riskmesh.transactions"

    def partition(self) -> int:
        return 3

    def offset(self) -> int:
        return self._offset

    def timestamp(self) -> tuple[int, int]:
        return (1, 1_700_000_000_123)


class Trickle:
    """Hands out `per_call` records per call, at most `available` in all; consume() waits its timeout when dry."""

    def __init__(self, available: int, per_call: int) -> None:
        self.available, self.per_call, self.next = available, per_call, 0
        self.calls: list[tuple[str, int, float]] = []

    def _take(self, n: int) -> list[Msg]:
        n = min(n, self.per_call, self.available - self.next)
        out = [Msg(self.next + i) for i in range(n)]
        self.next += n
        return out

    def consume(self, num_messages: int, timeout: float) -> list[Msg]:
        self.calls.append(("consume", num_messages, timeout))
        out = self._take(num_messages)
        if not out and timeout:
            time.sleep(timeout)
        return out

    def poll(self, timeout: float) -> Msg | None:
        self.calls.append(("poll", 1, timeout))
        out = self._take(1)
        if not out:
            time.sleep(timeout)
        return out[0] if out else None


def batch_consumer(fake: Trickle, max_size: int = 10, wait_ms: int = 50) -> BatchConsumer:
    consumer = BatchConsumer(NOWHERE, Settings(batch_max_size=max_size, batch_max_wait_ms=wait_ms), "test")
    consumer._consumer.close()
    consumer._consumer = fake  # type: ignore[assignment]
    return consumer


def test_an_idle_consumer_returns_an_empty_batch_within_about_200_ms() -> None:
    consumer = batch_consumer(Trickle(0, 10))
    started = time.monotonic()
    assert consumer.poll_batch() == []
    assert 0.15 < time.monotonic() - started < 0.5


def test_a_batch_stops_at_the_max_size() -> None:
    fake = Trickle(100, 4)
    batch = batch_consumer(fake, max_size=10).poll_batch()
    assert [r.offset for r in batch] == list(range(10))
    assert all(n <= 10 for _, n, _ in fake.calls)
    r = batch[0]
    assert (r.key, r.topic, r.partition, r.value, r.ingest_ms) == ("A-1", "riskmesh.transactions", 3, b"{}",
                                                                   1_700_000_000_123.0)


def test_a_partial_batch_is_handed_out_after_the_max_wait_from_its_first_record() -> None:
    consumer = batch_consumer(Trickle(3, 3), max_size=500, wait_ms=50)
    started = time.monotonic()
    batch = consumer.poll_batch()
    assert len(batch) == 3
    assert 0.04 < time.monotonic() - started < 0.3
