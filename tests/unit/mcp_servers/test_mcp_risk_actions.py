"""risk-actions.apply_decisions_batch: rules, alerts in Redis, idempotency per tx_id."""

from __future__ import annotations

import hashlib

import pytest
from mcp import Client

from riskmesh.mcp_servers.action_store import MemoryActionStore, RedisActionStore
from riskmesh.mcp_servers.risk_actions import HOLD_NOTE, alert_id_for, alert_priority, build_risk_actions_server
from tests.unit.mcp_servers.tool_payload import payload


def _item(tx: str, decision: str, risk: float = 0.5, amount: str = "100.00") -> dict:
    return {
        "tx_id": tx,
        "decision": decision,
        "risk_score": risk,
        "amount": amount,
        "currency": "CNY",
        "debtor_account_id": "A1-01",
        "degraded": ["credit"] if decision == "review" else [],
        "reasons": [{"code": "BEHAVIOUR_NEW_DEVICE", "agent": "behaviour", "weight": 0.3, "detail": "new"}],
        "policy_version": "policy-7",
        "decided_at": "2026-11-21T09:15:02.140Z",
    }


@pytest.fixture(params=["memory", "redis"])
def server(request):
    if request.param == "memory":
        return build_risk_actions_server(MemoryActionStore())
    return build_risk_actions_server(RedisActionStore(request.getfixturevalue("redis_client")))


async def _apply(client: Client, items: list[dict]) -> dict:
    result = await client.call_tool("apply_decisions_batch", {"items": items})
    assert not result.is_error, result.content
    return payload(result)["results"]


async def test_each_decision_maps_to_its_actions(server) -> None:
    async with Client(server) as client:
        results = await _apply(client, [_item("T1", "pass"), _item("T2", "block"), _item("T3", "review")])
    assert results["T1"] == {"actions": [], "alert_id": None, "controls": []}
    assert results["T2"] == {"actions": ["block_transaction"], "alert_id": None, "controls": []}
    hold = {"account_id": "A1-01", "control": "hold", "change": "applied", "level": 1, "reason": HOLD_NOTE}
    assert results["T3"] == {
        "actions": ["hold_transaction", "open_alert"],
        "alert_id": alert_id_for("T3"),
        "controls": [hold],
    }


def test_the_alert_id_is_derived_from_the_tx_id() -> None:
    assert alert_id_for("T3") == "AL-" + hashlib.sha1(b"T3").hexdigest()[:16]


async def test_a_review_opens_an_alert_that_can_be_read_back(server) -> None:
    async with Client(server) as client:
        await _apply(client, [_item("T3", "review", 0.71, "12500.00")])
        alert = payload(await client.call_tool("get_alert", {"alert_id": alert_id_for("T3")}))
        missing = payload(await client.call_tool("get_alert", {"alert_id": "AL-0"}))
    assert alert["alert"]["tx_id"] == "T3" and alert["alert"]["status"] == "open"
    assert alert["alert"]["amount"] == "12500.00" and alert["alert"]["degraded"] == ["credit"]
    assert alert["alert"]["reasons"][0]["code"] == "BEHAVIOUR_NEW_DEVICE"
    assert alert["alert"]["created_at"] == "2026-11-21T09:15:02.140Z"
    assert missing == {"alert": None}


async def test_open_alerts_rank_by_risk_then_amount(server) -> None:
    items = [
        _item("T1", "review", 0.6, "10"),
        _item("T2", "review", 0.9, "5"),
        _item("T3", "review", 0.6, "5000000"),
        _item("T4", "block", 0.99),
    ]
    async with Client(server) as client:
        await _apply(client, items)
        alerts = payload(await client.call_tool("list_open_alerts", {"limit": 10}))["alerts"]
    assert [a["tx_id"] for a in alerts] == ["T2", "T3", "T1"]


def test_the_amount_never_outranks_the_risk_score() -> None:
    from decimal import Decimal

    assert alert_priority(0.601, Decimal("1")) > alert_priority(0.6, Decimal("1e12"))
    assert alert_priority(0.6, Decimal("20")) > alert_priority(0.6, Decimal("10"))


async def test_a_redelivered_batch_returns_the_same_results_and_opens_no_second_alert(server) -> None:
    batch = [_item("T1", "review"), _item("T2", "block")]
    async with Client(server) as client:
        first = await _apply(client, batch)
        second = await _apply(client, batch)
        changed = await _apply(client, [_item("T1", "pass")])
        alerts = payload(await client.call_tool("list_open_alerts", {}))["alerts"]
    assert first == second
    assert changed["T1"] == first["T1"]
    assert len(alerts) == 1


async def test_redis_keys_follow_the_documented_layout(redis_client) -> None:
    server = build_risk_actions_server(RedisActionStore(redis_client))
    async with Client(server) as client:
        await _apply(client, [_item("T9", "review", 0.5, "20")])
    alert_id = alert_id_for("T9")
    assert await redis_client.exists(f"riskmesh:alert:{alert_id}", "riskmesh:tx_actions:T9") == 2
    assert await redis_client.zscore("riskmesh:alerts:open", alert_id) == pytest.approx(500 * 1e6 + 20)
    assert await redis_client.ttl("riskmesh:tx_actions:T9") > 0


async def test_an_unknown_decision_is_refused(server) -> None:
    async with Client(server) as client:
        result = await client.call_tool("apply_decisions_batch", {"items": [_item("T1", "maybe")]})
    assert result.is_error
