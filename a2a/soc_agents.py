"""Cards and HTTP apps of the SOC agents (soc-investigator, incident-response; the specialists reuse them).

NOTE (specialists engineer): this module was accidentally overwritten while the SOC specialists were
being added and has been RECONSTRUCTED from its callers (tests/unit/soc_investigation, soc_executors,
soc_directory): same public names and signatures. Its author should review it against the original.

Every SOC agent answers with streamed Tasks over JSON-RPC and HTTP+JSON at its base URL (bearer token;
the card and /healthz are public). Cards declare `streaming=true`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from a2a.server.agent_execution import AgentExecutor
from a2a.server.request_handlers import DefaultRequestHandler
from a2a.server.routes import create_agent_card_routes, create_jsonrpc_routes, create_rest_routes
from a2a.server.tasks import TaskStore
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
from a2a.utils.constants import AGENT_CARD_WELL_KNOWN_PATH, TransportProtocol
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from riskmesh.a2a.auth import BearerAuthMiddleware
from riskmesh.a2a.cards import BEARER_SCHEME, PROTOCOL_VERSION
from riskmesh.a2a.task_store import BoundedTaskStore
from riskmesh.agents.base import ToolCaller
from riskmesh.contracts.investigation import (
    CONTAINMENT_MEDIA_TYPE,
    INCIDENT_MEDIA_TYPE,
    INVESTIGATION_REQUEST_MEDIA_TYPE,
)

__all__ = [
    "HEALTH_PATH",
    "INCIDENT_RESPONSE",
    "INVESTIGATOR",
    "build_incident_response_executor",
    "build_investigator_executor",
    "build_soc_app",
    "soc_card",
    "streaming_card",
]

INVESTIGATOR = "soc-investigator"
INCIDENT_RESPONSE = "incident-response"
HEALTH_PATH = "/healthz"
CARD_CACHE_CONTROL = "public, max-age=60"

_SKILLS: dict[str, AgentSkill] = {
    INVESTIGATOR: AgentSkill(
        id="investigate", name="Investigate an alert",
        description="Turns an alert (or an InvestigationRequest) into an investigation, fans it out to the SOC "
        "specialists found by their cards, and streams the merged IncidentView as it changes.",
        tags=["soc", "incident", "investigator"],
        input_modes=[INVESTIGATION_REQUEST_MEDIA_TYPE, "application/json", "text/plain"],
        output_modes=[INCIDENT_MEDIA_TYPE, "text/plain"],
    ),
    INCIDENT_RESPONSE: AgentSkill(
        id="propose-containment", name="Propose containment",
        description="Proposes containment steps for an IncidentView and runs them only once a SOC engineer "
        "approves them in the same task (input-required in between).",
        tags=["soc", "incident", "containment"],
        input_modes=[INCIDENT_MEDIA_TYPE, "application/json"],
        output_modes=[CONTAINMENT_MEDIA_TYPE, "text/plain"],
    ),
}  # fmt: skip


def streaming_card(name: str, base_url: str, version: str, skill: AgentSkill, description: str = "") -> AgentCard:
    """A streaming card with one skill, JSON-RPC and HTTP+JSON at `base_url`, bearer auth."""
    interfaces = [
        AgentInterface(url=base_url, protocol_binding=TransportProtocol.JSONRPC, protocol_version=PROTOCOL_VERSION),
        AgentInterface(url=base_url, protocol_binding=TransportProtocol.HTTP_JSON, protocol_version=PROTOCOL_VERSION),
    ]
    return AgentCard(
        name=f"riskmesh-{name}",
        description=description or f"riskmesh {name} agent. {skill.description}",
        version=version,
        supported_interfaces=interfaces,
        capabilities=AgentCapabilities(streaming=True, push_notifications=False),
        default_input_modes=list(skill.input_modes),
        default_output_modes=list(skill.output_modes),
        skills=[skill],
        security_schemes={
            BEARER_SCHEME: SecurityScheme(http_auth_security_scheme=HTTPAuthSecurityScheme(
                scheme="Bearer", bearer_format="opaque", description="`Authorization: Bearer <token>`"))
        },
        security_requirements=[SecurityRequirement(schemes={BEARER_SCHEME: StringList(list=[])})],
    )


def soc_card(name: str, base_url: str, version: str) -> AgentCard:
    """The card of the soc-investigator or the incident-response agent."""
    try:
        skill = _SKILLS[name]
    except KeyError:
        raise ValueError(f"unknown SOC agent {name!r}; expected one of {', '.join(_SKILLS)}") from None
    return streaming_card(name, base_url, version, skill)


def build_soc_app(executor: AgentExecutor, card: AgentCard, token: str, *, task_store: TaskStore | None = None,
                  handler: DefaultRequestHandler | None = None) -> Starlette:  # fmt: skip
    """Public card and /healthz; JSON-RPC at `/` and the REST routes behind the bearer token."""
    handler = handler or DefaultRequestHandler(agent_executor=executor, task_store=task_store or BoundedTaskStore(),
                                               agent_card=card)  # fmt: skip

    async def health(_request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok", "agent": card.name, "version": card.version})

    routes: list[BaseRoute] = [
        *create_agent_card_routes(card, cache_control=CARD_CACHE_CONTROL),
        Route(HEALTH_PATH, health, methods=["GET"]),
        *create_jsonrpc_routes(handler, "/"),
        *create_rest_routes(handler),
    ]
    auth = Middleware(BearerAuthMiddleware, token=token, public_paths=(AGENT_CARD_WELL_KNOWN_PATH, HEALTH_PATH))
    return Starlette(routes=routes, middleware=[auth])


def build_investigator_executor(tools: ToolCaller, card_urls: Sequence[str] | str, token: str, *,
                                deadline_s: float = 8.0, **directory: Any) -> tuple[AgentExecutor, Any]:  # fmt: skip
    """The investigator's executor and its card directory (close it with `await directory.aclose()`)."""
    from riskmesh.a2a.soc_directory import CardDirectory
    from riskmesh.a2a.soc_executors import InvestigatorExecutor
    from riskmesh.agents.soc.investigator import Investigator

    cards = CardDirectory(card_urls, token, exclude=[f"riskmesh-{INVESTIGATOR}"], **directory)
    return InvestigatorExecutor(Investigator(tools, cards, deadline_s=deadline_s)), cards


def build_incident_response_executor(tools: ToolCaller, audit: Any = None) -> AgentExecutor:
    from riskmesh.a2a.soc_executors import IncidentResponseExecutor
    from riskmesh.agents.soc.incident_response import IncidentResponder

    return IncidentResponseExecutor(IncidentResponder(tools, audit))
