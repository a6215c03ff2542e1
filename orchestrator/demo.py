"""`riskmesh demo`: start the stack, send N generated transactions (and K malformed ones), count the outcome."""

from __future__ import annotations

import random
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson
import redis

from riskmesh.contracts.settings import Settings
from riskmesh.orchestrator.stack import Stack
from riskmesh.orchestrator.streaming import DecisionTap, percentile, produce
from riskmesh.orchestrator.topology import StackInfo
from riskmesh.orchestrator.worker import STATS_A2A_CALLS, STATS_PIPELINE

__all__ = ["DemoResult", "collect_call_counts", "run_demo", "synthetic_messages"]


@dataclass
class DemoResult:
    report: dict[str, Any]
    dead_letters: list[dict[str, Any]]


def synthetic_messages(world_dir: str, count: int, bad: int, seed: int, prefix: str) -> list[tuple[bytes, bytes]]:
    """N valid transactions keyed by debtor account, with K malformed ones mixed in at random places."""
    from riskmesh.orchestrator.synth import TransactionStream, World, bad_messages

    world = World.read(Path(world_dir))
    stream = TransactionStream(world, seed=seed, tx_prefix=prefix)
    good = [(d["debtor"]["account_id"].encode(), orjson.dumps({k: v for k, v in d.items() if k != "label"}))
            for d in stream.take_dicts(count)]
    rng = random.Random(seed)
    for i, (_kind, payload) in enumerate(bad_messages(bad, seed)):
        good.insert(rng.randrange(len(good) + 1), (f"{prefix}-bad-{i}".encode(), payload))
    return good


def collect_call_counts(info: StackInfo, decided: int = 0,
                        wait_s: float = 10.0) -> tuple[dict[str, int], dict[str, int]]:
    """A2A calls per agent (summed by the workers in Redis) and MCP calls per server (their /metrics).

    Workers add to their counters just after committing a batch, which is after its decisions are visible:
    wait (bounded) until the counters account for `decided` decisions.
    """
    client = redis.Redis.from_url(info.redis)
    try:
        deadline = time.monotonic() + wait_s
        while int(client.hget(STATS_PIPELINE, "decided") or 0) < decided and time.monotonic() < deadline:  # type: ignore[arg-type]
            time.sleep(0.05)
        raw: dict[bytes, bytes] = client.hgetall(STATS_A2A_CALLS)  # type: ignore[assignment]
        a2a = {k.decode(): int(v) for k, v in raw.items()}
    finally:
        client.close()
    mcp: dict[str, int] = {}
    with httpx.Client(timeout=2.0) as http:
        for name, url in info.mcp.items():
            try:
                text = http.get(url.rsplit("/mcp", 1)[0] + "/metrics").text
            except httpx.HTTPError:
                continue
            total = 0.0
            for line in text.splitlines():
                if line.startswith("riskmesh_mcp_calls_total{") and f'server="{name}"' in line:
                    total += float(line.rsplit(" ", 1)[1])
            mcp[name] = int(total)
    return a2a, mcp


def _examples(dead: list[dict[str, Any]], limit: int = 6) -> list[str]:
    """One reason per kind of bad input, e.g. `invalid_transaction: amount: Value error, …`."""
    seen: dict[str, str] = {}
    for d in dead:
        kind = f"{d.get('error_type')}:{','.join(d.get('fields') or [])}"
        seen.setdefault(kind, f"{d.get('error_type')}: {d.get('reason')}")
    return list(seen.values())[:limit]


def run_demo(settings: Settings, count: int, bad: int, timeout_s: float = 300, workers: int = 1) -> DemoResult:
    stack = Stack(settings, workers=workers, review=False, gateway=False, soc=False)
    info = stack.start()
    prefix = f"D{uuid.uuid4().hex[:8]}"
    tap = DecisionTap(info.kafka, settings.topic_decisions, settings.topic_dlq, prefix=prefix).start()
    try:
        messages = synthetic_messages(info.world_dir, count, bad, settings.world_seed + 1, prefix)
        started = time.monotonic()
        sent = produce(info.kafka, settings.topic_transactions, messages)
        complete = tap.wait_for(count, bad, timeout_s)
        s = tap.stats
        elapsed = max(1e-6, (s.last_at or time.monotonic()) - started)
        a2a, mcp = collect_call_counts(info, decided=s.decisions)
        report = {
            "sent": sent,
            "valid": count,
            "bad": bad,
            "decisions": s.decisions,
            "decision_messages": s.messages,
            "pass": s.outcomes.get("pass", 0),
            "review": s.outcomes.get("review", 0),
            "block": s.outcomes.get("block", 0),
            "dlq": s.dlq,
            "dlq_reasons": dict(s.dlq_reasons),
            "dlq_without_reason": sum(1 for d in tap.dead if not d.get("reason")),
            "dlq_examples": _examples(tap.dead),
            "degraded": dict(s.degraded),
            "complete": complete,
            "elapsed_s": round(elapsed, 3),
            "throughput_tps": round(s.decisions / elapsed, 1),
            "p50_ms": percentile(s.latencies_ms, 50),
            "p99_ms": percentile(s.latencies_ms, 99),
            "a2a_calls": a2a,
            "mcp_calls": mcp,
        }
        return DemoResult(report, list(tap.dead))
    finally:
        tap.stop()
        stack.stop()
