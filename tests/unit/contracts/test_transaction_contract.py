from __future__ import annotations

import json
from decimal import Decimal

import pytest

from riskmesh.contracts import ContractError, Transaction, parse_transaction


def _raw(tx: dict) -> bytes:
    return json.dumps(tx).encode()


def test_the_contracts_example_transaction_is_accepted(valid_tx):
    tx = parse_transaction(_raw(valid_tx))
    assert tx.amount == Decimal("12500.00")
    assert tx.creditor.bank_bic == "HSBCHKHHXXX"


def test_only_the_required_fields_are_enough(valid_tx):
    minimal = {k: valid_tx[k] for k in ("schema_version", "tx_id", "ts", "type", "channel", "amount", "currency")}
    minimal["debtor"] = {"account_id": "A1"}
    minimal["creditor"] = {"account_id": "A2"}
    tx = parse_transaction(_raw(minimal))
    assert tx.device is None and tx.debtor.customer_id is None


def test_timestamps_with_an_offset_are_normalised_to_utc(valid_tx):
    valid_tx["ts"] = "2026-11-21T17:15:02.123+08:00"
    tx = parse_transaction(_raw(valid_tx))
    assert json.loads(tx.model_dump_json())["ts"] == "2026-11-21T09:15:02.123Z"


def test_amount_as_a_number_becomes_an_exact_decimal(valid_tx):
    valid_tx["amount"] = 19.99
    assert parse_transaction(_raw(valid_tx)).amount == Decimal("19.99")


def test_money_is_written_back_as_a_decimal_string(valid_tx):
    tx = parse_transaction(_raw(valid_tx))
    assert json.loads(tx.model_dump_json())["amount"] == "12500.00"


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        (("amount",), "-5", "amount"),
        (("amount",), "0", "amount"),
        (("amount",), True, "amount"),
        (("amount",), "ten", "amount"),
        (("currency",), "ZZZ", "currency"),
        (("type",), "teleport", "type"),
        (("channel",), "pigeon", "channel"),
        (("ts",), "2026-11-21T09:15:02", "ts"),
        (("ts",), "yesterday", "ts"),
        (("ts",), 1767571200, "ts"),
        (("schema_version",), "2", "schema_version"),
        (("debtor", "country"), "XX", "debtor.country"),
        (("creditor", "bank_bic"), "not a bic", "creditor.bank_bic"),
        (("geo", "lat"), 123.0, "geo.lat"),
    ],
)
def test_invalid_values_are_rejected_naming_the_field(valid_tx, path, value, field):
    target = valid_tx
    for p in path[:-1]:
        target = target[p]
    target[path[-1]] = value
    with pytest.raises(ContractError) as err:
        parse_transaction(_raw(valid_tx))
    assert err.value.error_type == "invalid_transaction"
    assert field in err.value.fields
    assert field in str(err.value)


@pytest.mark.parametrize("missing", ["tx_id", "ts", "type", "channel", "amount", "currency", "debtor", "creditor"])
def test_a_missing_required_field_is_named(valid_tx, missing):
    del valid_tx[missing]
    with pytest.raises(ContractError) as err:
        parse_transaction(_raw(valid_tx))
    assert missing in err.value.fields


def test_unknown_top_level_fields_are_rejected_but_metadata_takes_anything(valid_tx):
    valid_tx["metadata"] = {"anything": {"nested": [1, 2]}}
    assert parse_transaction(_raw(valid_tx)).metadata["anything"]["nested"] == [1, 2]
    valid_tx["surprise"] = 1
    with pytest.raises(ContractError) as err:
        parse_transaction(_raw(valid_tx))
    assert err.value.fields == ["surprise"]


def test_broken_json_and_non_objects_and_oversized_payloads_get_their_own_error_kind(valid_tx):
    cases = {b"{not json": "invalid_json", b"[1,2]": "not_an_object", b"": "invalid_json",
             b"\xff\xfe": "invalid_json", b"{" + b" " * 70_000 + b"}": "oversized"}
    for raw, kind in cases.items():
        with pytest.raises(ContractError) as err:
            parse_transaction(raw)
        assert err.value.error_type == kind, raw[:20]


def test_a_labelled_line_keeps_its_label_and_the_deciding_copy_drops_it(valid_tx):
    valid_tx["label"] = {"is_fraud": True, "pattern": "account_takeover", "is_suspicious_aml": False}
    tx = Transaction.model_validate(valid_tx)
    assert tx.label is not None and tx.label.is_fraud
    assert tx.without_label().label is None


def test_transactions_are_immutable(valid_tx):
    tx = parse_transaction(_raw(valid_tx))
    with pytest.raises(Exception, match="frozen"):
        tx.tx_id = "other"  # type: ignore[misc]
