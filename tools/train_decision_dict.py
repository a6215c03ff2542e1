"""Train the zstd dictionary the decision store compresses Decision JSON with (orchestrator/data/).

usage: python tools/train_decision_dict.py [--n 6000] [--out orchestrator/data/decision-v1.zdict]
Decides N synthetic transactions in process (a fresh redis-server), then trains a 16 KiB dictionary on the
Decision JSON. The file is versioned: a stored value names the dictionary it was written with, so a new
dictionary gets a new version and the old file stays (docs/decisions/0008).
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import subprocess
import time
from pathlib import Path

import zstandard

from riskmesh.contracts.settings import Settings
from riskmesh.orchestrator.decision_store import MemoryDecisionStore
from riskmesh.orchestrator.demo import synthetic_messages
from riskmesh.orchestrator.infra import find_redis_server
from riskmesh.orchestrator.inprocess import InProcessPipeline, NullEmitter
from riskmesh.orchestrator.pipeline import InboundRecord
from riskmesh.orchestrator.stack import ensure_world


async def decide(n: int, redis_url: str) -> list[bytes]:
    settings = Settings()
    world = ensure_world(settings)
    pipeline = InProcessPipeline(world, redis_url, MemoryDecisionStore(), NullEmitter(), deadline_s=60)
    messages = synthetic_messages(str(world), n, 0, settings.world_seed + 41, "DICT")
    records = [InboundRecord(value=v, key=k.decode(), topic="t", offset=i) for i, (k, v) in enumerate(messages)]
    out: list[bytes] = []
    try:
        for i in range(0, n, 500):
            result = await pipeline.supervisor.run(records[i:i + 500])
            out += [d.model_dump_json().encode() for d in result.decisions]
    finally:
        await pipeline.aclose()
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=6000)
    parser.add_argument("--out", default="orchestrator/data/decision-v1.zdict")
    args = parser.parse_args()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([find_redis_server(), "--port", str(port), "--save", "", "--appendonly", "no"],
                              stdout=subprocess.DEVNULL)
    try:
        time.sleep(0.5)
        samples = asyncio.run(decide(args.n, f"redis://127.0.0.1:{port}/0"))
    finally:
        server.kill()
    dictionary = zstandard.train_dictionary(16 * 1024, samples)
    Path(args.out).write_bytes(dictionary.as_bytes())
    compressor = zstandard.ZstdCompressor(level=3, dict_data=dictionary)
    sizes = [len(compressor.compress(s)) for s in samples]
    print(f"{len(samples)} decisions, mean {sum(map(len, samples)) / len(samples):.0f} B ▶ "
          f"{sum(sizes) / len(sizes):.0f} B compressed; wrote {args.out}")


if __name__ == "__main__":
    main()
