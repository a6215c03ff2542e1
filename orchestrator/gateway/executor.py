"""The risk gateway's request handler and executor: four skills, Message replies, review-bound Tasks.

`GatewayRequestHandler` decodes and authorises a send call before the SDK sets anything up (a refused or
invalid call leaves no Task behind); `GatewayExecutor` then runs the skill. assess-transaction replies with a
Message unless the caller asked for a Task (skills.TASK_TRIGGERS): then the Task goes working ▶ (artifact
`decision`) ▶ completed for pass/block, or ▶ input-required naming the alert for review, and the executor waits
for the analyst's outcome (outcomes.OutcomeRouter) to add the `final-decision` artifact and complete it.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator
from typing import Any

from a2a.helpers import new_message, new_task_from_user_message, new_text_part
from a2a.server.agent_execution import AgentExecutor, RequestContext
from a2a.server.context import ServerCallContext
from a2a.server.events import EventQueue
from a2a.server.request_handlers import DefaultRequestHandler
from a2a.server.tasks import TaskUpdater
from a2a.types import (
    Message,
    Part,
    Role,
    SendMessageRequest,
    Task,
    TaskArtifactUpdateEvent,
    TaskState,
    TaskStatusUpdateEvent,
)
from a2a.utils.errors import (
    ContentTypeNotSupportedError,
    InternalError,
    InvalidParamsError,
    InvalidRequestError,
    UnsupportedOperationError,
)

from riskmesh.a2a.server import answer_without_task
from riskmesh.contracts import RiskmeshModel, Transaction
from riskmesh.contracts.gateway import (
    BATCH_ASSESS_RESPONSE_MEDIA_TYPE,
    DECISION_MEDIA_TYPE,
    EXPLANATION_MEDIA_TYPE,
    FEEDBACK_RECEIPT_MEDIA_TYPE,
    BatchAssessRequest,
    BatchAssessResponse,
    ExplainRequest,
    FeedbackRequest,
)
from riskmesh.orchestrator.gateway.auth import principal_of
from riskmesh.orchestrator.gateway.clients import Authenticator, AuthError, Principal
from riskmesh.orchestrator.gateway.coalescer import Coalescer, DecisionUnavailable
from riskmesh.orchestrator.gateway.outcomes import OutcomeRouter, completed_status, outcome_artifact
from riskmesh.orchestrator.gateway.payloads import PayloadError, decode_message, proto_wants_task, reply_part
from riskmesh.orchestrator.gateway.skills import ASSESS, BATCH, EXPLAIN, GatewaySkill, UnknownSkill, required_scopes
from riskmesh.orchestrator.gateway.usecases import DecisionNotFound, Explainer, FeedbackDesk

__all__ = ["DECODED_KEY", "GatewayExecutor", "GatewayRequestHandler"]

log = logging.getLogger("riskmesh.gateway.executor")

DECODED_KEY = "riskmesh.gateway.decoded"
"""ServerCallContext.state key: (skill, request, wants_task), decoded once by the handler."""
DECISION_ARTIFACT = "decision"


def _decode(params: SendMessageRequest, context: ServerCallContext) -> tuple[GatewaySkill, RiskmeshModel, bool]:
    principal = principal_of(context)
    if principal is None:  # the auth edge refuses these first; never decide for an anonymous caller
        raise InvalidRequestError(message="unauthenticated: send 'Authorization: Bearer <token>' or 'X-API-Key'")
    try:
        skill, request = decode_message(params.message)
    except UnknownSkill as exc:
        raise ContentTypeNotSupportedError(message=str(exc)) from None
    except PayloadError as exc:
        raise InvalidParamsError(message=str(exc)) from None
    task = skill is ASSESS and proto_wants_task(params)
    try:
        Authenticator.authorize(principal, required_scopes(skill, task), skill.skill_id)
    except AuthError as exc:
        raise InvalidRequestError(message=f"forbidden: {exc.message}") from None
    return skill, request, task


class GatewayRequestHandler(DefaultRequestHandler):
    """Decodes and authorises send calls up front; follow-up messages to a Task are refused."""

    async def on_message_send(self, params: SendMessageRequest, context: ServerCallContext) -> Message | Task:
        """Calls answered with a Message skip the SDK's task machinery; only Task requests go through it."""
        self._prepare(params, context)
        _, _, task = context.state[DECODED_KEY]
        if task:
            return await super().on_message_send(params, context)
        return await answer_without_task(self.agent_executor, params, context)

    async def on_message_send_stream(self, params: SendMessageRequest,  # type: ignore[override]
                                     context: ServerCallContext) -> AsyncGenerator[Any, None]:
        self._prepare(params, context)
        async for event in super().on_message_send_stream(params, context):
            yield event

    @staticmethod
    def _prepare(params: SendMessageRequest, context: ServerCallContext) -> None:
        if params.message.task_id:
            raise UnsupportedOperationError(message="a gateway Task takes no follow-up messages; follow it with "
                                                    "GetTask, SubscribeToTask or push notifications")
        context.state[DECODED_KEY] = _decode(params, context)


class GatewayExecutor(AgentExecutor):
    def __init__(self, coalescer: Coalescer, router: OutcomeRouter, explainer: Explainer, feedback: FeedbackDesk,
                 *, review_wait_s: float) -> None:
        self._coalescer = coalescer
        self._router = router
        self._explainer = explainer
        self._feedback = feedback
        self._review_wait_s = review_wait_s
        self._following: dict[str, str] = {}
        """task id ▶ alert id of the Tasks waiting here for an analyst."""

    async def execute(self, context: RequestContext, event_queue: EventQueue) -> None:
        assert context.message is not None
        decoded = context.call_context.state.pop(DECODED_KEY, None)
        if decoded is None:  # served by a handler that did not decode up front
            decoded = _decode(SendMessageRequest(message=context.message, configuration=context.configuration),
                              context.call_context)
        skill, request, task = decoded
        principal = principal_of(context.call_context)
        assert principal is not None
        like = context.message.parts[0]
        try:
            if task:
                assert isinstance(request, Transaction)
                await self._assess_task(context, event_queue, request, principal, like)
                return
            reply = await self._run(skill, request, principal)
        except DecisionUnavailable as exc:
            raise InternalError(message=str(exc)) from exc
        except DecisionNotFound as exc:
            raise InvalidParamsError(message=str(exc)) from exc
        await event_queue.enqueue_event(new_message([reply_part(reply[0], reply[1], like)],
                                                    context_id=context.context_id, role=Role.ROLE_AGENT))

    async def _run(self, skill: GatewaySkill, request: RiskmeshModel,
                   principal: Principal) -> tuple[RiskmeshModel, str]:
        if skill is ASSESS:
            assert isinstance(request, Transaction)
            return await self._coalescer.assess(request), DECISION_MEDIA_TYPE
        if skill is BATCH:
            assert isinstance(request, BatchAssessRequest)
            decisions = await self._coalescer.assess_many(request.transactions)
            return BatchAssessResponse(request_id=request.request_id, decisions=decisions), \
                BATCH_ASSESS_RESPONSE_MEDIA_TYPE
        if skill is EXPLAIN:
            assert isinstance(request, ExplainRequest)
            return await self._explainer.explain(request.tx_id), EXPLANATION_MEDIA_TYPE
        assert isinstance(request, FeedbackRequest)
        return await self._feedback.submit(principal.client_id, request), FEEDBACK_RECEIPT_MEDIA_TYPE

    async def _assess_task(self, context: RequestContext, event_queue: EventQueue, tx: Transaction,
                           principal: Principal, like: Part) -> None:
        assert context.message is not None and context.task_id is not None and context.context_id is not None
        task_id, context_id = context.task_id, context.context_id
        first = new_task_from_user_message(context.message)
        first.id, first.context_id = task_id, context_id
        await event_queue.enqueue_event(first)
        updater = TaskUpdater(event_queue, task_id, context_id)
        await updater.start_work()
        try:
            decision = await self._coalescer.assess(tx)
        except DecisionUnavailable as exc:
            await updater.failed(updater.new_agent_message([new_text_part(str(exc))]))
            return
        await updater.add_artifact([reply_part(decision, DECISION_MEDIA_TYPE, like)], artifact_id=DECISION_ARTIFACT,
                                   name=DECISION_ARTIFACT)
        if decision.decision != "review" or not decision.alert_id:
            await updater.complete(updater.new_agent_message([new_text_part(f"decision {decision.decision}")]))
            return
        alert_id = decision.alert_id
        await updater.requires_input(updater.new_agent_message(
            [new_text_part(f"review: alert {alert_id} is with an analyst; this task completes with the final "
                           "decision")], metadata={"riskmesh": {"alert_id": alert_id}}))
        self._following[task_id] = alert_id
        try:
            outcome = await self._router.wait_for(alert_id, task_id, principal.client_id, self._review_wait_s)
        finally:
            self._following.pop(task_id, None)
        if outcome is None:
            log.info("task %s: no outcome for alert %s within %.0f s; it completes from the store later",
                     task_id, alert_id, self._review_wait_s)
            return
        await event_queue.enqueue_event(TaskArtifactUpdateEvent(task_id=task_id, context_id=context_id,
                                                                artifact=outcome_artifact(outcome, like)))
        await event_queue.enqueue_event(TaskStatusUpdateEvent(
            task_id=task_id, context_id=context_id, status=completed_status(outcome, context_id, task_id)))

    async def cancel(self, context: RequestContext, event_queue: EventQueue) -> None:
        """Stop following: the Task is canceled; the alert stays with the analyst, nothing is released."""
        task_id = context.task_id or ""
        alert_id = self._following.pop(task_id, None)
        if alert_id is not None:
            await self._router.stop_following(alert_id, task_id)
        text = ("canceled by the caller: no longer following"
                + (f" alert {alert_id}; it stays with the analyst and nothing was released or blocked"
                   if alert_id else ""))
        updater = TaskUpdater(event_queue, task_id, context.context_id or "")
        await updater.update_status(TaskState.TASK_STATE_CANCELED,
                                    message=updater.new_agent_message([new_text_part(text)]))
