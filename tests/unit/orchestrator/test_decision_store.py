"""Conformance suite for the idempotent decision store: the memory double and Redis behave the same."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Coroutine
from typing import Any

import pytest
import redis
import redis.asyncio as aioredis

from riskmesh.orchestrator.decision_store import (
    DecisionStore,
    MemoryDecisionStore,
    RedisDecisionStore,
    StoredDecision,
    unpack,
)

StoreTest = Callable[[DecisionStore], Coroutine[Any, Any, None]]


@pytest.fixture(params=["memory", "redis"])
def run_with_store(request: pytest.FixtureRequest) -> Callable[[StoreTest], None]:
    """Run an async test body against a fresh store of the parametrised kind, in its own event loop."""

    def run(body: StoreTest) -> None:
        async def go() -> None:
            if request.param == "memory":
                store: DecisionStore = MemoryDecisionStore()
            else:
                url = request.getfixturevalue("redis_server_url")
                store = RedisDecisionStore(aioredis.Redis.from_url(url), ttl_s=60, prefix=f"t{uuid.uuid4().hex}")
            try:
                await body(store)
            finally:
                await store.aclose()

        asyncio.run(go())

    return run


def test_the_first_recorded_decision_wins_and_later_ones_get_it_back(
    run_with_store: Callable[[StoreTest], None],
) -> None:
    async def body(store: DecisionStore) -> None:
        assert await store.record({"T-1": b"first", "T-2": b"two"}) == {"T-1": b"first", "T-2": b"two"}
        assert await store.record({"T-1": b"second", "T-3": b"three"}) == {"T-1": b"first", "T-3": b"three"}

    run_with_store(body)


def test_lookup_reports_recorded_decisions_and_whether_each_was_emitted(
    run_with_store: Callable[[StoreTest], None],
) -> None:
    async def body(store: DecisionStore) -> None:
        await store.record({"T-1": b"one", "T-2": b"two"})
        await store.mark_emitted(["T-2"])
        found = await store.lookup(["T-1", "T-2", "T-9"])
        assert {t: (d.payload, d.emitted) for t, d in found.items()} == {"T-1": (b"one", False), "T-2": (b"two", True)}

    run_with_store(body)


def test_empty_batches_touch_nothing(run_with_store: Callable[[StoreTest], None]) -> None:
    async def body(store: DecisionStore) -> None:
        assert await store.record({}) == {}
        await store.mark_emitted([])
        assert await store.lookup([]) == {}

    run_with_store(body)


def test_a_dead_letter_is_claimed_once(run_with_store: Callable[[StoreTest], None]) -> None:
    async def body(store: DecisionStore) -> None:
        assert await store.claim_dead_letters(["t:0:1", "t:0:2"]) == [True, True]
        assert await store.claim_dead_letters(["t:0:2", "t:0:3"]) == [False, True]

    run_with_store(body)


def test_redis_keys_expire_after_the_ttl(redis_server_url: str) -> None:
    async def go() -> None:
        store = RedisDecisionStore(aioredis.Redis.from_url(redis_server_url), ttl_s=123, prefix="ttl")
        await store.record({"T-1": b"one"})
        await store.mark_emitted(["T-1"])
        await store.aclose()

    asyncio.run(go())
    client = redis.Redis.from_url(redis_server_url)
    assert 0 < client.ttl("ttl:decision:T-1") <= 123  # emitting keeps the expiry (the flag is in the value)
    assert client.exists("ttl:decision:T-1:emitted") == 0
    client.close()


def test_a_decision_is_stored_compressed_with_its_flag_in_the_value(redis_server_url: str) -> None:
    decision = (b'{"schema_version":"1","tx_id":"T-9","decision":"pass","risk_score":0.01,"decided_at":'
                b'"2026-01-05T00:00:07.396Z","latency_ms":12.5,"reasons":[],"verdicts":{},"policy_version":"p-1",'
                b'"degraded":[],"actions":[],"alert_id":null}')

    async def go() -> tuple[dict, dict]:
        store = RedisDecisionStore(aioredis.Redis.from_url(redis_server_url), ttl_s=60, prefix="zz")
        await store.record({"T-9": decision})
        before = await store.lookup(["T-9"])
        await store.mark_emitted(["T-9"])
        after = await store.lookup(["T-9"])
        await store.aclose()
        return before, after

    before, after = asyncio.run(go())
    assert before["T-9"] == StoredDecision(decision, False) and after["T-9"] == StoredDecision(decision, True)
    client = redis.Redis.from_url(redis_server_url)
    raw = client.get("zz:decision:T-9")
    assert raw[:2] == b"e1" and len(raw) < len(decision) / 2 and unpack(raw) == (decision, True)
    client.close()


def test_values_written_before_compression_are_still_read_and_flagged(redis_server_url: str) -> None:
    client = redis.Redis.from_url(redis_server_url)
    client.set("old:decision:T-1", b'{"tx_id":"T-1"}')

    async def go() -> tuple[dict, dict]:
        store = RedisDecisionStore(aioredis.Redis.from_url(redis_server_url), ttl_s=60, prefix="old")
        before = await store.lookup(["T-1"])
        await store.mark_emitted(["T-1"])
        after = await store.lookup(["T-1"])
        await store.aclose()
        return before, after

    before, after = asyncio.run(go())
    assert before["T-1"] == StoredDecision(b'{"tx_id":"T-1"}', False)
    assert after["T-1"] == StoredDecision(b'{"tx_id":"T-1"}', True)
    assert client.get("old:decision:T-1:emitted") == b"1"
    client.close()
