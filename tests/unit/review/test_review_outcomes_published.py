"""After a disposition is carried out, the review graph publishes a ReviewOutcome (riskmesh.review-outcomes)."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from langgraph.checkpoint.memory import InMemorySaver
from review_graph_doubles import FakeActionAgent, resolution, ticket

from riskmesh.contracts.gateway import ReviewOutcome
from riskmesh.orchestrator.review.graph import ResumeFailed, ReviewGraph
from riskmesh.orchestrator.review.labels import MemoryLabelSink


class OutcomeSink:
    def __init__(self, fail: int = 0) -> None:
        self.published: list[ReviewOutcome] = []
        self.fail = fail

    async def publish(self, outcomes: Sequence[ReviewOutcome]) -> None:
        if self.fail:
            self.fail -= 1
            raise ConnectionError("broker unavailable")
        self.published.extend(outcomes)


@pytest.mark.parametrize(("disposition", "final"), [("release", "pass"), ("block", "block"), ("freeze", "block")])
async def test_a_carried_out_disposition_is_published_with_its_final_decision(disposition, final):
    sink = OutcomeSink()
    graph = ReviewGraph(InMemorySaver(), FakeActionAgent(), MemoryLabelSink(), outcomes=sink)
    await graph.open_many([ticket(3)])
    assert sink.published == []
    assert await graph.resume(resolution(3, disposition)) is True
    [published] = sink.published
    assert (published.alert_id, published.tx_id, published.final_decision, published.decided_by) == (
        "AL-0003", "T-0003", final, "ana")
    assert published.actions == [f"{disposition}_transaction"]


async def test_a_failed_publish_is_retried_with_the_same_content_and_acts_once():
    sink, agent = OutcomeSink(fail=1), FakeActionAgent()
    graph = ReviewGraph(InMemorySaver(), agent, MemoryLabelSink(), outcomes=sink)
    await graph.open_many([ticket(4)])
    with pytest.raises(ResumeFailed):
        await graph.resume(resolution(4, "block"))
    assert await graph.resume(resolution(4, "block")) is True
    assert [o.final_decision for o in sink.published] == ["block"]
    assert agent.applied["AL-0004"] == 1
