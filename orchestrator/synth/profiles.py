"""Habits of each customer (amounts, devices, payees, merchants, hours) and the parties they deal with.

Parties are kept as plain dicts in the public Transaction JSON shape so the stream can assemble a
transaction without building pydantic objects; they are shared, never mutated.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from functools import cache
from itertools import accumulate
from typing import Any

from riskmesh.orchestrator.synth import catalog
from riskmesh.orchestrator.synth.world import World, company_name, person_name

__all__ = [
    "LEGIT",
    "TYPE_MIX",
    "Merchant",
    "Profile",
    "amount_text",
    "billers",
    "body",
    "build_merchants",
    "build_profiles",
    "cash_party",
    "city_geo",
    "external_party",
    "label",
    "loan_book",
    "own_bic",
    "purpose",
]

Json = dict[str, Any]

#: Habitual amount per segment in USD: (median, spread of the log).
_HABIT = {"retail": (45.0, 0.9), "private": (350.0, 1.0), "sme": (1200.0, 1.1), "corporate": (18_000.0, 1.2)}
#: (type, amount factor, weight) per segment: what a customer does, and how big relative to habit.
TYPE_MIX: dict[str, tuple[tuple[str, float, float], ...]] = {
    "retail": (
        ("card_purchase", 1.0, 56),
        ("transfer", 3.0, 17),
        ("payment", 1.5, 12),
        ("withdrawal", 2.0, 8),
        ("deposit", 3.0, 5),
        ("refund", 0.6, 1.5),
        ("loan_disbursement", 60.0, 0.5),
    ),
    "sme": (
        ("card_purchase", 0.5, 15),
        ("transfer", 1.5, 45),
        ("payment", 1.0, 25),
        ("withdrawal", 0.5, 3),
        ("deposit", 1.0, 10),
        ("refund", 0.3, 1),
        ("loan_disbursement", 30.0, 1),
    ),
    "corporate": (
        ("card_purchase", 0.05, 3),
        ("transfer", 1.5, 60),
        ("payment", 1.0, 30),
        ("deposit", 0.5, 5),
        ("loan_disbursement", 20.0, 2),
    ),
}
TYPE_MIX["private"] = TYPE_MIX["retail"]
_DEVICE_CHANNEL = {"mobile": "mobile", "desktop": "online_banking", "server": "api"}
_PURPOSES = (
    "invoice {n}",
    "rent",
    "family support",
    "salary {n}",
    "school fees",
    "loan repayment",
    "order {n}",
    None,
    None,
    None,
)


def own_bic(country: str) -> str:
    """The BIC of the synthetic bank's branch in `country`."""
    return f"RMSH{country}2LXXX"


def amount_text(local: float, currency: str) -> str:
    """A positive decimal string with the currency's usual precision."""
    if currency in catalog.WHOLE_UNIT_CURRENCIES:
        return str(max(1, round(local)))
    return f"{max(local, 0.01):.2f}"


LEGIT: Json = {"is_fraud": False, "pattern": None, "is_suspicious_aml": False}


def body(
    tx_type: str,
    channel: str,
    amount: str,
    currency: str,
    debtor: Json,
    creditor: Json,
    label: Json,
    merchant: Json | None = None,
    device: Json | None = None,
    geo: Json | None = None,
    purpose: str | None = None,
) -> Json:
    """A transaction without `schema_version`, `tx_id` and `ts` (the stream adds them in time order)."""
    out: Json = {
        "type": tx_type,
        "channel": channel,
        "amount": amount,
        "currency": currency,
        "debtor": debtor,
        "creditor": creditor,
    }
    if merchant is not None:
        out["merchant"] = merchant
    if device is not None:
        out["device"] = device
    if geo is not None:
        out["geo"] = geo
    if purpose is not None:
        out["purpose"] = purpose
    out["label"] = label
    return out


@cache
def label(pattern: str, fraud: bool, aml: bool) -> Json:
    """The (shared, never mutated) label dict of a pattern."""
    return {"is_fraud": fraud, "pattern": pattern, "is_suspicious_aml": aml}


@cache
def cash_party(country: str, point: int) -> Json:
    """The cash side of a deposit or withdrawal: an ATM or branch till in `country`."""
    return {
        "customer_id": None,
        "account_id": f"CASH-{country}-{point:04d}",
        "name": "cash",
        "country": country,
    }


@cache
def loan_book(country: str) -> Json:
    return {
        "customer_id": None,
        "account_id": f"LOANS-{country}",
        "name": "RiskMesh Bank loan book",
        "country": country,
        "bank_bic": own_bic(country),
    }


@cache
def city_geo(country: str) -> Json:
    _, lat, lon = catalog.CITIES[country][0]
    return {"lat": lat, "lon": lon, "country": country}


@cache
def billers(country: str) -> tuple[Json, ...]:
    """Utilities, telecom, insurance and the tax office of `country`: where bills go."""
    kinds = ("Power & Water", "Telecom", "Insurance", "Tax Bureau")
    return tuple(
        {
            "customer_id": None,
            "account_id": f"BILL-{country}-{i + 1:02d}",
            "name": f"{country} {kind}",
            "country": country,
            "bank_bic": catalog.bank_bic(country, i),
        }
        for i, kind in enumerate(kinds)
    )


@dataclass(slots=True)
class Merchant:
    merchant: Json  # {"mcc", "merchant_id", "country"}
    creditor: Json  # the merchant's settlement account
    share: float  # typical ticket as a share of the customer's habitual amount
    geo: Json


@dataclass(slots=True)
class Profile:
    """What is normal for one customer; the stream draws from it."""

    customer_id: str
    segment: str
    country: str
    is_company: bool
    parties: list[tuple[Json, str]]  # (party dict, currency) per active account
    card: tuple[Json, str]
    mu: float  # log of the habitual amount in USD
    sigma: float
    devices: list[tuple[Json, str]]  # (device dict, channel)
    geo: Json
    payees: list[Json]
    merchants: list[Merchant]
    hour_center: float
    hour_width: float
    activity: float
    type_cum: list[float] = field(default_factory=list)
    types: tuple[tuple[str, float, float], ...] = ()
    opened: float = 0.0  # when the oldest active account was opened (epoch seconds)
    born: int = 0  # year of birth, 0 for companies

    def active_at(self, hour: int) -> float:
        """Relative chance that this customer transacts at `hour` (circular distance to its habit)."""
        d = abs(hour - self.hour_center) % 24
        d = min(d, 24 - d)
        return 1.0 if d <= self.hour_width else 0.15


def build_merchants(rng: random.Random, countries: list[str], per_country: int = 24) -> list[Merchant]:
    merchants: list[Merchant] = []
    for country in countries:
        for _ in range(per_country):
            mcc, stem, share = rng.choice(catalog.MCC_TABLE)
            city, lat, lon = rng.choice(catalog.CITIES[country])
            n = len(merchants) + 1
            merchants.append(
                Merchant(
                    merchant={"mcc": mcc, "merchant_id": f"M{n:05d}", "country": country},
                    creditor={
                        "account_id": f"MA{n:05d}",
                        "name": f"{stem} {city}",
                        "country": country,
                        "bank_bic": catalog.bank_bic(country, rng.randrange(5)),
                    },
                    share=share,
                    geo={"lat": lat, "lon": lon, "country": country},
                )
            )
    return merchants


def external_party(rng: random.Random, country: str, company: bool) -> Json:
    return {
        "customer_id": None,
        "account_id": f"X{rng.getrandbits(44):013d}",
        "name": company_name(rng, country) if company else person_name(rng, country),
        "country": country,
        "bank_bic": catalog.bank_bic(country, rng.randrange(5)),
    }


def build_profiles(world: World, rng: random.Random, merchants: list[Merchant]) -> list[Profile]:
    """One profile per customer with at least one active account, in world order."""
    by_customer: dict[str, list[Json]] = {}
    opened: dict[str, float] = {}
    for acc in world.accounts:
        if acc.status == "active":
            since = acc.opened_at.timestamp()
            opened[acc.customer_id] = min(opened.get(acc.customer_id, since), since)
            party = {
                "customer_id": acc.customer_id,
                "account_id": acc.account_id,
                "currency": acc.currency,
                "product": acc.product,
            }
            by_customer.setdefault(acc.customer_id, []).append(party)
    devices: dict[str, list[tuple[Json, str]]] = {}
    for dev in world.devices:
        entry = {
            "device_id": dev.device_id,
            "ip": dev.metadata.get("ip"),
            "user_agent": dev.metadata.get("user_agent"),
        }
        for cid in dev.customer_ids:
            devices.setdefault(cid, []).append(
                (entry, _DEVICE_CHANNEL.get(dev.metadata.get("kind", ""), "mobile"))
            )
    by_country: dict[str, list[Merchant]] = {}
    for m in merchants:
        by_country.setdefault(m.merchant["country"], []).append(m)
    internal: list[Json] = []
    profiles: list[Profile] = []
    for c in world.customers:
        accounts = by_customer.get(c.customer_id)
        if not accounts:
            continue
        parties = [
            (
                {
                    "customer_id": c.customer_id,
                    "account_id": a["account_id"],
                    "name": c.name,
                    "country": c.country,
                    "bank_bic": own_bic(c.country),
                },
                a["currency"],
            )
            for a in accounts
        ]
        card = next(
            (p for p, a in zip(parties, accounts, strict=True) if a["product"] == "credit_card"), parties[0]
        )
        internal.append(parties[0][0])
        median, sigma = _HABIT[c.segment]
        city = next((x for x in catalog.CITIES[c.country] if x[0] == c.metadata.get("city")), None)
        city = city or catalog.CITIES[c.country][0]
        company = c.type == "company"
        local = by_country.get(c.country) or merchants
        profile = Profile(
            customer_id=c.customer_id,
            segment=c.segment,
            country=c.country,
            is_company=company,
            parties=parties,
            card=card,
            mu=math.log(median) + rng.gauss(0.0, 0.5),
            sigma=sigma * rng.uniform(0.6, 1.0),
            devices=devices.get(c.customer_id) or [],
            geo={"lat": city[1], "lon": city[2], "country": c.country},
            payees=[],
            merchants=rng.sample(local, k=min(len(local), rng.randint(4, 10))),
            hour_center=rng.gauss(13.0, 2.5) if company else rng.gauss(14.5, 3.5),
            hour_width=rng.uniform(3.0, 5.0) if company else rng.uniform(3.0, 7.0),
            activity=rng.lognormvariate(0.0, 0.7) * (2.0 if company else 1.0),
            types=TYPE_MIX[c.segment],
            opened=opened[c.customer_id],
            born=c.date_of_birth.year if c.date_of_birth else 0,
        )
        profile.type_cum = list(accumulate(w for _, _, w in profile.types))
        profiles.append(profile)
    for p in profiles:
        p.payees = _payees(rng, p, internal)
    return profiles


def _payees(rng: random.Random, profile: Profile, internal: list[Json]) -> list[Json]:
    payees = []
    for _ in range(rng.randint(2, 8 if profile.is_company else 5)):
        if internal and rng.random() < 0.35:
            candidate = rng.choice(internal)
            if candidate["customer_id"] != profile.customer_id:
                payees.append(candidate)
                continue
        abroad = rng.random() < (0.3 if profile.is_company else 0.1)
        country = rng.choice(("CN", "HK", "SG", "US", "GB", "DE", "JP", "AE")) if abroad else profile.country
        payees.append(external_party(rng, country, profile.is_company or rng.random() < 0.3))
    return payees


def purpose(rng: random.Random) -> str | None:
    """A free-text payment purpose, or None (most transfers carry none or a reference)."""
    template = _PURPOSES[int(rng.random() * len(_PURPOSES))]
    return None if template is None else template.format(n=1000 + int(rng.random() * 98_999))
