"""The synthetic world: deterministic per seed, realistic enough, and round-trips through JSONL."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from riskmesh.contracts import Account, Customer
from riskmesh.orchestrator.synth import World


@pytest.fixture(scope="module")
def world() -> World:
    return World.generate(seed=11, customers=600)


def test_the_same_seed_generates_the_same_world(world: World) -> None:
    again = World.generate(seed=11, customers=600)
    assert again == world


def test_a_different_seed_generates_a_different_world(world: World) -> None:
    other = World.generate(seed=12, customers=600)
    assert [c.name for c in other.customers] != [c.name for c in world.customers]


def test_world_round_trips_through_write_and_read(world: World, tmp_path: Path) -> None:
    world.write(tmp_path)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["accounts.jsonl", "credit.jsonl", "customers.jsonl", "devices.jsonl", "watchlist.jsonl"]
    lines = (tmp_path / "customers.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 600
    assert Customer.model_validate_json(lines[0]) == world.customers[0]
    assert World.read(tmp_path) == world


def test_customers_span_every_segment_both_types_and_mostly_main_markets(world: World) -> None:
    assert {c.segment for c in world.customers} == {"retail", "sme", "corporate", "private"}
    assert {c.type for c in world.customers} == {"person", "company"}
    countries = Counter(c.country for c in world.customers)
    main = sum(countries[c] for c in ("CN", "HK", "SG", "US", "GB", "DE"))
    assert 0.8 < main / len(world.customers) < 0.99
    assert len(countries) > 6
    assert any(c.pep for c in world.customers)
    assert {c.kyc_risk for c in world.customers} == {"low", "medium", "high"}
    assert len({c.customer_id for c in world.customers}) == 600


def test_every_customer_has_one_to_three_accounts_and_a_few_are_frozen(world: World) -> None:
    per_customer = Counter(a.customer_id for a in world.accounts)
    assert set(per_customer) == {c.customer_id for c in world.customers}
    assert set(per_customer.values()) <= {1, 2, 3}
    statuses = Counter(a.status for a in world.accounts)
    assert 0 < statuses["frozen"] < 0.05 * len(world.accounts)
    assert len({a.account_id for a in world.accounts}) == len(world.accounts)


def test_first_accounts_are_in_the_home_currency(world: World) -> None:
    home = {"CN": "CNY", "HK": "HKD", "SG": "SGD", "US": "USD", "GB": "GBP", "DE": "EUR"}
    by_id = {c.customer_id: c for c in world.customers}
    firsts: list[Account] = [a for a in world.accounts if a.account_id.endswith("-01")]
    for account in firsts:
        country = by_id[account.customer_id].country
        if country in home:
            assert account.currency == home[country]


def test_about_seventy_percent_have_credit_records_some_delinquent(world: World) -> None:
    share = len(world.credit) / len(world.customers)
    assert 0.6 < share < 0.8
    delinquent = [r for r in world.credit if r.days_past_due > 0]
    assert 0 < len(delinquent) < 0.3 * len(world.credit)
    assert all(r.exposure >= 0 and 0.0 <= r.pd <= 1.0 for r in world.credit)


def test_watchlist_has_about_two_hundred_entries_over_several_lists(world: World) -> None:
    assert len(world.watchlist) == 200
    assert {e.list for e in world.watchlist} == {"OFAC-SDN", "UN", "EU", "internal-blacklist"}
    assert len({e.name for e in world.watchlist}) == 200
    assert any(e.aliases for e in world.watchlist)
    assert all(e.programs for e in world.watchlist)
    assert {"person", "entity"} <= {e.type for e in world.watchlist}


def test_devices_belong_to_known_customers_and_some_are_shared(world: World) -> None:
    ids = {c.customer_id for c in world.customers}
    assert all(set(d.customer_ids) <= ids for d in world.devices)
    assert {cid for d in world.devices for cid in d.customer_ids} == ids
    assert any(len(d.customer_ids) > 1 for d in world.devices)
    assert len({d.device_id for d in world.devices}) == len(world.devices)
