"""`riskmesh bench stream`: the protocol path over the real stack, and the same analytics in-process.

Both runs happen in one invocation so `ratio` compares like with like (BENCHMARKS.md).
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from typing import Any

import psutil

from riskmesh.contracts.runtime import settle_service_gc
from riskmesh.contracts.settings import Settings
from riskmesh.orchestrator.decision_store import MemoryDecisionStore
from riskmesh.orchestrator.demo import synthetic_messages
from riskmesh.orchestrator.infra import Infra
from riskmesh.orchestrator.inprocess import InProcessPipeline, NullEmitter
from riskmesh.orchestrator.pipeline import InboundRecord
from riskmesh.orchestrator.stack import Stack, ensure_world
from riskmesh.orchestrator.streaming import DecisionTap, percentile, produce

__all__ = ["bench_stream", "inprocess_ceiling"]


async def inprocess_ceiling(settings: Settings, redis_url: str, messages: list[tuple[bytes, bytes]]) -> float:
    """Decisions per second of the same analytics with the protocols bypassed (in-process MCP, no A2A)."""
    pipeline = InProcessPipeline(ensure_world(settings), redis_url, MemoryDecisionStore(), NullEmitter(),
                                 deadline_s=settings.agent_deadline_ms / 1000,
                                 reference_cache_s=settings.reference_cache_s)
    settle_service_gc()  # permanent state frozen out of the GC, batch-sized thresholds
    size = settings.batch_max_size
    now_ms = time.time() * 1000
    records = [InboundRecord(value=v, key=k.decode(), topic="bench", offset=i, ingest_ms=now_ms)
               for i, (k, v) in enumerate(messages)]
    try:
        await pipeline.supervisor.run(records[:size])  # warm-up: imports, connections, caches
        started = time.perf_counter()
        decided = 0
        for i in range(size, len(records), size):
            decided += len((await pipeline.supervisor.run(records[i:i + size])).decisions)
        elapsed = time.perf_counter() - started
    finally:
        await pipeline.aclose()
    return decided / elapsed if elapsed > 0 else 0.0


def _tree_cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process and its live children."""
    try:
        p = psutil.Process(pid)
        procs = [p, *p.children(recursive=True)]
    except psutil.Error:
        return 0.0
    total = 0.0
    for proc in procs:
        try:
            t = proc.cpu_times()
        except psutil.Error:
            continue
        total += t.user + t.system
    return total


class _RssSampler:
    """Peak resident memory of every process of the stack (the launcher's children and theirs), and the CPU
    each process spent while the sampler ran (`cpu_s`: process name ▶ seconds), so a run says where it went.

    Memory is the sum of each process's PSS (proportional set size): pages a process shares with others (the
    interpreter, numpy, grpc, lightgbm mapped by every Python process of the stack) count once in the total, as
    `smem` reports a process group. Summing plain RSS would count them once per process; that sum is kept as
    `peak_rss_sum_mb` for comparison. `mb_at_peak`: each process's PSS when the total peaked."""

    def __init__(self, pids: list[int], names: dict[int, str] | None = None, every_s: float = 1.0) -> None:
        self.pids = pids
        self.names = names or {}
        self.every_s = every_s
        self.peak_mb = 0.0
        self.peak_rss_sum_mb = 0.0
        self.mb_at_peak: dict[str, float] = {}
        self.cpu_s: dict[str, float] = {}
        self._cpu_start: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.every_s):
            pss: dict[str, float] = {}
            rss_total = 0
            for pid in self.pids:
                try:
                    root = psutil.Process(pid)
                    procs = [root, *root.children(recursive=True)]
                except psutil.Error:
                    continue
                for proc in procs:
                    try:
                        info = proc.memory_full_info()
                    except psutil.Error:
                        continue
                    name = self.names.get(pid, str(pid))
                    pss[name] = pss.get(name, 0.0) + getattr(info, "pss", info.rss) / 2**20
                    rss_total += info.rss
            total = sum(pss.values())
            if total > self.peak_mb:
                self.peak_mb = total
                self.mb_at_peak = {k: round(v, 1) for k, v in sorted(pss.items(), key=lambda kv: -kv[1])}
            self.peak_rss_sum_mb = max(self.peak_rss_sum_mb, rss_total / 2**20)

    def __enter__(self) -> _RssSampler:
        self._cpu_start = {pid: _tree_cpu_s(pid) for pid in self.pids}
        self._cpu_start[-1] = _self_cpu_s()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        for pid in self.pids:
            name = self.names.get(pid, str(pid))
            self.cpu_s[name] = round(self.cpu_s.get(name, 0.0) + _tree_cpu_s(pid) - self._cpu_start[pid], 2)
        self.cpu_s["bench"] = round(_self_cpu_s() - self._cpu_start[-1], 2)


def _self_cpu_s() -> float:
    """This process's CPU (the load generator and the decision tap)."""
    t = psutil.Process().cpu_times()
    return t.user + t.system


def bench_stream(settings: Settings, tx: int, rate: float | None, inprocess_only: bool = False,
                 workers: int = 1) -> dict[str, Any]:
    world_dir = str(ensure_world(settings))
    ceiling_n = min(tx, 50_000)
    report: dict[str, Any] = {"mode": "inprocess" if inprocess_only else "stream", "tx": tx}
    if inprocess_only:
        infra = Infra(settings, settings.run_dir / "logs").start()
        try:
            msgs = synthetic_messages(world_dir, ceiling_n, 0, settings.world_seed + 3, f"C{uuid.uuid4().hex[:6]}")
            ceiling = asyncio.run(inprocess_ceiling(settings, infra.redis_url, msgs))
        finally:
            infra.stop()
        report.update({"throughput_tps": round(ceiling, 1), "ceiling_tps": round(ceiling, 1), "ratio": 1.0})
        return report

    stack = Stack(settings, workers=workers, review=False, gateway=False, soc=False)
    info = stack.start()
    prefix = f"B{uuid.uuid4().hex[:8]}"
    try:
        messages = synthetic_messages(world_dir, tx, 0, settings.world_seed + 2, prefix)
        tap = DecisionTap(info.kafka, settings.topic_decisions, settings.topic_dlq, prefix=prefix).start()
        names = {c.pid: c.name for c in stack.children() if c.pid}
        try:
            with _RssSampler(list(names), names) as rss:
                started = time.monotonic()
                produce(info.kafka, settings.topic_transactions, messages, rate=rate)
                tap.wait_for(tx, timeout_s=max(120.0, tx / 500))
        finally:
            tap.stop()
        s = tap.stats
        elapsed = max(1e-6, (s.last_at or time.monotonic()) - started)
        throughput = s.decisions / elapsed
        sample = synthetic_messages(world_dir, ceiling_n, 0, settings.world_seed + 3, f"C{uuid.uuid4().hex[:6]}")
        ceiling = asyncio.run(inprocess_ceiling(settings, info.redis, sample))
        report.update({
            "throughput_tps": round(throughput, 1),
            "p50_ms": percentile(s.latencies_ms, 50),
            "p99_ms": percentile(s.latencies_ms, 99),
            "decisions": s.decisions,
            "review": s.outcomes.get("review", 0),
            "block": s.outcomes.get("block", 0),
            "pass": s.outcomes.get("pass", 0),
            "dlq": s.dlq,
            "rss_mb": round(rss.peak_mb, 1),
            "rss_sum_mb": round(rss.peak_rss_sum_mb, 1),
            "mb_at_peak": rss.mb_at_peak,
            "ceiling_tps": round(ceiling, 1),
            "ratio": round(throughput / ceiling, 3) if ceiling else None,
            "rate": rate,
            "workers": workers,
            "elapsed_s": round(elapsed, 2),
            "cpu_ms_per_tx": {name: round(1000 * cpu / max(1, s.decisions), 3)
                              for name, cpu in sorted(rss.cpu_s.items(), key=lambda kv: -kv[1])},
        })
        return report
    finally:
        stack.stop()
