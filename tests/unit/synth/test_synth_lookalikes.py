"""Legitimate look-alikes and calendar rhythms: they resemble the patterns, yet stay unlabelled."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from riskmesh.contracts import Transaction
from riskmesh.orchestrator.synth import LOOKALIKE_RATES, World, lookalikes
from riskmesh.orchestrator.synth.catalog import LEGIT_PURPOSES, REPORTING_THRESHOLD
from riskmesh.orchestrator.synth.kit import DAY, Episode, Kit
from riskmesh.orchestrator.synth.profiles import LEGIT, build_merchants, build_profiles

T0 = int(datetime(2026, 1, 6, tzinfo=UTC).timestamp() * 1000)


@pytest.fixture
def kit(boosted_world: World) -> Kit:
    rng = random.Random(3)
    merchants = build_merchants(random.Random(4), sorted({c.country for c in boosted_world.customers}))
    return Kit(boosted_world, build_profiles(boosted_world, rng, merchants), merchants, rng)


def episodes(kit: Kit, name: str, count: int = 40) -> list[Episode]:
    builder = getattr(lookalikes, name)
    return [builder(kit, T0) for _ in range(count)]


@pytest.mark.parametrize("name", sorted(LOOKALIKE_RATES))
def test_every_look_alike_is_labelled_legitimate_and_starts_no_earlier_than_asked(kit: Kit, name: str) -> None:
    for episode in episodes(kit, name):
        assert episode
        assert all(tx["label"] is LEGIT and ts >= T0 for ts, tx in episode)


def test_travellers_shop_in_one_foreign_country_for_days_on_their_usual_device(kit: Kit, boosted_world: World) -> None:
    known = {d.device_id for d in boosted_world.devices}
    home = {c.customer_id: c.country for c in boosted_world.customers}
    for episode in episodes(kit, "travel"):
        abroad = [tx for _, tx in episode if tx.get("geo", {}).get("country") != home[tx["debtor"]["customer_id"]]]
        assert len({tx["geo"]["country"] for tx in abroad}) <= 1
        assert all(tx["device"]["device_id"] in known for _, tx in episode if "device" in tx)
        assert max(ts for ts, _ in episode) - min(ts for ts, _ in episode) < 14 * DAY


def test_a_new_phone_is_a_new_device_at_home_used_for_ordinary_amounts(kit: Kit, boosted_world: World) -> None:
    known = {d.device_id for d in boosted_world.devices}
    home = {c.customer_id: c.country for c in boosted_world.customers}
    for episode in episodes(kit, "new_phone"):
        devices = {tx["device"]["device_id"] for _, tx in episode}
        assert len(devices) == 1 and not devices & known
        assert all(tx["geo"]["country"] == home[tx["debtor"]["customer_id"]] for _, tx in episode)


def test_first_payments_to_new_payees_carry_ordinary_purposes(kit: Kit) -> None:
    purposes = {tx["purpose"] for episode in episodes(kit, "new_payee") for _, tx in episode}
    assert purposes <= set(LEGIT_PURPOSES)
    assert len(purposes) > 5


def test_cash_businesses_bank_takings_on_both_sides_of_the_threshold(kit: Kit) -> None:
    ratios = [
        Decimal(tx["amount"]) / REPORTING_THRESHOLD[tx["currency"]]
        for episode in episodes(kit, "cash_business", 80)
        for _, tx in episode
    ]
    assert any(r < 1 for r in ratios) and any(r >= 1 for r in ratios)


def test_the_stream_carries_look_alikes_without_labels(boosted: list[Transaction]) -> None:
    legit = [tx for tx in boosted if tx.label and tx.label.pattern is None]
    purposes = Counter(tx.purpose for tx in legit)
    assert sum(purposes[p] for p in LEGIT_PURPOSES) > 20
    assert purposes["daily takings"] > 0
    assert any(tx.geo and tx.merchant and tx.geo.country != tx.debtor.country for tx in legit)


def test_pay_days_bring_salary_credits_and_busier_days(boosted: list[Transaction]) -> None:
    salaries = [tx for tx in boosted if tx.purpose and tx.purpose.startswith(("SALARY", "payroll"))]
    assert salaries and all(tx.label and tx.label.pattern is None for tx in salaries)
    assert all(tx.ts.weekday() < 5 for tx in salaries)
    per_day = Counter(tx.ts.date() for tx in boosted)
    pay_days = {tx.ts.date() for tx in salaries}
    weekdays = [n for d, n in per_day.items() if d.weekday() < 5 and d not in pay_days]
    assert max(per_day[d] for d in pay_days) > 1.15 * sorted(weekdays)[len(weekdays) // 2]
    payroll_runs = Counter((tx.debtor.account_id, tx.ts.date()) for tx in salaries if tx.debtor.customer_id)
    assert payroll_runs and max(payroll_runs.values()) >= 3


def test_sundays_are_quieter_than_weekdays(boosted: list[Transaction]) -> None:
    per_day = Counter(tx.ts.date() for tx in boosted)
    sundays = [n for d, n in per_day.items() if d.weekday() == 6]
    midweek = [n for d, n in per_day.items() if d.weekday() in (1, 2)]
    assert sum(sundays) / len(sundays) < 0.95 * sum(midweek) / len(midweek)
