"""The risk-gateway agent's skill payloads (issue #5): what other banking systems send and get back over A2A.

Skills and their media types (a part may also declare `application/json`, or nothing, see the agent card):

- assess-transaction: a `Transaction` in, a `Decision` out;
- assess-batch: `BatchAssessRequest` in, `BatchAssessResponse` out;
- explain-decision: `ExplainRequest` in, `Explanation` out;
- submit-feedback: `FeedbackRequest` in, `FeedbackReceipt` out.

`ReviewOutcome` is the value of the `riskmesh.review-outcomes` topic: the review graph publishes one when an
analyst's final disposition was carried out; the gateway completes the caller's Task with it.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from riskmesh.contracts.audit import AuditEvent
from riskmesh.contracts.base import RiskmeshModel, UtcDatetime
from riskmesh.contracts.decision import Decision
from riskmesh.contracts.transaction import Transaction

__all__ = [
    "BATCH_ASSESS_REQUEST_MEDIA_TYPE",
    "BATCH_ASSESS_RESPONSE_MEDIA_TYPE",
    "DECISION_MEDIA_TYPE",
    "EXPLAIN_REQUEST_MEDIA_TYPE",
    "EXPLANATION_MEDIA_TYPE",
    "FEEDBACK_MEDIA_TYPE",
    "FEEDBACK_RECEIPT_MEDIA_TYPE",
    "MAX_BATCH_TRANSACTIONS",
    "REVIEW_OUTCOME_MEDIA_TYPE",
    "TRANSACTION_MEDIA_TYPE",
    "BatchAssessRequest",
    "BatchAssessResponse",
    "ExplainRequest",
    "Explanation",
    "Feedback",
    "FeedbackKind",
    "FeedbackReceipt",
    "FeedbackRequest",
    "ReviewOutcome",
    "final_decision_for",
]

TRANSACTION_MEDIA_TYPE = "application/vnd.riskmesh.transaction.v1+json"
DECISION_MEDIA_TYPE = "application/vnd.riskmesh.decision.v1+json"
BATCH_ASSESS_REQUEST_MEDIA_TYPE = "application/vnd.riskmesh.assess-batch-request.v1+json"
BATCH_ASSESS_RESPONSE_MEDIA_TYPE = "application/vnd.riskmesh.assess-batch-response.v1+json"
EXPLAIN_REQUEST_MEDIA_TYPE = "application/vnd.riskmesh.explain-request.v1+json"
EXPLANATION_MEDIA_TYPE = "application/vnd.riskmesh.explanation.v1+json"
FEEDBACK_MEDIA_TYPE = "application/vnd.riskmesh.feedback.v1+json"
FEEDBACK_RECEIPT_MEDIA_TYPE = "application/vnd.riskmesh.feedback-receipt.v1+json"
REVIEW_OUTCOME_MEDIA_TYPE = "application/vnd.riskmesh.review-outcome.v1+json"

MAX_BATCH_TRANSACTIONS = 1000

FeedbackKind = Literal["confirmed_fraud", "chargeback", "false_positive"]


class BatchAssessRequest(RiskmeshModel):
    """Many transactions in one call; each is decided as if sent alone (same tx_id twice: one decision)."""

    request_id: str | None = Field(default=None, max_length=128, description="the caller's own reference")
    transactions: list[Transaction] = Field(min_length=1, max_length=MAX_BATCH_TRANSACTIONS)


class BatchAssessResponse(RiskmeshModel):
    request_id: str | None = None
    decisions: list[Decision] = Field(description="one per transaction, in request order")


class ExplainRequest(RiskmeshModel):
    tx_id: str = Field(min_length=1, max_length=128)


class ReviewOutcome(RiskmeshModel):
    """An analyst's final disposition of a `review`, once carried out (value of `riskmesh.review-outcomes`)."""

    alert_id: str
    tx_id: str
    disposition: Literal["release", "block", "freeze"]
    final_decision: Literal["pass", "block"]
    decided_by: str
    approved_by: str | None = None
    actions: list[str] = Field(default_factory=list, description="what the action agent did, e.g. release_transaction")
    decided_at: UtcDatetime


def final_decision_for(disposition: str) -> Literal["pass", "block"]:
    """release ▶ pass; block and freeze ▶ block."""
    return "pass" if disposition == "release" else "block"


class Explanation(RiskmeshModel):
    """Why a transaction got its decision: every agent's verdict and reasons, what was done, and the audit trail."""

    tx_id: str
    decision: Decision
    review: ReviewOutcome | None = Field(default=None, description="the analyst's outcome when it was reviewed")
    actions: list[dict[str, Any]] = Field(
        default_factory=list, description="the action log of the transaction (risk-actions), oldest first")
    audit: list[AuditEvent] = Field(default_factory=list, description="audit events of the tx and its alert")
    unavailable: list[str] = Field(default_factory=list, description="parts that could not be read just now")


class Feedback(RiskmeshModel):
    """Ground truth from another system: a confirmed fraud, a chargeback or a false positive."""

    tx_id: str = Field(min_length=1, max_length=128)
    kind: FeedbackKind
    reported_at: UtcDatetime | None = Field(default=None, description="when the other system learnt it")
    pattern: str | None = Field(default=None, max_length=128, description="e.g. account_takeover")
    note: str = Field(default="", max_length=2000)


class FeedbackRequest(RiskmeshModel):
    feedback: list[Feedback] = Field(min_length=1, max_length=MAX_BATCH_TRANSACTIONS)


class FeedbackReceipt(RiskmeshModel):
    accepted: int
    tx_ids: list[str]
    received_at: UtcDatetime
