"""Fail closed on the real stack: kill the compliance agent mid-stream, then bring it back.

(Named test_zz_ so it runs after the other tests that share the session stack.)
"""

from __future__ import annotations

import threading
import time
import uuid

import pytest

from riskmesh.orchestrator.demo import synthetic_messages
from riskmesh.orchestrator.streaming import produce

pytestmark = pytest.mark.integration


def test_killing_the_compliance_agent_mid_stream_never_passes_and_it_is_used_again_after_restart(running):
    prefix = f"K{uuid.uuid4().hex[:8]}"
    messages = synthetic_messages(running.info.world_dir, 1500, 0, 31, prefix)
    tap = running.tap(prefix, keep=True)
    sender = threading.Thread(target=produce, args=(running.info.kafka, running.settings.topic_transactions,
                                                    messages), kwargs={"rate": 500.0})
    sender.start()
    try:
        assert tap.wait_for(200, timeout_s=60), "no decisions before the kill"
        running.stack.kill_agent("compliance")
        sender.join(timeout=60)
        assert tap.wait_for(1500, timeout_s=120), f"processing stopped at {tap.stats.decisions}"
    finally:
        sender.join(timeout=5)
        tap.stop()
    degraded = [d for d in tap.decisions if d["verdicts"]["compliance"]["status"] != "ok"]
    assert degraded, "the compliance agent was killed but no decision noticed"
    for d in tap.decisions:
        if d["verdicts"]["compliance"]["status"] != "ok":
            assert "compliance" in d["degraded"], d["tx_id"]
            assert d["decision"] != "pass", d["tx_id"]

    running.stack.restart_agent("compliance")
    after = f"R{uuid.uuid4().hex[:8]}"
    tap2 = running.tap(after, keep=True)
    try:
        deadline = time.monotonic() + 60
        seq = 0
        while time.monotonic() < deadline:  # the client reconnects on its own; poll until it has
            running.send(20, seed=40 + seq, prefix=f"{after}{seq:03d}")
            seq += 1
            assert tap2.wait_for(20 * seq, timeout_s=30)
            if any(d["verdicts"]["compliance"]["status"] == "ok" for d in tap2.decisions[-20:]):
                break
        else:
            pytest.fail("the restarted compliance agent was never used again")
        final = f"{after}final"
        running.send(200, seed=77, prefix=final)
        assert tap2.wait_for(20 * seq + 200, timeout_s=60)
        last = [d for d in tap2.decisions if d["tx_id"].startswith(final)]
        assert len(last) == 200
        assert all(d["verdicts"]["compliance"]["status"] == "ok" for d in last)
        assert all("compliance" not in d["degraded"] for d in last)
    finally:
        tap2.stop()
