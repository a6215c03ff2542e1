"""Per-account transaction history: the port the transactions server needs, in memory and in Redis.

An account's history is its last `max_entries` transactions, oldest first, kept as columns (`AccountHistory`):
timestamps, tx ids, amounts, devices, IPs, countries, payees, channels. Adding the same transaction twice is a
no-op (at-least-once delivery observes batches twice) and idle accounts expire after `ttl_s`.

In Redis an account is one string key holding its columns as one JSON array `[version, [ts…], [tx_id…], …]`.
A batch is read with one MGET and parsed once per account straight into lists: no per-entry objects, no
server-side script. (The previous layout, a sorted set of one JSON member per transaction read back by a
Lua script that spliced members into one document, cost ~320 µs of CPU per transaction at 64 entries an
account between Redis and this process; docs/performance.md.) A batch is written with one Lua call that
compares and sets: every account's new value names the version it was merged from, and an account another
writer changed meanwhile is reloaded and merged again, so concurrent observers never lose each other's
entries. The script touches the keys of many accounts, so on Redis Cluster they would need a shared hash
tag (`prefix`), like the other multi-key scripts of the MCP servers.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple, Protocol, runtime_checkable

import orjson

__all__ = [
    "DEFAULT_MAX_ENTRIES",
    "DEFAULT_TTL_S",
    "AccountHistory",
    "HistoryConflictError",
    "HistoryEntry",
    "HistoryStore",
    "MemoryHistoryStore",
    "RedisHistoryStore",
]

DEFAULT_MAX_ENTRIES = 64
DEFAULT_TTL_S = 35 * 24 * 3600
_COLUMNS = 8


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


HOUR_MS = 3_600_000


class AccountHistory:
    """One account's kept history as columns, oldest first (by time, then tx id), and the version it was read at.

    Treated as immutable once built (`merged` makes a new one), so stores may hand out the same instance to
    many readers, and what is derived from the columns (`hours`, `known_ids`) is computed once per version.
    """

    __slots__ = ("_hours", "_ids", "amount", "channel", "country", "device", "ip", "payee", "ts", "tx_id", "version")

    def __init__(self, columns: Sequence[list[Any]] | None = None, version: int = 0) -> None:
        self.version = version
        cols = columns if columns is not None else [[] for _ in range(_COLUMNS)]
        self.ts: list[int] = cols[0]
        self.tx_id: list[str] = cols[1]
        self.amount: list[float] = cols[2]
        self.device: list[str | None] = cols[3]
        self.ip: list[str | None] = cols[4]
        self.country: list[str | None] = cols[5]
        self.payee: list[str | None] = cols[6]
        self.channel: list[str | None] = cols[7]
        self._hours: list[int] | None = None
        self._ids: frozenset[str] | None = None

    @property
    def hours(self) -> list[int]:
        """The UTC hour of day of each entry."""
        if self._hours is None:
            self._hours = [(ts // HOUR_MS) % 24 for ts in self.ts]
        return self._hours

    @property
    def known_ids(self) -> frozenset[str]:
        if self._ids is None:
            self._ids = frozenset(self.tx_id)
        return self._ids

    @property
    def columns(self) -> tuple[list[Any], ...]:
        return (self.ts, self.tx_id, self.amount, self.device, self.ip, self.country, self.payee, self.channel)

    def __len__(self) -> int:
        return len(self.ts)

    def entries(self) -> list[HistoryEntry]:
        return [HistoryEntry(*row) for row in zip(*self.columns, strict=True)]

    def merged(self, new: Sequence[HistoryEntry], max_entries: int | None = None) -> AccountHistory:
        """This history with `new` added (an entry already present by tx id is not added again), in time order,
        the last `max_entries` kept; the version is this one's."""
        # a few new entries (the usual batch): a scan of the id column costs less than building its set
        known: Sequence[str] | frozenset[str] = self.tx_id if len(new) <= 4 else self.known_ids
        fresh = sorted({e.tx_id: e for e in new if e.tx_id not in known}.values(), key=lambda e: (e.ts_ms, e.tx_id))
        columns: list[list[Any]]
        hours: list[int] | None = None
        if not fresh:
            if max_entries is None or len(self.ts) <= max_entries:
                return self
            columns, hours = [list(c) for c in self.columns], self._hours
        elif not self.ts or (fresh[0].ts_ms, fresh[0].tx_id) >= (self.ts[-1], self.tx_id[-1]):
            columns = [c + [e[i] for e in fresh] for i, c in enumerate(self.columns)]  # the usual case: appended
            if self._hours is not None:
                hours = self._hours + [(e.ts_ms // HOUR_MS) % 24 for e in fresh]
        else:
            rows = sorted([*zip(*self.columns, strict=True), *fresh], key=lambda r: (r[0], r[1]))
            columns = [list(c) for c in zip(*rows, strict=True)]
        if max_entries is not None and len(columns[0]) > max_entries:
            columns = [c[-max_entries:] for c in columns]
            hours = hours[-max_entries:] if hours is not None else None
        out = AccountHistory(columns, self.version)
        out._hours = hours
        return out

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AccountHistory) and self.columns == other.columns

    def __repr__(self) -> str:
        return f"AccountHistory(v{self.version}, {len(self)} entries)"


class HistoryConflictError(RuntimeError):
    """Other writers kept changing the same accounts: the batch could not be recorded (the caller retries)."""


@runtime_checkable
class HistoryStore(Protocol):
    """Where account histories live. Both methods take a whole batch: one round trip each (plus retries)."""

    async def load(self, account_ids: Sequence[str]) -> dict[str, AccountHistory]:
        """The kept history of each account, oldest first (an unknown account has an empty history)."""
        ...

    async def observe(
        self, entries: Mapping[str, Sequence[HistoryEntry]], loaded: Mapping[str, AccountHistory] | None = None
    ) -> None:
        """Add entries per account; an entry already present is not added again. `loaded`: the histories as
        read for this batch (saves reading them again; a history changed since is read again and merged)."""
        ...


class MemoryHistoryStore:
    """In-process history (tests, the embedded single-process mode). Not shared between processes."""

    def __init__(self, max_entries: int = DEFAULT_MAX_ENTRIES) -> None:
        self.max_entries = max_entries
        self._accounts: dict[str, AccountHistory] = {}

    async def load(self, account_ids: Sequence[str]) -> dict[str, AccountHistory]:
        return {aid: self._accounts.get(aid) or AccountHistory() for aid in dict.fromkeys(account_ids)}

    async def observe(
        self, entries: Mapping[str, Sequence[HistoryEntry]], loaded: Mapping[str, AccountHistory] | None = None
    ) -> None:
        for account_id, new in entries.items():
            if new:
                current = self._accounts.get(account_id) or AccountHistory()
                merged = current.merged(new, self.max_entries)
                if merged is not current:
                    merged.version = current.version + 1
                    self._accounts[account_id] = merged


_VERSIONS = """
local out = {}
for k = 1, #KEYS do
  out[k] = tonumber(string.match(redis.call('GETRANGE', KEYS[k], 0, 24), '^%[(%d+),')) or 0
end
return out
"""
"""The version of each key's history (0: none), read from the first bytes of its value."""

_OBSERVE = """
local ttl, conflicts = ARGV[1], {}
for k = 1, #KEYS do
  local expected, value = tonumber(ARGV[2 * k]), ARGV[2 * k + 1]
  local version = tonumber(string.match(redis.call('GETRANGE', KEYS[k], 0, 24), '^%[(%d+),')) or 0
  if version == expected then
    redis.call('SET', KEYS[k], value, 'EX', ttl)
  else
    conflicts[#conflicts + 1] = k
  end
end
return conflicts
"""
"""Compare and set: ARGV 1 ttl (s), then per key the version its new value was merged from and the value.
Returns the 1-based indexes of the keys whose stored version was not the expected one (nothing written there)."""


class RedisHistoryStore:
    """History in Redis strings `riskmesh:hist:{account_id}`, read through a versioned near cache.

    A read asks Redis only for each account's version (one script call returning numbers) and fetches, with one
    MGET, just the accounts whose version this process does not hold already: in steady state a batch's
    histories are neither transferred nor parsed. A write is one compare-and-set script call per batch; what it
    wrote goes into the cache. Other replicas' writes change the version, so the cache is never stale for long
    than one read. `cache_size` accounts are kept, least recently used dropped first.
    """

    def __init__(
        self,
        redis: Any,
        *,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        ttl_s: int = DEFAULT_TTL_S,
        prefix: str = "riskmesh:hist:",
        max_attempts: int = 8,
        cache_size: int = 200_000,
    ) -> None:
        self._redis = redis
        self.max_entries = max_entries
        self.ttl_s = ttl_s
        self.max_attempts = max_attempts
        self.cache_size = cache_size
        self._prefix = prefix
        self._versions = redis.register_script(_VERSIONS)
        self._observe = redis.register_script(_OBSERVE)
        self._cache: OrderedDict[str, AccountHistory] = OrderedDict()

    def _key(self, account_id: str) -> str:
        return f"{self._prefix}{account_id}"

    async def load(self, account_ids: Sequence[str]) -> dict[str, AccountHistory]:
        ids = list(dict.fromkeys(account_ids))
        if not ids:
            return {}
        versions = await self._versions(keys=[self._key(aid) for aid in ids])
        out: dict[str, AccountHistory] = {}
        stale: list[str] = []
        for aid, version in zip(ids, versions, strict=True):
            cached = self._cache.get(aid)
            if not version:
                out[aid] = AccountHistory()
            elif cached is not None and cached.version == version:
                self._cache.move_to_end(aid)
                out[aid] = cached
            else:
                stale.append(aid)
        if stale:
            for aid, raw in zip(stale, await self._redis.mget([self._key(a) for a in stale]), strict=True):
                out[aid] = self._remember(aid, _decode(raw))
        return out

    def _remember(self, account_id: str, history: AccountHistory) -> AccountHistory:
        if history.version:
            self._cache[account_id] = history
            self._cache.move_to_end(account_id)
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
        return history

    async def observe(
        self, entries: Mapping[str, Sequence[HistoryEntry]], loaded: Mapping[str, AccountHistory] | None = None
    ) -> None:
        pending = {aid: list(new) for aid, new in entries.items() if new}
        base = dict(loaded or {})
        missing = [aid for aid in pending if aid not in base]
        if missing:
            base.update(await self.load(missing))
        for _ in range(self.max_attempts):
            merged = {aid: base[aid].merged(new, self.max_entries) for aid, new in pending.items()}
            changed = [aid for aid in pending if merged[aid] is not base[aid]]  # all already recorded: no write
            if not changed:
                return
            args: list[Any] = [self.ttl_s]
            for aid in changed:
                merged[aid].version = base[aid].version + 1
                args += [base[aid].version, _encode(merged[aid])]
            conflicts = {changed[int(i) - 1] for i in await self._observe(keys=[self._key(a) for a in changed],
                                                                           args=args)}
            for aid in changed:
                if aid not in conflicts:
                    self._remember(aid, merged[aid])
            pending = {aid: pending[aid] for aid in conflicts}
            if not pending:
                return
            base.update(await self.load(list(pending)))
        raise HistoryConflictError(f"{len(pending)} account histories kept changing; batch not recorded")


def _encode(history: AccountHistory) -> bytes:
    return orjson.dumps([history.version, *history.columns])


def _decode(raw: bytes | None) -> AccountHistory:
    if not raw:
        return AccountHistory()
    version, *columns = orjson.loads(raw)
    return AccountHistory(columns, int(version))
