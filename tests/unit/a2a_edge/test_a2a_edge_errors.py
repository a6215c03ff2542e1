"""Bad input, failing agents and slow agents all reach the caller as one clear AgentCallError."""

from __future__ import annotations

import asyncio
import logging

import pytest
from a2a.server.context import ServerCallContext
from a2a.types import Task
from a2a_edge_doubles import TOKEN, make_tx

from riskmesh.a2a.client import AgentCallError, AgentClient, AgentTimeout
from riskmesh.a2a.task_store import BoundedTaskStore
from riskmesh.contracts import BATCH_MEDIA_TYPE, AssessBatchRequest

BATCH = AssessBatchRequest(batch_id="b-err", transactions=[make_tx(i) for i in range(4)])


@pytest.fixture
async def fraud_client(start_server, fraud_agent):
    server = await start_server(fraud_agent, "fraud")
    client = AgentClient("fraud", server.base_url, TOKEN, binding="grpc")
    yield client, server
    await client.aclose()


@pytest.mark.parametrize(
    ("payload", "media_type", "expected"),
    [
        (b'{"batch_id": "b", "transactions": [', BATCH_MEDIA_TYPE, r"InvalidParamsError: payload is not valid JSON"),
        (b'{"batch_id": "b", "transactions": [{"tx_id": 7}]}', BATCH_MEDIA_TYPE, r"transactions\.0\.tx_id"),
        (b'{"transactions": []}', "application/json", r"invalid AssessBatchRequest: batch_id: Field required"),
        (b"{}", "image/png", r"ContentTypeNotSupportedError: media type 'image/png' is not accepted"),
    ],
)
async def test_invalid_input_is_refused_with_a_message_naming_the_problem(
    fraud_client, fraud_agent, payload, media_type, expected
):
    client, server = fraud_client
    with pytest.raises(AgentCallError, match=expected):
        await client.call(payload, media_type, timeout_s=10)
    assert fraud_agent.seen == []
    assert len(server.task_store) == 0  # refused before any task was set up


@pytest.mark.parametrize("binding", ["grpc", "jsonrpc", "http_json"])
async def test_an_agent_that_raises_gives_an_agent_call_error_and_is_logged_with_its_traceback(
    start_server, fraud_agent, caplog, binding
):
    server = await start_server(fraud_agent, "fraud")
    client = AgentClient("fraud", server.base_url, TOKEN, binding=binding)
    fraud_agent.mode = "raise"
    try:
        with (
            caplog.at_level(logging.ERROR, logger="riskmesh.a2a.executor"),
            pytest.raises(AgentCallError, match="InternalError: fraud agent failed: RuntimeError: risk-graph"),
        ):
            await client.assess(BATCH, timeout_s=10)
    finally:
        await client.aclose()
    [record] = [r for r in caplog.records if r.name == "riskmesh.a2a.executor"]
    assert record.exc_info is not None and "b-err" in record.getMessage()


async def test_an_agent_answering_with_too_few_verdicts_is_an_agent_failure(fraud_client, fraud_agent):
    client, _ = fraud_client
    fraud_agent.mode = "short"
    with pytest.raises(AgentCallError, match="returned 3 verdicts for 4 transactions"):
        await client.assess(BATCH, timeout_s=10)


@pytest.mark.parametrize("binding", ["grpc", "jsonrpc"])
async def test_a_slow_agent_gives_an_agent_timeout(start_server, fraud_agent, binding):
    server = await start_server(fraud_agent, "fraud")
    client = AgentClient("fraud", server.base_url, TOKEN, binding=binding)
    await client.start()
    fraud_agent.mode = "hang"
    try:
        with pytest.raises(AgentTimeout, match=r"no answer within the deadline of 0\.3 s"):
            await client.assess(BATCH, timeout_s=0.3)
        fraud_agent.release.set()
        await asyncio.wait_for(fraud_agent.finished.wait(), timeout=5)  # the server side is done too
    finally:
        fraud_agent.release.set()
        await client.aclose()


async def test_the_batch_deadline_bounds_the_agent_on_the_server_side_too(fraud_client, fraud_agent):
    client, _ = fraud_client
    fraud_agent.mode = "hang"
    request = BATCH.model_copy(update={"deadline_ms": 200})
    with pytest.raises(AgentCallError, match="missed its deadline of 200 ms"):
        await client.call(request.model_dump_json().encode(), BATCH_MEDIA_TYPE, timeout_s=10)


async def test_an_unreachable_agent_gives_an_agent_call_error_not_a_transport_exception():
    client = AgentClient("credit", "http://127.0.0.1:9/", TOKEN)
    try:
        with pytest.raises(AgentCallError) as failed:
            await client.assess(BATCH, timeout_s=5)
    finally:
        await client.aclose()
    assert failed.value.agent == "credit"
    assert not isinstance(failed.value, AgentTimeout)


async def test_the_bounded_task_store_forgets_the_oldest_failure_records():
    store = BoundedTaskStore(max_tasks=2)
    context = ServerCallContext()
    for task_id in ("t1", "t2", "t3"):
        await store.save(Task(id=task_id, context_id="c"), context)
    assert len(store) == 2
    assert await store.get("t1", context) is None
    assert (await store.get("t3", context)).id == "t3"
