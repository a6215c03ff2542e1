"""Small labelled data sets for the fraud model tests: a generated world and its stream, split by time."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from riskmesh.orchestrator.synth import TransactionStream, World

CUSTOMERS = 120
TRANSACTIONS = 4000


@cache
def _lines(seed: int, customers: int, count: int) -> tuple[World, list[bytes]]:
    world = World.generate(seed=seed, customers=customers)
    return world, TransactionStream(world, seed=seed).take_json(count)


def write_dataset(root: Path, *, seed: int = 11, customers: int = CUSTOMERS, count: int = TRANSACTIONS,
                  split: float = 0.75) -> tuple[Path, Path, Path]:
    """(world dir, train.jsonl, eval.jsonl): the stream's first `split` share, then the rest."""
    world, lines = _lines(seed, customers, count)
    world_dir = root / "world"
    world.write(world_dir)
    cut = int(len(lines) * split)
    train, evaluation = root / "train.jsonl", root / "eval.jsonl"
    train.write_bytes(b"\n".join(lines[:cut]) + b"\n")
    evaluation.write_bytes(b"\n".join(lines[cut:]) + b"\n")
    return world_dir, train, evaluation
