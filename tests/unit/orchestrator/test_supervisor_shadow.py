"""Shadow mode in the supervisor: a challenger's decisions are published beside the live ones, never acted on."""

from __future__ import annotations

from test_supervisor_graph import FakeAgents, ListEmitter, _records

from riskmesh.contracts import (
    ActionRequest,
    AggregatedDecision,
    AggregationResponse,
    Decision,
    Reason,
    ShadowDecision,
)
from riskmesh.orchestrator.decision_store import MemoryDecisionStore
from riskmesh.orchestrator.graph import Supervisor


class ShadowAgents(FakeAgents):
    """FakeAgents whose aggregation also answers for a challenger that reviews everything."""

    def __init__(self) -> None:
        super().__init__()
        self.action_requests: list[ActionRequest] = []

    async def call(self, agent: str, payload: bytes, media_type: str, timeout_s: float) -> bytes:
        if agent == "action":
            self.action_requests.append(ActionRequest.model_validate_json(payload))
        raw = await super().call(agent, payload, media_type, timeout_s)
        if agent != "aggregation":
            return raw
        live = AggregationResponse.model_validate_json(raw)
        shadow = [AggregatedDecision(tx_id=d.tx_id, decision="review", risk_score=0.6,
                                     reasons=[Reason(code="HARD_RULE_REPORTABLE_AMOUNT", agent="aggregation",
                                                     weight=1.0, detail="review: report")])
                  for d in live.decisions]
        both = live.model_copy(update={"shadow_policy_version": "policy-2", "shadow": shadow})
        return both.model_dump_json().encode()


class ShadowEmitter(ListEmitter):
    def __init__(self) -> None:
        super().__init__()
        self.shadow: list[tuple[str, bytes]] = []

    async def emit(self, decisions, dead_letters, *, shadow=()) -> None:
        await super().emit(decisions, dead_letters)
        self.shadow += list(shadow)


async def test_shadow_decisions_are_published_with_the_live_outcome_and_never_reach_the_action_agent():
    agents, emitter = ShadowAgents(), ShadowEmitter()
    sup = Supervisor(agents, MemoryDecisionStore(), emitter, deadline_s=0.2)
    await sup.run(_records(5))
    live = [Decision.model_validate_json(v) for _, v in emitter.decisions]
    shadow = [ShadowDecision.model_validate_json(v) for _, v in emitter.shadow]
    assert {d.decision for d in live} == {"pass"}
    assert [(s.tx_id, s.policy_version, s.decision, s.live_decision) for s in shadow] == [
        (d.tx_id, "policy-2", "review", "pass") for d in live
    ]
    assert [k for k, _ in emitter.shadow] == [s.tx_id for s in shadow]
    assert shadow[0].reasons[0].code == "HARD_RULE_REPORTABLE_AMOUNT"
    [acted] = agents.action_requests
    assert [d.decision for d in acted.decisions] == ["pass"] * 5, "the action agent saw the live decisions only"
    assert {d.policy_version for d in live} == {"policy-test"}
    assert all(not d.actions for d in live)


async def test_a_redelivered_batch_publishes_no_shadow_decisions_again():
    agents, emitter = ShadowAgents(), ShadowEmitter()
    sup = Supervisor(agents, MemoryDecisionStore(), emitter, deadline_s=0.2)
    await sup.run(_records(3))
    await sup.run(_records(3))
    assert len(emitter.shadow) == 3


async def test_without_a_shadow_policy_an_emitter_without_shadow_support_keeps_working():
    emitter = ListEmitter()  # emit(decisions, dead_letters) only
    sup = Supervisor(FakeAgents(), MemoryDecisionStore(), emitter, deadline_s=0.2)
    result = await sup.run(_records(2))
    assert result.emitted == 2
