"""A2A executors and cards of the soc-investigator and the incident-response agent (streaming Task flows).

soc-investigator, skill `investigate`. Input: one part, either an `InvestigationRequest` (media type
INVESTIGATION_REQUEST_MEDIA_TYPE, raw JSON or a data part) or plain JSON / text `{"alert_id": "AL-…",
"requested_by": "sol"}` (a bare alert id as text works too). Output: the task goes working, then streams
   - status updates whose text names every specialist's progress ("riskmesh-network-log: working, 2
     finding(s) · …"), sent whenever that line changes;
   - artifact updates of ONE artifact, id `incident-<investigation_id>`, name "incident", one raw part of
     INCIDENT_MEDIA_TYPE holding the whole `IncidentView`. Every update REPLACES it (append=false); the
     final one has last_chunk=true. A client keeps the latest.
and completes (status complete or partial) or fails (unknown alert, nothing to investigate).

incident-response, skill `propose-containment`. Input: an `IncidentView` (INCIDENT_MEDIA_TYPE or JSON),
or `{"incident": IncidentView, "requested_by": "sol"}`. It adds two artifacts, "incident" (the input,
kept for the approval turn) and "containment" (the `ContainmentProposal`, CONTAINMENT_MEDIA_TYPE), and
goes `input-required`. The SOC engineer answers IN THE SAME TASK (message with task_id and context_id)
with JSON `{"approve": true, "approved_by": "sol", "steps": ["s1", …] | "all", "reason": "…"}` (or
approve false to reject). Only then do steps run (through MCP, each audited); the "containment" artifact is
replaced by the executed proposal and the task completes. An unreadable answer keeps it input-required.
"""

from __future__ import annotations

import json
import logging
from typing import NamedTuple

from a2a.helpers import new_task, new_text_part
from a2a.server.agent_execution import AgentExecutor, RequestContext
from a2a.server.events import EventQueue
from a2a.server.tasks import TaskUpdater
from a2a.types import Artifact, Message, Task, TaskState
from a2a.utils.errors import InvalidParamsError, UnsupportedOperationError
from pydantic import ValidationError

from riskmesh.a2a.executor import DECODED_REQUEST_KEY
from riskmesh.a2a.soc_client import part_bytes, raw_part
from riskmesh.agents.soc.incident_response import Approval, IncidentResponder, steps_summary
from riskmesh.agents.soc.investigator import InvestigationInputError, Investigator, new_investigation_id
from riskmesh.contracts import describe_validation_error
from riskmesh.contracts.investigation import (
    CONTAINMENT_MEDIA_TYPE,
    INCIDENT_MEDIA_TYPE,
    INVESTIGATION_REQUEST_MEDIA_TYPE,
    ContainmentProposal,
    IncidentView,
    InvestigationRequest,
)

__all__ = [
    "AlertInput",
    "IncidentResponseExecutor",
    "InvestigatorExecutor",
    "parse_incident_input",
    "parse_investigation_input",
    "progress_line",
]

logger = logging.getLogger(__name__)

DEFAULT_REQUESTER = "a2a-caller"


def _first_json(message: Message | None) -> tuple[str, bytes]:
    if message is None or not message.parts:
        raise InvalidParamsError(message="the message has no parts")
    part = message.parts[0]
    body = part_bytes(part)
    if body is None:
        raise InvalidParamsError(message="send JSON (raw, data or text part), not a URL")
    return part.media_type, body


def _invalid(exc: ValidationError, what: str) -> InvalidParamsError:
    reason, _ = describe_validation_error(exc)
    return InvalidParamsError(message=f"invalid {what}: {reason}")


class AlertInput(NamedTuple):
    """An alert to investigate: the investigator derives its indicators (the caller may fix the id)."""

    alert_id: str
    requested_by: str
    investigation_id: str | None = None


def parse_investigation_input(media_type: str, body: bytes) -> InvestigationRequest | AlertInput:
    """An InvestigationRequest, or an alert still to be turned into one."""
    text = body.decode("utf-8", errors="replace").strip()
    try:
        data = json.loads(text)
    except ValueError:
        if media_type in ("", "text/plain") and text and " " not in text and len(text) <= 64:
            return AlertInput(text, DEFAULT_REQUESTER)  # a bare alert id
        raise InvalidParamsError(message="send an InvestigationRequest or {\"alert_id\": …} as JSON") from None
    if not isinstance(data, dict):
        raise InvalidParamsError(message="the investigation input must be a JSON object")
    if media_type == INVESTIGATION_REQUEST_MEDIA_TYPE or "window_start" in data or "indicators" in data:
        data.setdefault("investigation_id", new_investigation_id())
        data.setdefault("requested_by", DEFAULT_REQUESTER)
        try:
            return InvestigationRequest.model_validate(data)
        except ValidationError as exc:
            raise _invalid(exc, "InvestigationRequest") from None
    alert_id = data.get("alert_id")
    if not isinstance(alert_id, str) or not alert_id.strip():
        raise InvalidParamsError(message="name an alert_id, or send an InvestigationRequest")
    requested_by = data.get("requested_by")
    wanted_id = data.get("investigation_id")
    return AlertInput(alert_id.strip(), requested_by if isinstance(requested_by, str) and requested_by else
                      DEFAULT_REQUESTER, wanted_id if isinstance(wanted_id, str) and wanted_id else None)


def progress_line(view: IncidentView) -> str:
    return " · ".join(f"{p.agent}: {p.state}, {p.findings} finding(s)" for p in view.agents.values())


async def _open_task(context: RequestContext, event_queue: EventQueue) -> TaskUpdater:
    assert context.task_id is not None and context.context_id is not None
    if context.current_task is None:
        await event_queue.enqueue_event(new_task(context.task_id, context.context_id, TaskState.TASK_STATE_SUBMITTED))
    return TaskUpdater(event_queue, context.task_id, context.context_id)


class InvestigatorExecutor(AgentExecutor):
    def __init__(self, investigator: Investigator) -> None:
        self.investigator = investigator

    async def execute(self, context: RequestContext, event_queue: EventQueue) -> None:
        context.call_context.state.pop(DECODED_REQUEST_KEY, None)  # validated as InvestigateInput; parsed below
        parsed = parse_investigation_input(*_first_json(context.message))  # refused before any task exists
        updater = await _open_task(context, event_queue)
        say = updater.new_agent_message
        await updater.start_work(say([new_text_part("resolving the investigation's indicators")]))
        try:
            request = (parsed if isinstance(parsed, InvestigationRequest)
                       else await self.investigator.request_for_alert(*parsed))
            artifact_id, last_line, view = f"incident-{request.investigation_id}", "", None
            async for view in self.investigator.run(request):
                await updater.add_artifact([raw_part(view.model_dump_json().encode(), INCIDENT_MEDIA_TYPE)],
                                           artifact_id=artifact_id, name="incident", append=False,
                                           last_chunk=view.status != "running")
                line = progress_line(view)
                if line and line != last_line:
                    last_line = line
                    await updater.update_status(TaskState.TASK_STATE_WORKING, say([new_text_part(line)]))
        except InvestigationInputError as exc:
            await updater.failed(say([new_text_part(str(exc))]))
            return
        if view is None or view.status == "failed":
            await updater.failed(say([new_text_part(view.summary if view else "no incident")]))
        else:
            await updater.complete(say([new_text_part(view.summary)]))

    async def cancel(self, context: RequestContext, event_queue: EventQueue) -> None:
        raise UnsupportedOperationError(message="an investigation ends by its own deadline; it cannot be canceled")


def _artifact(task: Task, name: str) -> Artifact | None:
    return next((a for a in task.artifacts if a.name == name), None)


def _artifact_json(artifact: Artifact) -> bytes:
    body = part_bytes(artifact.parts[0]) if artifact.parts else None
    if body is None:
        raise InvalidParamsError(message=f"artifact {artifact.name} carries no JSON")
    return body


def parse_incident_input(body: bytes) -> tuple[IncidentView, str]:
    try:
        data = json.loads(body)
    except ValueError:
        raise InvalidParamsError(message="send an IncidentView (or {\"incident\": …}) as JSON") from None
    requested_by = DEFAULT_REQUESTER
    if isinstance(data, dict) and isinstance(data.get("incident"), dict):
        requested_by = str(data.get("requested_by") or requested_by)
        data = data["incident"]
    try:
        return IncidentView.model_validate(data), requested_by
    except ValidationError as exc:
        raise _invalid(exc, "IncidentView") from None


class IncidentResponseExecutor(AgentExecutor):
    def __init__(self, responder: IncidentResponder) -> None:
        self.responder = responder

    async def execute(self, context: RequestContext, event_queue: EventQueue) -> None:
        context.call_context.state.pop(DECODED_REQUEST_KEY, None)  # validated as ContainmentInput; parsed below
        task = context.current_task
        if task is not None and task.status.state == TaskState.TASK_STATE_INPUT_REQUIRED:
            await self._decide(task, context, event_queue)
            return
        _, body = _first_json(context.message)
        incident, requested_by = parse_incident_input(body)  # refused before any task exists
        updater = await _open_task(context, event_queue)
        say = updater.new_agent_message
        proposal = await self.responder.propose(incident, requested_by)
        await updater.add_artifact([raw_part(incident.model_dump_json().encode(), INCIDENT_MEDIA_TYPE)],
                                   artifact_id="incident", name="incident")
        await self._publish(updater, proposal)
        if not proposal.steps:
            await updater.complete(say([new_text_part("nothing to contain: no step proposed")]))
            return
        await updater.requires_input(say([new_text_part(
            f"awaiting SOC engineer approval of {proposal.proposal_id}: {steps_summary(proposal.steps)}. Reply in "
            'this task with {"approve": true|false, "approved_by": "<you>", "steps": ["s1", …] or "all"}.')]))

    async def _publish(self, updater: TaskUpdater, proposal: ContainmentProposal) -> None:
        await updater.add_artifact([raw_part(proposal.model_dump_json().encode(), CONTAINMENT_MEDIA_TYPE)],
                                   artifact_id="containment", name="containment", append=False, last_chunk=True)

    async def _decide(self, task: Task, context: RequestContext, event_queue: EventQueue) -> None:
        updater = TaskUpdater(event_queue, task.id, task.context_id)
        say = updater.new_agent_message
        stored_proposal, stored_incident = _artifact(task, "containment"), _artifact(task, "incident")
        if stored_proposal is None or stored_incident is None:
            await updater.failed(say([new_text_part("the task lost its proposal; propose again")]))
            return
        proposal = ContainmentProposal.model_validate_json(_artifact_json(stored_proposal))
        incident = IncidentView.model_validate_json(_artifact_json(stored_incident))
        try:
            approval = Approval.model_validate_json(_first_json(context.message)[1])
            if approval.approved_by == "incident-response":
                raise ValueError("approved_by must name the SOC engineer, not the agent")
            await updater.start_work(say([new_text_part(f"{'running' if approval.approve else 'rejecting'} "
                                                        f"{proposal.proposal_id} for {approval.approved_by}")]))
            done = await self.responder.decide(proposal, incident, approval)
        except (ValidationError, ValueError, InvalidParamsError) as exc:
            reason = describe_validation_error(exc)[0] if isinstance(exc, ValidationError) else str(exc)
            await updater.requires_input(say([new_text_part(f"unreadable approval ({reason}); still awaiting "
                                                            'approval: {"approve": true, "approved_by": "<you>"}')]))
            return
        await self._publish(updater, done)
        await updater.complete(say([new_text_part(f"{done.status}: {steps_summary(done.steps)}")]))

    async def cancel(self, context: RequestContext, event_queue: EventQueue) -> None:
        task = context.current_task
        if task is None or task.status.state != TaskState.TASK_STATE_INPUT_REQUIRED:
            raise UnsupportedOperationError(message="only a proposal awaiting approval can be canceled")
        updater = TaskUpdater(event_queue, task.id, task.context_id)
        await updater.cancel(updater.new_agent_message([new_text_part("proposal withdrawn; no step ran")]))

