"""The one base model every contract shares: frozen, strict about unknown fields, UTC times."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BaseModel, BeforeValidator, ConfigDict, PlainSerializer

from riskmesh.contracts.codes import COUNTRY_CODES, CURRENCY_CODES

__all__ = ["Country", "Currency", "Money", "RiskmeshModel", "UtcDatetime"]


class RiskmeshModel(BaseModel):
    """Frozen, no unknown fields; validation errors name the offending field."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True, ser_json_inf_nan="null")


def _to_utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


def _serialise_utc(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _rfc3339_text(value: Any) -> Any:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        raise ValueError("must be an RFC 3339 date-time string, not a number")
    return value


UtcDatetime = Annotated[
    AwareDatetime,
    BeforeValidator(_rfc3339_text),
    AfterValidator(_to_utc),
    PlainSerializer(_serialise_utc, return_type=str, when_used="json"),
]
"""An RFC 3339 time with an offset, normalised to UTC, written back as `...Z`."""


def _money_in(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("amount must be a decimal string or a number, not a boolean")
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, str) and not value.strip():
        raise ValueError("amount must not be empty")
    return value


def _money_positive(value: Decimal) -> Decimal:
    if not value.is_finite():
        raise ValueError("amount must be a finite number")
    if value <= 0:
        raise ValueError("amount must be greater than 0")
    return value


Money = Annotated[
    Decimal,
    BeforeValidator(_money_in),
    AfterValidator(_money_positive),
    PlainSerializer(lambda v: format(v, "f"), return_type=str, when_used="json"),
]
"""Money as `Decimal`, never float; accepted as a decimal string or a number, written as a string."""


def _country(value: str) -> str:
    if value not in COUNTRY_CODES:
        raise ValueError(f"'{value}' is not an ISO 3166-1 alpha-2 country code")
    return value


def _currency(value: str) -> str:
    if value not in CURRENCY_CODES:
        raise ValueError(f"'{value}' is not an ISO 4217 currency code")
    return value


Country = Annotated[str, AfterValidator(_country)]
Currency = Annotated[str, AfterValidator(_currency)]
