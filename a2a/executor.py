"""One AgentExecutor for every riskmesh agent: decode the batch, call the agent, reply with one Message.

An agent kind may serve several skills (skills.py); the first part's media type picks the one that runs.

Synchronous scoring replies with a `Message`, never a `Task`: a Task would be kept in the task store
(InMemoryTaskStore never evicts) and would echo the whole batch back in its history.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

from a2a.helpers import new_message, new_raw_part
from a2a.server.agent_execution import AgentExecutor, RequestContext
from a2a.server.context import ServerCallContext
from a2a.server.events import EventQueue
from a2a.server.request_handlers import DefaultRequestHandler
from a2a.types import Message, Part, Role, SendMessageRequest, Task
from a2a.utils.errors import (
    A2AError,
    ContentTypeNotSupportedError,
    InternalError,
    InvalidParamsError,
    InvalidRequestError,
    UnsupportedOperationError,
)
from google.protobuf.json_format import MessageToJson
from pydantic import ValidationError

from riskmesh.a2a.skills import SkillSpec, pick_skill, skills_for
from riskmesh.contracts import RiskmeshModel, describe_validation_error

__all__ = [
    "DECODED_REQUEST_KEY",
    "BatchExecutor",
    "EdgeError",
    "MissingPayload",
    "PayloadInvalid",
    "UnsupportedPayload",
    "ValidatingRequestHandler",
    "decode_request",
    "to_a2a_error",
]

logger = logging.getLogger(__name__)

DECODED_REQUEST_KEY = "riskmesh.decoded_request"
"""ServerCallContext.state key under which ValidatingRequestHandler leaves (skill, validated request)."""


class EdgeError(Exception):
    """Something the A2A edge refuses or fails to do; the message is what the caller reads."""


class MissingPayload(EdgeError):
    """The message carries no part this agent can read."""


class UnsupportedPayload(EdgeError):
    """The part declares a media type this agent does not take."""


class PayloadInvalid(EdgeError):
    """The payload is not JSON, or is JSON that breaks the request contract."""


class AgentFailed(EdgeError):
    """The agent raised, missed its deadline, or answered outside the contract."""


_A2A_ERRORS: dict[type[EdgeError], type[A2AError]] = {
    MissingPayload: InvalidRequestError,
    UnsupportedPayload: ContentTypeNotSupportedError,
    PayloadInvalid: InvalidParamsError,
    AgentFailed: InternalError,
}
"""The one table from edge failures to A2A errors (JSON-RPC code, HTTP status and gRPC status follow
from the SDK's own tables: -32600/400/INVALID_ARGUMENT, -32005/400/INVALID_ARGUMENT,
-32602/400/INVALID_ARGUMENT, -32603/500/INTERNAL)."""


def to_a2a_error(exc: EdgeError) -> A2AError:
    return _A2A_ERRORS.get(type(exc), InternalError)(message=str(exc))


def _select_skill(parts: list[Part], skills: Sequence[SkillSpec]) -> SkillSpec:
    """The skill the first part's media type names; the primary one for plain JSON or no media type."""
    accepted = " or ".join([*(s.input_media_type for s in skills), "application/json"])
    if not parts:
        raise MissingPayload(f"the message has no parts; send one raw part of media type {accepted}")
    skill = pick_skill(skills, parts[0].media_type)
    if skill is None:
        raise UnsupportedPayload(f"media type {parts[0].media_type!r} is not accepted; send {accepted}")
    return skill


_NO_EVIDENCE: Any = {"verdicts": {"__all__": {"evidence"}}}


def _payload_bytes(parts: list[Part], skill: SkillSpec) -> bytes:
    """The JSON of the first part: raw bytes (the internal path), a data part, or text holding JSON."""
    part = parts[0]
    content = part.WhichOneof("content")
    if content == "raw":
        return part.raw
    if content == "text":
        return part.text.encode("utf-8")
    if content == "data":
        return MessageToJson(part.data, indent=None).encode("utf-8")
    raise MissingPayload(
        f"the first part holds {content or 'nothing'}; send raw JSON bytes of media type {skill.input_media_type}"
    )


def decode_request(parts: list[Part], skills: Sequence[SkillSpec]) -> tuple[SkillSpec, RiskmeshModel]:
    """The skill the first part asks for and the part validated into its request model.

    UnsupportedPayload for a media type no skill takes; PayloadInvalid names the bad fields.
    """
    skill = _select_skill(parts, skills)
    payload = _payload_bytes(parts, skill)
    try:
        return skill, skill.request_model.model_validate_json(payload)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        if any(e["type"] == "json_invalid" for e in errors):
            raise PayloadInvalid(f"payload is not valid JSON: {errors[0]['msg']}") from None
        reason, _ = describe_validation_error(exc)
        raise PayloadInvalid(f"invalid {skill.request_model.__name__}: {reason}") from None


class ValidatingRequestHandler(DefaultRequestHandler):
    """Validates the payload before the SDK sets up a task, so bad input costs one clear error.

    Refused here, invalid input leaves no FAILED Task in the store and no SDK traceback in the log;
    the validated request travels to the executor in the call context, so it is parsed once.
    """

    def __init__(self, executor: BatchExecutor, **kwargs: Any) -> None:
        super().__init__(agent_executor=executor, **kwargs)
        self._skills = executor.skills

    async def on_message_send(self, params: SendMessageRequest, context: ServerCallContext) -> Message | Task:
        try:
            context.state[DECODED_REQUEST_KEY] = decode_request(list(params.message.parts), self._skills)
        except EdgeError as exc:
            raise to_a2a_error(exc) from None
        return await super().on_message_send(params, context)


class BatchExecutor(AgentExecutor):
    """Serves one agent's skills; see skills.py for what `kind` maps to."""

    def __init__(self, agent: Any, kind: str, max_duration_s: float = 60.0) -> None:
        self._agent = agent
        self._kind = kind
        self._max_duration_s = max_duration_s
        self._skills = skills_for(kind)

    @property
    def skill(self) -> SkillSpec:
        """The primary skill."""
        return self._skills[0]

    @property
    def skills(self) -> tuple[SkillSpec, ...]:
        return self._skills

    async def execute(self, context: RequestContext, event_queue: EventQueue) -> None:
        decoded = context.call_context.state.pop(DECODED_REQUEST_KEY, None)
        try:
            if decoded is None:  # served by a handler that did not validate up front
                parts = list(context.message.parts) if context.message is not None else []
                decoded = decode_request(parts, self._skills)
            skill, request = decoded
            response = await self._invoke(skill, request)
        except EdgeError as exc:
            raise to_a2a_error(exc) from exc
        if getattr(request, "include_evidence", True):
            body = response.model_dump_json(by_alias=True).encode("utf-8")
        else:  # the caller reads scores, statuses and reasons only (the supervisor): evidence is never written
            body = response.model_dump_json(by_alias=True, exclude=_NO_EVIDENCE).encode("utf-8")
        reply = new_message(
            [new_raw_part(body, media_type=skill.output_media_type)],
            context_id=context.context_id,
            role=Role.ROLE_AGENT,
        )
        await event_queue.enqueue_event(reply)

    async def _invoke(self, skill: SkillSpec, request: RiskmeshModel) -> RiskmeshModel:
        deadline_ms = getattr(request, "deadline_ms", None)
        limit_s = min(deadline_ms / 1000, self._max_duration_s) if deadline_ms else self._max_duration_s
        try:
            async with asyncio.timeout(limit_s):
                return await skill.invoke(self._agent, request)
        except TimeoutError:
            logger.warning("%s agent missed its deadline of %.0f ms", self._kind, limit_s * 1000)
            raise AgentFailed(f"{self._kind} agent missed its deadline of {limit_s * 1000:.0f} ms") from None
        except Exception as exc:  # top-level handler: any agent failure becomes one InternalError
            logger.exception("%s agent failed on batch %s", self._kind, getattr(request, "batch_id", "?"))
            raise AgentFailed(f"{self._kind} agent failed: {type(exc).__name__}: {exc}") from exc

    async def cancel(self, context: RequestContext, event_queue: EventQueue) -> None:
        raise UnsupportedOperationError(message="batch scoring replies synchronously and cannot be canceled")
