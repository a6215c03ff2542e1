"""Message sources for `riskmesh produce`: the generator or a JSONL file, keyed by debtor account."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import orjson

from riskmesh.contracts.settings import Settings
from riskmesh.orchestrator.topology import StackInfo

__all__ = ["file_messages", "generated_messages", "resolve_bootstrap"]


def resolve_bootstrap(settings: Settings) -> str:
    """The configured Kafka, else the one a running `riskmesh up` wrote into its stack file."""
    if settings.kafka_bootstrap_servers:
        return settings.kafka_bootstrap_servers
    stack_file = settings.run_dir / "stack.json"
    if not stack_file.exists():
        raise SystemExit("no KAFKA_BOOTSTRAP_SERVERS and no running stack: start one with `riskmesh up`")
    return StackInfo.read(stack_file).kafka


def generated_messages(settings: Settings, count: int, seed: int, prefix: str) -> Iterator[tuple[bytes, bytes]]:
    from riskmesh.orchestrator.stack import ensure_world
    from riskmesh.orchestrator.synth import TransactionStream, World

    world = World.read(ensure_world(settings))
    for tx in TransactionStream(world, seed=seed, tx_prefix=prefix).take(count):
        yield tx.debtor.account_id.encode(), tx.model_dump_json(exclude={"label"}).encode()


def file_messages(path: Path) -> Iterator[tuple[bytes | None, bytes]]:
    """Each non-empty line as it is (invalid lines go through and end in the DLQ with their reason)."""
    with open(path, "rb") as fh:
        for line in fh:
            line = line.strip()
            if not line:
                continue
            key = None
            with contextlib.suppress(orjson.JSONDecodeError, KeyError, TypeError):
                key = str(orjson.loads(line)["debtor"]["account_id"]).encode()
            yield key, line
