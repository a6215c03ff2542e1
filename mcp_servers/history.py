"""Per-account transaction history: the port the transactions server needs, in memory and in Redis.

An account's history is a set of compact entries ordered by time. In Redis it is a sorted set
scored by epoch milliseconds whose member is a compact JSON array starting with the tx_id, so
adding the same transaction twice is a no-op (at-least-once delivery observes batches twice).
Only the last `max_entries` entries are kept and idle accounts expire after `ttl_s`.

In Redis a whole batch is one Lua call each way. A pipeline of one ZRANGE per account cost ~10x
more client CPU (redis-py packs and parses every command), and decoding every member on its own
dominated the rest: the load script instead answers one JSON document, `[[[ts_ms, tx_id, amount,
…], …] per account]`, spliced from the stored members, which the client parses once. The scripts
touch the keys of many accounts, so on Redis Cluster they would need the accounts' keys to share
a hash tag (`prefix`), like the other multi-key scripts of the MCP servers.
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
    def from_row(cls, row: list[Any]) -> HistoryEntry:
        """An entry from `[ts_ms, *encoded fields]` (a member without a channel is one shorter)."""
        ts_ms, tx_id, amount, device_id, ip, country, payee, *rest = row
        channel = rest[0] if rest else None
        return cls(int(ts_ms), tx_id, float(amount), device_id, ip, country, payee, channel)


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


_LOAD = """
local accounts = {}
for k = 1, #KEYS do
  local flat = redis.call('ZRANGE', KEYS[k], 0, -1, 'WITHSCORES')
  local rows = {}
  for i = 1, #flat, 2 do
    rows[#rows + 1] = '[' .. string.format('%d', tonumber(flat[i + 1])) .. ',' .. string.sub(flat[i], 2)
  end
  accounts[k] = '[' .. table.concat(rows, ',') .. ']'
end
return '[' .. table.concat(accounts, ',') .. ']'
"""
"""Every key's entries oldest first, as one JSON array of `[ts_ms, *member fields]` rows per key.
Members are JSON arrays, so `[ts_ms,` + the member without its `[` is the row."""

_OBSERVE = """
local keep, ttl, at = -(tonumber(ARGV[1]) + 1), ARGV[2], 3
for k = 1, #KEYS do
  local count = tonumber(ARGV[at])
  for i = at + 1, at + 2 * count, 2 do redis.call('ZADD', KEYS[k], ARGV[i], ARGV[i + 1]) end
  at = at + 2 * count + 1
  redis.call('ZREMRANGEBYRANK', KEYS[k], 0, keep)
  redis.call('EXPIRE', KEYS[k], ttl)
end
"""
"""ARGV: 1 max entries, 2 ttl (s), then per key its entry count and that many (score, member) pairs."""


class RedisHistoryStore:
    """History in Redis sorted sets `riskmesh:hist:{account_id}` (score = epoch ms), one Lua call per batch."""

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
        self._load = redis.register_script(_LOAD)
        self._observe = redis.register_script(_OBSERVE)

    def _key(self, account_id: str) -> str:
        return f"{self._prefix}{account_id}"

    async def load(self, account_ids: Sequence[str]) -> dict[str, list[HistoryEntry]]:
        ids = list(dict.fromkeys(account_ids))
        if not ids:
            return {}
        accounts = orjson.loads(await self._load(keys=[self._key(aid) for aid in ids]))
        return {aid: [HistoryEntry.from_row(row) for row in rows] for aid, rows in zip(ids, accounts, strict=True)}

    async def observe(self, entries: Mapping[str, Sequence[HistoryEntry]]) -> None:
        keys: list[str] = []
        args: list[Any] = [self.max_entries, self.ttl_s]
        for account_id, new in entries.items():
            if new:
                keys.append(self._key(account_id))
                args.append(len(new))
                args.extend(part for e in new for part in (e.ts_ms, e.encode()))
        if keys:
            await self._observe(keys=keys, args=args)
