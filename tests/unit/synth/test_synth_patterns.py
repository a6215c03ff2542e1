"""Each labelled pattern looks like what it is named after, and stays learnable from bank-side features."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from decimal import Decimal
from statistics import median

from rapidfuzz import fuzz

from riskmesh.contracts import Transaction
from riskmesh.orchestrator.synth import FRAUD_PATTERNS, PATTERN_RATES, World
from riskmesh.orchestrator.synth.catalog import FX_PER_USD, HIGH_RISK_COUNTRIES, REPORTING_THRESHOLD, SCAM_PURPOSES


def of(sample: list[Transaction], pattern: str) -> list[Transaction]:
    return [tx for tx in sample if tx.label and tx.label.pattern == pattern]


def usd(tx: Transaction) -> Decimal:
    return tx.amount / Decimal(str(FX_PER_USD[tx.currency]))


def habits(sample: list[Transaction]) -> dict[str, Decimal]:
    """Median legitimate outgoing amount (USD) per customer."""
    amounts: dict[str, list[Decimal]] = defaultdict(list)
    for tx in sample:
        if tx.label and tx.label.pattern is None and tx.debtor.customer_id:
            amounts[tx.debtor.customer_id].append(usd(tx))
    return {cid: median(values) for cid, values in amounts.items()}


def test_every_pattern_appears_with_its_label(boosted: list[Transaction]) -> None:
    for pattern in PATTERN_RATES:
        hits = of(boosted, pattern)
        assert hits, pattern
        labels = {(tx.label.is_fraud, tx.label.is_suspicious_aml) for tx in hits if tx.label}
        if pattern in FRAUD_PATTERNS:
            assert labels == {(True, False)}, pattern
        elif pattern in ("mule", "mule_ring"):
            assert labels == {(True, True), (False, True)}, pattern
        else:
            assert labels == {(False, True)}, pattern


def test_account_takeover_uses_a_new_device_and_moves_far_more_than_usual(
    boosted_world: World, boosted: list[Transaction]
) -> None:
    known = {d.device_id for d in boosted_world.devices}
    home = {c.customer_id: c.country for c in boosted_world.customers}
    usual = habits(boosted)
    hits = of(boosted, "account_takeover")
    assert all(tx.device is not None and tx.device.device_id not in known for tx in hits)
    abroad = [tx for tx in hits if tx.geo and tx.geo.country != home[tx.debtor.customer_id or ""]]
    assert 0.4 < len(abroad) / len(hits) < 0.95
    big = [tx for tx in hits if usd(tx) > 4 * usual.get(tx.debtor.customer_id or "", Decimal(10**9))]
    assert len(big) > 0.6 * len(hits)


def test_card_testing_probes_with_tiny_amounts_before_cashing_out(boosted: list[Transaction]) -> None:
    by_card: dict[str, list[Transaction]] = defaultdict(list)
    for tx in of(boosted, "card_testing"):
        by_card[tx.debtor.account_id].append(tx)
    cashed_out = 0
    for legs in by_card.values():
        assert all(usd(tx) < 5 for tx in legs[:3])
        assert all(tx.type == "card_purchase" for tx in legs[:3])
        if any(usd(tx) > 50 for tx in legs):
            cashed_out += 1
    assert cashed_out > 0.6 * len(by_card)
    assert {tx.type for tx in of(boosted, "card_testing")} == {"card_purchase", "withdrawal"}


def test_app_scam_victims_pay_new_payees_from_their_own_device_mostly_with_scam_texts(
    boosted_world: World, boosted: list[Transaction]
) -> None:
    known = {d.device_id for d in boosted_world.devices}
    known |= {tx.device.device_id for tx in boosted if tx.device and tx.label and tx.label.pattern is None}
    hits = of(boosted, "app_scam")
    assert all(tx.device is None or tx.device.device_id in known for tx in hits)
    scammy = [tx for tx in hits if tx.purpose in SCAM_PURPOSES]
    assert 0.5 < len(scammy) / len(hits) < 0.95
    paid_before = {
        (tx.debtor.account_id, tx.creditor.account_id) for tx in boosted if tx.label and not tx.label.pattern
    }
    first = {tx.debtor.account_id: tx for tx in reversed(hits)}
    fresh = [tx for tx in first.values() if (tx.debtor.account_id, tx.creditor.account_id) not in paid_before]
    assert len(fresh) > 0.9 * len(first)


def test_credit_bust_out_maxes_the_credit_line_within_days(boosted_world: World, boosted: list[Transaction]) -> None:
    credit = {r.customer_id: r for r in boosted_world.credit}
    drawn: dict[str, list[Transaction]] = defaultdict(list)
    for tx in of(boosted, "credit_bust_out"):
        drawn[tx.debtor.customer_id or ""].append(tx)
    assert drawn
    for cid, legs in drawn.items():
        record = credit[cid]
        headroom = (record.limit - record.exposure) / Decimal(str(FX_PER_USD[record.metadata["currency"]]))
        assert sum(usd(tx) for tx in legs) > Decimal("0.8") * headroom or legs[-1].ts > boosted[-1].ts - timedelta(
            days=5
        )
        assert legs[-1].ts - legs[0].ts <= timedelta(days=5)
        assert {tx.type for tx in legs} <= {"card_purchase", "withdrawal"}


def test_mules_fan_in_then_pass_the_money_on_within_hours(boosted: list[Transaction]) -> None:
    for pattern in ("mule", "mule_ring"):
        legs = of(boosted, pattern)
        incoming = [tx for tx in legs if tx.label and not tx.label.is_fraud]
        outgoing = [tx for tx in legs if tx.label and tx.label.is_fraud]
        assert len(incoming) > len(outgoing) > 0
        received = defaultdict(list)
        for tx in legs:
            received[tx.creditor.account_id].append(tx.ts)
        for tx in outgoing:
            before = [ts for ts in received[tx.debtor.account_id] if ts <= tx.ts]
            if before:
                assert tx.ts - max(before) < timedelta(hours=12)


def test_mule_rings_run_several_accounts_from_shared_devices_and_ips(boosted: list[Transaction]) -> None:
    moved = [tx for tx in of(boosted, "mule_ring") if tx.label and tx.label.is_fraud and tx.device]
    accounts_per_device: dict[str, set[str]] = defaultdict(set)
    accounts_per_ip: dict[str, set[str]] = defaultdict(set)
    for tx in moved:
        assert tx.device is not None
        accounts_per_device[tx.device.device_id or ""].add(tx.debtor.account_id)
        accounts_per_ip[tx.device.ip or ""].add(tx.debtor.account_id)
    assert max(len(a) for a in accounts_per_device.values()) >= 2
    assert max(len(a) for a in accounts_per_ip.values()) >= 3
    collectors = {tx.creditor.account_id for tx in moved} & {tx.debtor.account_id for tx in moved}
    assert collectors


def test_structuring_stays_below_the_reporting_threshold(boosted: list[Transaction]) -> None:
    hits = of(boosted, "structuring")
    near = 0
    for tx in hits:
        limit = Decimal(REPORTING_THRESHOLD[tx.currency])
        assert Decimal("0.25") * limit <= tx.amount < limit
        near += tx.amount >= Decimal("0.85") * limit
    assert near > 0.5 * len(hits)


def test_sanctions_exposure_counterparties_are_near_misses_of_watchlist_names(
    boosted_world: World, boosted: list[Transaction]
) -> None:
    listed = [name.lower() for e in boosted_world.watchlist for name in (e.name, *e.aliases)]
    hits = of(boosted, "sanctions_exposure")
    directions = set()
    for tx in hits:
        other = tx.debtor if tx.debtor.customer_id is None else tx.creditor
        directions.add(other is tx.debtor)
        name = (other.name or "").lower()
        assert name not in listed
        assert max(max(fuzz.ratio(name, n), fuzz.token_sort_ratio(name, n)) for n in listed) >= 80, name


def test_high_risk_jurisdiction_moves_money_to_or_from_ir_kp_sy_or_mm(boosted: list[Transaction]) -> None:
    for tx in of(boosted, "high_risk_jurisdiction"):
        other = tx.debtor if tx.debtor.customer_id is None else tx.creditor
        assert other.country in HIGH_RISK_COUNTRIES
        assert other.bank_bic
