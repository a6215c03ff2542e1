"""Driving a stack from outside: produce transactions at a rate, and tap the decisions and DLQ topics."""

from __future__ import annotations

import threading
import time
from collections import Counter, deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson
from kafka import KafkaConsumer, TopicPartition

from riskmesh.orchestrator.kafka_io import make_producer

__all__ = ["DecisionTap", "TapStats", "percentile", "produce"]


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    idx = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return round(ordered[idx], 2)


def produce(bootstrap: str, topic: str, messages: Iterable[tuple[bytes | None, bytes]], rate: float | None = None,
            stop: threading.Event | None = None) -> int:
    """Send (key, value) pairs, paced to `rate` messages/s when given; returns how many were acknowledged."""
    producer = make_producer(bootstrap, linger_ms=5)
    sent = 0
    started = time.monotonic()
    futures = []
    try:
        for key, value in messages:
            if stop is not None and stop.is_set():
                break
            futures.append(producer.send(topic, key=key, value=value))
            sent += 1
            if rate:
                ahead = sent / rate - (time.monotonic() - started)
                if ahead > 0.005:
                    time.sleep(ahead)
            if len(futures) >= 5000:
                producer.flush()
                for f in futures:
                    f.get(timeout=30)
                futures.clear()
        producer.flush()
        for f in futures:
            f.get(timeout=30)
    finally:
        producer.close(timeout=5)
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

    def _partitions(self, consumer: KafkaConsumer) -> list[TopicPartition]:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            tps = [TopicPartition(t, p) for t in self.topics for p in (consumer.partitions_for_topic(t) or ())]
            if {tp.topic for tp in tps} == set(self.topics):
                return tps
            time.sleep(0.2)
        raise TimeoutError(f"topics {self.topics} not found")

    def _run(self) -> None:
        consumer = KafkaConsumer(bootstrap_servers=self.bootstrap, enable_auto_commit=False,
                                 auto_offset_reset="earliest", group_id=None, fetch_max_wait_ms=50,
                                 max_partition_fetch_bytes=8 * 1024 * 1024)
        try:
            tps = self._partitions(consumer)
            consumer.assign(tps)
            consumer.seek_to_beginning(*tps)
            self._ready.set()
            while not self._stop.is_set():
                for tp, msgs in consumer.poll(timeout_ms=100, max_records=5000).items():
                    self._absorb(tp.topic == self.topics[1], msgs)
        finally:
            consumer.close()

    def _absorb(self, is_dlq: bool, msgs: list) -> None:  # type: ignore[type-arg]
        now = time.monotonic()
        with self._lock:
            s = self.stats
            n = 0
            for m in msgs:
                if is_dlq:
                    dl = orjson.loads(m.value)
                    if self.prefix and not str(dl.get("key") or "").startswith(self.prefix):
                        continue
                    s.dlq += 1
                    s.dlq_reasons[dl.get("error_type", "?")] += 1
                    if len(self.dead) < 10_000:
                        self.dead.append(dl)
                    continue
                d = orjson.loads(m.value)
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
