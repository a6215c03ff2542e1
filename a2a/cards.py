"""Agent cards for the six riskmesh agents: their skills (the action agent has two), three bindings, bearer auth."""

from __future__ import annotations

from a2a.types import (
    AgentCapabilities,
    AgentCard,
    AgentInterface,
    AgentSkill,
    HTTPAuthSecurityScheme,
    SecurityRequirement,
    SecurityScheme,
    StringList,
)
from a2a.utils.constants import TransportProtocol

from riskmesh.a2a.skills import SkillSpec, skills_for

__all__ = ["BEARER_SCHEME", "GRPC_MAX_MESSAGE_BYTES", "PROTOCOL_VERSION", "build_agent_card"]

PROTOCOL_VERSION = "1.0"
BEARER_SCHEME = "bearer"
"""Name of the security scheme on every card; the client's credential service answers for it."""
GRPC_MAX_MESSAGE_BYTES = 64 * 1024 * 1024
"""An aggregation request carries the batch and four agents' verdicts: above gRPC's 4 MiB default."""


def build_agent_card(kind: str, base_url: str, grpc_target: str, version: str) -> AgentCard:
    """The public card of agent `kind` (fraud, credit, behaviour, compliance, aggregation, action).

    `base_url` serves JSON-RPC (POST /) and HTTP+JSON (/message:send); `grpc_target` is `host:port`.
    The gRPC interface is listed first: clients that follow the server's preference pick it.
    """
    skills = skills_for(kind)
    interfaces = [
        AgentInterface(url=grpc_target, protocol_binding=TransportProtocol.GRPC, protocol_version=PROTOCOL_VERSION),
        AgentInterface(url=base_url, protocol_binding=TransportProtocol.JSONRPC, protocol_version=PROTOCOL_VERSION),
        AgentInterface(url=base_url, protocol_binding=TransportProtocol.HTTP_JSON, protocol_version=PROTOCOL_VERSION),
    ]
    return AgentCard(
        name=f"riskmesh-{kind}",
        description=f"riskmesh {kind} agent. " + " ".join(_how_to_call(s) for s in skills),
        version=version,
        supported_interfaces=interfaces,
        capabilities=AgentCapabilities(streaming=False, push_notifications=False),
        default_input_modes=[*(s.input_media_type for s in skills), "application/json"],
        default_output_modes=[s.output_media_type for s in skills],
        skills=[
            AgentSkill(
                id=skill.skill_id,
                name=skill.name,
                description=skill.description,
                tags=list(skill.tags),
                # plain JSON goes to the primary skill only
                input_modes=[skill.input_media_type, *(["application/json"] if n == 0 else [])],
                output_modes=[skill.output_media_type],
            )
            for n, skill in enumerate(skills)
        ],
        security_schemes={
            BEARER_SCHEME: SecurityScheme(
                http_auth_security_scheme=HTTPAuthSecurityScheme(
                    scheme="Bearer",
                    bearer_format="opaque",
                    description="Shared service token: `Authorization: Bearer <token>` on HTTP, "
                    "`authorization` metadata on gRPC.",
                )
            )
        },
        security_requirements=[SecurityRequirement(schemes={BEARER_SCHEME: StringList(list=[])})],
    )


def _how_to_call(skill: SkillSpec) -> str:
    return (
        f"{skill.description} Send one raw part of media type {skill.input_media_type}; the reply is one "
        f"Message with one raw part of media type {skill.output_media_type}."
    )
