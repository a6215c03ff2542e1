"""Kafka edges: a micro-batching consumer-group member and acknowledged producers (confluent-kafka / librdkafka).

Why librdkafka and these settings: docs/decisions/0006-confluent-kafka.md. The clients log through the
Python logger `riskmesh.kafka.librdkafka` (warnings and errors only), never straight to stderr.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple, Protocol

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, Producer, TopicPartition

from riskmesh.contracts.settings import Settings
from riskmesh.orchestrator.pipeline import InboundRecord

__all__ = [
    "LIBRDKAFKA_LOGGER",
    "AckedProducer",
    "BatchConsumer",
    "KafkaEmitter",
    "Position",
    "client_config",
    "commit_after",
    "make_consumer",
    "make_producer",
    "make_reader",
    "positions",
    "rewind_to",
]

log = logging.getLogger("riskmesh.kafka")

LIBRDKAFKA_LOGGER = "riskmesh.kafka.librdkafka"
"""Where librdkafka's own log lines go (its syslog levels mapped to Python's)."""
_rdkafka_log = logging.getLogger(LIBRDKAFKA_LOGGER)

_SYSLOG_WARNING = 4
"""librdkafka's `log_level` (syslog numbering): 4 = warning. Lower levels are not even formatted."""


def _on_client_error(err: KafkaError) -> None:
    """librdkafka's client-level errors; it retries them by itself. A lost connection is already in its log."""
    if err.fatal():
        _rdkafka_log.error("kafka client fatal error: %s", err)
    elif err.code() == KafkaError._TRANSPORT:
        _rdkafka_log.debug("kafka client error: %s", err)
    else:
        _rdkafka_log.warning("kafka client error: %s", err)


def client_config(bootstrap: str, **extra: Any) -> dict[str, Any]:
    """What every client here shares: the bootstrap and logging through Python at WARNING."""
    return {"bootstrap.servers": bootstrap, "logger": _rdkafka_log, "log_level": _SYSLOG_WARNING,
            "error_cb": _on_client_error, **extra}


# --- producing -----------------------------------------------------------------------------------------------


class _Acks:
    """Delivery reports of one `produce_all` call. Only failures are reported (delivery.report.only.error)."""

    __slots__ = ("failed", "first")

    def __init__(self) -> None:
        self.failed = 0
        self.first: KafkaError | None = None

    def __call__(self, err: KafkaError | None, msg: Message) -> None:
        if err is not None:
            self.failed += 1
            if self.first is None:
                self.first = err


class AckedProducer(Producer):  # type: ignore[misc]
    """A librdkafka producer that sends a group of records and returns only once the broker acknowledged all.

    Thread-safe: concurrent `produce_all` calls share the producer's queue and each checks its own reports.
    """

    def produce_all(self, records: Iterable[tuple[str, bytes | None, bytes]], timeout_s: float = 30.0) -> int:
        """Send (topic, key, value) records; wait for every delivery report. Returns how many were sent.

        Raises KafkaException if the broker refused any record or some were still unacknowledged after
        `timeout_s`. A full local queue (BufferError) is waited out, never a reason to drop a record.
        """
        acks = _Acks()
        produce = self.produce
        n = 0
        for topic, key, value in records:
            try:
                produce(topic, value, key, on_delivery=acks)
            except BufferError:
                self._produce_when_room(topic, key, value, acks, timeout_s)
            n += 1
        left = self.flush(timeout_s)
        if acks.first is not None:
            log.warning("%d of %d records refused by the broker: %s", acks.failed, n, acks.first)
            raise KafkaException(acks.first)
        if left:
            raise KafkaException(KafkaError(KafkaError._MSG_TIMED_OUT,
                                            f"{left} records not acknowledged after {timeout_s:g} s"))
        return n

    def _produce_when_room(self, topic: str, key: bytes | None, value: bytes, acks: Any, timeout_s: float) -> None:
        """Serve delivery reports until the local queue takes the record (bounded by `timeout_s`)."""
        deadline = time.monotonic() + timeout_s
        while True:
            self.poll(0.05)
            try:
                self.produce(topic, value, key, on_delivery=acks)
                return
            except BufferError:
                if time.monotonic() > deadline:
                    raise KafkaException(KafkaError(KafkaError._QUEUE_FULL,
                                                    f"producer queue still full after {timeout_s:g} s")) from None

    def close(self, timeout: float = 5.0) -> bool:
        """Deliver what is queued (up to `timeout` s), drop the rest, release the client. True if all went."""
        left: int = self.flush(timeout)
        if left:  # librdkafka's own close would wait message.timeout.ms for them
            log.warning("producer closed with %d records undelivered", left)
            self.purge()
            self.flush(0)
        super().close()
        return left == 0


def make_producer(bootstrap: str, *, compression: str = "zstd", acks: int | str = 1, linger_ms: float = 5,
                  client_id: str = "riskmesh", config: dict[str, Any] | None = None) -> AckedProducer:
    """A producer that waits for the leader's ack (`acks="all"` for records nothing re-derives).

    No idempotence: tansu does not support it (delivery is at-least-once; docs/decisions/0002). zstd by default:
    librdkafka compresses each batch in C, and the broker keeps the batches compressed (a third of the memory
    of the embedded broker for transactions and decisions). `config` overrides any librdkafka property.
    """
    settings = client_config(
        bootstrap,
        **{
            "client.id": client_id,
            "acks": acks,
            "enable.idempotence": False,
            "compression.type": compression,
            "linger.ms": linger_ms,
            # a 2,000-record burst spreads over the partitions; per partition a batch holds up to 10,000 records
            # or 1 MB (below the 1 MB default max.message.bytes of Kafka brokers, so a real broker takes them too)
            "batch.num.messages": 10_000,
            "batch.size": 1_000_000,
            "message.max.bytes": 8 * 1024 * 1024,  # one request; a single record up to this size
            "queue.buffering.max.messages": 200_000,
            "queue.buffering.max.kbytes": 256 * 1024,
            "max.in.flight.requests.per.connection": 5,  # without idempotence a retry may reorder within 5
            "message.timeout.ms": 120_000,  # a record the broker never acknowledges fails after this
            "delivery.report.only.error": True,  # success is "flush left nothing and reported no error"
            "partitioner": "murmur2_random",  # the Java client's key ▶ partition mapping (and kafka-python's)
            "socket.nagle.disable": True,
        },
    )
    settings.update(config or {})
    return AckedProducer(settings)


class KafkaEmitter:
    """Sends decisions, dead letters and shadow decisions, then blocks until every send is acknowledged."""

    def __init__(self, producer: AckedProducer, decisions_topic: str, dlq_topic: str, timeout_s: float = 30,
                 shadow_topic: str | None = None) -> None:
        self._producer = producer
        self._decisions = decisions_topic
        self._dlq = dlq_topic
        self._shadow = shadow_topic
        self._timeout = timeout_s

    def _send_all(self, decisions: Sequence[tuple[str, bytes]], dead: Sequence[tuple[str, bytes]],
                  shadow: Sequence[tuple[str, bytes]] = ()) -> None:
        records: list[tuple[str, bytes | None, bytes]] = [(self._decisions, k.encode(), v) for k, v in decisions]
        records += [(self._dlq, k.encode() or None, v) for k, v in dead]  # decisions by tx_id, DLQ by original key
        if self._shadow is not None:
            records += [(self._shadow, k.encode(), v) for k, v in shadow]
        if records:
            self._producer.produce_all(records, self._timeout)  # raises if any was refused or left unacked

    async def emit(self, decisions: Sequence[tuple[str, bytes]], dead_letters: Sequence[tuple[str, bytes]],
                   *, shadow: Sequence[tuple[str, bytes]] = ()) -> None:
        await asyncio.to_thread(self._send_all, decisions, dead_letters, shadow)


# --- consuming -----------------------------------------------------------------------------------------------


class Positioned(Protocol):
    """A consumed record's place: InboundRecord and Position both have it."""

    @property
    def topic(self) -> str: ...
    @property
    def partition(self) -> int: ...
    @property
    def offset(self) -> int: ...


class Position(NamedTuple):
    topic: str
    partition: int
    offset: int


def positions(messages: Iterable[Message]) -> list[Position]:
    """Where librdkafka messages came from (their accessors are methods), for commit_after and rewind_to."""
    return [Position(m.topic(), m.partition(), m.offset()) for m in messages]  # type: ignore[arg-type]


_GROUP_CONSUMER_DEFAULTS: dict[str, Any] = {
    "enable.auto.commit": False,  # offsets are committed by hand, after the records' effects are durable
    "enable.auto.offset.store": False,
    "auto.offset.reset": "earliest",
    "max.poll.interval.ms": 300_000,
    # Eager `range` rather than `cooperative-sticky`: tansu spends session.timeout.ms/2 on every JoinGroup
    # round. Cooperative rebalancing needs two rounds whenever partitions move between live members (measured:
    # a second worker got its partitions ~4 s after joining, against ~2 s with range), and takes over a dead
    # member's partitions no faster (~3 s after SIGKILL with a 2 s session either way). Range pauses every
    # partition for about one round per rebalance, which the at-least-once commit path already absorbs.
    "partition.assignment.strategy": "range",
    "queued.max.messages.kbytes": 4 * 1024,  # prefetch per consumer (~8 batches of 500): bounded memory when lagging
    "socket.nagle.disable": True,
}


def make_consumer(bootstrap: str, *, group_id: str, client_id: str, settings: Settings,
                  config: dict[str, Any] | None = None) -> Consumer:
    """A consumer-group member: manual commits, from the earliest offset when the group has none."""
    conf = client_config(bootstrap, **_GROUP_CONSUMER_DEFAULTS, **{
        "group.id": group_id,
        "client.id": client_id,
        "session.timeout.ms": settings.session_timeout_ms,
        "heartbeat.interval.ms": settings.heartbeat_interval_ms,
    })
    conf.update(config or {})
    return Consumer(conf)


def make_reader(bootstrap: str, client_id: str, config: dict[str, Any] | None = None) -> Consumer:
    """A consumer that only `assign`s partitions (no group membership, never commits).

    librdkafka insists on a group.id; it is never joined because nothing subscribes.
    """
    conf = client_config(bootstrap, **{
        "group.id": f"{client_id}-reader",
        "client.id": client_id,
        "enable.auto.commit": False,
        "enable.auto.offset.store": False,
        "auto.offset.reset": "earliest",
        "fetch.wait.max.ms": 50,
        "queued.max.messages.kbytes": 32 * 1024,
    })
    conf.update(config or {})
    return Consumer(conf)


def partitions_of(consumer: Consumer, topic: str, timeout_s: float = 5.0) -> list[int]:
    """The partition ids of `topic` ([] when the broker does not know it yet)."""
    meta = consumer.list_topics(topic, timeout=timeout_s).topics.get(topic)
    if meta is None or meta.error is not None:
        return []
    return sorted(meta.partitions)


def consumed(messages: Sequence[Message], what: str) -> list[Message]:
    """The records among what consume() returned; error events are logged (fatal ones raised)."""
    if all(m.error() is None for m in messages):
        return list(messages)
    out: list[Message] = []
    for m in messages:
        err = m.error()
        if err is None:
            out.append(m)
        elif err.fatal():
            raise KafkaException(err)
        elif err.code() != KafkaError._PARTITION_EOF:
            log.warning("%s: consumer error %s", what, err)
    return out


_REFUSED = frozenset({KafkaError.REBALANCE_IN_PROGRESS, KafkaError.ILLEGAL_GENERATION, KafkaError.UNKNOWN_MEMBER_ID,
                      KafkaError.NOT_COORDINATOR, KafkaError.COORDINATOR_NOT_AVAILABLE,
                      KafkaError.COORDINATOR_LOAD_IN_PROGRESS, KafkaError._ASSIGNMENT_LOST, KafkaError._STATE})


def commit_after(consumer: Any, records: Iterable[Positioned]) -> bool:
    """Commit past the last record of each partition, once the records' effects are durable.

    A commit the group refuses is not a failure of the batch: a rebalance moved the partitions or the
    generation changed (REBALANCE_IN_PROGRESS, ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID), or the coordinator is
    away. The records then come again to their next owner, and idempotent processing absorbs them. So this
    logs, returns False and never raises: a lost commit must not kill a worker.
    """
    last: dict[tuple[str, int], int] = {}
    for r in records:
        key = (r.topic, r.partition)
        if last.get(key, -1) < r.offset:
            last[key] = r.offset
    if not last:
        return True
    offsets = [TopicPartition(t, p, o + 1) for (t, p), o in last.items()]
    try:
        result = consumer.commit(offsets=offsets, asynchronous=False)
    except KafkaException as exc:
        err = exc.args[0] if exc.args and isinstance(exc.args[0], KafkaError) else None
        name = err.name() if err is not None else type(exc).__name__
        level = logging.WARNING if err is None or err.code() in _REFUSED else logging.ERROR
        log.log(level, "offset commit refused (%s: %s); %d partitions' records will be delivered again",
                name, err.str() if err is not None else exc, len(offsets))
        return False
    except RuntimeError as exc:  # the consumer is closed
        log.warning("offset commit impossible (%s); %d partitions' records will be delivered again", exc,
                    len(offsets))
        return False
    failed = [tp for tp in result or () if tp.error is not None]
    if failed:
        log.warning("offset commit refused for %s (%s); their records will be delivered again",
                    [f"{tp.topic}:{tp.partition}" for tp in failed], failed[0].error)
        return False
    return True


def rewind_to(consumer: Any, records: Iterable[Positioned]) -> None:
    """Seek back to the first record of each still-assigned partition so the records are delivered again.

    A partition no longer assigned needs nothing: its new owner starts from the last committed offset. A seek
    librdkafka refuses on a partition still held raises: going on would later commit past the records.
    """
    first: dict[tuple[str, int], int] = {}
    for r in records:
        key = (r.topic, r.partition)
        if first.get(key, r.offset) >= r.offset:
            first[key] = r.offset
    assigned = {(tp.topic, tp.partition) for tp in consumer.assignment()}
    for (topic, partition), offset in first.items():
        if (topic, partition) in assigned:
            consumer.seek(TopicPartition(topic, partition, offset))


class BatchConsumer:
    """A consumer-group member that hands out micro-batches (≤ max size records or ≤ max wait)."""

    def __init__(self, bootstrap: str, settings: Settings, client_id: str) -> None:
        self.settings = settings
        self._consumer = make_consumer(bootstrap, group_id=settings.consumer_group, client_id=client_id,
                                       settings=settings,
                                       config={"fetch.wait.max.ms": min(settings.batch_max_wait_ms, 100)})
        self._consumer.subscribe([settings.topic_transactions])

    def poll_batch(self) -> list[InboundRecord]:
        """Block until a batch is full or the max wait after its first record has passed ([] when idle ~200 ms)."""
        max_size = self.settings.batch_max_size
        wait_s = self.settings.batch_max_wait_ms / 1000
        consumer = self._consumer
        out: list[InboundRecord] = []
        msgs = consumer.consume(max_size, 0)  # what is already fetched
        if not msgs:
            first = consumer.poll(0.2)
            if first is None:
                return out  # idle: give control back so the caller can notice shutdown
            msgs = [first]
        first_at = time.monotonic()
        while True:
            self._absorb(msgs, out)
            left = wait_s - (time.monotonic() - first_at)
            if len(out) >= max_size or left <= 0:
                return out
            msgs = consumer.consume(max_size - len(out), left)

    @staticmethod
    def _absorb(msgs: list[Message], out: list[InboundRecord]) -> None:
        append = out.append
        for m in consumed(msgs, "transactions"):
            key = m.key()
            append(InboundRecord(m.value(), key.decode("utf-8", errors="replace") if key else None,
                                 m.topic(), m.partition(), m.offset(),  # type: ignore[arg-type]  # set on records
                                 float(m.timestamp()[1])))

    def commit(self, records: list[InboundRecord]) -> bool:
        """Commit past the batch (only after emitting); False when the group refused it (see commit_after)."""
        return commit_after(self._consumer, records)

    def rewind(self, records: list[InboundRecord]) -> None:
        """Seek back to the first record of each partition so a failed batch is delivered again."""
        rewind_to(self._consumer, records)

    def assignment(self) -> set[TopicPartition]:
        return set(self._consumer.assignment())

    def close(self) -> None:
        self._consumer.close()  # leaves the group; nothing is committed on the way out
