"""Operational records: dead letters and alerts."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import Field

from riskmesh.contracts.base import RiskmeshModel, UtcDatetime
from riskmesh.contracts.verdict import Reason

__all__ = ["Alert", "DeadLetter"]


class DeadLetter(RiskmeshModel):
    """A message that could not be decided, with why. Value of `riskmesh.transactions.dlq`."""

    source_topic: str
    partition: int
    offset: int
    key: str | None = None
    reason: str = Field(description="human-readable: which field, what was wrong")
    error_type: Literal["invalid_json", "invalid_transaction", "oversized", "not_an_object", "encoding"]
    fields: list[str] = Field(default_factory=list, description="dotted paths of the offending fields")
    raw: str = Field(description="the payload as received (UTF-8, undecodable bytes replaced), truncated")
    raw_size: int
    received_at: UtcDatetime


class Alert(RiskmeshModel):
    """A `review` decision waiting for an analyst."""

    alert_id: str
    tx_id: str
    created_at: UtcDatetime
    status: Literal["open", "claimed", "closed"] = "open"
    risk_score: float = Field(ge=0.0, le=1.0)
    amount: Decimal
    currency: str
    debtor_account_id: str
    reasons: list[Reason] = Field(default_factory=list)
    degraded: list[str] = Field(default_factory=list)
    policy_version: str
