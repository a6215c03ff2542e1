"""Driving a stack from outside: produce transactions at a rate, and tap the decisions and DLQ topics."""

from __future__ import annotations

import threading
import time
from collections import Counter, deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson
from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, TopicPartition

from riskmesh.orchestrator.kafka_io import consumed, make_producer, make_reader, partitions_of

__all__ = ["DecisionTap", "TapStats", "percentile", "produce"]


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    idx = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return round(ordered[idx], 2)


class _Failures:
    """Delivery reports of `produce`; only failed deliveries are reported (see make_producer)."""

    __slots__ = ("count", "first")

    def __init__(self) -> None:
        self.count = 0
        self.first: KafkaError | None = None

    def __call__(self, err: KafkaError | None, msg: object) -> None:
        if err is not None:
            self.count += 1
            self.first = self.first or err


def produce(bootstrap: str, topic: str, messages: Iterable[tuple[bytes | None, bytes]], rate: float | None = None,
            stop: threading.Event | None = None) -> int:
    """Send (key, value) pairs, paced to `rate` messages/s when given; returns how many were acknowledged.

    Raises KafkaException when the broker refused a message or some were not acknowledged 30 s after the last.
    """
    # a bounded local queue (~25 MB of transactions) is the back-pressure when the broker is slower than the input
    producer = make_producer(bootstrap, linger_ms=5, client_id="riskmesh-produce",
                             config={"queue.buffering.max.messages": 50_000})
    failures = _Failures()
    send = producer.produce
    serve = producer.poll
    sent = 0
    started = time.monotonic()
    try:
        for key, value in messages:
            if stop is not None and stop.is_set():
                break
            while True:
                try:
                    send(topic, value, key, on_delivery=failures)
                    break
                except BufferError:  # the local queue is full: let the broker catch up, never drop
                    serve(0.05)
                    if failures.first is not None:  # the broker refuses (or is gone): stop here
                        raise KafkaException(failures.first) from None
            sent += 1
            if rate:
                ahead = sent / rate - (time.monotonic() - started)
                if ahead > 0.005:
                    serve(0)
                    time.sleep(ahead)
            elif not sent % 10_000:
                serve(0)  # delivery reports and client logs
        left = producer.flush(30)
    finally:
        producer.close(timeout=5)
    if failures.first is not None:
        raise KafkaException(failures.first)
    if left:
        raise KafkaException(KafkaError(KafkaError._MSG_TIMED_OUT, f"{left} of {sent} messages not acknowledged"))
    return sent


@dataclass
class TapStats:
    decisions: int = 0
    messages: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    degraded: Counter[str] = field(default_factory=Counter)
    dlq: int = 0
    dlq_reasons: Counter[str] = field(default_factory=Counter)
    latencies_ms: list[float] = field(default_factory=list)
    recent_ms: deque[float] = field(default_factory=lambda: deque(maxlen=5000))
    keep_all: bool = True
    first_at: float | None = None
    last_at: float | None = None
    window: list[tuple[float, int]] = field(default_factory=list)

    def rate(self, seconds: float = 5.0) -> float:
        now = time.monotonic()
        recent = [n for t, n in self.window if now - t <= seconds]
        return sum(recent) / seconds


class DecisionTap:
    """Reads riskmesh.decisions and the DLQ from the beginning (no consumer group), counting by tx_id.

    With `prefix`, only decisions whose tx_id (and dead letters whose key) start with it are counted, so
    a run can be measured on a shared, long-lived topic.
    """

    def __init__(self, bootstrap: str, decisions_topic: str, dlq_topic: str, prefix: str = "",
                 keep_decisions: bool = False) -> None:
        self.bootstrap = bootstrap
        self.keep_decisions = keep_decisions
        self.decisions: list[dict[str, Any]] = []
        self.topics = (decisions_topic, dlq_topic)
        self.prefix = prefix
        self.stats = TapStats()
        self.seen: set[str] = set()
        self.dead: list[dict[str, Any]] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="decision-tap", daemon=True)
        self._ready = threading.Event()

    def start(self) -> DecisionTap:
        self._thread.start()
        if not self._ready.wait(30):
            raise TimeoutError("decision tap could not subscribe")
        return self

    def _partitions(self, consumer: Consumer) -> list[TopicPartition]:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            found = {t: partitions_of(consumer, t) for t in self.topics}
            if all(found.values()):
                return [TopicPartition(t, p, OFFSET_BEGINNING) for t, parts in found.items() for p in parts]
            time.sleep(0.2)
        raise TimeoutError(f"topics {self.topics} not found")

    def _run(self) -> None:
        consumer = make_reader(self.bootstrap, "riskmesh-decision-tap")
        decisions_topic, dlq_topic = self.topics
        try:
            consumer.assign(self._partitions(consumer))
            self._ready.set()
            while not self._stop.is_set():
                msgs = consumed(consumer.consume(5000, 0.1), "decision tap")
                if not msgs:
                    continue
                decisions: list[bytes] = [m.value() for m in msgs if m.topic() == decisions_topic]  # type: ignore[misc]
                if decisions:
                    self._absorb(False, decisions)
                if len(decisions) < len(msgs):
                    self._absorb(True, [m.value() for m in msgs if m.topic() == dlq_topic])  # type: ignore[misc]
        finally:
            consumer.close()

    def _absorb(self, is_dlq: bool, values: list[bytes]) -> None:
        """Count one topic's record values (decision or dead-letter JSON)."""
        now = time.monotonic()
        loads = orjson.loads
        with self._lock:
            s = self.stats
            n = 0
            for value in values:
                if is_dlq:
                    dl = loads(value)
                    if self.prefix and not str(dl.get("key") or "").startswith(self.prefix):
                        continue
                    s.dlq += 1
                    s.dlq_reasons[dl.get("error_type", "?")] += 1
                    if len(self.dead) < 10_000:
                        self.dead.append(dl)
                    continue
                d = loads(value)
                tx_id = d["tx_id"]
                if self.prefix and not tx_id.startswith(self.prefix):
                    continue
                s.messages += 1
                if tx_id in self.seen:
                    continue
                self.seen.add(tx_id)
                if self.keep_decisions:
                    self.decisions.append(d)
                s.decisions += 1
                n += 1
                s.outcomes[d["decision"]] += 1
                for agent in d.get("degraded", []):
                    s.degraded[agent] += 1
                latency = float(d.get("latency_ms", 0.0))
                s.recent_ms.append(latency)
                if s.keep_all:
                    s.latencies_ms.append(latency)
            if n:
                s.first_at = s.first_at or now
                s.last_at = now
                s.window.append((now, n))
                if len(s.window) > 2000:
                    del s.window[:1000]

    def wait_for(self, decisions: int, dlq: int = 0, timeout_s: float = 120) -> bool:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with self._lock:
                if self.stats.decisions >= decisions and self.stats.dlq >= dlq:
                    return True
            time.sleep(0.05)
        return False

    def decisions_iter(self) -> Iterator[str]:
        with self._lock:
            return iter(list(self.seen))

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
