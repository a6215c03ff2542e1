"""The labelled transaction stream: deterministic, time-ordered, contract-valid, with every pattern."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal
from itertools import islice

import orjson
import pytest
from rapidfuzz import fuzz

from riskmesh.contracts import Transaction
from riskmesh.orchestrator.synth import PATTERN_RATES, TransactionStream, World

SAMPLE = 20_000


@pytest.fixture(scope="module")
def world() -> World:
    return World.generate(seed=5, customers=400)


@pytest.fixture(scope="module")
def sample(world: World) -> list[Transaction]:
    return TransactionStream(world, seed=5).take(SAMPLE)


def test_the_same_seed_gives_the_same_transactions(world: World) -> None:
    first = TransactionStream(world, seed=3).take_json(2_000)
    assert TransactionStream(world, seed=3).take_json(2_000) == first
    assert TransactionStream(world, seed=4).take_json(2_000) != first


def test_stream_is_time_ordered_with_unique_prefixed_ids(sample: list[Transaction]) -> None:
    times = [tx.ts for tx in sample]
    assert times == sorted(times)
    ids = [tx.tx_id for tx in sample]
    assert len(set(ids)) == SAMPLE
    assert ids[0] == "T-000000001"
    assert ids[-1] == f"T-{SAMPLE:09d}"


def test_stream_starts_at_the_given_time_and_uses_the_given_prefix(world: World) -> None:
    start = datetime(2027, 3, 1, 8, 0, tzinfo=UTC)
    txs = TransactionStream(world, seed=1, start=start, tx_prefix="W2").take(50)
    assert all(tx.ts >= start for tx in txs)
    assert txs[0].tx_id == "W2-000000001"


def test_every_pattern_appears_in_a_twenty_thousand_sample(sample: list[Transaction]) -> None:
    patterns = Counter(tx.label.pattern for tx in sample if tx.label)
    assert set(PATTERN_RATES) <= set(patterns)
    assert patterns[None] > 0.95 * SAMPLE


def test_fraud_rate_is_between_one_half_and_three_percent(sample: list[Transaction]) -> None:
    assert all(tx.label is not None for tx in sample)
    fraud = sum(1 for tx in sample if tx.label and tx.label.is_fraud)
    assert 0.005 < fraud / SAMPLE < 0.03
    aml = sum(1 for tx in sample if tx.label and tx.label.is_suspicious_aml)
    assert 0.002 < aml / SAMPLE < 0.03


def test_legitimate_transactions_cover_every_type_and_channel(sample: list[Transaction]) -> None:
    legit = [tx for tx in sample if tx.label and tx.label.pattern is None]
    assert {tx.type for tx in legit} == {
        "payment", "transfer", "withdrawal", "deposit", "card_purchase", "loan_disbursement", "refund",
    }  # fmt: skip
    assert {tx.channel for tx in legit} == {
        "card",
        "online_banking",
        "mobile",
        "branch",
        "atm",
        "api",
        "wire",
    }
    purchases = [tx for tx in legit if tx.type == "card_purchase"]
    assert all(tx.merchant is not None and tx.merchant.mcc for tx in purchases)


def test_currencies_follow_the_customers_accounts(world: World, sample: list[Transaction]) -> None:
    currency = {a.account_id: a.currency for a in world.accounts}
    for tx in sample:
        if tx.label and tx.label.pattern is None and tx.debtor.account_id in currency:
            assert tx.currency == currency[tx.debtor.account_id]


def test_normal_traffic_uses_active_accounts_and_known_devices(
    world: World, sample: list[Transaction]
) -> None:
    active = {a.account_id for a in world.accounts if a.status == "active"}
    devices = {d.device_id for d in world.devices}
    for tx in sample:
        if tx.label and tx.label.pattern is None:
            assert tx.debtor.account_id in active or tx.creditor.account_id in active
            assert tx.device is None or tx.device.device_id in devices


def test_account_takeover_uses_a_new_device_abroad(world: World, sample: list[Transaction]) -> None:
    devices = {d.device_id for d in world.devices}
    home = {c.customer_id: c.country for c in world.customers}
    ato = [tx for tx in sample if tx.label and tx.label.pattern == "account_takeover"]
    for tx in ato:
        assert tx.device is not None and tx.device.device_id not in devices
        assert tx.geo is not None and tx.geo.country != home[tx.debtor.customer_id or ""]
        assert tx.label is not None and tx.label.is_fraud


def test_card_testing_is_tiny_purchases_then_a_big_one(sample: list[Transaction]) -> None:
    testing = [tx for tx in sample if tx.label and tx.label.pattern == "card_testing"]
    assert all(tx.type == "card_purchase" for tx in testing)
    amounts = [tx.amount for tx in testing if tx.currency == "USD"] or [tx.amount for tx in testing]
    assert min(amounts) < max(amounts) / 20


def test_sanctions_exposure_names_are_near_misses_of_watchlist_names(
    world: World, sample: list[Transaction]
) -> None:
    listed = [name for e in world.watchlist for name in (e.name, *e.aliases)]
    hits = [tx for tx in sample if tx.label and tx.label.pattern == "sanctions_exposure"]
    for tx in hits:
        name = tx.creditor.name or ""
        assert name not in listed
        assert max(fuzz.ratio(name.lower(), other.lower()) for other in listed) >= 80
        assert tx.label is not None and tx.label.is_suspicious_aml and not tx.label.is_fraud


def test_high_risk_jurisdiction_pays_into_ir_kp_sy_or_mm(sample: list[Transaction]) -> None:
    hits = [tx for tx in sample if tx.label and tx.label.pattern == "high_risk_jurisdiction"]
    assert {tx.creditor.country for tx in hits} <= {"IR", "KP", "SY", "MM"}
    assert all(tx.creditor.bank_bic for tx in hits)


def test_structuring_stays_just_below_the_reporting_threshold(sample: list[Transaction]) -> None:
    limits = {"USD": 10_000, "CNY": 50_000, "HKD": 120_000, "SGD": 20_000, "EUR": 10_000, "GBP": 10_000}
    hits = [tx for tx in sample if tx.label and tx.label.pattern == "structuring"]
    for tx in hits:
        limit = Decimal(limits[tx.currency])
        assert limit * Decimal("0.85") <= tx.amount < limit


def test_mule_fans_in_then_passes_money_through(sample: list[Transaction]) -> None:
    legs = [tx for tx in sample if tx.label and tx.label.pattern == "mule"]
    outgoing = [tx for tx in legs if tx.label and tx.label.is_fraud]
    incoming = [tx for tx in legs if tx.label and not tx.label.is_fraud]
    assert len(incoming) > len(outgoing) > 0
    mules = {tx.debtor.account_id for tx in outgoing}
    assert {tx.creditor.account_id for tx in incoming} & mules
    assert all(tx.label is not None and tx.label.is_suspicious_aml for tx in legs)


def test_app_scam_pays_a_new_payee_with_a_scam_like_purpose(sample: list[Transaction]) -> None:
    hits = [tx for tx in sample if tx.label and tx.label.pattern == "app_scam"]
    keywords = ("guaranteed", "safe account", "fee", "urgent", "verification", "profit")
    assert all(any(k in (tx.purpose or "") for k in keywords) for tx in hits)


def test_take_json_lines_validate_and_match_take(world: World) -> None:
    lines = TransactionStream(world, seed=9).take_json(3_000)
    models = TransactionStream(world, seed=9).take(3_000)
    parsed = [Transaction.model_validate_json(line) for line in lines[::7]]
    assert parsed == models[::7]
    assert all(orjson.loads(line)["schema_version"] == "1" for line in lines[:100])


def test_take_json_and_iteration_continue_the_same_sequence(world: World) -> None:
    stream = TransactionStream(world, seed=2)
    first = stream.take(10)
    nxt = stream.take_json(5)
    more = list(islice(iter(stream), 5))
    ids = [tx.tx_id for tx in first] + [orjson.loads(b)["tx_id"] for b in nxt] + [tx.tx_id for tx in more]
    assert ids == [f"T-{n:09d}" for n in range(1, 21)]
