"""An endless, time-ordered, labelled stream of transactions over a synthetic world.

Normal behaviour follows each customer's habits, the hour of the day and the day of the week;
pay days add salary credits, rent and bills (`rhythm`); legitimate look-alikes (`lookalikes`)
and fraud and AML patterns (`patterns.PATTERN_RATES`) are injected at their own base rates.
With `until`, the stream ends there (episodes still running then are cut off). Transactions are
assembled as plain dicts in the public JSON shape: `take_json` serialises them with orjson (fast
path), `take` and iteration validate them into `Transaction` models.
"""

from __future__ import annotations

import heapq
import math
import random
from bisect import bisect
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from itertools import accumulate, islice
from typing import Any

import orjson
from pydantic import BaseModel

from riskmesh.contracts import Device, Geo, Label, Party, Transaction
from riskmesh.contracts import Merchant as MerchantModel
from riskmesh.orchestrator.synth import catalog
from riskmesh.orchestrator.synth.kit import Kit
from riskmesh.orchestrator.synth.lookalikes import LookalikeBook
from riskmesh.orchestrator.synth.patterns import PatternBook
from riskmesh.orchestrator.synth.profiles import (
    LEGIT,
    Json,
    Profile,
    amount_text,
    billers,
    body,
    build_merchants,
    build_profiles,
    cash_party,
    loan_book,
    purpose,
)
from riskmesh.orchestrator.synth.rhythm import WEEKDAY_RATE, Payroll
from riskmesh.orchestrator.synth.world import World

__all__ = ["DEFAULT_START", "TX_PER_CUSTOMER_DAY", "TransactionStream"]

DEFAULT_START = datetime(2026, 1, 5, tzinfo=UTC)
"""Streams start here unless told otherwise, so that a seed alone fixes every byte."""
TX_PER_CUSTOMER_DAY = 1.8
"""Normal transactions per customer and day, before pay days, look-alikes and patterns."""

_DAY_MS = 86_400_000
_HOUR_MS = 3_600_000
_MEAN_HOUR = sum(catalog.HOUR_WEIGHTS) / 24
_HOUR_RATE = tuple(w / _MEAN_HOUR for w in catalog.HOUR_WEIGHTS)


def _cash_unit(currency: str) -> int:
    fx = catalog.FX_PER_USD.get(currency, 1.0)
    return 10 if fx < 5 else 100 if fx < 50 else 1000 if fx < 500 else 10_000


_NESTED: tuple[tuple[str, type[BaseModel]], ...] = (
    ("debtor", Party),
    ("creditor", Party),
    ("merchant", MerchantModel),
    ("device", Device),
    ("geo", Geo),
    ("label", Label),
)


class _Validator:
    """`Transaction.model_validate` with nested parts validated once per shared dict.

    Parties, devices, places and labels are shared between many transactions; each is validated
    the first time it is seen and the model instance reused (pydantic accepts an instance of the
    field's own class as is), which makes `take` about three times faster. The cache keeps the
    dict alive so an id is never reused while cached, and is cleared when it reaches `cap`.
    """

    def __init__(self, cap: int = 250_000) -> None:
        self._cap = cap
        self._cache: dict[int, tuple[Json, BaseModel]] = {}

    def __call__(self, tx: Json) -> Transaction:
        cache = self._cache
        out = dict(tx)
        for key, model in _NESTED:
            part = tx.get(key)
            if part is None:
                continue
            hit = cache.get(id(part))
            if hit is None:
                if len(cache) >= self._cap:
                    cache.clear()
                hit = cache[id(part)] = (part, model.model_validate(part))
            out[key] = hit[1]
        return Transaction.model_validate(out)


class TransactionStream:
    """`take(n)`, `take_json(n)` and iteration all advance the same underlying sequence."""

    def __init__(
        self,
        world: World,
        seed: int,
        start: datetime | None = None,
        tx_prefix: str = "T",
        until: datetime | None = None,
        *,
        pattern_rates: dict[str, float] | None = None,
        lookalike_rates: dict[str, float] | None = None,
    ) -> None:
        """`pattern_rates`/`lookalike_rates` override `PATTERN_RATES`/`LOOKALIKE_RATES` (a missing name is off)."""
        self._rng = rng = random.Random(seed)
        self._prefix = tx_prefix
        countries = sorted({c.country for c in world.customers})
        self._merchants = build_merchants(random.Random(f"merchants:{seed}"), countries)
        self._profiles = build_profiles(world, rng, self._merchants)
        if not self._profiles:
            raise ValueError("the world has no customer with an active account")
        self._kit = kit = Kit(world, self._profiles, self._merchants, rng)
        self._patterns = PatternBook(kit, pattern_rates)
        self._lookalikes = LookalikeBook(kit, lookalike_rates)
        self._payroll = Payroll(kit, random.Random(f"payroll:{seed}"))
        self._tables = [self._hour_table(hour, weekend) for weekend in (False, True) for hour in range(24)]
        self.start = (start or DEFAULT_START).astimezone(UTC)
        self.until = None if until is None else until.astimezone(UTC)
        if self.until is not None and self.until <= self.start:
            raise ValueError("until must be after start")
        self._clock = int(self.start.timestamp() * 1000)
        self._end = None if self.until is None else int(self.until.timestamp() * 1000)
        self._gap_ms = _DAY_MS / (len(self._profiles) * TX_PER_CUSTOMER_DAY)
        self._heap: list[tuple[int, int, Json]] = []
        self._order = 0
        self._seq = 0
        self._day = -1
        self._day_text = ""
        self._source = self._dicts()
        self._validate = _Validator()

    @classmethod
    def for_days(
        cls, world: World, seed: int, days: int, start: datetime | None = None, tx_prefix: str = "T", **rates: Any
    ) -> TransactionStream:
        """A stream that ends `days` days after `start` (`pattern_rates`, `lookalike_rates` as in the constructor)."""
        begin = (start or DEFAULT_START).astimezone(UTC)
        return cls(world, seed, start=begin, tx_prefix=tx_prefix, until=begin + timedelta(days=days), **rates)

    # -- public ---------------------------------------------------------------------------------

    def take(self, n: int) -> list[Transaction]:
        """The next `n` transactions as validated models (labelled)."""
        validate = self._validate
        return [validate(d) for d in islice(self._source, n)]

    def take_json(self, n: int) -> list[bytes]:
        """The next `n` transactions as contract-valid JSON bytes, without building models (fast)."""
        dumps = orjson.dumps
        return [dumps(d) for d in islice(self._source, n)]

    def take_dicts(self, n: int) -> list[dict[str, Any]]:
        """The next `n` transactions as plain dicts in the public JSON shape (do not mutate nested parts)."""
        return list(islice(self._source, n))

    def iter_dicts(self) -> Iterator[dict[str, Any]]:
        """The remaining transactions as plain dicts, one at a time (ends at `until`, if set)."""
        return self._source

    def __iter__(self) -> Iterator[Transaction]:
        for d in self._source:
            yield self._validate(d)

    # -- generation -----------------------------------------------------------------------------

    def _hour_table(self, hour: int, weekend: bool) -> list[float]:
        def weight(p: Profile) -> float:
            return p.activity * p.active_at(hour) * (0.3 if weekend and p.is_company else 1.0)

        return list(accumulate(weight(p) for p in self._profiles))

    def _dicts(self) -> Iterator[Json]:
        rng, heap, profiles = self._rng, self._heap, self._profiles
        patterns, lookalikes = self._patterns, self._lookalikes
        threshold, lookalike_rate = patterns.total_rate, lookalikes.total_rate
        end = self._end
        today = -1
        while True:
            hour = self._clock // _HOUR_MS % 24
            day = self._clock // _DAY_MS
            weekday = (day + 3) % 7  # 1970-01-01 was a Thursday; Monday is 0
            self._clock += 1 + int(rng.expovariate(1.0) * self._gap_ms / (_HOUR_RATE[hour] * WEEKDAY_RATE[weekday]))
            clock = self._clock
            if end is not None and clock >= end:
                break
            if clock // _DAY_MS != today:
                today = clock // _DAY_MS
                for ts, tx in self._payroll.day(today * _DAY_MS, clock):
                    self._push(ts, tx)
            table = self._tables[hour + 24 * (weekday >= 5)]
            profile = profiles[bisect(table, rng.random() * table[-1])]
            self._push(clock, self._normal(profile))
            if rng.random() < threshold:
                for ts, episode_tx in patterns.episode(clock):
                    self._push(ts, episode_tx)
            if rng.random() < lookalike_rate:
                for ts, episode_tx in lookalikes.episode(clock):
                    self._push(ts, episode_tx)
            while heap and heap[0][0] <= clock:
                ts, _, tx = heapq.heappop(heap)
                yield self._finish(ts, tx)
        while heap and heap[0][0] < end:  # type: ignore[operator]
            ts, _, tx = heapq.heappop(heap)
            yield self._finish(ts, tx)
        heap.clear()

    def _push(self, ts: int, tx: Json) -> None:
        self._order += 1
        heapq.heappush(self._heap, (ts, self._order, tx))

    def _finish(self, ts: int, tx: Json) -> Json:
        self._seq += 1
        day, ms = divmod(ts, _DAY_MS)
        if day != self._day:
            self._day = day
            self._day_text = datetime.fromtimestamp(day * 86_400, UTC).strftime("%Y-%m-%dT")
        h, ms = divmod(ms, _HOUR_MS)
        m, ms = divmod(ms, 60_000)
        s, ms = divmod(ms, 1000)
        stamp = f"{self._day_text}{h:02d}:{m:02d}:{s:02d}.{ms:03d}Z"
        return {"schema_version": "1", "tx_id": f"{self._prefix}-{self._seq:09d}", "ts": stamp, **tx}

    def _normal(self, p: Profile) -> Json:
        rng = self._rng
        rnd = rng.random  # seq[int(rnd() * len(seq))] is a much cheaper rng.choice(seq)
        tx_type, factor, _ = p.types[bisect(p.type_cum, rnd() * p.type_cum[-1])]
        usd = math.exp(rng.gauss(p.mu, p.sigma)) * factor
        devices = p.devices
        device, channel = devices[int(rnd() * len(devices))] if devices else (None, "online_banking")
        if tx_type == "card_purchase" or tx_type == "refund":
            shops = p.merchants if rnd() < 0.9 else self._merchants
            m = shops[int(rnd() * len(shops))]
            debtor, cur = p.card
            amount = amount_text(usd * m.share * catalog.FX_PER_USD[cur], cur)
            if tx_type == "refund":
                return body("refund", "card", amount, cur, m.creditor, debtor, LEGIT, merchant=m.merchant)
            online = device is not None and rnd() < 0.3
            return body(
                "card_purchase",
                "card",
                amount,
                cur,
                debtor,
                m.creditor,
                LEGIT,
                merchant=m.merchant,
                device=device if online else None,
                geo=p.geo if online else m.geo,
            )
        parties = p.parties
        debtor, cur = parties[0] if rnd() < 0.8 else parties[int(rnd() * len(parties))]
        local = usd * catalog.FX_PER_USD[cur]
        if tx_type == "transfer":
            payee = p.payees[int(rnd() * len(p.payees))]
            if p.is_company and payee["country"] != p.country and rnd() < 0.6:
                channel = "wire"
            return body(
                "transfer",
                channel,
                amount_text(local, cur),
                cur,
                debtor,
                payee,
                LEGIT,
                device=device,
                geo=p.geo,
                purpose=purpose(rng),
            )
        if tx_type == "payment":
            payees = p.payees if p.is_company else billers(p.country)
            return body(
                "payment",
                channel,
                amount_text(local, cur),
                cur,
                debtor,
                payees[int(rnd() * len(payees))],
                LEGIT,
                device=device,
                geo=p.geo,
                purpose=f"bill {int(rnd() * 1e6):06d}",
            )
        cash = cash_party(p.country, 1 + int(rnd() * 39))
        unit = _cash_unit(cur)
        amount = str(max(unit, round(local / unit) * unit))
        if tx_type == "withdrawal":
            ch = "atm" if rng.random() < 0.9 else "branch"
            return body("withdrawal", ch, amount, cur, debtor, cash, LEGIT, geo=p.geo)
        if tx_type == "deposit":
            ch = "branch" if rng.random() < 0.6 else "atm"
            return body("deposit", ch, amount, cur, cash, debtor, LEGIT, geo=p.geo)
        book = loan_book(p.country)
        return body("loan_disbursement", "branch", amount, cur, book, debtor, LEGIT, purpose="loan drawdown")
