"""What each agent kind offers over A2A: its skills, their request models, media types and how to invoke them.

Cards (cards.py), the executor (executor.py) and the client (client.py) all read this one table,
so a skill's media types cannot drift between the side that serves it and the side that calls it.
An agent kind may serve several skills (the action agent: `act` and `resolve`); the first is its
primary skill. A request part's media type picks the skill; plain JSON goes to the primary one.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from riskmesh.agents.base import ActionAgent, AggregationAgent, AnalysisAgent
from riskmesh.contracts import (
    ACTION_REQUEST_MEDIA_TYPE,
    ACTION_RESPONSE_MEDIA_TYPE,
    AGGREGATION_REQUEST_MEDIA_TYPE,
    AGGREGATION_RESPONSE_MEDIA_TYPE,
    ANALYSIS_AGENTS,
    BATCH_MEDIA_TYPE,
    VERDICTS_MEDIA_TYPE,
    ActionRequest,
    AggregationRequest,
    AssessBatchRequest,
    AssessBatchResponse,
    RiskmeshModel,
)
from riskmesh.contracts.review import (
    RESOLUTION_REQUEST_MEDIA_TYPE,
    RESOLUTION_RESPONSE_MEDIA_TYPE,
    ResolutionRequest,
    ResolutionResponse,
)

__all__ = [
    "AGENT_KINDS",
    "JSON_MEDIA_TYPES",
    "AgentResponseError",
    "ResolvingAgent",
    "SkillSpec",
    "pick_skill",
    "skill_for",
    "skill_for_media_type",
    "skills_for",
]

JSON_MEDIA_TYPES = frozenset({"", "application/json", "text/plain"})
"""Besides a skill's own media type, parts may declare plain JSON (or nothing): the primary skill takes them."""


class AgentResponseError(RuntimeError):
    """The agent answered, but with something that breaks the contract (e.g. a verdict count mismatch)."""


Invoke = Callable[[Any, Any], Awaitable[RiskmeshModel]]


@dataclass(frozen=True, slots=True)
class SkillSpec:
    skill_id: str
    name: str
    description: str
    tags: tuple[str, ...]
    request_model: type[RiskmeshModel]
    input_media_type: str
    output_media_type: str
    invoke: Invoke
    """`await invoke(agent, request)` ▶ the response model to send back."""


async def _assess(agent: AnalysisAgent, request: AssessBatchRequest) -> AssessBatchResponse:
    verdicts = await agent.assess(list(request.transactions))
    if len(verdicts) != len(request.transactions):
        raise AgentResponseError(
            f"{agent.name} returned {len(verdicts)} verdicts for {len(request.transactions)} transactions"
        )
    return AssessBatchResponse(
        batch_id=request.batch_id, agent=agent.name, model_version=agent.model_version, verdicts=verdicts
    )


async def _aggregate(agent: AggregationAgent, request: AggregationRequest) -> RiskmeshModel:
    return await agent.aggregate(request)


async def _act(agent: ActionAgent, request: ActionRequest) -> RiskmeshModel:
    return await agent.act(request)


class ResolvingAgent(Protocol):
    """An agent that carries out analysts' final dispositions (the action agent's second skill)."""

    async def resolve(self, request: ResolutionRequest) -> ResolutionResponse: ...


async def _resolve(agent: ResolvingAgent, request: ResolutionRequest) -> RiskmeshModel:
    return await agent.resolve(request)


_ANALYSIS_FOCUS = {
    "fraud": "fraud patterns: account takeover, mule networks, card testing, device and geo anomalies",
    "credit": "credit exposure: bureau score, limits, outstanding debt and affordability",
    "behaviour": "behaviour against the customer's profile: velocity, amounts, channels and hours",
    "compliance": "compliance: sanctions and PEP watchlists, high-risk jurisdictions, AML typologies",
}


def _analysis_skill(kind: str) -> SkillSpec:
    return SkillSpec(
        skill_id="assess-batch",
        name=f"Assess a batch ({kind})",
        description=f"Scores a micro-batch of transactions for {_ANALYSIS_FOCUS[kind]}; "
        "one verdict per transaction, in request order.",
        tags=("risk", "batch", "analysis", kind),
        request_model=AssessBatchRequest,
        input_media_type=BATCH_MEDIA_TYPE,
        output_media_type=VERDICTS_MEDIA_TYPE,
        invoke=_assess,
    )


_SKILLS: dict[str, tuple[SkillSpec, ...]] = {kind: (_analysis_skill(kind),) for kind in ANALYSIS_AGENTS}
_SKILLS["aggregation"] = (
    SkillSpec(
        skill_id="aggregate",
        name="Aggregate verdicts",
        description="Applies the versioned scoring policy and hard rules to every agent's verdicts; "
        "decides pass, block or review per transaction, with reasons.",
        tags=("risk", "batch", "policy", "decision"),
        request_model=AggregationRequest,
        input_media_type=AGGREGATION_REQUEST_MEDIA_TYPE,
        output_media_type=AGGREGATION_RESPONSE_MEDIA_TYPE,
        invoke=_aggregate,
    ),
)
_SKILLS["action"] = (
    SkillSpec(
        skill_id="act",
        name="Carry out decisions",
        description="Applies graded controls (hold, block; repeated hits limit the account and suspend its "
        "remote channels) and raises alerts for the decisions of a batch through the risk-actions MCP server.",
        tags=("risk", "batch", "action", "controls"),
        request_model=ActionRequest,
        input_media_type=ACTION_REQUEST_MEDIA_TYPE,
        output_media_type=ACTION_RESPONSE_MEDIA_TYPE,
        invoke=_act,
    ),
    SkillSpec(
        skill_id="resolve",
        name="Carry out resolutions",
        description="Carries out analysts' final dispositions of alerts: release the held transaction, block it, "
        "or block it and freeze the account (four-eyes); exactly once per alert.",
        tags=("risk", "review", "action", "controls"),
        request_model=ResolutionRequest,
        input_media_type=RESOLUTION_REQUEST_MEDIA_TYPE,
        output_media_type=RESOLUTION_RESPONSE_MEDIA_TYPE,
        invoke=_resolve,
    ),
)

AGENT_KINDS: tuple[str, ...] = tuple(_SKILLS)
"""fraud, credit, behaviour, compliance, aggregation, action."""


def skills_for(kind: str) -> tuple[SkillSpec, ...]:
    """Every skill an agent of this kind serves, primary first; ValueError naming the known kinds otherwise."""
    try:
        return _SKILLS[kind]
    except KeyError:
        raise ValueError(f"unknown agent kind {kind!r}; expected one of {', '.join(AGENT_KINDS)}") from None


def skill_for(kind: str) -> SkillSpec:
    """The primary skill an agent of this kind serves; ValueError naming the known kinds otherwise."""
    return skills_for(kind)[0]


def pick_skill(skills: Sequence[SkillSpec], media_type: str) -> SkillSpec | None:
    """The skill whose input is `media_type`; the primary (first) one for plain JSON; None otherwise."""
    for skill in skills:
        if skill.input_media_type == media_type:
            return skill
    return skills[0] if skills and media_type in JSON_MEDIA_TYPES else None


def skill_for_media_type(kind: str, media_type: str) -> SkillSpec | None:
    """The skill of `kind` a request part of `media_type` goes to (see `pick_skill`)."""
    return pick_skill(skills_for(kind), media_type)
