"""What pattern and look-alike builders share: the stream's random generator, pools of customers, helpers.

An episode is a list of `(ts_ms, tx body)` pairs, every ts at or after the time the episode
starts, so that the stream can merge it in time order.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from decimal import Decimal
from typing import TypeVar

from riskmesh.contracts import CreditRecord
from riskmesh.orchestrator.synth import catalog
from riskmesh.orchestrator.synth.profiles import Json, Merchant, Profile, amount_text
from riskmesh.orchestrator.synth.world import AS_OF, World

__all__ = ["DAY", "HOUR", "MIN", "Episode", "Kit", "cash_amount", "new_ip"]

Episode = list[tuple[int, Json]]
MIN = 60_000
HOUR = 3_600_000
DAY = 86_400_000
T = TypeVar("T")

_RECENT_S = 365 * 86_400
"""Accounts opened within a year of the snapshot count as new (mules are recruited among them)."""
_DEVICE_CHANNEL = {"mobile": "mobile", "desktop": "online_banking"}


def new_ip(rng: random.Random, country: str) -> str:
    first = rng.choice(catalog.IP_PREFIX.get(country, (100, 150, 200)))
    return f"{first}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"


def cash_amount(local: float, currency: str) -> str:
    """A cash amount rounded to the notes an ATM or a till hands out."""
    fx = catalog.FX_PER_USD.get(currency, 1.0)
    unit = 10 if fx < 5 else 100 if fx < 50 else 1000 if fx < 500 else 10_000
    return str(max(unit, round(local / unit) * unit))


class Kit:
    """Pools of customers and merchants plus the helpers every builder needs."""

    def __init__(self, world: World, profiles: list[Profile], merchants: list[Merchant], rng: random.Random) -> None:
        self.rng = rng
        self.profiles = profiles
        self.persons = [p for p in profiles if not p.is_company] or profiles
        self.companies = [p for p in profiles if p.is_company] or profiles
        self.merchants = merchants
        self.by_currency: dict[str, list[Profile]] = {}
        for p in profiles:
            self.by_currency.setdefault(p.parties[0][1], []).append(p)
        recent = AS_OF.timestamp() - _RECENT_S
        self.new_persons = [p for p in self.persons if p.opened >= recent]
        if len(self.new_persons) < 6:
            self.new_persons = self.persons
        self.elderly = [p for p in self.persons if 0 < p.born <= 1965] or self.persons
        self.structurers = [p for p in profiles if p.parties[0][1] in catalog.REPORTING_THRESHOLD] or profiles
        self.screened = [e for e in world.watchlist if e.type in ("person", "entity")]
        self.mcc_index: dict[str, list[Merchant]] = {}
        self.country_index: dict[str, list[Merchant]] = {}
        for m in merchants:
            self.mcc_index.setdefault(m.merchant["mcc"], []).append(m)
            self.country_index.setdefault(m.merchant["country"], []).append(m)
        credit = {r.customer_id: r for r in world.credit}
        self.credit_lines: list[tuple[Profile, CreditRecord]] = [
            (p, credit[p.customer_id])
            for p in profiles
            if p.segment in ("retail", "private", "sme")
            and p.customer_id in credit
            and credit[p.customer_id].days_past_due == 0
            and credit[p.customer_id].exposure < credit[p.customer_id].limit * Decimal("0.7")
        ]
        self.busted: dict[str, Decimal] = {}
        """customer_id -> amount drawn in a credit bust-out, in the credit line's currency."""

    # -- choices --------------------------------------------------------------------------------

    def pick(self, seq: Sequence[T]) -> T:
        return seq[int(self.rng.random() * len(seq))]

    def mule(self) -> Profile:
        """A mule: usually a person with a new account, sometimes a long-standing customer recruited."""
        return self.pick(self.new_persons if self.rng.random() < 0.8 else self.persons)

    def shops(self, mccs: Sequence[str], country: str | None = None) -> list[Merchant]:
        """Merchants with one of `mccs`, in `country` when there are any there."""
        found = [m for mcc in mccs for m in self.mcc_index.get(mcc, ())]
        local = [m for m in found if m.merchant["country"] == country] if country else []
        return local or found or (self.country_index.get(country or "", []) or self.merchants)

    # -- amounts, devices -----------------------------------------------------------------------

    def usd(self, p: Profile, low: float, high: float) -> float:
        """`low`..`high` (log-uniform) times the customer's habitual amount, in USD."""
        return math.exp(p.mu) * math.exp(self.rng.uniform(math.log(low), math.log(high)))

    def habit(self, p: Profile, currency: str, low: float, high: float) -> str:
        """An amount `low`..`high` times the customer's habitual amount, in `currency`."""
        return amount_text(self.usd(p, low, high) * catalog.FX_PER_USD[currency], currency)

    def new_device(self, country: str, kind: str = "mobile", ip: str | None = None) -> Json:
        rng = self.rng
        return {
            "device_id": f"D-{rng.getrandbits(40):010x}",
            "ip": ip or new_ip(rng, country),
            "user_agent": rng.choice(catalog.USER_AGENTS[kind]),
        }

    def new_device_channel(self, country: str, ip: str | None = None) -> tuple[Json, str]:
        kind = "mobile" if self.rng.random() < 0.7 else "desktop"
        return self.new_device(country, kind, ip), _DEVICE_CHANNEL[kind]

    def own_device(self, p: Profile) -> tuple[Json | None, str]:
        return self.pick(p.devices) if p.devices else (None, "online_banking")

    def fresh_account(self, prefix: str = "X") -> str:
        return f"{prefix}{self.rng.getrandbits(44):013d}"
