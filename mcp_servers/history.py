"""Per-account transaction history: the port the transactions server needs, in memory and in Redis.

An account's history is a set of compact entries ordered by time. In Redis it is a sorted set
scored by epoch milliseconds whose member is a compact JSON array starting with the tx_id, so
adding the same transaction twice is a no-op (at-least-once delivery observes batches twice).
Only the last `max_entries` entries are kept and idle accounts expire after `ttl_s`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple, Protocol, runtime_checkable

import orjson

__all__ = [
    "DEFAULT_MAX_ENTRIES",
    "DEFAULT_TTL_S",
    "HistoryEntry",
    "HistoryStore",
    "MemoryHistoryStore",
    "RedisHistoryStore",
]

DEFAULT_MAX_ENTRIES = 64
DEFAULT_TTL_S = 35 * 24 * 3600


class HistoryEntry(NamedTuple):
    """One past transaction of an account, as much as the features need."""

    ts_ms: int
    tx_id: str
    amount: float
    device_id: str | None = None
    ip: str | None = None
    country: str | None = None
    payee: str | None = None
    channel: str | None = None

    def encode(self) -> bytes:
        """Deterministic member bytes: the same transaction always encodes the same way."""
        fields = [self.tx_id, self.amount, self.device_id, self.ip, self.country, self.payee]
        if self.channel is not None:  # entries written before channels were kept stay 6 long
            fields.append(self.channel)
        return orjson.dumps(fields)

    @classmethod
    def decode(cls, member: bytes | str, score: float) -> HistoryEntry:
        tx_id, amount, device_id, ip, country, payee, *rest = orjson.loads(member)
        channel = rest[0] if rest else None
        return cls(int(score), tx_id, float(amount), device_id, ip, country, payee, channel)


@runtime_checkable
class HistoryStore(Protocol):
    """Where account histories live. Both methods take a whole batch: one round trip each."""

    async def load(self, account_ids: Sequence[str]) -> dict[str, list[HistoryEntry]]:
        """The kept history of each account, oldest first (an unknown account maps to [])."""
        ...

    async def observe(self, entries: Mapping[str, Sequence[HistoryEntry]]) -> None:
        """Add entries per account; an entry already present is not added again."""
        ...


def _dedupe(entries: Iterable[HistoryEntry]) -> list[HistoryEntry]:
    """Unique by member bytes (as a Redis sorted set: the last score wins), oldest first."""
    unique = {e.encode(): e for e in entries}
    return sorted(unique.values(), key=lambda e: (e.ts_ms, e.encode()))


class MemoryHistoryStore:
    """In-process history (tests, the embedded single-process mode). Not shared between processes."""

    def __init__(self, max_entries: int = DEFAULT_MAX_ENTRIES) -> None:
        self.max_entries = max_entries
        self._accounts: dict[str, list[HistoryEntry]] = {}

    async def load(self, account_ids: Sequence[str]) -> dict[str, list[HistoryEntry]]:
        return {aid: list(self._accounts.get(aid, ())) for aid in dict.fromkeys(account_ids)}

    async def observe(self, entries: Mapping[str, Sequence[HistoryEntry]]) -> None:
        for account_id, new in entries.items():
            if not new:
                continue
            merged = _dedupe([*self._accounts.get(account_id, ()), *new])
            self._accounts[account_id] = merged[-self.max_entries :]


class RedisHistoryStore:
    """History in Redis sorted sets `riskmesh:hist:{account_id}` (score = epoch ms)."""

    def __init__(
        self,
        redis: Any,
        *,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        ttl_s: int = DEFAULT_TTL_S,
        prefix: str = "riskmesh:hist:",
    ) -> None:
        self._redis = redis
        self.max_entries = max_entries
        self.ttl_s = ttl_s
        self._prefix = prefix

    def _key(self, account_id: str) -> str:
        return f"{self._prefix}{account_id}"

    async def load(self, account_ids: Sequence[str]) -> dict[str, list[HistoryEntry]]:
        ids = list(dict.fromkeys(account_ids))
        if not ids:
            return {}
        pipe = self._redis.pipeline(transaction=False)
        for aid in ids:
            pipe.zrange(self._key(aid), 0, -1, withscores=True)
        replies = await pipe.execute()
        return {
            aid: [HistoryEntry.decode(member, score) for member, score in reply]
            for aid, reply in zip(ids, replies, strict=True)
        }

    async def observe(self, entries: Mapping[str, Sequence[HistoryEntry]]) -> None:
        pipe = self._redis.pipeline(transaction=False)
        queued = False
        for account_id, new in entries.items():
            if not new:
                continue
            key = self._key(account_id)
            pipe.zadd(key, {e.encode(): e.ts_ms for e in new})
            pipe.zremrangebyrank(key, 0, -(self.max_entries + 1))
            pipe.expire(key, self.ttl_s)
            queued = True
        if queued:
            await pipe.execute()
