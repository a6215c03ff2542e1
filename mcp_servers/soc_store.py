"""What the soc-telemetry server reads and writes: indexed telemetry files and the containment log.

`TelemetryStore` loads `auth_events`, `network_flows`, `endpoint_events` and `iocs` (JSONL, see
orchestrator/synth/telemetry.py for the record shapes) of a world directory and answers by indicator
and time window. Records stay JSON (no model per line: tens of thousands of them, read only).
A missing file is an empty source; a bad line is logged with file:line and skipped.

`ContainmentStore` records containment actions (block an IP, isolate a host, force a password reset)
idempotently per (action, target): in memory or in Redis (`HSETNX` on one hash).
"""

from __future__ import annotations

import hashlib
import logging
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import orjson

__all__ = [
    "CONTAINMENT_KEY",
    "ContainmentStore",
    "MemoryContainmentStore",
    "RedisContainmentStore",
    "TelemetryStore",
    "containment_id",
]

logger = logging.getLogger("riskmesh.mcp.soc_store")

Record = dict[str, Any]
CONTAINMENT_KEY = "riskmesh:soc:containment"
_SOURCES = ("auth_events", "network_flows", "endpoint_events")
# source ▶ indicator kind ▶ the record fields holding that kind (an account matches through its customer)
_FIELDS: dict[str, dict[str, tuple[str, ...]]] = {
    "auth_events": {"ip": ("ip",), "customer": ("customer_id",), "device": ("device_id",), "user": ("user",)},
    "network_flows": {"ip": ("src_ip", "dst_ip")},
    "endpoint_events": {
        "ip": ("ip", "remote_ip"), "customer": ("customer_id",), "device": ("device_id",), "host": ("host",),
        "domain": ("domain",), "hash": ("sha256",),
    },
}  # fmt: skip


def _is_telemetry(row: Record) -> bool:
    return isinstance(row.get("ts") or row.get("value"), str)


def _iter_jsonl(path: Path, keep: Callable[[Record], bool] = _is_telemetry) -> Iterator[Record]:
    if not path.exists():
        logger.info("telemetry file %s not found: empty source", path)
        return
    with path.open("rb") as handle:
        for line_no, raw in enumerate(handle, start=1):
            line = raw.strip()
            if not line:
                continue
            try:
                row = orjson.loads(line)
            except orjson.JSONDecodeError as exc:
                logger.warning("%s:%d: skipped, invalid JSON: %s", path, line_no, exc)
                continue
            if isinstance(row, dict) and keep(row):
                yield row
            else:
                logger.warning("%s:%d: skipped, not a record of this file", path, line_no)


def _is_account(row: Record) -> bool:
    return isinstance(row.get("account_id"), str) and isinstance(row.get("customer_id"), str)


def _parses(stamp: Any) -> bool:
    try:
        _epoch(stamp)
    except (TypeError, ValueError):
        logger.warning("telemetry record skipped: bad ts %r", stamp)
        return False
    return True


def _epoch(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


@dataclass
class _Source:
    """One source's records sorted by time, each kept as its JSON bytes (a third of the memory of a dict),
    with an index from (kind, value) to record positions."""

    rows: list[bytes]
    times: list[float] = field(default_factory=list)
    index: dict[tuple[str, str], list[int]] = field(default_factory=dict)

    @classmethod
    def build(cls, rows: Iterable[Record], fields: dict[str, tuple[str, ...]]) -> _Source:
        items: list[tuple[float, bytes, list[tuple[str, str]]]] = []
        for row in rows:
            if not _parses(row.get("ts")):
                continue
            keys = [(kind, str(row[name]).lower()) for kind, names in fields.items() for name in names if row.get(name)]
            # orjson's bytes keep its whole write buffer (~6 KB); a copy through a memoryview is exact-sized
            items.append((_epoch(row["ts"]), bytes(memoryview(orjson.dumps(row))), keys))
        items.sort(key=lambda item: item[0])
        index: defaultdict[tuple[str, str], list[int]] = defaultdict(list)
        for i, (_, _, keys) in enumerate(items):
            for key in keys:
                index[key].append(i)
        return cls([raw for _, raw, _ in items], [t for t, _, _ in items], dict(index))


class TelemetryStore:
    """Read-only telemetry of one world; `query(source, indicators, start, end, limit)`."""

    def __init__(self, sources: Mapping[str, Iterable[Record]], iocs: Iterable[Record] = (),
                 account_owner: dict[str, str] | None = None) -> None:  # fmt: skip
        self._sources = {name: _Source.build(sources.get(name, []), _FIELDS[name]) for name in _SOURCES}
        self.iocs: dict[tuple[str, str], Record] = {(str(r["kind"]), str(r["value"]).lower()): r for r in iocs}
        self.account_owner = {k.lower(): v for k, v in (account_owner or {}).items()}

    @classmethod
    def load(cls, world_dir: Path | str | None) -> TelemetryStore:
        if world_dir is None:
            return cls({})
        root = Path(world_dir)
        owners: dict[str, str] = {}
        for row in _iter_jsonl(root / "accounts.jsonl", _is_account):
            owners[row["account_id"]] = row["customer_id"]
        store = cls({name: _iter_jsonl(root / f"{name}.jsonl") for name in _SOURCES},
                    _iter_jsonl(root / "iocs.jsonl"), owners)  # fmt: skip
        logger.info("soc telemetry loaded from %s: %s", root, store.summary())
        return store

    def summary(self) -> dict[str, int]:
        return {**{name: len(s.rows) for name, s in self._sources.items()}, "iocs": len(self.iocs)}

    def keys(self, indicators: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
        """Index keys of the indicators; an account becomes its owner (customer)."""
        keys: list[tuple[str, str]] = []
        for kind, value in indicators:
            value = value.strip().lower()
            if kind == "account":
                owner = self.account_owner.get(value)
                if owner:
                    keys.append(("customer", owner.lower()))
            else:
                keys.append((kind, value))
        return list(dict.fromkeys(keys))

    def query(self, source: str, indicators: Sequence[tuple[str, str]], start: datetime, end: datetime,
              limit: int) -> tuple[list[Record], int]:  # fmt: skip
        """Records of `source` matching any indicator within [start, end], oldest first (at most `limit`),
        and how many matched in all."""
        src = self._sources[source]
        lo, hi = bisect_left(src.times, start.timestamp()), bisect_right(src.times, end.timestamp())
        hits = sorted({i for key in self.keys(indicators) for i in src.index.get(key, ()) if lo <= i < hi})
        return [orjson.loads(src.rows[i]) for i in hits[:limit]], len(hits)

    def lookup(self, kind: str, value: str) -> Record | None:
        return self.iocs.get((kind, value.strip().lower()))


def containment_id(action: str, target: str) -> str:
    """Deterministic: asking twice for the same action on the same target names the same record."""
    return "CT-" + hashlib.sha1(f"{action}:{target}".encode(), usedforsecurity=False).hexdigest()[:16]


class ContainmentStore(Protocol):
    async def record(self, action: str, target: str, actor: str, reason: str) -> tuple[Record, bool]:
        """The action's record and whether this call created it (False: it was already recorded)."""
        ...

    async def list(self) -> list[Record]: ...


def _new_record(action: str, target: str, actor: str, reason: str) -> Record:
    return {"containment_id": containment_id(action, target), "action": action, "target": target, "actor": actor,
            "reason": reason, "status": "done",
            "recorded_at": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")}  # fmt: skip


class MemoryContainmentStore:
    def __init__(self) -> None:
        self._records: dict[str, Record] = {}

    async def record(self, action: str, target: str, actor: str, reason: str) -> tuple[Record, bool]:
        key = f"{action}:{target}"
        if key in self._records:
            return self._records[key], False
        self._records[key] = rec = _new_record(action, target, actor, reason)
        return rec, True

    async def list(self) -> list[Record]:
        return sorted(self._records.values(), key=lambda r: r["recorded_at"])


class RedisContainmentStore:
    """One hash `riskmesh:soc:containment`, field `action:target` ▶ record JSON; HSETNX makes it idempotent."""

    def __init__(self, redis: Any, key: str = CONTAINMENT_KEY) -> None:
        self._redis = redis
        self._key = key

    async def record(self, action: str, target: str, actor: str, reason: str) -> tuple[Record, bool]:
        rec = _new_record(action, target, actor, reason)
        created = bool(await self._redis.hsetnx(self._key, f"{action}:{target}", orjson.dumps(rec)))
        if created:
            return rec, True
        stored = await self._redis.hget(self._key, f"{action}:{target}")
        return orjson.loads(stored), False

    async def list(self) -> list[Record]:
        raw: dict[Any, Any] = await self._redis.hgetall(self._key)
        return sorted((orjson.loads(v) for v in raw.values()), key=lambda r: r["recorded_at"])
