"""One conformance suite for the gateway's stores: tasks, push configs and the review ledger, memory and Redis."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis
from a2a.server.tasks import InMemoryPushNotificationConfigStore
from a2a.types import ListTasksRequest, Task, TaskPushNotificationConfig, TaskState, TaskStatus
from gateway_doubles import eventually, outcome

from riskmesh.orchestrator.gateway.outcomes import MemoryReviewLedger, RedisReviewLedger
from riskmesh.orchestrator.gateway.tasks import (
    ExpiringTaskStore,
    RedisPushConfigStore,
    RedisTaskStore,
    owner_context,
)

BANK, OTHER = owner_context("bank"), owner_context("other")


@pytest.fixture
async def redis_client(redis_server_url) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(redis_server_url)
    yield client
    await client.aclose()


@pytest.fixture(params=["memory", "redis"])
async def task_store(request, redis_client):
    if request.param == "memory":
        return ExpiringTaskStore(ttl_s=1.0)
    return RedisTaskStore(redis_client, ttl_s=1, prefix=f"test:{uuid.uuid4().hex}")


@pytest.fixture(params=["memory", "redis"])
async def push_store(request, redis_client):
    if request.param == "memory":
        return InMemoryPushNotificationConfigStore()
    return RedisPushConfigStore(redis_client, ttl_s=60, prefix=f"test:{uuid.uuid4().hex}")


@pytest.fixture(params=["memory", "redis"])
async def ledger(request, redis_client):
    if request.param == "memory":
        return MemoryReviewLedger()
    return RedisReviewLedger(redis_client, ttl_s=60, prefix=f"test:{uuid.uuid4().hex}")


def task(task_id: str, state: TaskState = TaskState.TASK_STATE_WORKING) -> Task:
    return Task(id=task_id, context_id="ctx", status=TaskStatus(state=state))


async def test_a_saved_task_reads_back_for_its_owner_only(task_store):
    await task_store.save(task("t1"), BANK)
    assert (await task_store.get("t1", BANK)).status.state == TaskState.TASK_STATE_WORKING
    assert await task_store.get("t1", OTHER) is None
    await task_store.save(task("t1", TaskState.TASK_STATE_COMPLETED), BANK)
    assert (await task_store.get("t1", BANK)).status.state == TaskState.TASK_STATE_COMPLETED


async def test_list_shows_the_owners_tasks_and_delete_removes_one(task_store):
    await task_store.save(task("t1"), BANK)
    await task_store.save(task("t2"), BANK)
    await task_store.save(task("t3"), OTHER)
    listed = await task_store.list(ListTasksRequest(), BANK)
    assert sorted(t.id for t in listed.tasks) == ["t1", "t2"]
    await task_store.delete("t1", BANK)
    assert await task_store.get("t1", BANK) is None


async def test_a_task_is_forgotten_after_its_ttl(task_store):
    await task_store.save(task("t-exp"), BANK)
    async def gone() -> bool:
        return await task_store.get("t-exp", BANK) is None

    await eventually(gone, timeout_s=5)


async def test_push_configs_are_owner_scoped_and_all_are_dispatched(push_store):
    await push_store.set_info("t1", TaskPushNotificationConfig(id="c1", url="http://h/1", token="a"), BANK)
    await push_store.set_info("t1", TaskPushNotificationConfig(id="c2", url="http://h/2", token="b"), OTHER)
    assert [c.id for c in await push_store.get_info("t1", BANK)] == ["c1"]
    assert sorted(c.id for c in await push_store.get_info_for_dispatch("t1")) == ["c1", "c2"]
    await push_store.delete_info("t1", BANK, "c1")
    assert await push_store.get_info("t1", BANK) == []


async def test_the_ledger_keeps_outcomes_and_watches(ledger):
    assert await ledger.outcome_of("AL-T-1") is None
    await ledger.record_outcome(outcome("T-1"))
    assert (await ledger.outcome_of("AL-T-1")).final_decision == "block"
    await ledger.watch("AL-T-1", "task-1", "bank")
    await ledger.watch("AL-T-1", "task-2", "other")
    assert await ledger.watchers("AL-T-1") == {"task-1": "bank", "task-2": "other"}
    await ledger.unwatch("AL-T-1", "task-1")
    assert await ledger.watchers("AL-T-1") == {"task-2": "other"}
