"""Merging streamed findings into the incident view (pure)."""

from __future__ import annotations

from soc_investigation_doubles import finding

from riskmesh.agents.soc.merge import IncidentBuilder, incident_confidence, incident_status
from riskmesh.contracts.investigation import AgentProgress, FindingBatch, Indicator


def batch(agent: str, *findings: object, step: str = "s") -> FindingBatch:
    return FindingBatch(investigation_id="INV-1", agent=agent, step=step, findings=list(findings))  # type: ignore[arg-type]


def test_entities_are_deduplicated_and_the_timeline_is_ordered_by_observation_time() -> None:
    b = IncidentBuilder("INV-1", subjects=[Indicator(kind="account", value="A-1")], agents=["net", "ep"])
    b.add_batch(batch("net", finding("net", "n1", ("ip", "1.2.3.4"), ("account", "A-1"), minutes=10)))
    b.add_batch(batch("ep", finding("ep", "e1", ("ip", "1.2.3.4"), ("account", "A-2"), minutes=-5)))
    view = b.view()
    assert [t.finding_id for t in view.timeline] == ["e1", "n1"]
    assert [(e.kind, e.value) for e in view.entities] == [("account", "A-1"), ("ip", "1.2.3.4"), ("account", "A-2")]
    assert view.affected_accounts == ["A-1", "A-2"]
    assert view.status == "running" and view.agents["net"].findings == 1


def test_a_resent_finding_replaces_its_copy_instead_of_counting_twice() -> None:
    b = IncidentBuilder("INV-1", agents=["net"])
    assert b.add_batch(batch("net", finding("net", "n1", ("ip", "1.2.3.4"), confidence=0.3))) == 1
    assert b.add_batch(batch("net", finding("net", "n1", ("ip", "1.2.3.4"), confidence=0.9))) == 0
    view = b.view()
    assert len(view.findings) == 1 and view.findings[0].confidence == 0.9 and view.agents["net"].findings == 1


def test_reputation_comes_from_threat_intel_only_and_the_worst_verdict_wins() -> None:
    b = IncidentBuilder("INV-1", agents=["net", "threat-intel"])
    b.add_batch(batch("net", finding("net", "n1", ("ip", "1.1.1.1"), severity="critical")))
    b.add_batch(batch("threat-intel", finding("threat-intel", "t1", ("ip", "2.2.2.2"), severity="medium"),
                      finding("threat-intel", "t2", ("ip", "2.2.2.2"), reputation="malicious", minutes=3),
                      finding("threat-intel", "t3", ("domain", "evil.example"), severity="info")))
    rows = {r.indicator.value: r for r in b.view().indicators}
    assert rows["1.1.1.1"].reputation == "unknown"  # a critical network finding is not a reputation
    assert rows["2.2.2.2"].reputation == "malicious" and rows["2.2.2.2"].sources == ["threat-intel"]
    assert rows["2.2.2.2"].first_seen < rows["2.2.2.2"].last_seen  # type: ignore[operator]
    assert rows["evil.example"].reputation == "benign"
    assert next(iter(rows)) == "2.2.2.2"  # malicious first


def test_confidence_rewards_corroboration_across_agents() -> None:
    alone = [finding("net", "n1", ("ip", "1.2.3.4"), confidence=0.8)]
    agreeing = [*alone, finding("ti", "t1", ("ip", "1.2.3.4"), confidence=0.8),
                finding("ep", "e1", ("ip", "1.2.3.4"), confidence=0.8)]
    assert incident_confidence(alone) == 0.4
    assert incident_confidence(agreeing) == 0.992
    assert incident_confidence([]) == 0.0
    many_weak = [finding("net", f"n{i}", ("ip", f"9.9.9.{i}"), confidence=0.2) for i in range(20)]
    assert incident_confidence(many_weak) == 0.1  # one agent's many weak findings do not add up to certainty


def test_status_is_partial_when_a_specialist_failed_or_timed_out_and_failed_when_nothing_came_back() -> None:
    done, failed, late = (AgentProgress(agent=a, state=s) for a, s in
                          (("a", "completed"), ("b", "failed"), ("c", "timeout")))
    assert incident_status([done, done], 0) == "complete"
    assert incident_status([done, failed], 3) == "partial"
    assert incident_status([failed, late], 0) == "failed"
    assert incident_status([failed, late], 2) == "partial"
    assert incident_status([], 0) == "failed"
    b = IncidentBuilder("INV-1", agents=["a", "b"])
    b.set_progress("a", "completed")
    b.set_progress("b", "timeout", "no answer within 8 s")
    b.set_progress("b", "working", "late line")  # never reopens a finished agent
    view = b.view()
    assert view.status == "partial" and view.agents["b"].state == "timeout" and "b timeout" in view.summary
