"""Reference data records (CONTRACTS.md): one JSONL file per kind; unknown fields go to `metadata`."""

from __future__ import annotations

import builtins
from datetime import date
from decimal import Decimal
from typing import Any, Literal

from pydantic import Field, model_validator

from riskmesh.contracts.base import Country, Currency, RiskmeshModel, UtcDatetime

__all__ = ["Account", "CreditRecord", "Customer", "DeviceRecord", "ReferenceRecord", "WatchlistEntry"]


class ReferenceRecord(RiskmeshModel):
    """Reference files come from many systems: fields we do not model are kept in `metadata`."""

    metadata: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _unknown_fields_to_metadata(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        known = set(cls.model_fields)
        extra = {k: v for k, v in data.items() if k not in known}
        if not extra:
            return data
        kept = {k: v for k, v in data.items() if k in known}
        kept["metadata"] = {**dict(data.get("metadata") or {}), **extra}
        return kept


class Customer(ReferenceRecord):
    customer_id: str = Field(min_length=1, max_length=128)
    name: str = Field(min_length=1, max_length=512)
    type: Literal["person", "company"]
    country: Country
    date_of_birth: date | None = None
    segment: Literal["retail", "sme", "corporate", "private"]
    kyc_risk: Literal["low", "medium", "high"]
    pep: bool = False
    onboarded_at: UtcDatetime


class Account(ReferenceRecord):
    account_id: str = Field(min_length=1, max_length=128)
    customer_id: str = Field(min_length=1, max_length=128)
    opened_at: UtcDatetime
    product: str
    currency: Currency
    status: Literal["active", "frozen", "closed"]
    daily_limit: Decimal | None = Field(default=None, ge=0)


class CreditRecord(ReferenceRecord):
    customer_id: str = Field(min_length=1, max_length=128)
    rating: str = Field(pattern=r"^(AAA|AA[+-]?|A[+-]?|BBB[+-]?|BB[+-]?|B[+-]?|CCC[+-]?|CC|C|D|10|[1-9])$")
    pd: float = Field(ge=0.0, le=1.0)
    limit: Decimal = Field(ge=0)
    exposure: Decimal = Field(ge=0)
    days_past_due: int = Field(ge=0)
    as_of: UtcDatetime


class WatchlistEntry(ReferenceRecord):
    entry_id: str = Field(min_length=1, max_length=128)
    list: str = Field(min_length=1, max_length=64)  # the field is called "list" in the public format
    name: str = Field(min_length=1, max_length=1024)
    aliases: builtins.list[str] = Field(default_factory=builtins.list)
    type: Literal["person", "entity", "vessel", "aircraft"]
    countries: builtins.list[Country] = Field(default_factory=builtins.list)
    date_of_birth: str | None = None
    programs: builtins.list[str] = Field(default_factory=builtins.list)


class DeviceRecord(ReferenceRecord):
    device_id: str = Field(min_length=1, max_length=256)
    first_seen: UtcDatetime
    customer_ids: list[str] = Field(default_factory=list)
