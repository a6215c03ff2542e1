"""Labelled fraud and AML patterns injected into the stream at low base rates.

Each pattern returns an episode: `(ts_ms, tx body)` pairs, every ts at or after the time the
episode starts, so the stream can merge them in time order. Labels:
- fraud (`is_fraud`): account_takeover, card_testing, app_scam, and the pass-through legs of mule;
- AML only (`is_suspicious_aml`, not fraud): structuring, sanctions_exposure, high_risk_jurisdiction,
  and the fan-in legs of mule (mule legs are all suspicious for AML).
"""

from __future__ import annotations

import math
import random
from bisect import bisect
from collections.abc import Callable
from itertools import accumulate

from riskmesh.orchestrator.synth import catalog
from riskmesh.orchestrator.synth.profiles import (
    Json,
    Merchant,
    Profile,
    amount_text,
    body,
    cash_party,
    city_geo,
    external_party,
    label,
    purpose,
)
from riskmesh.orchestrator.synth.sanctions import near_miss
from riskmesh.orchestrator.synth.world import World, company_name

__all__ = ["PATTERN_RATES", "PatternBook"]

Episode = list[tuple[int, Json]]

#: Episodes started per normal transaction. Expected share of is_fraud transactions is ~1.3%.
PATTERN_RATES: dict[str, float] = {
    "account_takeover": 0.002,
    "card_testing": 0.0007,
    "mule": 0.0005,
    "app_scam": 0.0025,
    "structuring": 0.0008,
    "sanctions_exposure": 0.0008,
    "high_risk_jurisdiction": 0.001,
}
_FRAUDSTER_COUNTRIES = ("NG", "RU", "VN", "PH", "ID", "TR")
_MIN = 60_000
_HOUR = 3_600_000


class PatternBook:
    """Chooses and builds pattern episodes; shares the stream's random generator."""

    def __init__(
        self, world: World, profiles: list[Profile], merchants: list[Merchant], rng: random.Random
    ) -> None:
        self._rng = rng
        self._profiles = profiles
        self._persons = [p for p in profiles if not p.is_company] or profiles
        self._companies = [p for p in profiles if p.is_company] or profiles
        self._structurers = [
            p for p in profiles if p.parties[0][1] in catalog.REPORTING_THRESHOLD
        ] or profiles
        self._by_currency: dict[str, list[Profile]] = {}
        for p in profiles:
            self._by_currency.setdefault(p.parties[0][1], []).append(p)
        self._testing_merchants = [
            m for m in merchants if m.merchant["mcc"] in ("5815", "5816", "5999", "4829")
        ]
        self._cashout_merchants = [m for m in merchants if m.merchant["mcc"] in ("5732", "5944")]
        self._testing_merchants = self._testing_merchants or merchants
        self._cashout_merchants = self._cashout_merchants or merchants
        self._screened = [e for e in world.watchlist if e.type in ("person", "entity")]
        builders: dict[str, Callable[[int], Episode]] = {
            "account_takeover": self.account_takeover,
            "card_testing": self.card_testing,
            "mule": self.mule,
            "app_scam": self.app_scam,
            "structuring": self.structuring,
            "sanctions_exposure": self.sanctions_exposure,
            "high_risk_jurisdiction": self.high_risk_jurisdiction,
        }
        if not self._screened:
            builders.pop("sanctions_exposure")
        self._builders = list(builders.values())
        self._cum = list(accumulate(PATTERN_RATES[name] for name in builders))
        self.total_rate = self._cum[-1]

    def episode(self, start: int) -> Episode:
        """One episode of a pattern chosen in proportion to its rate."""
        i = min(len(self._builders) - 1, bisect(self._cum, self._rng.random() * self.total_rate))
        return self._builders[i](start)

    # -- helpers --------------------------------------------------------------------------------

    def _habit(self, p: Profile, currency: str, low: float, high: float) -> str:
        """An amount `low`..`high` times the customer's habitual amount, in `currency`."""
        usd = math.exp(p.mu) * self._rng.uniform(low, high)
        return amount_text(usd * catalog.FX_PER_USD[currency], currency)

    def _new_device(self, country: str, kind: str = "mobile") -> Json:
        rng = self._rng
        first = rng.choice(catalog.IP_PREFIX.get(country, (100, 150, 200)))
        return {
            "device_id": f"D-{rng.getrandbits(40):010x}",
            "ip": f"{first}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}",
            "user_agent": rng.choice(catalog.USER_AGENTS[kind]),
        }

    def _own_device(self, p: Profile) -> tuple[Json | None, str]:
        return self._rng.choice(p.devices) if p.devices else (None, "online_banking")

    # -- patterns -------------------------------------------------------------------------------

    def account_takeover(self, t: int) -> Episode:
        """New device, new country, new payee, amount far above habit; sometimes a second drain."""
        rng = self._rng
        victim = rng.choice(self._profiles)
        where = rng.choice(_FRAUDSTER_COUNTRIES)
        device, geo = self._new_device(where), city_geo(where)
        payee = external_party(rng, rng.choice((where, "HK", victim.country)), company=False)
        debtor, cur = victim.parties[0]
        tag = label("account_takeover", True, False)
        out = []
        for _ in range(rng.choice((1, 1, 2))):
            t += rng.randint(2 * _MIN, 20 * _MIN)
            amount = self._habit(victim, cur, 15, 50)
            out.append(
                (
                    t,
                    body(
                        "transfer",
                        rng.choice(("mobile", "online_banking")),
                        amount,
                        cur,
                        debtor,
                        payee,
                        tag,
                        device=device,
                        geo=geo,
                        purpose=purpose(rng),
                    ),
                )
            )
        return out

    def card_testing(self, t: int) -> Episode:
        """A burst of tiny card-not-present purchases, then a big one."""
        rng = self._rng
        victim = rng.choice(self._persons)
        debtor, cur = victim.card
        device = self._new_device(rng.choice(_FRAUDSTER_COUNTRIES), "desktop")
        tag = label("card_testing", True, False)
        out = []
        for _ in range(rng.randint(5, 12)):
            t += rng.randint(5_000, 90_000)
            m = rng.choice(self._testing_merchants)
            tiny = amount_text(rng.uniform(0.5, 3.0) * catalog.FX_PER_USD[cur], cur)
            out.append(
                (
                    t,
                    body(
                        "card_purchase",
                        "card",
                        tiny,
                        cur,
                        debtor,
                        m.creditor,
                        tag,
                        merchant=m.merchant,
                        device=device,
                    ),
                )
            )
        t += rng.randint(2 * _MIN, 30 * _MIN)
        m = rng.choice(self._cashout_merchants)
        big = self._habit(victim, cur, 10, 40)
        out.append(
            (
                t,
                body(
                    "card_purchase",
                    "card",
                    big,
                    cur,
                    debtor,
                    m.creditor,
                    tag,
                    merchant=m.merchant,
                    device=device,
                ),
            )
        )
        return out

    def mule(self, t: int) -> Episode:
        """Fan-in from many senders, then rapid pass-through out to a fresh beneficiary."""
        rng = self._rng
        mule = rng.choice(self._persons)
        account, cur = mule.parties[0]
        peers = [p for p in self._by_currency.get(cur, []) if p is not mule]
        fan_in = label("mule", False, True)
        out: Episode = []
        total = 0.0
        for _ in range(rng.randint(4, 10)):
            t += rng.randint(5 * _MIN, 45 * _MIN)
            local = rng.uniform(300, 3000) * catalog.FX_PER_USD[cur]
            total += local
            if peers and rng.random() < 0.5:
                sender = rng.choice(peers)
                device, channel = self._own_device(sender)
                debtor, geo = sender.parties[0][0], sender.geo
            else:
                debtor, device, channel, geo = (
                    external_party(rng, mule.country, False),
                    None,
                    "online_banking",
                    None,
                )
            out.append(
                (
                    t,
                    body(
                        "transfer",
                        channel,
                        amount_text(local, cur),
                        cur,
                        debtor,
                        account,
                        fan_in,
                        device=device,
                        geo=geo,
                    ),
                )
            )
        beneficiary = external_party(rng, rng.choice(("HK", "AE", "TR", "MY", mule.country)), company=True)
        device, channel = self._own_device(mule)
        remaining = total * rng.uniform(0.9, 0.98)
        legs = rng.randint(1, 3)
        for _ in range(legs):
            t += rng.randint(2 * _MIN, 20 * _MIN)
            out.append(
                (
                    t,
                    body(
                        "transfer",
                        channel,
                        amount_text(remaining / legs, cur),
                        cur,
                        account,
                        beneficiary,
                        label("mule", True, True),
                        device=device,
                        geo=mule.geo,
                    ),
                )
            )
        return out

    def app_scam(self, t: int) -> Episode:
        """The customer, on their own device, pays a new payee with a scam-like purpose."""
        rng = self._rng
        victim = rng.choice(self._persons)
        debtor, cur = victim.parties[0]
        device, channel = self._own_device(victim)
        payee = external_party(rng, rng.choice((victim.country, victim.country, "HK", "MY", "KH")), False)
        text = rng.choice(catalog.SCAM_PURPOSES)
        tag = label("app_scam", True, False)
        out = []
        for _ in range(1 if rng.random() < 0.7 else 2):
            t += rng.randint(_MIN, 20 * _HOUR)
            out.append(
                (
                    t,
                    body(
                        "transfer",
                        channel,
                        self._habit(victim, cur, 8, 30),
                        cur,
                        debtor,
                        payee,
                        tag,
                        device=device,
                        geo=victim.geo,
                        purpose=text,
                    ),
                )
            )
        return out

    def structuring(self, t: int) -> Episode:
        """Several cash deposits or transfers just below the reporting threshold."""
        rng = self._rng
        p = rng.choice(self._structurers)
        account, cur = p.parties[0]
        limit = catalog.REPORTING_THRESHOLD.get(cur, 10_000)
        tag = label("structuring", False, True)
        payee = rng.choice(p.payees)
        device, channel = self._own_device(p)
        out = []
        for point in range(rng.randint(3, 6)):
            t += rng.randint(20 * _MIN, 8 * _HOUR)
            amount = str(int(limit * rng.uniform(0.86, 0.995)) // 10 * 10)
            if rng.random() < 0.7:
                cash = cash_party(p.country, point + 1)
                tx = body(
                    "deposit", rng.choice(("branch", "atm")), amount, cur, cash, account, tag, geo=p.geo
                )
            else:
                tx = body("transfer", channel, amount, cur, account, payee, tag, device=device, geo=p.geo)
            out.append((t, tx))
        return out

    def sanctions_exposure(self, t: int) -> Episode:
        """A transfer to a creditor whose name is a near miss of a watchlist name or alias."""
        rng = self._rng
        p = rng.choice(self._companies if rng.random() < 0.6 else self._profiles)
        entry = rng.choice(self._screened)
        name = near_miss(
            rng.choice([entry.name, *entry.aliases[:1]]), rng, avoid=[entry.name, *entry.aliases]
        )
        country = entry.countries[0] if entry.countries else rng.choice(catalog.HIGH_RISK_COUNTRIES)
        creditor = {
            "customer_id": None,
            "account_id": f"X{rng.getrandbits(44):013d}",
            "name": name,
            "country": country,
            "bank_bic": catalog.bank_bic(country, rng.randrange(3)),
        }
        debtor, cur = p.parties[0]
        device, channel = self._own_device(p)
        tx = body(
            "transfer",
            "wire" if p.is_company else channel,
            self._habit(p, cur, 1, 5),
            cur,
            debtor,
            creditor,
            label("sanctions_exposure", False, True),
            device=device,
            geo=p.geo,
            purpose=purpose(rng),
        )
        return [(t + rng.randint(1_000, 10 * _MIN), tx)]

    def high_risk_jurisdiction(self, t: int) -> Episode:
        """A transfer to a creditor in a high-risk jurisdiction (IR, KP, SY, MM)."""
        rng = self._rng
        p = rng.choice(self._profiles)
        country = rng.choice(catalog.HIGH_RISK_COUNTRIES)
        creditor = {
            "customer_id": None,
            "account_id": f"X{rng.getrandbits(44):013d}",
            "name": company_name(rng, country),
            "country": country,
            "bank_bic": catalog.bank_bic(country, rng.randrange(3)),
        }
        debtor, cur = p.parties[0]
        device, channel = self._own_device(p)
        tx = body(
            "transfer",
            "wire" if p.is_company else channel,
            self._habit(p, cur, 1, 6),
            cur,
            debtor,
            creditor,
            label("high_risk_jurisdiction", False, True),
            device=device,
            geo=p.geo,
            purpose=purpose(rng),
        )
        return [(t + rng.randint(1_000, 10 * _MIN), tx)]
