"""The gRPC binding calls the A2A stub directly: it must send what the SDK client would send."""

from __future__ import annotations

import pytest
from a2a.types import AgentCard, AgentInterface
from a2a.utils.constants import TransportProtocol

from riskmesh.a2a.cards import build_agent_card
from riskmesh.a2a.client import _grpc_interface, _grpc_metadata


async def test_grpc_metadata_carries_the_a2a_version_and_the_bearer_token_the_card_asks_for() -> None:
    card = build_agent_card("fraud", "http://127.0.0.1:1", "127.0.0.1:2", "1.0.0")
    assert await _grpc_metadata(card, "tok") == (("a2a-version", "1.0"), ("authorization", "Bearer tok"))


async def test_a_card_without_security_gets_only_the_version_header() -> None:
    card = build_agent_card("fraud", "http://127.0.0.1:1", "127.0.0.1:2", "1.0.0")
    del card.security_requirements[:]
    assert await _grpc_metadata(card, "tok") == (("a2a-version", "1.0"),)


def test_the_cards_a2a_1_0_grpc_interface_is_the_one_called() -> None:
    card = build_agent_card("fraud", "http://127.0.0.1:1", "127.0.0.1:2", "1.0.0")
    assert _grpc_interface(card).url == "127.0.0.1:2"


def test_a_card_offering_only_an_older_grpc_interface_is_refused() -> None:
    card = AgentCard(name="old", supported_interfaces=[
        AgentInterface(url="127.0.0.1:2", protocol_binding=TransportProtocol.GRPC, protocol_version="0.3"),
    ])
    with pytest.raises(ValueError, match=r"no A2A 1\.0 gRPC interface"):
        _grpc_interface(card)
