"""The labelled transaction stream: deterministic, time-ordered, contract-valid, with every pattern."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from itertools import islice

import orjson
import pytest

from riskmesh.contracts import Transaction
from riskmesh.orchestrator.synth import TransactionStream, World

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


def test_most_of_a_sample_at_the_default_rates_is_legitimate(sample: list[Transaction]) -> None:
    patterns = Counter(tx.label.pattern for tx in sample if tx.label)
    assert patterns[None] > 0.97 * SAMPLE
    assert len(set(patterns) - {None}) >= 6


def test_fraud_and_aml_rates_are_around_one_percent(sample: list[Transaction]) -> None:
    assert all(tx.label is not None for tx in sample)
    fraud = sum(1 for tx in sample if tx.label and tx.label.is_fraud)
    assert 0.004 < fraud / SAMPLE < 0.02
    aml = sum(1 for tx in sample if tx.label and tx.label.is_suspicious_aml)
    assert 0.002 < aml / SAMPLE < 0.015


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


def test_normal_traffic_uses_active_accounts_and_never_a_fraudsters_device(
    world: World, sample: list[Transaction]
) -> None:
    active = {a.account_id for a in world.accounts if a.status == "active"}
    first_seen_in_fraud: set[str] = set()
    seen = {d.device_id for d in world.devices}
    for tx in sample:
        device = tx.device.device_id if tx.device and tx.device.device_id else None
        if tx.label and tx.label.pattern is None:
            assert tx.debtor.account_id in active or tx.creditor.account_id in active
            assert device not in first_seen_in_fraud
        elif device and device not in seen and tx.label and tx.label.is_fraud:
            first_seen_in_fraud.add(device)
        if device:
            seen.add(device)
    assert first_seen_in_fraud


def test_a_stream_with_an_end_stops_there(world: World) -> None:
    start = datetime(2026, 3, 2, tzinfo=UTC)
    stream = TransactionStream.for_days(world, seed=8, days=2, start=start)
    txs = list(stream)
    assert stream.until == start + timedelta(days=2)
    assert txs and all(start <= tx.ts < start + timedelta(days=2) for tx in txs)
    assert txs[-1].ts > start + timedelta(days=1, hours=23)
    assert stream.take(5) == []


def test_an_end_before_the_start_is_refused(world: World) -> None:
    with pytest.raises(ValueError, match="after start"):
        TransactionStream(world, seed=1, start=datetime(2026, 3, 2, tzinfo=UTC), until=datetime(2026, 3, 1, tzinfo=UTC))


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
