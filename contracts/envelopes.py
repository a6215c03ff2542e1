"""Internal batch envelopes: what travels as one raw JSON part between the orchestrator and agents.

One A2A message per agent per micro-batch; see docs/decisions/0001-a2a-grpc-and-raw-json-parts.md.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from riskmesh.contracts.base import RiskmeshModel, UtcDatetime
from riskmesh.contracts.decision import DecisionOutcome
from riskmesh.contracts.transaction import Transaction
from riskmesh.contracts.verdict import AgentVerdict, Reason

__all__ = [
    "ACTION_REQUEST_MEDIA_TYPE",
    "ACTION_RESPONSE_MEDIA_TYPE",
    "AGGREGATION_REQUEST_MEDIA_TYPE",
    "AGGREGATION_RESPONSE_MEDIA_TYPE",
    "BATCH_MEDIA_TYPE",
    "VERDICTS_MEDIA_TYPE",
    "ActionOutcome",
    "ActionRequest",
    "ActionResponse",
    "AggregatedDecision",
    "AggregationRequest",
    "AggregationResponse",
    "AssessBatchRequest",
    "AssessBatchResponse",
]

BATCH_MEDIA_TYPE = "application/vnd.riskmesh.tx-batch.v1+json"
VERDICTS_MEDIA_TYPE = "application/vnd.riskmesh.verdicts.v1+json"
AGGREGATION_REQUEST_MEDIA_TYPE = "application/vnd.riskmesh.aggregation-request.v1+json"
AGGREGATION_RESPONSE_MEDIA_TYPE = "application/vnd.riskmesh.aggregation-response.v1+json"
ACTION_REQUEST_MEDIA_TYPE = "application/vnd.riskmesh.action-request.v1+json"
ACTION_RESPONSE_MEDIA_TYPE = "application/vnd.riskmesh.action-response.v1+json"


class AssessBatchRequest(RiskmeshModel):
    """Orchestrator ▶ analysis agent: score these transactions."""

    batch_id: str
    transactions: list[Transaction]
    deadline_ms: float | None = None


class AssessBatchResponse(RiskmeshModel):
    """Analysis agent ▶ orchestrator: one verdict per transaction, in request order."""

    batch_id: str
    agent: str
    model_version: str
    verdicts: list[AgentVerdict]


class AggregationRequest(RiskmeshModel):
    """Orchestrator ▶ aggregation agent: the batch and every analysis verdict (failed ones included)."""

    batch_id: str
    transactions: list[Transaction]
    verdicts: dict[str, list[AgentVerdict]] = Field(description="agent name ▶ verdicts in transaction order")


class AggregatedDecision(RiskmeshModel):
    tx_id: str
    decision: DecisionOutcome
    risk_score: float = Field(ge=0.0, le=1.0)
    reasons: list[Reason] = Field(default_factory=list)
    degraded: list[str] = Field(default_factory=list)


class AggregationResponse(RiskmeshModel):
    batch_id: str
    policy_version: str
    decisions: list[AggregatedDecision]
    shadow_policy_version: str | None = Field(
        default=None, description="the challenger policy decided in shadow mode, if one is configured"
    )
    shadow: list[AggregatedDecision] = Field(
        default_factory=list, description="the challenger's decisions: recorded, never acted on"
    )


class ActionRequest(RiskmeshModel):
    """Orchestrator ▶ action agent: carry these decisions out."""

    batch_id: str
    decided_at: UtcDatetime
    policy_version: str
    transactions: list[Transaction]
    decisions: list[AggregatedDecision]


class ActionOutcome(RiskmeshModel):
    tx_id: str
    actions: list[str] = Field(default_factory=list)
    alert_id: str | None = None
    status: Literal["ok", "error"] = "ok"
    detail: str = ""


class ActionResponse(RiskmeshModel):
    batch_id: str
    outcomes: list[ActionOutcome]
