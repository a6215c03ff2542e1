"""In-process ceiling on a fixed synthetic set; optional fingerprint dump of every agent answer and decision.

usage: python tools/perf_ceiling.py [--n 20000] [--repeat 3] [--dump FILE]
Starts its own redis-server, FLUSHALL before each repeat, so every repeat decides the same input from the
same empty state.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import statistics
import subprocess
import sys
import time

import orjson
import redis

from riskmesh.contracts.settings import Settings
from riskmesh.orchestrator.decision_store import MemoryDecisionStore
from riskmesh.orchestrator.demo import synthetic_messages
from riskmesh.orchestrator.infra import find_redis_server
from riskmesh.orchestrator.inprocess import InProcessPipeline, NullEmitter
from riskmesh.orchestrator.pipeline import InboundRecord
from riskmesh.orchestrator.stack import ensure_world


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Capture:
    """Wraps the in-process transport: keeps every agent reply (bytes) for the fingerprint."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.replies: list[tuple[str, bytes]] = []

    async def call(self, agent, payload, media_type, timeout_s):
        out = await self.inner.call(agent, payload, media_type, timeout_s)
        self.replies.append((agent, out))
        return out


async def one_run(settings, url, messages, dump):
    pipeline = InProcessPipeline(ensure_world(settings), url, MemoryDecisionStore(), NullEmitter(), deadline_s=60.0)
    import gc
    import os

    if os.environ.get("PERF_GC_FREEZE") or os.environ.get("PERF_AFTER"):
        gc.collect()
        gc.freeze()
    if os.environ.get("PERF_GC_STATS"):
        import atexit

        t = {"n": 0, "s": 0.0, "t0": 0.0}

        def cb(phase, info) -> None:
            if phase == "start":
                t["t0"] = time.perf_counter()
            else:
                t["n"] += 1
                t["s"] += time.perf_counter() - t["t0"]
                if info["generation"] == 2:
                    t["g2"] = t.get("g2", 0) + 1

        gc.callbacks.append(cb)
        atexit.register(lambda: print("gc", t, gc.get_count(), len(gc.get_objects()), file=sys.stderr))
    cap = None
    if dump:
        cap = Capture(pipeline.supervisor.transport)
        pipeline.supervisor.transport = cap
    size = settings.batch_max_size
    records = [
        InboundRecord(value=v, key=k.decode(), topic="bench", offset=i, ingest_ms=0.0)
        for i, (k, v) in enumerate(messages)
    ]
    decisions = []
    try:
        r = await pipeline.supervisor.run(records[:size])
        decisions += r.decisions
        started = time.perf_counter()
        decided = 0
        for i in range(size, len(records), size):
            r = await pipeline.supervisor.run(records[i : i + size])
            decided += len(r.decisions)
            decisions += r.decisions
        elapsed = time.perf_counter() - started
    finally:
        await pipeline.aclose()
    return decided / elapsed, decisions, cap


def fingerprint(decisions, cap):
    out = {"decisions": [], "agents": {}}
    for d in decisions:
        j = orjson.loads(d.model_dump_json())
        j.pop("decided_at", None)
        j.pop("latency_ms", None)
        out["decisions"].append(j)
    for agent, raw in cap.replies:
        j = orjson.loads(raw)
        if agent in ("fraud", "credit", "behaviour", "compliance"):
            out["agents"].setdefault(agent, []).extend(j["verdicts"])
        elif agent == "aggregation":
            out["agents"].setdefault(agent, []).extend(j["decisions"])
        else:
            out["agents"].setdefault(agent, []).extend(j.get("outcomes", []))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=20000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--dump")
    a = ap.parse_args()
    settings = Settings()
    world = str(ensure_world(settings))
    messages = synthetic_messages(world, a.n, 0, settings.world_seed + 3, "PERF")
    port = free_port()
    proc = subprocess.Popen(
        [
            find_redis_server(),
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--save",
            "",
            "--appendonly",
            "no",
            "--loglevel",
            "warning",
        ],
        stdout=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    for _ in range(100):
        try:
            client.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.05)
    try:
        rates = []
        for i in range(a.repeat):
            client.flushall()
            rate, decisions, cap = asyncio.run(one_run(settings, url, messages, a.dump and i == 0))
            rates.append(rate)
            print(f"run {i}: {rate:.1f} tx/s ({len(decisions)} decisions)", file=sys.stderr, flush=True)
            if a.dump and i == 0:
                with open(a.dump, "wb") as f:
                    f.write(orjson.dumps(fingerprint(decisions, cap), option=orjson.OPT_SORT_KEYS))
        print(
            json.dumps(
                {"n": a.n, "rates": [round(r, 1) for r in rates], "median_tps": round(statistics.median(rates), 1)}
            )
        )
    finally:
        client.close()
        proc.terminate()
        proc.wait()


if __name__ == "__main__":
    main()
