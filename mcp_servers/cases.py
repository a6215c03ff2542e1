"""Customer-level records of risk-actions: risk-rating updates and cases, in memory and in Redis.

A risk rating set here is the bank's current view of the customer (low, medium, high), recorded with
who set it and why, every change kept in a log; core banking picks it up from here (customer-data
keeps serving the onboarding KYC rating of the reference data). A case groups the alerts and
transactions of one customer under investigation; its id is derived from the customer and the alert
that opened it, so opening it again adds members instead of creating a second case.

Redis keys: `riskmesh:risk_rating:{customer_id}` (hash rating, reason, actor, at),
`riskmesh:risk_rating_log:{customer_id}` (list of JSON changes), `riskmesh:case:{case_id}` (JSON),
`riskmesh:case:{case_id}:alerts` and `:txs` (sets), `riskmesh:cases:customer:{customer_id}` (set).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, Literal, Protocol, runtime_checkable

import orjson
from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "Case",
    "CaseStore",
    "MemoryCaseStore",
    "RatingChange",
    "RatingUpdate",
    "RedisCaseStore",
    "case_id_for",
]

Rating = Literal["low", "medium", "high"]
RATING_KEY = "riskmesh:risk_rating:{}"
RATING_LOG_KEY = "riskmesh:risk_rating_log:{}"
CASE_KEY = "riskmesh:case:{}"
CASE_ALERTS_KEY = "riskmesh:case:{}:alerts"
CASE_TXS_KEY = "riskmesh:case:{}:txs"
CUSTOMER_CASES_KEY = "riskmesh:cases:customer:{}"


class RatingUpdate(BaseModel):
    """One rating change to record (extra keys are ignored)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    customer_id: str = Field(min_length=1, max_length=256)
    rating: Rating
    reason: str = Field(min_length=1, max_length=4000)
    actor: str = Field(min_length=1, max_length=128)


class RatingChange(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    customer_id: str
    rating: Rating
    previous: Rating | None
    changed: bool
    reason: str
    actor: str
    at: str


class Case(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    case_id: str
    customer_id: str
    opening_alert_id: str
    opened_by: str
    opened_at: str
    reason: str = ""
    status: Literal["open", "closed"] = "open"
    alert_ids: list[str] = Field(default_factory=list)
    tx_ids: list[str] = Field(default_factory=list)


def case_id_for(customer_id: str, alert_id: str) -> str:
    """Deterministic: one customer's case opened by one alert is always the same case."""
    digest = hashlib.sha1(f"{customer_id}|{alert_id}".encode(), usedforsecurity=False).hexdigest()
    return "CS-" + digest[:16]


@runtime_checkable
class CaseStore(Protocol):
    async def update_ratings(self, items: Sequence[RatingUpdate]) -> list[RatingChange]:
        """Record each rating in order; each change says the rating it replaced."""
        ...

    async def open_case(self, case: Case) -> Case:
        """Create the case, or add `case`'s alerts and transactions to the existing one; the case as stored."""
        ...

    async def get_case(self, case_id: str) -> Case | None: ...


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _change(item: RatingUpdate, previous: str | None, at: str) -> RatingChange:
    return RatingChange(
        customer_id=item.customer_id,
        rating=item.rating,
        previous=previous,  # type: ignore[arg-type]
        changed=previous != item.rating,
        reason=item.reason,
        actor=item.actor,
        at=at,
    )


class MemoryCaseStore:
    def __init__(self, clock: Callable[[], datetime] = _now) -> None:
        self._clock = clock
        self.ratings: dict[str, RatingChange] = {}
        self.rating_log: dict[str, list[RatingChange]] = {}
        self.cases: dict[str, Case] = {}

    async def update_ratings(self, items: Sequence[RatingUpdate]) -> list[RatingChange]:
        at = _iso(self._clock())
        out = []
        for item in items:
            current = self.ratings.get(item.customer_id)
            change = _change(item, current.rating if current else None, at)
            self.ratings[item.customer_id] = change
            self.rating_log.setdefault(item.customer_id, []).append(change)
            out.append(change)
        return out

    async def open_case(self, case: Case) -> Case:
        stored = self.cases.get(case.case_id, case)
        merged = stored.model_copy(
            update={
                "alert_ids": sorted({*stored.alert_ids, *case.alert_ids}),
                "tx_ids": sorted({*stored.tx_ids, *case.tx_ids}),
            }
        )
        self.cases[case.case_id] = merged
        return merged

    async def get_case(self, case_id: str) -> Case | None:
        return self.cases.get(case_id)


class RedisCaseStore:
    """Case store in Redis; every write is one MULTI/EXEC transaction."""

    def __init__(self, redis: Any, clock: Callable[[], datetime] = _now) -> None:
        self._redis = redis
        self._clock = clock

    async def update_ratings(self, items: Sequence[RatingUpdate]) -> list[RatingChange]:
        if not items:
            return []
        at = _iso(self._clock())
        pipe = self._redis.pipeline(transaction=True)
        for item in items:
            key = RATING_KEY.format(item.customer_id)
            pipe.hget(key, "rating")
            pipe.hset(key, mapping={"rating": item.rating, "reason": item.reason, "actor": item.actor, "at": at})
        replies = await pipe.execute()
        changes = [_change(item, _text(replies[2 * n]), at) for n, item in enumerate(items)]
        log = self._redis.pipeline(transaction=False)
        for change in changes:
            log.rpush(RATING_LOG_KEY.format(change.customer_id), change.model_dump_json())
        await log.execute()
        return changes

    async def open_case(self, case: Case) -> Case:
        header = case.model_dump(exclude={"alert_ids", "tx_ids"})
        pipe = self._redis.pipeline(transaction=True)
        pipe.set(CASE_KEY.format(case.case_id), orjson.dumps(header), nx=True)
        if case.alert_ids:
            pipe.sadd(CASE_ALERTS_KEY.format(case.case_id), *case.alert_ids)
        if case.tx_ids:
            pipe.sadd(CASE_TXS_KEY.format(case.case_id), *case.tx_ids)
        pipe.sadd(CUSTOMER_CASES_KEY.format(case.customer_id), case.case_id)
        await pipe.execute()
        stored = await self.get_case(case.case_id)
        assert stored is not None
        return stored

    async def get_case(self, case_id: str) -> Case | None:
        pipe = self._redis.pipeline(transaction=True)
        pipe.get(CASE_KEY.format(case_id))
        pipe.smembers(CASE_ALERTS_KEY.format(case_id))
        pipe.smembers(CASE_TXS_KEY.format(case_id))
        header, alerts, txs = await pipe.execute()
        if header is None:
            return None
        members = {"alert_ids": sorted(_str(a) for a in alerts), "tx_ids": sorted(_str(t) for t in txs)}
        return Case.model_validate({**orjson.loads(header), **members})


def _text(value: bytes | str | None) -> str | None:
    return value.decode() if isinstance(value, bytes) else value


def _str(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
