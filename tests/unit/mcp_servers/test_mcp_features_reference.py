"""The column-slice features equal their plain definition (`features_of`) on random histories."""

from __future__ import annotations

import random

from riskmesh.mcp_servers.features import HOUR_MS, compute_batch_features, features_of
from riskmesh.mcp_servers.history import AccountHistory, HistoryEntry


def _random_entry(rng: random.Random, i: int, ts: int) -> HistoryEntry:
    return HistoryEntry(
        ts, f"T{i}", round(rng.uniform(1, 900), 2), rng.choice([None, "D1", "D2", "D3"]),
        rng.choice([None, "10.0.0.1", "10.0.0.2"]), rng.choice([None, "CN", "HK", "SG"]),
        rng.choice([None, "P1", "P2", "P3", "P4"]), rng.choice([None, "mobile", "card", "wire"]),
    )  # fmt: skip


def test_the_fast_path_matches_the_definition_on_random_histories() -> None:
    rng = random.Random(11)
    for trial in range(60):
        n_stored, n_batch, cap = rng.randrange(0, 90), rng.randrange(1, 12), rng.choice([5, 16, 64])
        t = 1_800_000_000_000
        stored_entries = []
        for i in range(n_stored):
            t += rng.choice([60_000, 20 * 60_000, 3 * HOUR_MS, 30 * HOUR_MS, 0])
            stored_entries.append(_random_entry(rng, i, t))
        stored = AccountHistory().merged(stored_entries, cap)
        batch_entries = [_random_entry(rng, 1000 + j, t + rng.randrange(-10 * HOUR_MS, 10 * HOUR_MS))
                         for j in range(n_batch)]  # fmt: skip
        got = compute_batch_features([("A", e) for e in batch_entries], {"A": stored}, cap)
        timeline = stored.merged(batch_entries).entries()
        for e in batch_entries:
            window = [h for h in timeline if h.ts_ms < e.ts_ms and h.tx_id != e.tx_id][-cap:]
            assert got[e.tx_id] == features_of(e, window), (trial, e)
