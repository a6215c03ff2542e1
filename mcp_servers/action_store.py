"""Where risk actions and alerts are recorded: the port risk-actions needs, in memory and in Redis.

Idempotent per tx_id. Every write is "set if absent" (alert JSON, queue entry, the tx's result),
so a redelivered batch writes nothing new and gets back the result stored the first time.
Within one tx the alert is written before the result, so a result never exists without its alert
(a crash in between is repaired by the redelivery).

Redis keys: `riskmesh:alert:{alert_id}` (Alert JSON), `riskmesh:alerts:open` (sorted set,
score = priority), `riskmesh:tx_actions:{tx_id}` (result JSON, expires after `result_ttl_s`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import orjson

from riskmesh.contracts import Alert

__all__ = [
    "ALERT_KEY",
    "OPEN_ALERTS_KEY",
    "TX_ACTIONS_KEY",
    "ActionRecord",
    "ActionStore",
    "MemoryActionStore",
    "RedisActionStore",
]

ALERT_KEY = "riskmesh:alert:{}"
OPEN_ALERTS_KEY = "riskmesh:alerts:open"
TX_ACTIONS_KEY = "riskmesh:tx_actions:{}"
DEFAULT_RESULT_TTL_S = 7 * 24 * 3600


@dataclass(frozen=True, slots=True)
class ActionRecord:
    """What one decision asks to record: its result, and the alert to open (review only)."""

    tx_id: str
    result: dict[str, Any]
    alert: Alert | None = None
    priority: float = 0.0


@runtime_checkable
class ActionStore(Protocol):
    async def apply(self, records: Sequence[ActionRecord]) -> dict[str, dict[str, Any]]:
        """Record each tx once; return per tx_id the result stored first (this one or an earlier one)."""
        ...

    async def list_open(self, limit: int) -> list[Alert]:
        """Open alerts, highest priority first."""
        ...

    async def get_alert(self, alert_id: str) -> Alert | None: ...


class MemoryActionStore:
    """In-process action store (tests, the embedded single-process mode)."""

    def __init__(self) -> None:
        self.results: dict[str, dict[str, Any]] = {}
        self.alerts: dict[str, Alert] = {}
        self.open: dict[str, float] = {}

    async def apply(self, records: Sequence[ActionRecord]) -> dict[str, dict[str, Any]]:
        stored: dict[str, dict[str, Any]] = {}
        for record in records:
            if record.alert is not None and record.alert.alert_id not in self.alerts:
                self.alerts[record.alert.alert_id] = record.alert
                self.open.setdefault(record.alert.alert_id, record.priority)
            stored[record.tx_id] = self.results.setdefault(record.tx_id, record.result)
        return stored

    async def list_open(self, limit: int) -> list[Alert]:
        ranked = sorted(self.open.items(), key=lambda item: (-item[1], item[0]))
        alerts = [self.alerts[alert_id] for alert_id, _ in ranked if alert_id in self.alerts]
        return [a for a in alerts if a.status == "open"][:limit]

    async def get_alert(self, alert_id: str) -> Alert | None:
        return self.alerts.get(alert_id)


class RedisActionStore:
    """Action store in Redis (`redis.asyncio` client); one pipeline per batch."""

    def __init__(self, redis: Any, *, result_ttl_s: int = DEFAULT_RESULT_TTL_S) -> None:
        self._redis = redis
        self.result_ttl_s = result_ttl_s

    async def apply(self, records: Sequence[ActionRecord]) -> dict[str, dict[str, Any]]:
        if not records:
            return {}
        pipe = self._redis.pipeline(transaction=False)
        read_at: list[tuple[str, int]] = []
        queued = 0
        for record in records:
            if record.alert is not None:
                alert_id = record.alert.alert_id
                pipe.set(ALERT_KEY.format(alert_id), record.alert.model_dump_json(), nx=True)
                pipe.zadd(OPEN_ALERTS_KEY, {alert_id: record.priority}, nx=True)
                queued += 2
            pipe.set(
                TX_ACTIONS_KEY.format(record.tx_id),
                orjson.dumps(record.result),
                nx=True,
                ex=self.result_ttl_s,
            )
            pipe.get(TX_ACTIONS_KEY.format(record.tx_id))
            read_at.append((record.tx_id, queued + 1))
            queued += 2
        replies = await pipe.execute()
        return {tx_id: orjson.loads(replies[index]) for tx_id, index in read_at}

    async def list_open(self, limit: int) -> list[Alert]:
        """Open alerts by priority; ids whose alert is gone or no longer open leave the queue."""
        found: list[Alert] = []
        start, page = 0, max(limit, 16)
        while len(found) < limit:
            ids = await self._redis.zrevrange(OPEN_ALERTS_KEY, start, start + page - 1)
            if not ids:
                break
            raw = await self._redis.mget([ALERT_KEY.format(_text(i)) for i in ids])
            stale = []
            for alert_id, blob in zip(ids, raw, strict=True):
                alert = Alert.model_validate_json(blob) if blob is not None else None
                if alert is None or alert.status != "open":
                    stale.append(alert_id)
                else:
                    found.append(alert)
            if stale:
                await self._redis.zrem(OPEN_ALERTS_KEY, *stale)
            start += page - len(stale)
        return found[:limit]

    async def get_alert(self, alert_id: str) -> Alert | None:
        blob = await self._redis.get(ALERT_KEY.format(alert_id))
        return Alert.model_validate_json(blob) if blob is not None else None


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
