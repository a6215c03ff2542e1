"""Agent cards: a primary skill per agent, three bindings, bearer auth; the card is served publicly and cached."""

from __future__ import annotations

import httpx
import pytest
from a2a.utils.constants import TransportProtocol

from riskmesh.a2a.cards import build_agent_card
from riskmesh.a2a.skills import AGENT_KINDS
from riskmesh.contracts import (
    ACTION_REQUEST_MEDIA_TYPE,
    ACTION_RESPONSE_MEDIA_TYPE,
    AGGREGATION_REQUEST_MEDIA_TYPE,
    AGGREGATION_RESPONSE_MEDIA_TYPE,
    BATCH_MEDIA_TYPE,
    VERDICTS_MEDIA_TYPE,
)

EXPECTED = {
    "fraud": ("assess-batch", BATCH_MEDIA_TYPE, VERDICTS_MEDIA_TYPE),
    "credit": ("assess-batch", BATCH_MEDIA_TYPE, VERDICTS_MEDIA_TYPE),
    "behaviour": ("assess-batch", BATCH_MEDIA_TYPE, VERDICTS_MEDIA_TYPE),
    "compliance": ("assess-batch", BATCH_MEDIA_TYPE, VERDICTS_MEDIA_TYPE),
    "aggregation": ("aggregate", AGGREGATION_REQUEST_MEDIA_TYPE, AGGREGATION_RESPONSE_MEDIA_TYPE),
    "action": ("act", ACTION_REQUEST_MEDIA_TYPE, ACTION_RESPONSE_MEDIA_TYPE),
}


def test_there_is_a_card_for_exactly_the_six_agents():
    assert set(AGENT_KINDS) == set(EXPECTED)


@pytest.mark.parametrize("kind", sorted(EXPECTED))
def test_each_card_declares_its_skill_media_types_bindings_and_bearer_auth(kind):
    card = build_agent_card(kind, "http://127.0.0.1:8001/", "127.0.0.1:9001", "1.2.3")
    skill_id, media_in, media_out = EXPECTED[kind]
    assert card.name == f"riskmesh-{kind}"
    assert card.version == "1.2.3"
    assert card.description
    skill = card.skills[0]  # the primary skill; the action agent also lists `resolve`
    assert skill.id == skill_id
    assert kind in skill.tags or skill_id != "assess-batch"
    assert media_in in skill.input_modes and list(skill.output_modes) == [media_out]
    bindings = {i.protocol_binding: (i.url, i.protocol_version) for i in card.supported_interfaces}
    assert bindings == {
        TransportProtocol.GRPC: ("127.0.0.1:9001", "1.0"),
        TransportProtocol.JSONRPC: ("http://127.0.0.1:8001/", "1.0"),
        TransportProtocol.HTTP_JSON: ("http://127.0.0.1:8001/", "1.0"),
    }
    assert not card.capabilities.streaming and not card.capabilities.push_notifications
    scheme = card.security_schemes["bearer"].http_auth_security_scheme
    assert scheme.scheme.lower() == "bearer"
    assert [list(r.schemes) for r in card.security_requirements] == [["bearer"]]


def test_an_unknown_agent_kind_is_refused_with_the_known_kinds_named():
    with pytest.raises(ValueError, match="fraud, credit"):
        build_agent_card("astrology", "http://127.0.0.1:1/", "127.0.0.1:2", "1")


async def test_the_running_server_serves_its_card_without_a_token_and_with_cache_control(start_server, fraud_agent):
    server = await start_server(fraud_agent, "fraud")
    async with httpx.AsyncClient() as http:
        response = await http.get(f"{server.base_url}.well-known/agent-card.json")
        health = await http.get(f"{server.base_url}healthz")
    assert response.status_code == 200
    assert "max-age" in response.headers["cache-control"]
    assert response.headers["etag"]
    card = response.json()
    assert card["name"] == "riskmesh-fraud"
    assert {i["protocolBinding"] for i in card["supportedInterfaces"]} == {"GRPC", "JSONRPC", "HTTP+JSON"}
    assert card["skills"][0]["id"] == "assess-batch"
    assert card["securitySchemes"]["bearer"]["httpAuthSecurityScheme"]["scheme"] == "Bearer"
    assert card["securityRequirements"] == [{"schemes": {"bearer": {}}}]
    assert health.status_code == 200 and health.json()["agent"] == "fraud"
