"""On a real broker (tansu only): review decisions open review threads, dispositions land on riskmesh.labels
with acks=all, and `labels export` reads them back in the form `riskmesh train --labels` takes."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from langgraph.checkpoint.memory import InMemorySaver

from riskmesh.contracts import Decision
from riskmesh.contracts.review import Resolution, ResolutionOutcome, ResolutionRequest, ResolutionResponse
from riskmesh.contracts.settings import Settings
from riskmesh.orchestrator.infra import ensure_topics, find_tansu
from riskmesh.orchestrator.kafka_io import make_producer
from riskmesh.orchestrator.procs import ChildProcess, free_port, port_open, wait_until
from riskmesh.orchestrator.review.follower import DecisionFollower
from riskmesh.orchestrator.review.graph import ReviewGraph
from riskmesh.orchestrator.review.labels import KafkaLabelSink, export_labels, read_label_files

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Settings]]:
    port = free_port()
    child = ChildProcess("tansu", [find_tansu(), "broker", "--listener-url", f"tcp://127.0.0.1:{port}",
                                   "--advertised-listener-url", f"tcp://127.0.0.1:{port}",
                                   "--storage-engine", "memory://tansu/"],
                         tmp_path_factory.mktemp("tansu") / "tansu.log").start()
    try:
        wait_until(lambda: port_open("127.0.0.1", port), 20, "tansu")
        settings = Settings(session_timeout_ms=2000, heartbeat_interval_ms=300, transaction_partitions=2)
        ensure_topics(f"127.0.0.1:{port}", settings)
        yield f"127.0.0.1:{port}", settings
    finally:
        child.stop()


class OkActionAgent:
    async def call(self, agent: str, payload: bytes, media_type: str, timeout_s: float) -> bytes:
        request = ResolutionRequest.model_validate_json(payload)
        return ResolutionResponse(request_id=request.request_id, outcomes=[
            ResolutionOutcome(alert_id=r.alert_id, tx_id=r.tx_id) for r in request.resolutions]
        ).model_dump_json().encode()


def decision(i: int, outcome: str) -> bytes:
    return Decision(tx_id=f"T-{i}", decision=outcome, risk_score=0.6, decided_at=datetime(2026, 11, 21, tzinfo=UTC),
                    latency_ms=1.0, policy_version="policy-1",
                    alert_id=f"AL-{i}" if outcome == "review" else None).model_dump_json().encode()


async def test_review_decisions_open_reviews_and_dispositions_come_back_as_exportable_labels(broker, tmp_path):
    bootstrap, settings = broker
    producer = make_producer(bootstrap)
    values = [decision(i, "review" if i % 3 == 0 else "pass") for i in range(30)] + [b"not json"]
    producer.produce_all([(settings.topic_decisions, str(i).encode(), v) for i, v in enumerate(values)], 10)
    producer.close()

    sink = KafkaLabelSink.connect(bootstrap, settings.topic_labels)
    graph = ReviewGraph(InMemorySaver(), OkActionAgent(), sink)
    follower = DecisionFollower(bootstrap, settings, graph)
    stop = asyncio.Event()
    task = asyncio.create_task(follower.run(stop))
    try:
        wanted = [f"AL-{i}" for i in range(0, 30, 3)]
        deadline = time.monotonic() + 30
        while sorted(await graph.pending()) != sorted(wanted):
            assert time.monotonic() < deadline, f"opened {await graph.pending()}"
            await asyncio.sleep(0.1)
        assert follower.stats.bad == 1
    finally:
        stop.set()
        await asyncio.wait_for(task, 20)

    for i in (0, 3):
        assert await graph.resume(Resolution(alert_id=f"AL-{i}", tx_id=f"T-{i}", debtor_account_id="A-1",
                                             disposition="block" if i else "release", decided_by="ana",
                                             decided_at=datetime(2026, 11, 21, tzinfo=UTC)))
    sink.close()

    out = tmp_path / "labels.jsonl"
    summary = await asyncio.to_thread(export_labels, bootstrap, settings.topic_labels, out, 1.5)
    assert summary["labels"] == 2
    assert {r.tx_id: r.is_fraud for r in read_label_files([out])} == {"T-0": False, "T-3": True}
