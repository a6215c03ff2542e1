"""Message-only sends are answered by the executor directly, without the SDK's task machinery."""

from __future__ import annotations

import pytest
from a2a.helpers import new_message, new_text_part
from a2a.server.agent_execution import AgentExecutor, RequestContext
from a2a.server.context import ServerCallContext
from a2a.server.events import EventQueue
from a2a.types import Message, Part, Role, SendMessageRequest
from a2a.utils.errors import InternalError, InvalidAgentResponseError, InvalidParamsError

from riskmesh.a2a.server import answer_without_task


class EchoExecutor(AgentExecutor):
    """Replies with `replies` Messages echoing the request's text."""

    def __init__(self, replies: int = 1) -> None:
        self.replies = replies

    async def execute(self, context: RequestContext, event_queue: EventQueue) -> None:
        assert context.message is not None
        for _ in range(self.replies):
            await event_queue.enqueue_event(new_message([new_text_part(context.message.parts[0].text)],
                                                        context_id=context.context_id, role=Role.ROLE_AGENT))

    async def cancel(self, context: RequestContext, event_queue: EventQueue) -> None:
        raise NotImplementedError


def send(message_id: str = "m-1", role: Role = Role.ROLE_USER) -> SendMessageRequest:
    return SendMessageRequest(message=Message(message_id=message_id, role=role, parts=[Part(text="hello")]))


async def test_the_executor_s_one_message_is_the_reply_in_the_request_s_context():
    request = send()
    request.message.context_id = "ctx-1"
    reply = await answer_without_task(EchoExecutor(), request, ServerCallContext())
    assert reply.parts[0].text == "hello"
    assert reply.context_id == "ctx-1"


@pytest.mark.parametrize("request_", [send(message_id=""), send(role=Role.ROLE_UNSPECIFIED)])
async def test_a_message_without_its_required_fields_is_refused_before_the_executor_runs(request_):
    with pytest.raises(InvalidParamsError):
        await answer_without_task(EchoExecutor(), request_, ServerCallContext())


@pytest.mark.parametrize(("replies", "error"), [(0, InternalError), (2, InvalidAgentResponseError)])
async def test_an_executor_that_does_not_reply_with_exactly_one_message_is_an_error(replies, error):
    with pytest.raises(error):
        await answer_without_task(EchoExecutor(replies), send(), ServerCallContext())
