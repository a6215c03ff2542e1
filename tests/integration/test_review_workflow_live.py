"""The review workflow on the live stack: alerts reach the console queue fast, in priority order, and held
reviews survive killing the orchestrator, each resuming exactly once."""

from __future__ import annotations

import time
from datetime import datetime

import httpx
import pytest
import redis
from console_client import ConsoleClient, poll, put
from review_actions import actions_taken

pytestmark = pytest.mark.integration


def _pending(console_url: str) -> int:
    return int(httpx.get(console_url.rstrip("/") + "/healthz/reviews", timeout=30).json()["pending_reviews"])


def _settled_pending(console_url: str, quiet_s: float = 2.0, timeout_s: float = 60) -> int:
    """The pending count once the review follower has caught up (unchanged for `quiet_s`)."""
    deadline = time.monotonic() + timeout_s
    last, since = _pending(console_url), time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.25)
        now = _pending(console_url)
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet_s:
            return now
    raise AssertionError(f"the review follower did not settle within {timeout_s}s")


def test_review_alerts_appear_in_the_console_queue_within_two_seconds_in_priority_order(running) -> None:
    ana = ConsoleClient(running.info.console, "ana")
    tap = None
    try:
        prefix = f"Q{int(time.time() * 1000) % 10**8:08d}"
        tap = running.tap(prefix, keep=True)
        running.send(1500, seed=31, prefix=prefix)
        first_seen: dict[str, float] = {}
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            page = ana.queue(status="open", limit=500)
            now = time.time()
            for item in page["items"]:
                first_seen.setdefault(item["alert"]["alert_id"], now)
            scores = [i["state"]["priority"] for i in page["items"]]
            assert scores == sorted(scores, reverse=True), "the queue must be in priority order"
            if tap.stats.decisions >= 1500:
                break
            time.sleep(0.2)
        assert tap.wait_for(1500, timeout_s=60)
        reviews = [d for d in tap.decisions if d["decision"] == "review"]
        assert reviews, "the stream should produce review decisions"
        page = ana.queue(status="open", limit=500)
        for item in page["items"]:
            first_seen.setdefault(item["alert"]["alert_id"], time.time())
        delays = []
        for d in reviews:
            assert d["alert_id"] in first_seen, f"alert {d['alert_id']} of {d['tx_id']} never reached the queue"
            decided = datetime.fromisoformat(d["decided_at"].replace("Z", "+00:00")).timestamp()
            delays.append(first_seen[d["alert_id"]] - decided)
        assert max(delays) <= 2.0, f"slowest alert reached the queue {max(delays):.2f}s after its decision"
    finally:
        if tap is not None:
            tap.stop()
        ana.close()


def test_fifty_pending_reviews_survive_killing_the_orchestrator_and_each_resumes_exactly_once(running) -> None:
    console = running.info.console
    pending_before = _settled_pending(console)  # earlier tests' reviews may still be opening
    prefix = f"K{int(time.time() * 1000) % 10**8:08d}"
    tap = running.tap(prefix, keep=True)
    try:
        running.send(3000, seed=47, prefix=prefix)
        assert tap.wait_for(3000, timeout_s=180)
    finally:
        tap.stop()
    reviews = [d for d in tap.decisions if d["decision"] == "review"]
    assert len(reviews) >= 50, f"only {len(reviews)} reviews in 3000 transactions"
    reviews = reviews[:50] if len(reviews) > 50 else reviews
    total_new = sum(1 for d in tap.decisions if d["decision"] == "review")
    poll(lambda: _pending(console) >= pending_before + total_new, 30, what="the review graph to hold every review")

    stack = running.stack
    stack.review.kill()  # SIGKILL: no clean-up, the checkpoints are all that is left
    for proc in stack.worker_procs:
        proc.kill()
    stack.worker_procs.clear()
    stack.start_worker(0)
    stack.restart_review()
    assert _pending(console) >= pending_before + total_new, "pending reviews must survive the kill"

    ana = ConsoleClient(console, "ana")
    try:
        for i, d in enumerate(reviews):
            alert_id = d["alert_id"]
            ana.post(f"/api/alerts/{alert_id}/claim")
            ana.post(f"/api/alerts/{alert_id}/decide", {"disposition": "release", "reason": "verified with customer"})
            if i == 24:  # and once more in the middle of deciding
                stack.review.kill()
                stack.restart_review()
                ana.close()
                ana = ConsoleClient(console, "ana")
    finally:
        ana.close()

    client = redis.Redis.from_url(running.info.redis)
    try:
        def all_released() -> bool:
            taken = actions_taken(client, [d["tx_id"] for d in reviews])
            return all("release_transaction" in taken[d["tx_id"]] for d in reviews)

        poll(all_released, 60, interval_s=0.5, what="every release to be carried out")
        time.sleep(1.0)  # let any duplicate that was going to happen happen
        taken = actions_taken(client, [d["tx_id"] for d in reviews])
        for d in reviews:
            assert taken[d["tx_id"]].count("release_transaction") == 1, (d["tx_id"], taken[d["tx_id"]])
        assert _settled_pending(console) == pending_before + total_new - len(reviews)
    finally:
        client.close()


def _open_alert_with_known_customer(ana: ConsoleClient) -> tuple[str, dict]:
    for item in ana.queue(status="open", limit=200)["items"]:
        alert_id = item["alert"]["alert_id"]
        detail = ana.get(f"/api/alerts/{alert_id}")
        if detail["evidence"].get("customer"):
            return alert_id, detail
    raise AssertionError("no open alert of a known customer")


def test_an_analyst_cannot_approve_their_own_freeze_or_change_policy_and_sees_masked_fields(running) -> None:
    console = running.info.console
    ana, ben, cora = (ConsoleClient(console, name) for name in ("ana", "ben", "cora"))
    try:
        if not ana.queue(status="open")["items"]:
            tap = running.tap(running.send(800, seed=53), keep=False)
            tap.wait_for(800, timeout_s=120)
            tap.stop()
        alert_id, as_analyst = _open_alert_with_known_customer(ana)
        as_compliance = cora.get(f"/api/alerts/{alert_id}")
        assert as_analyst["evidence"]["customer"]["name"] == "***"
        assert as_compliance["evidence"]["customer"]["name"] not in ("***", None, "")
        assert "name" in as_analyst["evidence"]["masked_fields"]
        assert as_compliance["evidence"]["masked_fields"] == []

        ana.post(f"/api/alerts/{alert_id}/claim")
        state = ana.post(f"/api/alerts/{alert_id}/decide", {"disposition": "freeze", "reason": "account takeover"})
        assert state["state"]["status"] == "pending_approval" and state["state"]["proposed_by"] == "ana"
        refused = ana.http.post(f"/api/alerts/{alert_id}/approve", headers={"x-csrf-token": ana.csrf})
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
        policy = put(ana, "/api/policy", {"yaml": "version: policy-x\n"})
        assert policy.status_code == 403, policy.text

        ben.post(f"/api/alerts/{alert_id}/approve")
        detail = cora.get(f"/api/alerts/{alert_id}")
        assert detail["state"]["status"] == "closed" and detail["state"]["disposition"] == "freeze"
        assert (detail["state"]["decided_by"], detail["state"]["approved_by"]) == ("ana", "ben")
        tx_id = detail["alert"]["tx_id"]
        client = redis.Redis.from_url(running.info.redis)
        try:
            taken = poll(lambda: "freeze_account" in actions_taken(client, [tx_id])[tx_id]
                         and actions_taken(client, [tx_id])[tx_id], 30, what="the freeze to be carried out")
        finally:
            client.close()
        assert taken.count("freeze_account") == 1 and taken.count("block_transaction") == 1

        def audited() -> list[str]:
            events = cora.get(f"/api/alerts/{alert_id}")["audit"]
            actions = [e["action"] for e in events]
            return actions if "review.actions_taken" in actions else []

        actions = poll(audited, 30, what="the actions to be audited")
        for expected in ("alert.claimed", "alert.disposition_proposed", "alert.approved", "review.actions_taken"):
            assert expected in actions, actions
    finally:
        for c in (ana, ben, cora):
            c.close()
