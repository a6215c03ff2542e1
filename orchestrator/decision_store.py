"""Idempotent decision store: exactly one decision per tx_id, however often a transaction is redelivered.

Kafka delivery is at-least-once (tansu has no transactions), so exactly-one-decision-per-tx comes from
here: a decision is recorded with SET NX before it is emitted and flagged once the broker acknowledged it.
A redelivered transaction whose decision was emitted produces nothing; one whose decision was recorded
but not acknowledged (a crash in between) re-emits the recorded decision, never a new one.
See docs/decisions/0002-at-least-once-with-idempotent-decisions.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Protocol

import redis.asyncio as aioredis
import zstandard

__all__ = ["DecisionStore", "MemoryDecisionStore", "RedisDecisionStore", "StoredDecision", "pack", "unpack"]


@dataclass(frozen=True, slots=True)
class StoredDecision:
    payload: bytes
    emitted: bool


def _as_bytes(value: bytes | str | None) -> bytes:
    return value if isinstance(value, bytes) else (value or "").encode()


RECORDED, EMITTED = b"r", b"e"
"""First byte of a stored value: recorded (not yet acknowledged by the broker), or emitted."""
_CODEC_V1 = b"1"
"""Second byte: the payload is a zstd frame compressed with dictionary v1 (orchestrator/data/decision-v1.zdict)."""


@cache
def _dictionary() -> zstandard.ZstdCompressionDict:
    data = resources.files("riskmesh.orchestrator").joinpath("data/decision-v1.zdict").read_bytes()
    return zstandard.ZstdCompressionDict(data)


@cache
def _compressor() -> zstandard.ZstdCompressor:
    return zstandard.ZstdCompressor(level=3, dict_data=_dictionary())


@cache
def _decompressor() -> zstandard.ZstdDecompressor:
    return zstandard.ZstdDecompressor(dict_data=_dictionary())


def pack(payload: bytes, emitted: bool = False) -> bytes:
    """A Decision JSON as stored: state byte, codec byte, zstd frame (~75 bytes for a ~1.3 KB decision)."""
    return (EMITTED if emitted else RECORDED) + _CODEC_V1 + _compressor().compress(payload)


def unpack(value: bytes) -> tuple[bytes, bool | None]:
    """(Decision JSON, emitted) of a stored value. A value written before compression (plain JSON) returns
    emitted None: its flag is the separate `:emitted` key."""
    if value[:1] in (RECORDED, EMITTED) and value[1:2] == _CODEC_V1:
        return _decompressor().decompress(value[2:]), value[:1] == EMITTED
    return value, None


class DecisionStore(Protocol):
    async def lookup(self, tx_ids: list[str]) -> dict[str, StoredDecision]:
        """The recorded decisions among `tx_ids` (absent ids are not in the result)."""
        ...

    async def record(self, decisions: dict[str, bytes]) -> dict[str, bytes]:
        """Record each decision unless one exists; return what is stored now (ours or an earlier one)."""
        ...

    async def mark_emitted(self, tx_ids: list[str]) -> None: ...

    async def claim_dead_letters(self, keys: list[str]) -> list[bool]:
        """True for each dead-letter key seen for the first time (so a redelivered bad message is not re-sent)."""
        ...

    async def aclose(self) -> None: ...


class MemoryDecisionStore:
    """In-process double for unit tests and the in-process benchmark ceiling."""

    def __init__(self) -> None:
        self._decisions: dict[str, bytes] = {}
        self._emitted: set[str] = set()
        self._dead: set[str] = set()

    async def lookup(self, tx_ids: list[str]) -> dict[str, StoredDecision]:
        return {
            t: StoredDecision(self._decisions[t], t in self._emitted) for t in tx_ids if t in self._decisions
        }

    async def record(self, decisions: dict[str, bytes]) -> dict[str, bytes]:
        for tx_id, payload in decisions.items():
            self._decisions.setdefault(tx_id, payload)
        return {t: self._decisions[t] for t in decisions}

    async def mark_emitted(self, tx_ids: list[str]) -> None:
        self._emitted.update(tx_ids)

    async def claim_dead_letters(self, keys: list[str]) -> list[bool]:
        fresh = [k not in self._dead for k in keys]
        self._dead.update(keys)
        return fresh

    async def aclose(self) -> None:
        return None


_RECORD = """
local stored = {}
for i, key in ipairs(KEYS) do
  if redis.call('SET', key, ARGV[i + 1], 'NX', 'EX', ARGV[1]) then
    stored[i] = false
  else
    stored[i] = redis.call('GET', key)
  end
end
return stored
"""
"""SET NX EX per decision key (ARGV[1] is the TTL); nil where ours was stored, else the earlier payload."""

_MARK = """
for _, key in ipairs(KEYS) do
  local state = redis.call('GETRANGE', key, 0, 0)
  if state == 'r' then
    redis.call('SETRANGE', key, 0, 'e')
  elseif state == '{' then
    redis.call('SET', key .. ':emitted', '1', 'EX', ARGV[1])
  end
end
return #KEYS
"""
"""Flag each decision emitted: in place (its first byte) for a compressed value, the separate `:emitted` key for a
value written before compression."""


class RedisDecisionStore:
    """Redis implementation: one round trip and one command per step per batch.

    A batch's 500 SETs go as one Lua call rather than 500 pipelined commands: the same writes, but the
    client encodes and parses one command instead of 500 (redis-py's per-command cost dominated the
    worker's profile). Redis 6.2 cannot combine SET NX with GET, so the script does both.

    Values are `pack`ed: the emitted flag is the value's first byte and the Decision JSON is compressed
    with a zstd dictionary trained on decisions (tools/train_decision_dict.py), ~75 bytes instead of ~1.3 KB
    plus a second key per decision: 600k decisions kept for the TTL take ~100 MB of Redis instead of ~850 MB
    (docs/decisions/0002). Values written before that (plain JSON and an `:emitted` key) are still read.
    """

    def __init__(self, client: aioredis.Redis, ttl_s: int, prefix: str = "riskmesh") -> None:
        self._r = client
        self._ttl = ttl_s
        self._p = prefix
        self._record = client.register_script(_RECORD)
        self._mark = client.register_script(_MARK)

    @classmethod
    def from_url(cls, url: str, ttl_s: int) -> RedisDecisionStore:
        return cls(aioredis.Redis.from_url(url), ttl_s)

    def _dk(self, tx_id: str) -> str:
        return f"{self._p}:decision:{tx_id}"

    def _ek(self, tx_id: str) -> str:
        return f"{self._p}:decision:{tx_id}:emitted"

    async def lookup(self, tx_ids: list[str]) -> dict[str, StoredDecision]:
        if not tx_ids:
            return {}
        values = await self._r.mget([self._dk(t) for t in tx_ids])
        found: dict[str, tuple[bytes, bool | None]] = {
            t: unpack(_as_bytes(v)) for t, v in zip(tx_ids, values, strict=True) if v is not None
        }
        legacy = [t for t, (_, emitted) in found.items() if emitted is None]
        flags = dict(zip(legacy, await self._r.mget([self._ek(t) for t in legacy]), strict=True)) if legacy else {}
        return {t: StoredDecision(payload, flags.get(t) is not None if emitted is None else emitted)
                for t, (payload, emitted) in found.items()}

    async def record(self, decisions: dict[str, bytes]) -> dict[str, bytes]:
        if not decisions:
            return {}
        ids = list(decisions)
        earlier = await self._record(keys=[self._dk(t) for t in ids],
                                     args=[self._ttl, *(pack(p) for p in decisions.values())])
        return {t: decisions[t] if old is None else unpack(_as_bytes(old))[0]
                for t, old in zip(ids, earlier, strict=True)}

    async def mark_emitted(self, tx_ids: list[str]) -> None:
        if not tx_ids:
            return
        await self._mark(keys=[self._dk(t) for t in tx_ids], args=[self._ttl])

    async def claim_dead_letters(self, keys: list[str]) -> list[bool]:
        if not keys:
            return []
        async with self._r.pipeline(transaction=False) as pipe:
            for k in keys:
                pipe.set(f"{self._p}:dlq:{k}", b"1", nx=True, ex=self._ttl)
            return [bool(v) for v in await pipe.execute()]

    async def aclose(self) -> None:
        await self._r.aclose()
