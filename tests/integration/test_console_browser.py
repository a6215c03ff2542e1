"""Acceptance (issue #4) in headless Chromium on the live stack: claim the top alert, block it, four-eyes approval."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import redis
from console_client import ConsoleClient, poll
from review_actions import actions_taken

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "browser"))
from browser_harness import ensure_toolchain, run_browser_script

pytestmark = pytest.mark.integration

SPEC = Path(__file__).with_name("console_four_eyes_spec.mjs")


def test_an_analyst_blocks_the_top_alert_in_the_browser_and_a_second_analyst_approves_it(running) -> None:
    ensure_toolchain()
    supervisor = ConsoleClient(running.info.console, "sam")
    try:
        if not supervisor.queue(status="open")["items"]:
            tap = running.tap(running.send(800, seed=61))
            assert tap.wait_for(800, timeout_s=120)
            tap.stop()
        top = supervisor.queue(status="active", limit=1)["items"][0]["alert"]["alert_id"]

        result = run_browser_script(SPEC, {"BASE_URL": running.info.console.rstrip("/"), "ANALYST": "ana",
                                           "APPROVER": "ben", "CONSOLE_PASSWORD": "riskmesh-demo",
                                           "BROWSER_TIMEOUT_MS": 10000}, timeout_s=120)
        assert result["alert_id"] == top, "the analyst should have worked the top alert of the queue"
        assert result["approve_offered_to_proposer"] == 0

        detail = supervisor.get(f"/api/alerts/{top}")
        state = detail["state"]
        assert (state["status"], state["disposition"]) == ("closed", "block")
        assert (state["decided_by"], state["approved_by"]) == ("ana", "ben")
        assert detail["decision"]["decision"] == "review" and detail["decision"]["alert_id"] == top

        tx_id = detail["alert"]["tx_id"]
        client = redis.Redis.from_url(running.info.redis)
        try:
            taken = poll(lambda: (a := actions_taken(client, [tx_id])[tx_id]) and "block_transaction" in a and a,
                         30, what="the block to be carried out")
        finally:
            client.close()
        assert taken.count("block_transaction") == 1 and "release_transaction" not in taken

        def audit_trail() -> list[dict]:
            events = supervisor.get(f"/api/alerts/{top}")["audit"]
            return events if any(e["action"] == "review.actions_taken" for e in events) else []

        events = poll(audit_trail, 30, what="the block to reach the audit trail")
        by_action = {e["action"]: e for e in events}
        assert by_action["alert.claimed"]["actor"] == "ana"
        assert by_action["alert.disposition_proposed"]["actor"] == "ana"
        assert by_action["alert.disposition_proposed"]["details"]["disposition"] == "block"
        assert by_action["alert.approved"]["actor"] == "ben"
        assert "block_transaction" in by_action["review.actions_taken"]["details"]["actions"]
        assert supervisor.get("/api/audit", limit=5)  # the audit log page's API answers too
    finally:
        supervisor.close()
