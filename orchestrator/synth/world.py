"""The seeded synthetic world: customers, accounts, credit, a watchlist and devices.

`World.generate(seed, customers)` is deterministic for a seed; `write`/`read` use the public
reference JSONL formats (CONTRACTS.md), so a written world loads straight into the MCP stores.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel

from riskmesh.contracts import Account, CreditRecord, Customer, DeviceRecord, WatchlistEntry
from riskmesh.orchestrator.synth import catalog
from riskmesh.orchestrator.synth.sanctions import generate_watchlist

__all__ = ["AS_OF", "World", "branch_of", "company_name", "person_name"]

AS_OF = datetime(2025, 12, 31, tzinfo=UTC)
"""Reference data is a snapshot taken at this time; streams start after it."""

_SEGMENTS = ("retail", "sme", "corporate", "private")
_SEGMENT_WEIGHTS = (70, 17, 5, 8)
_RATINGS = ("AAA", "AA", "A", "BBB", "BB", "B", "CCC", "D")
_RATING_WEIGHTS = (2, 6, 18, 30, 24, 14, 5, 1)
_RATING_PD = (0.0002, 0.0005, 0.001, 0.003, 0.012, 0.045, 0.20, 1.0)
_DAILY_LIMIT = {"retail": 20_000, "private": 250_000, "sme": 150_000, "corporate": 5_000_000}  # USD
_RECENT_SHARE = 0.1
"""Share of customers onboarded in the eight months before the snapshot (new accounts: where mules hide)."""
_CREDIT_LIMIT = {"retail": 15_000, "private": 300_000, "sme": 250_000, "corporate": 20_000_000}  # USD

M = TypeVar("M", bound=BaseModel)

_BRANCHES = {(country, city[0]): f"BR-{n:04d}" for n, (country, city) in enumerate(
    ((country, city) for country, cities in catalog.CITIES.items() for city in cities), start=1)}


def branch_of(country: str, city: str) -> str:
    """The home branch of a customer in `city`: one branch per catalogue city, BR-0001 = the first one.

    Derived, not drawn, so adding it changed no random draw of the world. Reference files carry it as
    an extra `branch` field, which the Customer contract keeps in `metadata` (CONTRACTS.md).
    """
    return _BRANCHES[(country, city)]


def person_name(rng: random.Random, country: str) -> str:
    given, family = catalog.PERSON_NAMES.get(country, catalog.PERSON_NAMES["*"])
    if country in ("CN", "HK"):
        return f"{rng.choice(family)} {rng.choice(given)}"
    return f"{rng.choice(given)} {rng.choice(family)}"


def company_name(rng: random.Random, country: str) -> str:
    suffix = catalog.COMPANY_SUFFIX.get(country, catalog.COMPANY_SUFFIX["*"])
    return f"{rng.choice(catalog.COMPANY_WORDS)} {rng.choice(catalog.COMPANY_KIND)} {suffix}"


def _moment(rng: random.Random, start: datetime, end: datetime) -> datetime:
    seconds = int((end - start).total_seconds())
    return start + timedelta(seconds=rng.randrange(seconds))


def _local_amount(usd: float, currency: str) -> Decimal:
    value = usd * catalog.FX_PER_USD.get(currency, 1.0)
    return Decimal(int(round(value, -2)))


@dataclass
class World:
    """Reference data of one synthetic bank. Lists keep generation order (ids ascending)."""

    customers: list[Customer] = field(default_factory=list)
    accounts: list[Account] = field(default_factory=list)
    credit: list[CreditRecord] = field(default_factory=list)
    watchlist: list[WatchlistEntry] = field(default_factory=list)
    devices: list[DeviceRecord] = field(default_factory=list)

    FILES = ("customers", "accounts", "credit", "watchlist", "devices")

    @classmethod
    def generate(cls, seed: int, customers: int) -> World:
        """A world of `customers` customers; the same seed always gives the same world."""
        rng = random.Random(seed)
        world = cls(watchlist=generate_watchlist(random.Random(f"watchlist:{seed}")))
        countries = list(catalog.COUNTRY_WEIGHTS)
        weights = list(catalog.COUNTRY_WEIGHTS.values())
        for n in range(1, customers + 1):
            customer = _customer(rng, f"C{n:06d}", rng.choices(countries, weights=weights)[0])
            world.customers.append(customer)
            world.accounts.extend(_accounts(rng, customer))
            if rng.random() < 0.7:
                world.credit.append(_credit(rng, customer))
            world.devices.extend(_devices(rng, customer))
        _share_some_devices(rng, world)
        return world

    def write(self, directory: Path) -> None:
        """Write one `<kind>.jsonl` per reference kind, one `model_dump_json()` per line."""
        directory.mkdir(parents=True, exist_ok=True)
        for name in self.FILES:
            records: Sequence[BaseModel] = getattr(self, name)
            text = "".join(r.model_dump_json() + "\n" for r in records)
            (directory / f"{name}.jsonl").write_text(text, encoding="utf-8")

    @classmethod
    def read(cls, directory: Path) -> World:
        """Load a world written by `write` (or any reference JSONL files of the same kinds)."""
        return cls(
            customers=_read(directory / "customers.jsonl", Customer),
            accounts=_read(directory / "accounts.jsonl", Account),
            credit=_read(directory / "credit.jsonl", CreditRecord),
            watchlist=_read(directory / "watchlist.jsonl", WatchlistEntry),
            devices=_read(directory / "devices.jsonl", DeviceRecord),
        )


def _read(path: Path, model: type[M]) -> list[M]:
    if not path.exists():
        return []
    with path.open("rb") as fh:
        return [model.model_validate_json(line) for line in fh if line.strip()]


def _customer(rng: random.Random, customer_id: str, country: str) -> Customer:
    segment = rng.choices(_SEGMENTS, weights=_SEGMENT_WEIGHTS)[0]
    is_person = segment in ("retail", "private") or (segment == "sme" and rng.random() < 0.25)
    city = rng.choice(catalog.CITIES[country])[0]
    kyc = rng.choices(("low", "medium", "high"), weights=(72, 23, 5))[0]
    pep = is_person and rng.random() < (0.05 if segment == "private" else 0.004)
    recent = rng.random() < _RECENT_SHARE
    since = AS_OF - timedelta(days=240) if recent else datetime(2010, 1, 1, tzinfo=UTC)
    dob = None
    if is_person:
        dob = date(rng.randint(1945, 2005), rng.randint(1, 12), rng.randint(1, 28))
    return Customer(
        customer_id=customer_id,
        name=person_name(rng, country) if is_person else company_name(rng, country),
        type="person" if is_person else "company",
        country=country,
        date_of_birth=dob,
        segment=segment,  # type: ignore[arg-type]
        kyc_risk="high" if pep else kyc,  # type: ignore[arg-type]
        pep=pep,
        onboarded_at=_moment(rng, since, AS_OF - timedelta(days=10)),
        metadata={"city": city, "branch": branch_of(country, city)},
    )


def _accounts(rng: random.Random, customer: Customer) -> list[Account]:
    home = catalog.COUNTRY_CURRENCY[customer.country]
    company = customer.type == "company"
    plan = [("business_current" if company else "current", home)]
    n = rng.choices((1, 2, 3), weights=(45, 40, 15))[0]
    if n >= 2:
        plan.append(("fx_current", "USD" if home != "USD" else "EUR") if company else ("credit_card", home))
    if n >= 3:
        plan.append(("savings", home) if not company else ("fx_current", "EUR" if home != "EUR" else "GBP"))
    accounts = []
    for i, (product, currency) in enumerate(plan, start=1):
        status = rng.choices(("active", "frozen", "closed"), weights=(96.5, 2.0, 1.5))[0]
        if i == 1 and status == "closed":
            status = "active"
        limit = _DAILY_LIMIT[customer.segment] * rng.choice((0.5, 1.0, 1.0, 2.0))
        accounts.append(
            Account(
                account_id=f"A{customer.customer_id[1:]}-{i:02d}",
                customer_id=customer.customer_id,
                opened_at=_moment(rng, customer.onboarded_at, AS_OF - timedelta(days=7)),
                product=product,
                currency=currency,
                status=status,  # type: ignore[arg-type]
                daily_limit=_local_amount(limit, currency),
            )
        )
    return accounts


def _credit(rng: random.Random, customer: Customer) -> CreditRecord:
    grade = rng.choices(range(len(_RATINGS)), weights=_RATING_WEIGHTS)[0]
    delinquent = rng.random() < 0.05 + 0.04 * max(0, grade - 4)
    dpd = rng.choice((15, 30, 45, 60, 90, 120, 180)) if delinquent or grade == 7 else 0
    pd = min(1.0, _RATING_PD[grade] * rng.uniform(0.7, 1.4) * (3.0 if dpd >= 90 else 1.0))
    currency = catalog.COUNTRY_CURRENCY[customer.country]
    limit = _local_amount(_CREDIT_LIMIT[customer.segment] * rng.uniform(0.3, 2.0), currency)
    utilisation = rng.betavariate(2, 3) if dpd == 0 else rng.uniform(0.85, 1.15)
    return CreditRecord(
        customer_id=customer.customer_id,
        rating=_RATINGS[grade],
        pd=round(pd, 5),
        limit=limit,
        exposure=Decimal(int(limit * Decimal(str(round(utilisation, 3))))),
        days_past_due=dpd,
        as_of=AS_OF,
        metadata={"currency": currency},
    )


def _devices(rng: random.Random, customer: Customer) -> list[DeviceRecord]:
    company = customer.type == "company"
    kinds = ["server"] if company and customer.segment == "corporate" else ["mobile"]
    kinds += ["desktop"] * rng.choice((0, 1, 1, 2) if company else (0, 0, 1))
    if not company and rng.random() < 0.2:
        kinds.append("mobile")  # a second phone or a tablet
    prefixes = catalog.IP_PREFIX.get(customer.country, (100, 150, 200))
    records = []
    for kind in kinds:
        device_id = f"D-{rng.getrandbits(40):010x}"
        ip = f"{rng.choice(prefixes)}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
        records.append(
            DeviceRecord(
                device_id=device_id,
                first_seen=_moment(rng, customer.onboarded_at, AS_OF),
                customer_ids=[customer.customer_id],
                metadata={"kind": kind, "ip": ip, "user_agent": rng.choice(catalog.USER_AGENTS[kind])},
            )
        )
    return records


def _share_some_devices(rng: random.Random, world: World) -> None:
    """A few households share a tablet: add a second customer to ~2% of person devices."""
    persons = [c.customer_id for c in world.customers if c.type == "person"]
    if len(persons) < 2:
        return
    for i, device in enumerate(world.devices):
        if device.metadata.get("kind") == "mobile" and rng.random() < 0.02:
            other = rng.choice(persons)
            if other not in device.customer_ids:
                world.devices[i] = device.model_copy(update={"customer_ids": [*device.customer_ids, other]})
