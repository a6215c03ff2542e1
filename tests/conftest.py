"""Shared test helpers."""

from __future__ import annotations

import copy
from typing import Any

import pytest

VALID_TX: dict[str, Any] = {
    "schema_version": "1",
    "tx_id": "T-2026-000001",
    "ts": "2026-11-21T09:15:02.123Z",
    "type": "transfer",
    "channel": "mobile",
    "amount": "12500.00",
    "currency": "CNY",
    "debtor": {"customer_id": "C000123", "account_id": "A000123-01", "name": "Li Wei", "country": "CN"},
    "creditor": {"customer_id": None, "account_id": "A998877-01", "name": "Acme Trading Ltd", "country": "HK",
                 "bank_bic": "HSBCHKHHXXX"},
    "merchant": {"mcc": "5732", "merchant_id": "M1", "country": "CN"},
    "device": {"device_id": "D-ab12", "ip": "203.0.113.7", "user_agent": "..."},
    "geo": {"lat": 31.23, "lon": 121.47, "country": "CN"},
    "purpose": "invoice 4411",
    "metadata": {},
}


@pytest.fixture
def valid_tx() -> dict[str, Any]:
    return copy.deepcopy(VALID_TX)
