"""Operational records: dead letters, alerts and shadow decisions."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import Field

from riskmesh.contracts.base import RiskmeshModel, UtcDatetime
from riskmesh.contracts.decision import DecisionOutcome
from riskmesh.contracts.verdict import Reason

__all__ = ["Alert", "DeadLetter", "ShadowDecision"]


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


class ShadowDecision(RiskmeshModel):
    """What a challenger policy would have decided. Value of `riskmesh.decisions.shadow`; never acted on."""

    tx_id: str
    policy_version: str = Field(description="the challenger (shadow) policy's version")
    decision: DecisionOutcome
    risk_score: float = Field(ge=0.0, le=1.0)
    reasons: list[Reason] = Field(default_factory=list)
    live_decision: DecisionOutcome = Field(description="what the live policy decided for the same transaction")
