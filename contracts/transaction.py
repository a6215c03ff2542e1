"""The public Transaction format (CONTRACTS.md v1): Kafka value, A2A assess input, JSONL line."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from riskmesh.contracts.base import Country, Currency, Money, RiskmeshModel, UtcDatetime

__all__ = [
    "CHANNELS",
    "TX_TYPES",
    "Channel",
    "Device",
    "Geo",
    "Label",
    "Merchant",
    "Party",
    "Transaction",
    "TxType",
]

TxType = Literal["payment", "transfer", "withdrawal", "deposit", "card_purchase", "loan_disbursement", "refund"]
Channel = Literal["card", "online_banking", "mobile", "branch", "atm", "api", "wire"]
TX_TYPES: tuple[str, ...] = TxType.__args__  # type: ignore[attr-defined]
CHANNELS: tuple[str, ...] = Channel.__args__  # type: ignore[attr-defined]

_ID = Field(min_length=1, max_length=128)


class Party(RiskmeshModel):
    customer_id: str | None = Field(default=None, max_length=128)
    account_id: str = _ID
    name: str | None = Field(default=None, max_length=512)
    country: Country | None = None
    bank_bic: str | None = Field(default=None, pattern=r"^[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?$")


class Merchant(RiskmeshModel):
    mcc: str | None = Field(default=None, pattern=r"^\d{4}$")
    merchant_id: str | None = Field(default=None, max_length=128)
    country: Country | None = None


class Device(RiskmeshModel):
    device_id: str | None = Field(default=None, max_length=256)
    ip: str | None = Field(default=None, max_length=64)
    user_agent: str | None = Field(default=None, max_length=1024)


class Geo(RiskmeshModel):
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    country: Country | None = None


class Label(RiskmeshModel):
    """Ground truth on evaluation and training files only; never read while deciding."""

    is_fraud: bool
    pattern: str | None = None
    is_suspicious_aml: bool = False


class Transaction(RiskmeshModel):
    schema_version: Literal["1"]
    tx_id: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:\-]*$")
    ts: UtcDatetime
    type: TxType
    channel: Channel
    amount: Money
    currency: Currency
    debtor: Party
    creditor: Party
    merchant: Merchant | None = None
    device: Device | None = None
    geo: Geo | None = None
    purpose: str | None = Field(default=None, max_length=1024)
    metadata: dict[str, Any] = Field(default_factory=dict)
    label: Label | None = None

    def without_label(self) -> Transaction:
        """The transaction as the deciding path may see it."""
        return self if self.label is None else self.model_copy(update={"label": None})
