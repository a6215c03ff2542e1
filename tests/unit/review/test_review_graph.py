"""The review graph: hold ▶ interrupt ▶ act ▶ label ▶ done, exactly once, across restarts."""

from __future__ import annotations

import asyncio

import aiosqlite
import pytest
from langgraph.checkpoint.memory import InMemorySaver
from review_graph_doubles import FakeActionAgent, resolution, ticket

from riskmesh.orchestrator.review.errors import InvalidRequest
from riskmesh.orchestrator.review.graph import ResumeFailed, ReviewGraph, open_checkpointer
from riskmesh.orchestrator.review.labels import MemoryLabelSink


def make_graph(agent: FakeActionAgent | None = None, saver=None, **kwargs) -> tuple[ReviewGraph, FakeActionAgent,
                                                                                  MemoryLabelSink]:
    agent = agent or FakeActionAgent()
    sink = MemoryLabelSink()
    return ReviewGraph(saver or InMemorySaver(), agent, sink, **kwargs), agent, sink


async def test_a_review_waits_for_its_disposition_then_acts_once_labels_and_is_deleted():
    graph, agent, sink = make_graph()
    assert await graph.open_many([ticket(1)]) == 1
    status = await graph.status("AL-0001")
    assert status is not None and status.stage == "waiting"
    assert status.review["tx_id"] == "T-0001" and status.review["opened_at"].endswith("Z")
    assert await graph.pending() == ["AL-0001"]
    assert agent.requests["AL-0001"] == 0

    assert await graph.resume(resolution(1, "block")) is True

    assert agent.requests["AL-0001"] == 1
    assert [(r.tx_id, r.is_fraud, r.disposition, r.actor) for r in sink.records] == [("T-0001", True, "block", "ana")]
    assert await graph.pending() == []
    assert await graph.status("AL-0001") is None


@pytest.mark.parametrize(("disposition", "is_fraud"), [("release", False), ("block", True), ("freeze", True)])
async def test_release_labels_legitimate_and_block_or_freeze_label_fraud(disposition, is_fraud):
    graph, _, sink = make_graph()
    await graph.open_many([ticket(2)])
    await graph.resume(resolution(2, disposition))
    assert [(r.is_fraud, r.source, r.alert_id) for r in sink.records] == [(is_fraud, "analyst", "AL-0002")]


async def test_opening_the_same_alert_again_keeps_the_one_waiting_review():
    graph, _, _ = make_graph()
    assert await graph.open_many([ticket(3), ticket(3)]) == 1
    before = await graph.status("AL-0003")
    assert await graph.open_many([ticket(3), ticket(4)]) == 1
    after = await graph.status("AL-0003")
    assert before == after
    assert await graph.pending() == ["AL-0003", "AL-0004"]


async def test_a_second_resume_returns_false_and_acts_nothing():
    graph, agent, sink = make_graph()
    await graph.open_many([ticket(5)])
    assert await graph.resume(resolution(5)) is True
    assert await graph.resume(resolution(5)) is False
    assert await graph.resume(resolution(5, "block")) is False
    assert agent.requests["AL-0005"] == 1
    assert len(sink.records) == 1


async def test_concurrent_resumes_of_one_alert_act_once():
    graph, agent, sink = make_graph()
    await graph.open_many([ticket(6)])
    results = await asyncio.gather(*(graph.resume(resolution(6)) for _ in range(10)))
    assert sorted(results) == [False] * 9 + [True]
    assert agent.requests["AL-0006"] == 1
    assert len(sink.records) == 1


async def test_resuming_an_unknown_alert_returns_false():
    graph, agent, _ = make_graph()
    assert await graph.resume(resolution(7)) is False
    assert not agent.requests


async def test_a_resolution_naming_another_transaction_is_refused_and_the_review_keeps_waiting():
    graph, agent, _ = make_graph()
    await graph.open_many([ticket(8)])
    wrong = resolution(8).model_copy(update={"tx_id": "T-other"})
    with pytest.raises(InvalidRequest):
        await graph.resume(wrong)
    assert await graph.pending() == ["AL-0008"]
    assert not agent.requests


async def test_a_failed_action_keeps_the_disposition_and_a_retry_completes_without_repeating_actions():
    graph, agent, sink = make_graph(FakeActionAgent(fail_calls=1))
    await graph.open_many([ticket(9)])
    with pytest.raises(ResumeFailed):
        await graph.resume(resolution(9, "freeze"))
    status = await graph.status("AL-0009")
    assert status is not None and status.stage == "acting"
    assert status.resolution is not None and status.resolution["disposition"] == "freeze"
    assert await graph.pending() == []  # the disposition is in; nothing left for an analyst
    assert not sink.records

    assert await graph.resume(resolution(9, "block")) is False  # another disposition cannot replace it
    assert await graph.resume(resolution(9, "freeze")) is True

    assert agent.requests["AL-0009"] == 2
    assert agent.applied["AL-0009"] == 1
    assert [r.disposition for r in sink.records] == ["freeze"]
    assert await graph.status("AL-0009") is None


async def test_an_error_outcome_from_the_action_agent_fails_the_resume():
    graph, _, sink = make_graph(FakeActionAgent(error_outcome=True))
    await graph.open_many([ticket(10)])
    with pytest.raises(ResumeFailed, match="risk-actions unavailable"):
        await graph.resume(resolution(10))
    assert not sink.records
    status = await graph.status("AL-0010")
    assert status is not None and status.stage == "acting"


async def test_a_review_decided_before_it_was_opened_is_resumed_when_opened():
    decided = {"AL-0011": resolution(11, "block")}
    graph, agent, sink = make_graph(resolutions=decided.get)
    assert await graph.open_many([ticket(11), ticket(12)]) == 2
    assert agent.requests == {"AL-0011": 1}
    assert [r.tx_id for r in sink.records] == ["T-0011"]
    assert await graph.pending() == ["AL-0012"]


async def test_fifty_pending_reviews_survive_a_restart_and_each_resumes_exactly_once(tmp_path):
    path = tmp_path / "review" / "checkpoints.sqlite"
    async with open_checkpointer(path) as saver:
        first, _, _ = make_graph(saver=saver)
        assert await first.open_many(ticket(i) for i in range(50)) == 50
    del first, saver  # the process is gone; only the file remains

    async with open_checkpointer(path) as saver:
        graph, agent, sink = make_graph(saver=saver)
        assert await graph.pending() == [f"AL-{i:04d}" for i in range(50)]
        assert await graph.open_many(ticket(i) for i in range(50)) == 0  # the follower redelivers: no-op
        results = await asyncio.gather(*(graph.resume(resolution(i)) for i in range(50)))
        assert all(results)
        assert await graph.pending() == []
    assert agent.requests == {f"AL-{i:04d}": 1 for i in range(50)}
    assert len(sink.records) == 50
    async with aiosqlite.connect(path) as conn, conn.execute("SELECT count(*) FROM checkpoints") as cur:
        assert (await cur.fetchone())[0] == 0


async def test_recover_resumes_reviews_decided_while_down_and_finishes_interrupted_ones(tmp_path):
    path = tmp_path / "checkpoints.sqlite"
    async with open_checkpointer(path) as saver:
        first, _, _ = make_graph(FakeActionAgent(fail_calls=1), saver=saver)
        await first.open_many(ticket(i) for i in range(4))
        with pytest.raises(ResumeFailed):
            await first.resume(resolution(0, "block"))  # crashed mid-act

    recorded = {"AL-0001": resolution(1, "release")}  # the desk recorded it; the resume never ran

    async def lookup(alert_id):
        return recorded.get(alert_id)

    async with open_checkpointer(path) as saver:
        graph, agent, sink = make_graph(saver=saver)
        report = await graph.recover(lookup)
        assert report.continued == ["AL-0000"]
        assert report.resumed == ["AL-0001"]
        assert report.waiting == ["AL-0002", "AL-0003"]
        assert report.failed == []
        assert await graph.pending() == ["AL-0002", "AL-0003"]
        assert (await graph.recover(lookup)).resumed == []
    assert agent.requests == {"AL-0000": 1, "AL-0001": 1}
    assert sorted(r.tx_id for r in sink.records) == ["T-0000", "T-0001"]


async def test_the_sqlite_checkpointer_creates_its_directory_and_uses_wal(tmp_path):
    path = tmp_path / "a" / "b" / "checkpoints.sqlite"
    async with open_checkpointer(path) as saver, saver.conn.execute("PRAGMA journal_mode") as cur:
        assert (await cur.fetchone())[0] == "wal"
    assert path.exists()


async def test_a_postgres_url_without_the_postgres_checkpointer_says_what_to_install():
    pytest.importorskip("langgraph.checkpoint.sqlite")
    try:
        import langgraph.checkpoint.postgres  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("the Postgres checkpointer is installed")
    with pytest.raises(ImportError, match="pip install langgraph-checkpoint-postgres"):
        async with open_checkpointer("postgres://u:p@127.0.0.1:1/riskmesh"):
            pass


async def test_an_alert_the_desk_does_not_know_yet_counts_as_undecided():
    from riskmesh.orchestrator.review.errors import NotFound

    async def lookup(alert_id):
        raise NotFound(f"no alert {alert_id}")

    graph, agent, _ = make_graph(resolutions=lookup)
    assert await graph.open_many([ticket(13)]) == 1
    assert (await graph.recover()).waiting == ["AL-0013"]
    assert not agent.requests
