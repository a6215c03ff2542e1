"""The CLI as a user runs it: `riskmesh demo --json`, and Ctrl-C on `riskmesh up` leaves nothing behind."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from riskmesh.agents.registry import MCP_SERVERS_FOR_AGENT
from riskmesh.orchestrator.procs import wait_until
from riskmesh.orchestrator.topology import MCP_SERVERS

pytestmark = pytest.mark.integration

RISKMESH = [sys.executable, "-m", "riskmesh.orchestrator.cli"]


def _env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("KAFKA_BOOTSTRAP_SERVERS", "REDIS_URL")}
    env.update({"RISKMESH_DATA_DIR": str(data_dir), "RISKMESH_WORLD_CUSTOMERS": "200",
                "RISKMESH_SESSION_TIMEOUT_MS": "2000", "RISKMESH_HEARTBEAT_INTERVAL_MS": "300",
                "RISKMESH_BATCH_MAX_WAIT_MS": "20"})
    return env


def test_demo_prints_one_json_object_with_the_tally(tmp_path):
    out = subprocess.run([*RISKMESH, "demo", "--count", "300", "--bad", "12", "--json"], env=_env(tmp_path),
                         capture_output=True, text=True, timeout=240, check=False)
    assert out.returncode == 0, out.stderr[-3000:]
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["decisions"] == 300 and report["dlq"] == 12 and report["sent"] == 312
    assert report["pass"] + report["review"] + report["block"] == 300
    assert report["dlq_without_reason"] == 0 and report["dlq_examples"]
    for key in ("elapsed_s", "throughput_tps", "p50_ms", "p99_ms", "a2a_calls", "mcp_calls"):
        assert key in report
    assert all(report["a2a_calls"].get(a, 0) > 0 for a in ("fraud", "credit", "behaviour", "compliance"))
    decision_path = set().union(*MCP_SERVERS_FOR_AGENT.values())  # the SOC servers are idle in a demo
    assert set(report["mcp_calls"]) == set(MCP_SERVERS)
    assert all(report["mcp_calls"][server] > 0 for server in decision_path), report["mcp_calls"]


def _descendants(pid: int) -> list[psutil.Process]:
    return psutil.Process(pid).children(recursive=True)


def _stack_pids(proc: subprocess.Popen, data_dir: Path) -> list[int]:
    """Children of `riskmesh up` live in their own sessions, so find them by parent pid."""
    wait_until(lambda: (data_dir / "run" / "stack.json").exists(), 120, "stack.json")
    wait_until(lambda: any("orchestrator.worker" in " ".join(p.cmdline()) for p in _descendants(proc.pid)),
               30, "the worker process")
    return [p.pid for p in _descendants(proc.pid)]


def _alive(pids: list[int]) -> list[int]:
    out = []
    for pid in pids:
        try:
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                out.append(pid)
        except psutil.NoSuchProcess:
            pass
    return out


def test_ctrl_c_on_riskmesh_up_stops_every_child_process(tmp_path):
    proc = subprocess.Popen([*RISKMESH, "up"], env=_env(tmp_path), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        pids = _stack_pids(proc, tmp_path)
        names = {psutil.Process(p).name() for p in pids}
        assert any("tansu" in n for n in names) and any("redis" in n for n in names), names
        proc.send_signal(signal.SIGINT)
        # 0 or 130 when `up` ends itself; -SIGINT when the interpreter re-raises the Ctrl-C at exit after the
        # clean-up ran (seen ~1 run in 6 when the signal lands while children are being started). Either way the
        # checks below are the point: every child is gone.
        assert proc.wait(timeout=60) in (0, 130, -signal.SIGINT)
        wait_until(lambda: not _alive(pids), 20, "every child to exit")
    finally:
        if proc.poll() is None:
            proc.kill()


def test_children_die_with_a_killed_parent(tmp_path):
    proc = subprocess.Popen([*RISKMESH, "up"], env=_env(tmp_path), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        pids = _stack_pids(proc, tmp_path)
        proc.kill()
        proc.wait(timeout=10)
        wait_until(lambda: not _alive(pids), 20, "orphans to exit")
    finally:
        if proc.poll() is None:
            proc.kill()
