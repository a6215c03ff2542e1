"""The A2A edge of the SOC specialists (network-log, endpoint-forensics, threat-intel): skills, executor, app.

Unlike the scoring agents (one synchronous Message per batch), a specialist answers with a Task it
works on in steps: a status update ("scanning auth logs…") before each step, one artifact per step
(a `FindingBatch`, media type FINDINGS_MEDIA_TYPE, raw JSON, artifact id `<task id>:<step>`), then
COMPLETED (or FAILED with the reason). Callers use `SendStreamingMessage` (SSE) to see each step as it
happens; `SendMessage` returns the finished Task with every artifact. Bad input is refused before a
Task exists, with one A2A error (InvalidParams naming the field, ContentTypeNotSupported, InvalidRequest).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from a2a.helpers import new_raw_part, new_task, new_text_part
from a2a.server.agent_execution import AgentExecutor, RequestContext
from a2a.server.context import ServerCallContext
from a2a.server.events import Event, EventQueue
from a2a.server.tasks import TaskUpdater
from a2a.types import AgentCard, AgentSkill, SendMessageRequest, TaskState
from a2a.utils.errors import UnsupportedOperationError
from starlette.applications import Starlette

from riskmesh.a2a.executor import DECODED_REQUEST_KEY, EdgeError, ValidatingRequestHandler, decode_request, to_a2a_error
from riskmesh.a2a.skills import SkillSpec
from riskmesh.a2a.soc_agents import build_soc_app, streaming_card
from riskmesh.a2a.task_store import BoundedTaskStore
from riskmesh.contracts import RiskmeshModel
from riskmesh.contracts.investigation import (
    FINDINGS_MEDIA_TYPE,
    INVESTIGATION_REQUEST_MEDIA_TYPE,
    FindingBatch,
    InvestigationRequest,
)

__all__ = [
    "SPECIALIST_SKILLS",
    "SpecialistSkill",
    "StreamingInvestigationExecutor",
    "StreamingValidatingHandler",
    "build_specialist_app",
    "specialist_card",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SpecialistSkill:
    name: str
    skill_id: str
    focus: str
    tag: str

    @property
    def description(self) -> str:
        return (f"Investigates the indicators of an InvestigationRequest over its window: {self.focus}. Streams one "
                f"FindingBatch artifact ({FINDINGS_MEDIA_TYPE}) per step, with a status message before each step.")

    @property
    def spec(self) -> SkillSpec:
        """The SkillSpec the payload decoder of the A2A edge reads (this skill streams: `invoke` is unused)."""
        return SkillSpec(self.skill_id, f"Investigate ({self.name})", self.description, ("soc", "investigation",
                         self.tag), InvestigationRequest, INVESTIGATION_REQUEST_MEDIA_TYPE, FINDINGS_MEDIA_TYPE,
                         _streams_only)  # fmt: skip


async def _streams_only(agent: Any, request: Any) -> RiskmeshModel:
    raise UnsupportedOperationError(message="this skill answers with a streamed Task")


SPECIALIST_SKILLS: dict[str, SpecialistSkill] = {
    s.name: s
    for s in (
        SpecialistSkill("network-log", "investigate-network", "credential-stuffing bursts, logins that succeeded "
                        "from botnet IPs, impossible travel, login-endpoint floods in the flows", "network"),
        SpecialistSkill("endpoint-forensics", "investigate-endpoint", "new device enrolments, malware and "
                        "infostealer processes, C2 traffic, logins from new or infected devices", "endpoint"),
        SpecialistSkill("threat-intel", "investigate-threat-intel", "IOC feed reputation of IPs, domains and "
                        "hashes, IOCs observed around the entities, campaign and malware-family attribution",
                        "threat-intel"),
    )
}  # fmt: skip
"""Skill id and tags of each specialist: tags ["soc", "investigation", network|endpoint|threat-intel]."""


class StreamingInvestigationExecutor(AgentExecutor):
    """Runs `agent.investigate(request)` and turns its Progress / FindingBatch events into task events."""

    def __init__(self, agent: Any, skill: SpecialistSkill, max_duration_s: float = 60.0) -> None:
        self._agent = agent
        self._spec = skill
        self.skills = (skill.spec,)
        self._max_duration_s = max_duration_s

    async def execute(self, context: RequestContext, event_queue: EventQueue) -> None:
        decoded = context.call_context.state.pop(DECODED_REQUEST_KEY, None)
        try:
            if decoded is None:
                decoded = decode_request(list(context.message.parts) if context.message else [], self.skills)
        except EdgeError as exc:
            raise to_a2a_error(exc) from exc
        _, request = decoded
        assert context.task_id is not None and context.context_id is not None
        if context.current_task is None:
            await event_queue.enqueue_event(new_task(context.task_id, context.context_id,
                                                     TaskState.TASK_STATE_SUBMITTED))  # fmt: skip
        updater = TaskUpdater(event_queue, context.task_id, context.context_id)
        try:
            async with asyncio.timeout(self._max_duration_s):
                found = await self._run(updater, request)
        except TimeoutError:
            limit = f"{self._max_duration_s:.0f} s"
            await updater.failed(self._say(updater, f"{self._spec.name} ran out of time ({limit})"))
            return
        except Exception as exc:  # top-level handler: the task fails with the reason, the process goes on
            logger.exception("%s investigation %s failed", self._spec.name, getattr(request, "investigation_id", "?"))
            await updater.failed(self._say(updater, f"{self._spec.name} failed: {type(exc).__name__}: {exc}"))
            return
        await updater.complete(self._say(updater, f"{self._spec.name} done: {found} finding(s)"))

    async def _run(self, updater: TaskUpdater, request: Any) -> int:
        from riskmesh.agents.soc.base import Progress

        found = 0
        await updater.start_work(self._say(updater, f"{self._spec.name} started"))
        events: AsyncIterator[Any] = self._agent.investigate(request)
        async for event in events:
            if isinstance(event, Progress):
                await updater.update_status(TaskState.TASK_STATE_WORKING, self._say(updater, event.text))
            elif isinstance(event, FindingBatch):
                found += len(event.findings)
                body = event.model_dump_json().encode()
                await updater.add_artifact(
                    [new_raw_part(body, media_type=FINDINGS_MEDIA_TYPE)],
                    artifact_id=f"{updater.task_id}:{event.step}",
                    name=f"{self._spec.name} {event.step}",
                    metadata={"agent": self._spec.name, "step": event.step, "final": event.final,
                              "findings": len(event.findings)},
                )  # fmt: skip
        return found

    @staticmethod
    def _say(updater: TaskUpdater, text: str) -> Any:
        return updater.new_agent_message([new_text_part(text)])

    async def cancel(self, context: RequestContext, event_queue: EventQueue) -> None:
        raise UnsupportedOperationError(message="investigations finish within seconds and cannot be canceled")


class StreamingValidatingHandler(ValidatingRequestHandler):
    """Validates the payload before a Task exists, for streaming calls too."""

    async def on_message_send_stream(  # type: ignore[override]
        self, params: SendMessageRequest, context: ServerCallContext
    ) -> AsyncIterator[Event]:
        try:
            context.state[DECODED_REQUEST_KEY] = decode_request(list(params.message.parts), self._skills)
        except EdgeError as exc:
            raise to_a2a_error(exc) from None
        async for event in super().on_message_send_stream(params, context):
            yield event


def specialist_card(name: str, base_url: str, version: str) -> AgentCard:
    skill = SPECIALIST_SKILLS[name]
    return streaming_card(name, base_url, version, AgentSkill(
        id=skill.skill_id, name=f"Investigate ({name})", description=skill.description,
        tags=["soc", "investigation", skill.tag], input_modes=[INVESTIGATION_REQUEST_MEDIA_TYPE, "application/json"],
        output_modes=[FINDINGS_MEDIA_TYPE]))  # fmt: skip


def build_specialist_app(name: str, agent: Any, base_url: str, token: str, version: str) -> Starlette:
    """The specialist's app: its card (streaming), JSON-RPC and REST behind the token, input checked up front."""
    card = specialist_card(name, base_url, version)
    executor = StreamingInvestigationExecutor(agent, SPECIALIST_SKILLS[name])
    handler = StreamingValidatingHandler(executor, task_store=BoundedTaskStore(), agent_card=card)  # type: ignore[arg-type]
    return build_soc_app(executor, card, token, handler=handler)
