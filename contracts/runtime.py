"""How a long-running riskmesh service process sets up the garbage collector (stdlib only).

Every service process (agents, MCP hosts, workers, the gateway, the in-process benchmark) works in
micro-batches that allocate tens of thousands of small objects at once (validated envelopes, verdicts,
feature rows) and drop them together. With CPython's default thresholds (700, 10, 10) those batches
trigger generation-0 and generation-1 collections every few hundred allocations and frequent full
collections, each traversing every object of the batch that is still alive: validating a 2,000
transaction batch costs ~48 µs a transaction with the defaults and ~9 µs with `SERVICE_GC_THRESHOLDS`
(docs/performance.md). Reference counting still frees every acyclic object at once; only cyclic garbage
waits longer, and a generation 0 of 100k objects is a few MB.
"""

from __future__ import annotations

import gc

__all__ = ["SERVICE_GC_THRESHOLDS", "settle_service_gc"]

SERVICE_GC_THRESHOLDS: tuple[int, int, int] = (100_000, 50, 100)
"""gen-0 allocations, gen-0 collections per gen-1, gen-1 collections per full collection."""


def settle_service_gc() -> None:
    """Call once a process is wired: what it loaded at start (reference data, indexes, models, policies)
    lives as long as the process, so it is frozen out of every later collection, and the thresholds
    are raised for batch work."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*SERVICE_GC_THRESHOLDS)
