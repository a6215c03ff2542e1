"""transactions.features_batch: features of the history strictly before each transaction."""

from __future__ import annotations

import asyncio
import random

import pytest
from mcp import Client

from riskmesh.mcp_servers.history import HistoryEntry, MemoryHistoryStore, RedisHistoryStore
from riskmesh.mcp_servers.transactions import SharedFeatures, build_transactions_server
from tests.unit.mcp_servers.tool_payload import payload


def _tx(n: int, minute: int, amount: str = "100.00", account: str = "A1", **extra) -> dict:
    return {
        "tx_id": f"T{n}",
        "ts": f"2026-11-21T09:{minute:02d}:00.000Z",
        "account_id": account,
        "amount": amount,
        "currency": "CNY",
        "device_id": "D1",
        "ip": "203.0.113.7",
        "country": "CN",
        "creditor_account_id": "P1",
        "channel": "mobile",
        **extra,
    }


@pytest.fixture(params=["memory", "redis"])
def server(request):
    """A server that shares no answer between sequential calls: these tests check the features themselves."""
    unshared = SharedFeatures(ttl_s=0.0)
    if request.param == "memory":
        return build_transactions_server(MemoryHistoryStore(), shared=unshared)
    return build_transactions_server(RedisHistoryStore(request.getfixturevalue("redis_client")), shared=unshared)


async def _features(client: Client, txs: list[dict], observe: bool = True) -> dict:
    result = await client.call_tool("features_batch", {"transactions": txs, "observe": observe})
    assert not result.is_error, result.content
    return payload(result)["features"]


async def test_an_account_without_history_gets_zero_counts_and_nulls(server) -> None:
    async with Client(server) as client:
        features = (await _features(client, [_tx(1, 0)]))["T1"]
    assert features["n_history"] == 0
    assert features["count_24h"] == 0 and features["distinct_devices_24h"] == 0
    for key in (
        "amount_mean",
        "amount_std",
        "amount_max",
        "known_device",
        "known_ip",
        "known_country",
        "known_payee",
        "seconds_since_last",
        "last_country",
    ):
        assert features[key] is None, key


async def test_features_describe_only_earlier_transactions_of_the_same_account(server) -> None:
    batch = [
        _tx(1, 0, "100"),
        _tx(2, 10, "300", device_id="D2", country="HK"),
        _tx(3, 20, "50", ip=None),
        _tx(9, 5, "999", account="OTHER"),
    ]
    async with Client(server) as client:
        features = await _features(client, batch)
    third = features["T3"]
    assert third["n_history"] == 2 and third["count_1h"] == 2 and third["count_24h"] == 2
    assert third["sum_24h"] == 400.0 and third["amount_max"] == 300.0
    assert third["amount_mean"] == 200.0 and third["amount_std"] == 100.0
    assert third["known_device"] is True and third["known_payee"] is True
    assert third["known_ip"] is None  # this transaction has no ip
    assert third["seconds_since_last"] == 600.0 and third["last_country"] == "HK"
    assert third["distinct_devices_24h"] == 2 and third["distinct_payees_24h"] == 1
    second = features["T2"]
    assert second["known_device"] is False and second["known_country"] is False
    assert features["T9"]["n_history"] == 0


async def test_the_answer_is_the_same_before_and_after_the_batch_was_observed(server) -> None:
    batch = [_tx(i, i, str(10 * i)) for i in range(1, 8)]
    async with Client(server) as client:
        before = await _features(client, batch, observe=False)
        first = await _features(client, batch, observe=True)
        redelivered = await _features(client, batch, observe=True)
    assert before == first == redelivered


async def test_concurrent_observing_and_reading_calls_agree_whatever_the_order(server) -> None:
    batch = [_tx(i, i % 60, str(i), account=f"A{i % 3}") for i in range(1, 40)]
    shuffled = random.Random(7).sample(batch, len(batch))
    async with Client(server) as client:
        results = await asyncio.gather(
            _features(client, batch, observe=False),
            _features(client, shuffled, observe=True),
            _features(client, batch, observe=True),
        )
    assert results[0] == results[1] == results[2]


async def test_later_batches_see_the_observed_history(server) -> None:
    async with Client(server) as client:
        await _features(client, [_tx(1, 0, "100"), _tx(2, 30, "200")])
        features = (await _features(client, [_tx(3, 45, "50", device_id="D-new")]))["T3"]
    assert features["n_history"] == 2 and features["known_device"] is False
    assert features["count_1h"] == 2 and features["seconds_since_last"] == 900.0


async def test_a_transaction_older_than_the_history_sees_only_what_came_before_it(server) -> None:
    async with Client(server) as client:
        await _features(client, [_tx(2, 30), _tx(3, 40)])
        features = (await _features(client, [_tx(1, 10)]))["T1"]
    assert features["n_history"] == 0


async def test_old_transactions_fall_out_of_the_one_hour_and_one_day_windows(server) -> None:
    old = {**_tx(1, 0, "70"), "ts": "2026-11-19T09:00:00Z"}
    hours_ago = {**_tx(2, 0, "30"), "ts": "2026-11-21T06:00:00+00:00"}
    async with Client(server) as client:
        features = (await _features(client, [old, hours_ago, _tx(3, 0, "5")]))["T3"]
    assert features["n_history"] == 2
    assert features["count_1h"] == 0 and features["count_24h"] == 1 and features["sum_24h"] == 30.0


async def test_a_batch_item_without_an_offset_or_with_a_bad_amount_is_refused(server) -> None:
    async with Client(server) as client:
        naive = await client.call_tool("features_batch", {"transactions": [{**_tx(1, 0), "ts": "2026-11-21T09:00"}]})
        bad_amount = await client.call_tool("features_batch", {"transactions": [_tx(1, 0, "abc")]})
    assert naive.is_error and bad_amount.is_error


async def test_a_batch_is_read_with_one_redis_call_and_recorded_with_one(redis_client) -> None:
    server = build_transactions_server(RedisHistoryStore(redis_client))
    sent: list[str] = []
    original = redis_client.execute_command

    async def counting(*args, **kwargs):
        sent.append(str(args[0]))
        return await original(*args, **kwargs)

    async with Client(server) as client:
        await _features(client, [_tx(100, 0, account="A9")])  # loads the scripts into Redis
        redis_client.execute_command = counting
        await _features(client, [_tx(i, i, account=f"A{i % 4}") for i in range(20)])
    assert sent == ["EVALSHA", "EVALSHA"]  # the versions (all new: nothing to fetch), then the write


async def test_channel_and_hour_habits_and_seven_day_velocity_are_profiled(server) -> None:
    usual = [_tx(i, i) for i in range(1, 7)]  # six mobile payments around 09:00 UTC
    night = _tx(7, 0, channel="wire", ts="2026-11-21T21:00:00.000Z")
    morning = _tx(8, 30, ts="2026-11-21T09:30:00.000Z")
    async with Client(server) as client:
        await _features(client, usual)
        features = await _features(client, [night, morning], observe=False)
    assert (features["T7"]["known_channel"], features["T7"]["hour_typical"]) == (False, False)
    assert (features["T8"]["known_channel"], features["T8"]["hour_typical"]) == (True, True)
    assert features["T8"]["hour_share"] == 1.0
    assert (features["T8"]["count_7d"], features["T8"]["sum_7d"], features["T8"]["sum_1h"]) == (6, 600.0, 600.0)


async def test_a_cold_account_has_no_channel_or_hour_habit_yet(server) -> None:
    async with Client(server) as client:
        features = (await _features(client, [_tx(1, 0)]))["T1"]
    assert (features["known_channel"], features["hour_typical"], features["hour_share"]) == (None, None, None)
    assert (features["count_7d"], features["sum_7d"]) == (0, 0)


class CountingHistory(MemoryHistoryStore):
    """A memory history that counts loads and can be told to fail the next one."""

    def __init__(self) -> None:
        super().__init__()
        self.loads = 0
        self.fail_next = False

    async def load(self, account_ids):  # type: ignore[override]
        self.loads += 1
        await asyncio.sleep(0)  # let a concurrent identical call arrive while this one is in flight
        if self.fail_next:
            self.fail_next = False
            raise ConnectionError("history unavailable")
        return await super().load(account_ids)


async def test_concurrent_calls_for_the_same_batch_compute_its_features_once_and_both_observe() -> None:
    history = CountingHistory()
    server = build_transactions_server(history)
    batch = [_tx(1, 0), _tx(2, 1)]
    async with Client(server) as client:
        fraud, behaviour = await asyncio.gather(
            _features(client, batch, observe=False), _features(client, batch, observe=True)
        )
        other = await _features(client, [_tx(3, 2)], observe=False)
    assert fraud == behaviour
    assert history.loads == 2  # the shared batch once, the different one once
    assert [e.tx_id for e in (await history.load(["A1"]))["A1"].entries()] == ["T1", "T2"]
    assert other["T3"]["n_history"] == 2


async def test_a_failed_feature_computation_is_not_shared_with_later_calls() -> None:
    history = CountingHistory()
    history.fail_next = True
    server = build_transactions_server(history)
    async with Client(server) as client:
        failed = await client.call_tool("features_batch", {"transactions": [_tx(1, 0)], "observe": False})
        features = await _features(client, [_tx(1, 0)], observe=False)
    assert failed.is_error
    assert features["T1"]["n_history"] == 0


async def test_shared_features_expire_after_their_time_to_live() -> None:
    shared = SharedFeatures(ttl_s=0.0)
    calls: list[int] = []

    async def compute() -> dict:
        calls.append(1)
        return {"T1": {}}

    batch = (("A1", HistoryEntry(1, "T1", 1.0)),)
    await shared.get(batch, compute)
    await shared.get(batch, compute)
    assert len(calls) == 2


async def test_a_batch_sent_as_json_text_gets_the_same_features(server) -> None:
    import orjson

    batch = [_tx(i, i, str(10 * i)) for i in range(1, 6)]
    async with Client(server) as client:
        structured = await _features(client, batch, observe=False)
        result = await client.call_tool("features_batch", {"transactions_json": orjson.dumps(batch).decode(),
                                                           "observe": False})
    assert not result.is_error and payload(result)["features"] == structured
