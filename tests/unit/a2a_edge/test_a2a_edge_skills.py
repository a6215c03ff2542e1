"""An agent kind with several skills: the part's media type picks the skill, plain JSON goes to the primary."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from a2a_edge_doubles import TOKEN, FakeActionAgent, make_tx

from riskmesh.a2a.cards import build_agent_card
from riskmesh.a2a.client import AgentCallError, AgentClient
from riskmesh.a2a.skills import skill_for, skill_for_media_type, skills_for
from riskmesh.contracts import ACTION_REQUEST_MEDIA_TYPE, ActionRequest, ActionResponse, AggregatedDecision
from riskmesh.contracts.review import (
    RESOLUTION_REQUEST_MEDIA_TYPE,
    RESOLUTION_RESPONSE_MEDIA_TYPE,
    Resolution,
    ResolutionOutcome,
    ResolutionRequest,
    ResolutionResponse,
)

AT = datetime(2026, 11, 21, 10, tzinfo=UTC)


class ResolvingActionAgent(FakeActionAgent):
    def __init__(self) -> None:
        self.resolved: list[list[str]] = []

    async def resolve(self, request: ResolutionRequest) -> ResolutionResponse:
        self.resolved.append([r.alert_id for r in request.resolutions])
        outcomes = [
            ResolutionOutcome(alert_id=r.alert_id, tx_id=r.tx_id, actions=[f"{r.disposition}_transaction"])
            for r in request.resolutions
        ]
        return ResolutionResponse(request_id=request.request_id, outcomes=outcomes)


RESOLUTIONS = ResolutionRequest(
    request_id="r-1",
    resolutions=[
        Resolution(alert_id="AL-1", tx_id="tx-1", debtor_account_id="acc-1", disposition="release",
                   decided_by="alice", decided_at=AT),
    ],
)  # fmt: skip
ACTIONS = ActionRequest(
    batch_id="b-1", decided_at=AT, policy_version="p", transactions=[make_tx(1)],
    decisions=[AggregatedDecision(tx_id=make_tx(1).tx_id, decision="pass", risk_score=0.1)],
)  # fmt: skip


def test_the_action_agent_serves_act_first_and_resolve_second():
    assert [s.skill_id for s in skills_for("action")] == ["act", "resolve"]
    assert skill_for("action").skill_id == "act"
    assert skill_for_media_type("action", RESOLUTION_REQUEST_MEDIA_TYPE).skill_id == "resolve"
    assert skill_for_media_type("action", "application/json").skill_id == "act"
    assert skill_for_media_type("action", "image/png") is None
    assert [s.skill_id for s in skills_for("fraud")] == ["assess-batch"]


def test_the_action_card_lists_both_skills_with_their_media_types():
    card = build_agent_card("action", "http://127.0.0.1:8001/", "127.0.0.1:9001", "1")
    assert [s.id for s in card.skills] == ["act", "resolve"]
    resolve = card.skills[1]
    assert list(resolve.input_modes) == [RESOLUTION_REQUEST_MEDIA_TYPE]
    assert list(resolve.output_modes) == [RESOLUTION_RESPONSE_MEDIA_TYPE]
    assert RESOLUTION_REQUEST_MEDIA_TYPE in card.default_input_modes
    assert RESOLUTION_REQUEST_MEDIA_TYPE in card.description


@pytest.mark.parametrize("binding", ["grpc", "jsonrpc", "http_json"])
async def test_the_media_type_routes_a_call_to_its_skill_over_every_binding(start_server, binding):
    agent = ResolvingActionAgent()
    server = await start_server(agent, "action")
    client = AgentClient("action", server.base_url, TOKEN, binding=binding)
    try:
        resolved = await client.call(RESOLUTIONS.model_dump_json().encode(), RESOLUTION_REQUEST_MEDIA_TYPE, 10)
        acted = await client.call(ACTIONS.model_dump_json().encode(), ACTION_REQUEST_MEDIA_TYPE, 10)
        plain = await client.call(ACTIONS.model_dump_json().encode(), "application/json", 10)
        with pytest.raises(AgentCallError, match="invalid ResolutionRequest"):
            await client.call(ACTIONS.model_dump_json().encode(), RESOLUTION_REQUEST_MEDIA_TYPE, 10)
    finally:
        await client.aclose()
    response = ResolutionResponse.model_validate_json(resolved)
    assert [(o.alert_id, o.actions) for o in response.outcomes] == [("AL-1", ["release_transaction"])]
    assert ActionResponse.model_validate_json(acted).batch_id == "b-1"
    assert ActionResponse.model_validate_json(plain).batch_id == "b-1"
    assert agent.resolved == [["AL-1"]]


async def test_the_reply_part_carries_the_chosen_skills_output_media_type(start_server):
    server = await start_server(ResolvingActionAgent(), "action")
    body = {
        "jsonrpc": "2.0",
        "id": "1",
        "method": "SendMessage",
        "params": {
            "message": {
                "role": "ROLE_USER",
                "messageId": "m-1",
                "parts": [{"text": RESOLUTIONS.model_dump_json(), "mediaType": RESOLUTION_REQUEST_MEDIA_TYPE}],
            }
        },
    }
    headers = {"authorization": f"Bearer {TOKEN}", "A2A-Version": "1.0"}
    async with httpx.AsyncClient(timeout=10) as http:
        reply = (await http.post(server.base_url, json=body, headers=headers)).json()
    [part] = reply["result"]["message"]["parts"]
    assert part["mediaType"] == RESOLUTION_RESPONSE_MEDIA_TYPE
