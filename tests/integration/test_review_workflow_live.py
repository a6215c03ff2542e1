"""The review workflow on the live stack: alerts reach the console queue fast, in priority order, and held
reviews survive killing the orchestrator, each resuming exactly once."""

from __future__ import annotations

import time
from datetime import datetime

import httpx
import pytest
import redis
from console_client import ConsoleClient, poll
from review_actions import actions_taken

pytestmark = pytest.mark.integration


def _pending(console_url: str) -> int:
    return int(httpx.get(console_url.rstrip("/") + "/healthz", timeout=5).json()["pending_reviews"])


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
    pending_before = _pending(console)
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
        assert _pending(console) == pending_before + total_new - len(reviews)
    finally:
        client.close()
