"""Queue backends for the review tests: every AlertQueue must pass the same suite."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import redis

from riskmesh.contracts import Alert, Reason
from riskmesh.contracts.review import Resolution
from riskmesh.orchestrator.audit import MemoryAuditLog, RedisAuditLog
from riskmesh.orchestrator.review.queue import ALERT_KEY, INDEX_KEY, MemoryAlertQueue, RedisAlertQueue, SlaPolicy

T0 = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


def make_alert(n: int, risk: float = 0.5, amount: str = "100.00", currency: str = "EUR",
               created: datetime = T0) -> Alert:
    return Alert(alert_id=f"AL-{n:04d}", tx_id=f"T-{n:04d}", created_at=created, risk_score=risk,
                 amount=Decimal(amount), currency=currency, debtor_account_id=f"A-{n:04d}",
                 reasons=[Reason(code="FRAUD_MODEL_SCORE", agent="fraud", weight=risk, detail="model score high")],
                 policy_version="policy-1")


@dataclass
class QueueBackend:
    queue: Any
    audit: Any
    client: redis.Redis | None = None

    def open(self, alert: Alert, priority: float | None = None) -> None:
        score = priority if priority is not None else alert.risk_score * 1000
        if isinstance(self.queue, MemoryAlertQueue):
            self.queue.open_alert(alert, score)
            return
        assert self.client is not None
        self.client.set(ALERT_KEY.format(alert.alert_id), alert.model_dump_json(), nx=True)
        self.client.zadd(INDEX_KEY.format("open"), {alert.alert_id: score}, nx=True)


def memory_backend(sla: SlaPolicy | None = None) -> QueueBackend:
    audit = MemoryAuditLog()
    return QueueBackend(MemoryAlertQueue(audit, sla), audit)


def redis_backend(url: str, sla: SlaPolicy | None = None) -> QueueBackend:
    client = redis.Redis.from_url(url)
    client.flushdb()
    audit = RedisAuditLog(client)
    return QueueBackend(RedisAlertQueue(client, audit, sla), audit, client)


class Clock:
    def __init__(self, now: datetime = T0 + timedelta(minutes=5)) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class RecordingResumer:
    def __init__(self) -> None:
        self.resumed: list[Resolution] = []

    async def resume(self, resolution: Resolution) -> bool:
        if any(r.alert_id == resolution.alert_id for r in self.resumed):
            return False
        self.resumed.append(resolution)
        return True
