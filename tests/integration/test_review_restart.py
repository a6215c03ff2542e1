"""Kill the process holding 50 pending reviews (SIGKILL, no clean-up), restart: every review resumes exactly once."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections import Counter
from datetime import UTC, datetime

import aiosqlite
import pytest

from riskmesh.contracts.review import Resolution, ResolutionOutcome, ResolutionRequest, ResolutionResponse
from riskmesh.orchestrator.review.graph import ReviewGraph, open_checkpointer
from riskmesh.orchestrator.review.labels import MemoryLabelSink

pytestmark = pytest.mark.integration

REVIEWS = 50

PHASE_ONE = textwrap.dedent("""
    import asyncio, sys
    from datetime import UTC, datetime
    from riskmesh.contracts.review import Resolution
    from riskmesh.orchestrator.review.graph import ReviewGraph, ReviewTicket, open_checkpointer
    from riskmesh.orchestrator.review.labels import MemoryLabelSink

    class HangingActionAgent:
        async def call(self, agent, payload, media_type, timeout_s):
            print("ACTING", flush=True)
            await asyncio.Event().wait()  # killed while the action agent works on it

    async def main(path, n):
        async with open_checkpointer(path) as saver:
            graph = ReviewGraph(saver, HangingActionAgent(), MemoryLabelSink())
            opened = await graph.open_many(ReviewTicket(f"AL-{i:04d}", f"T-{i:04d}", 0.7) for i in range(n))
            print(f"OPENED {opened}", flush=True)
            await graph.resume(Resolution(alert_id="AL-0000", tx_id="T-0000", debtor_account_id="A-1",
                                          disposition="block", decided_by="ana",
                                          decided_at=datetime(2026, 11, 21, tzinfo=UTC)))

    asyncio.run(main(sys.argv[1], int(sys.argv[2])))
""")


class CountingActionAgent:
    def __init__(self) -> None:
        self.requests: Counter[str] = Counter()

    async def call(self, agent: str, payload: bytes, media_type: str, timeout_s: float) -> bytes:
        request = ResolutionRequest.model_validate_json(payload)
        self.requests.update(r.alert_id for r in request.resolutions)
        return ResolutionResponse(request_id=request.request_id, outcomes=[
            ResolutionOutcome(alert_id=r.alert_id, tx_id=r.tx_id, actions=[f"{r.disposition}_transaction"])
            for r in request.resolutions]).model_dump_json().encode()


def resolution(i: int) -> Resolution:
    return Resolution(alert_id=f"AL-{i:04d}", tx_id=f"T-{i:04d}", debtor_account_id="A-1",
                      disposition="release" if i % 2 else "block", decided_by="ana",
                      decided_at=datetime(2026, 11, 21, tzinfo=UTC))


def run_phase_one_and_kill_it(path: str) -> list[str]:
    proc = subprocess.Popen([sys.executable, "-c", PHASE_ONE, path, str(REVIEWS)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    lines: list[str] = []
    deadline = time.monotonic() + 60
    try:
        while "ACTING" not in lines:
            assert time.monotonic() < deadline, f"phase one never got to act: {lines}"
            line = proc.stdout.readline()
            assert line, f"phase one exited early: {proc.stderr.read()}"
            lines.append(line.strip())
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL
    return lines


async def test_fifty_pending_reviews_survive_a_kill_and_each_resumes_exactly_once(tmp_path):
    path = str(tmp_path / "review" / "checkpoints.sqlite")
    lines = await asyncio.to_thread(run_phase_one_and_kill_it, path)
    assert lines == [f"OPENED {REVIEWS}", "ACTING"]

    agent = CountingActionAgent()
    sink = MemoryLabelSink()
    async with open_checkpointer(path) as saver:
        graph = ReviewGraph(saver, agent, sink)
        assert len(await graph.pending()) == REVIEWS - 1  # AL-0000 carries its disposition already
        report = await graph.recover(lambda alert_id: None)
        assert report.continued == ["AL-0000"]  # the killed act re-runs; the server's per-alert idempotency
        assert len(report.waiting) == REVIEWS - 1
        results = await asyncio.gather(*(graph.resume(resolution(i)) for i in range(REVIEWS)))
        assert results == [False] + [True] * (REVIEWS - 1)  # AL-0000 was finished by recover
        again = await asyncio.gather(*(graph.resume(resolution(i)) for i in range(REVIEWS)))
        assert not any(again)
        assert await graph.pending() == []

    assert agent.requests == {f"AL-{i:04d}": 1 for i in range(REVIEWS)}
    assert sorted(r.tx_id for r in sink.records) == [f"T-{i:04d}" for i in range(REVIEWS)]
    assert [r.is_fraud for r in sorted(sink.records, key=lambda r: r.tx_id)] == [i % 2 == 0 for i in range(REVIEWS)]
    async with aiosqlite.connect(path) as conn, conn.execute("SELECT count(*) FROM checkpoints") as cur:
        assert (await cur.fetchone())[0] == 0  # finished threads are cleaned up
