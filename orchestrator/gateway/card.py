"""The risk gateway's public Agent Card: four skills, three bindings, bearer and API-key schemes with scopes."""

from __future__ import annotations

from a2a.types import (
    AgentCapabilities,
    AgentCard,
    AgentInterface,
    AgentProvider,
    AgentSkill,
    APIKeySecurityScheme,
    HTTPAuthSecurityScheme,
    SecurityRequirement,
    SecurityScheme,
    StringList,
)
from a2a.utils.constants import TransportProtocol

from riskmesh.orchestrator.gateway.skills import SCOPES, SKILLS, TASK_SCOPE, GatewaySkill

__all__ = ["API_KEY_SCHEME", "BEARER_SCHEME", "PROTOCOL_VERSION", "build_gateway_card"]

PROTOCOL_VERSION = "1.0"
BEARER_SCHEME = "bearer"
API_KEY_SCHEME = "apiKey"
JSON = "application/json"

_EXAMPLES = {
    "assess-transaction": ['{"schema_version": "1", "tx_id": "T-1", "ts": "2026-11-21T09:15:02Z", "type": "transfer", '
                           '"channel": "mobile", "amount": "12500.00", "currency": "CNY", "debtor": {"account_id": '
                           '"A1"}, "creditor": {"account_id": "A2"}}'],
    "assess-batch": ['{"request_id": "B-7", "transactions": [<Transaction>, ...]}'],
    "explain-decision": ['{"tx_id": "T-1"}'],
    "submit-feedback": ['{"feedback": [{"tx_id": "T-1", "kind": "chargeback"}]}'],
}


def _requirements(scopes: list[str]) -> list[SecurityRequirement]:
    """Either scheme will do (a list of requirements is an OR); both carry the scopes the call needs."""
    return [SecurityRequirement(schemes={BEARER_SCHEME: StringList(list=scopes)}),
            SecurityRequirement(schemes={API_KEY_SCHEME: StringList(list=scopes)})]


def _skill(skill: GatewaySkill) -> AgentSkill:
    return AgentSkill(
        id=skill.skill_id, name=skill.name,
        description=f"{skill.description} Select it with message metadata "
                    f'{{"riskmesh": {{"skill": "{skill.skill_id}"}}}} or the part media type {skill.input_media_type}. '
                    f"Scope: {skill.scope}.",
        tags=list(skill.tags), examples=_EXAMPLES[skill.skill_id],
        input_modes=[skill.input_media_type, JSON], output_modes=[skill.output_media_type, JSON],
        security_requirements=_requirements([skill.scope]))


def build_gateway_card(base_url: str, grpc_target: str, version: str) -> AgentCard:
    """JSON-RPC (POST `base_url`) first, then HTTP+JSON (REST at the root of `base_url`), then gRPC."""
    interfaces = [
        AgentInterface(url=base_url, protocol_binding=TransportProtocol.JSONRPC, protocol_version=PROTOCOL_VERSION),
        AgentInterface(url=base_url, protocol_binding=TransportProtocol.HTTP_JSON, protocol_version=PROTOCOL_VERSION),
        AgentInterface(url=grpc_target, protocol_binding=TransportProtocol.GRPC, protocol_version=PROTOCOL_VERSION),
    ]
    scope_text = ", ".join(SCOPES)
    return AgentCard(
        name="riskmesh-risk-gateway",
        description=(
            "riskmesh risk gateway: multi-agent transaction risk decisions (pass | block | review) for banking "
            "systems. Send the payload as one `data` part (or JSON text/raw); the skill is chosen by message "
            'metadata {"riskmesh": {"skill": "<id>"}}, else by the part media type, else by the payload shape '
            "(transactions ▶ assess-batch, feedback ▶ submit-feedback, only tx_id ▶ explain-decision, a "
            "Transaction ▶ assess-transaction). Replies are Messages; a review-bound assessment can be followed as "
            "a Task (see assess-transaction). Every call needs a bearer token or an X-API-Key header; clients hold "
            f"per-skill scopes ({scope_text}; {TASK_SCOPE} for Tasks) and a rate limit."),
        version=version,
        provider=AgentProvider(organization="riskmesh", url="https://riskmesh.dev"),
        supported_interfaces=interfaces,
        capabilities=AgentCapabilities(streaming=True, push_notifications=True, extended_agent_card=False),
        default_input_modes=[JSON, *(s.input_media_type for s in SKILLS)],
        default_output_modes=[JSON, *(s.output_media_type for s in SKILLS)],
        skills=[_skill(s) for s in SKILLS],
        security_schemes={
            BEARER_SCHEME: SecurityScheme(http_auth_security_scheme=HTTPAuthSecurityScheme(
                scheme="Bearer", bearer_format="opaque",
                description="Client token: `Authorization: Bearer <token>` (HTTP) or `authorization` metadata "
                            "(gRPC).")),
            API_KEY_SCHEME: SecurityScheme(api_key_security_scheme=APIKeySecurityScheme(
                location="header", name="X-API-Key",
                description="Client API key: `X-API-Key: <key>` (HTTP) or `x-api-key` metadata (gRPC).")),
        },
        security_requirements=_requirements([]),
    )
