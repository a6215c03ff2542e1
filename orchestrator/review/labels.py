"""Dispositions as training labels: `riskmesh.labels` (keyed by tx_id), its JSONL export, and reading it back.

release ▶ is_fraud False; block and freeze ▶ is_fraud True. `riskmesh labels export` writes the topic to a
JSONL file that `riskmesh train --labels FILE` accepts; there an analyst's label wins over the generator's.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
from pydantic import ValidationError

from riskmesh.contracts.gateway import ReviewOutcome
from riskmesh.contracts.review import LabelRecord, Resolution

__all__ = [
    "KafkaLabelSink",
    "KafkaOutcomeSink",
    "MemoryLabelSink",
    "export_labels",
    "label_for",
    "labels_app",
    "latest_labels",
    "read_label_files",
]

log = logging.getLogger("riskmesh.review.labels")

FRAUD_DISPOSITIONS = frozenset({"block", "freeze"})


def label_for(resolution: Resolution) -> LabelRecord:
    """The analyst's disposition as ground truth for its transaction."""
    return LabelRecord(
        tx_id=resolution.tx_id,
        is_fraud=resolution.disposition in FRAUD_DISPOSITIONS,
        source="analyst",
        disposition=resolution.disposition,
        alert_id=resolution.alert_id,
        actor=resolution.decided_by,
        labelled_at=resolution.decided_at,
    )


class MemoryLabelSink:
    """Keeps what was published, in order (tests, in-process runs)."""

    def __init__(self) -> None:
        self.records: list[LabelRecord] = []

    async def publish(self, labels: Sequence[LabelRecord]) -> None:
        self.records.extend(labels)


class KafkaLabelSink:
    """Publishes LabelRecord JSON to `riskmesh.labels` keyed by tx_id; returns once every send is acknowledged.

    The producer (an AckedProducer) should wait for all in-sync replicas (`make_producer(bootstrap, acks="all")`):
    a label is written once per disposition and nothing re-derives it.
    """

    def __init__(self, producer: Any, topic: str = "riskmesh.labels", timeout_s: float = 30.0) -> None:
        self._producer = producer
        self._topic = topic
        self._timeout = timeout_s

    @classmethod
    def connect(cls, bootstrap: str, topic: str = "riskmesh.labels", timeout_s: float = 30.0) -> KafkaLabelSink:
        from riskmesh.orchestrator.kafka_io import make_producer

        return cls(make_producer(bootstrap, acks="all", linger_ms=0, client_id="riskmesh-labels"), topic, timeout_s)

    def _send(self, labels: Sequence[LabelRecord]) -> None:
        # raises KafkaException if the broker refused one or they were not all acknowledged in time
        self._producer.produce_all([(self._topic, r.tx_id.encode(), r.model_dump_json().encode()) for r in labels],
                                   self._timeout)

    async def publish(self, labels: Sequence[LabelRecord]) -> None:
        if labels:
            await asyncio.to_thread(self._send, labels)

    def close(self) -> None:
        self._producer.close(timeout=self._timeout)


class KafkaOutcomeSink:
    """Publishes ReviewOutcome JSON to `riskmesh.review-outcomes` keyed by alert id; returns once acknowledged."""

    def __init__(self, producer: Any, topic: str = "riskmesh.review-outcomes", timeout_s: float = 30.0) -> None:
        self._producer = producer
        self._topic = topic
        self._timeout = timeout_s

    @classmethod
    def connect(cls, bootstrap: str, topic: str = "riskmesh.review-outcomes",
                timeout_s: float = 30.0) -> KafkaOutcomeSink:
        from riskmesh.orchestrator.kafka_io import make_producer

        return cls(make_producer(bootstrap, acks="all", linger_ms=0, client_id="riskmesh-outcomes"), topic,
                   timeout_s)

    def _send(self, outcomes: Sequence[ReviewOutcome]) -> None:
        self._producer.produce_all([(self._topic, o.alert_id.encode(), o.model_dump_json().encode())
                                    for o in outcomes], self._timeout)

    async def publish(self, outcomes: Sequence[ReviewOutcome]) -> None:
        if outcomes:
            await asyncio.to_thread(self._send, outcomes)

    def close(self) -> None:
        self._producer.close(timeout=self._timeout)


def latest_labels(records: Iterable[LabelRecord]) -> dict[str, LabelRecord]:
    """One label per tx_id: the latest `labelled_at` wins; on a tie, the one read last."""
    out: dict[str, LabelRecord] = {}
    for record in records:
        seen = out.get(record.tx_id)
        if seen is None or record.labelled_at >= seen.labelled_at:
            out[record.tx_id] = record
    return out


def read_label_files(paths: Iterable[Path]) -> list[LabelRecord]:
    """LabelRecords of JSONL files (blank lines skipped); an invalid line is an error naming file and line."""
    records: list[LabelRecord] = []
    for path in paths:
        with open(path, "rb") as fh:
            for number, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    records.append(LabelRecord.model_validate_json(line))
                except ValidationError as exc:
                    raise ValueError(f"{path}:{number}: not a label record: {exc}") from exc
    return records


def export_labels(bootstrap: str, topic: str, out: Path, idle_s: float = 3.0,
                  timeout_s: float = 300.0) -> dict[str, Any]:
    """Read the labels topic from the beginning (no consumer group) into JSONL, one line per tx_id (latest).

    The end is when no record arrived for `idle_s` (tansu's end offsets are unreliable). Bad records are
    logged and skipped.
    """
    from confluent_kafka import OFFSET_BEGINNING, TopicPartition

    from riskmesh.orchestrator.kafka_io import consumed, make_reader, partitions_of

    consumer = make_reader(bootstrap, "riskmesh-labels-export")
    records: list[LabelRecord] = []
    skipped = 0
    try:
        deadline = time.monotonic() + timeout_s
        partitions = partitions_of(consumer, topic)
        while not partitions and time.monotonic() < deadline:
            time.sleep(0.2)
            partitions = partitions_of(consumer, topic)
        if not partitions:
            raise RuntimeError(f"topic {topic} not found on {bootstrap}")
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions])
        last = time.monotonic()
        while time.monotonic() - last < idle_s and time.monotonic() < deadline:
            msgs = consumed(consumer.consume(500, 0.2), "labels export")
            if msgs:
                last = time.monotonic()
            for m in msgs:
                try:
                    records.append(LabelRecord.model_validate_json(m.value() or b""))
                except ValidationError:
                    skipped += 1
                    log.warning("skipped a bad label record at %s[%d]@%d", topic, m.partition(), m.offset())
    finally:
        consumer.close()
    latest = latest_labels(records)
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "wb") as fh:
        for record in latest.values():
            fh.write(orjson.dumps(record.model_dump(mode="json")) + b"\n")
    return {"out": str(out), "topic": topic, "records": len(records), "labels": len(latest), "skipped": skipped}


labels_app = typer.Typer(help="Analyst dispositions as training labels (riskmesh.labels).", no_args_is_help=True)


@labels_app.command("export")
def export_command(
    out: Annotated[Path, typer.Option(help="JSONL file to write (one label per tx_id, the latest)")],
    bootstrap: Annotated[str | None, typer.Option(help="Kafka bootstrap (default: configured or running stack)")]
    = None,
    idle: Annotated[float, typer.Option(help="seconds without a record that mean the end of the topic")] = 3.0,
) -> None:
    """Read riskmesh.labels from the beginning into a JSONL file for `riskmesh train --labels`."""
    from riskmesh.contracts.settings import Settings
    from riskmesh.orchestrator.producer import resolve_bootstrap

    settings = Settings()
    summary = export_labels(bootstrap or resolve_bootstrap(settings), settings.topic_labels, out, idle_s=idle)
    typer.echo(orjson.dumps(summary).decode())
