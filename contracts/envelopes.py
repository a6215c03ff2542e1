"""Internal batch envelopes: what travels as one raw JSON part between the orchestrator and agents.

One A2A message per agent per micro-batch; see docs/decisions/0001-a2a-grpc-and-raw-json-parts.md.

Each agent gets what it reads, and each request is validated once, by the agent that receives it. The analysis
agents get whole transactions; the aggregation and action agents only the facts they decide and act on
(`TxFacts`) and verdicts without evidence (`ScoredVerdict`); the supervisor reads analysis replies without
evidence (`AssessBatchReply`). The `*_json` writers build a request from objects the supervisor has already
validated, in one serialisation and without validating them again (docs/performance.md).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Literal

from pydantic import ConfigDict, Field, TypeAdapter
from pydantic.main import IncEx

from riskmesh.contracts.base import Currency, Money, RiskmeshModel, UtcDatetime
from riskmesh.contracts.decision import DecisionOutcome
from riskmesh.contracts.transaction import Transaction, TxType
from riskmesh.contracts.verdict import AgentVerdict, Reason, ScoredVerdict

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
    "AssessBatchReply",
    "AssessBatchRequest",
    "AssessBatchResponse",
    "PartyRef",
    "TxFacts",
    "action_request_json",
    "aggregation_request_json",
    "assess_request_json",
]

BATCH_MEDIA_TYPE = "application/vnd.riskmesh.tx-batch.v1+json"
VERDICTS_MEDIA_TYPE = "application/vnd.riskmesh.verdicts.v1+json"
# v2 of the aggregation and action requests: TxFacts instead of whole transactions, verdicts without evidence
AGGREGATION_REQUEST_MEDIA_TYPE = "application/vnd.riskmesh.aggregation-request.v2+json"
AGGREGATION_RESPONSE_MEDIA_TYPE = "application/vnd.riskmesh.aggregation-response.v1+json"
ACTION_REQUEST_MEDIA_TYPE = "application/vnd.riskmesh.action-request.v2+json"
ACTION_RESPONSE_MEDIA_TYPE = "application/vnd.riskmesh.action-response.v1+json"


_ID = Field(min_length=1, max_length=128)


class PartyRef(RiskmeshModel):
    """Internal: whose account a party is, the part of a `Party` the aggregation and action agents read."""

    model_config = ConfigDict(from_attributes=True)

    customer_id: str | None = Field(default=None, max_length=128)
    account_id: str = _ID


class TxFacts(RiskmeshModel):
    """Internal: the facts of a transaction the aggregation and action agents read, and nothing else.

    Type (which party acts), amount and currency (hard rules, ≈USD), both accounts and customers (reference
    data, controls, the account acted on). Validated as in `Transaction`; `TxFacts.model_validate(tx)` reads
    them off a Transaction.
    """

    model_config = ConfigDict(from_attributes=True)

    tx_id: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:\-]*$")
    type: TxType
    amount: Money
    currency: Currency
    debtor: PartyRef
    creditor: PartyRef


class AssessBatchRequest(RiskmeshModel):
    """Orchestrator ▶ analysis agent: score these transactions."""

    batch_id: str
    transactions: list[Transaction]
    deadline_ms: float | None = None
    include_evidence: bool = Field(
        default=True, description="false: the verdicts come back without `evidence` (the supervisor never reads it)"
    )


class AssessBatchResponse(RiskmeshModel):
    """Analysis agent ▶ orchestrator: one verdict per transaction, in request order."""

    batch_id: str
    agent: str
    model_version: str
    verdicts: list[AgentVerdict]


class _ReplyVerdict(ScoredVerdict):
    model_config = ConfigDict(extra="ignore")


class AssessBatchReply(RiskmeshModel):
    """How the supervisor reads an AssessBatchResponse: verdicts without `evidence`, which it never uses.

    Unknown verdict fields are skipped unread rather than refused: the agent built its reply as a strict
    AssessBatchResponse, and evidence (about half the bytes) is then never turned into Python objects.
    """

    batch_id: str
    agent: str
    model_version: str
    verdicts: list[_ReplyVerdict]


class AggregationRequest(RiskmeshModel):
    """Orchestrator ▶ aggregation agent: the batch's facts and every analysis verdict (failed ones included)."""

    batch_id: str
    transactions: list[TxFacts]
    verdicts: dict[str, list[ScoredVerdict]] = Field(description="agent name ▶ verdicts in transaction order")


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
    transactions: list[TxFacts]
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


_TRANSACTIONS = TypeAdapter(list[Transaction])
_TRANSACTION = TypeAdapter(Transaction)
_VERDICTS = TypeAdapter(dict[str, list[ScoredVerdict]])
_DECISIONS = TypeAdapter(list[AggregatedDecision])
_TIME = TypeAdapter(UtcDatetime)
_STR = TypeAdapter(str)
_PARTY_FACTS: IncEx = {"customer_id", "account_id"}
_FACTS: IncEx = {
    "__all__": {"tx_id": True, "type": True, "amount": True, "currency": True, "debtor": _PARTY_FACTS,
                "creditor": _PARTY_FACTS}
}
"""Which fields of a Transaction make its TxFacts (the same names, so the JSON validates as TxFacts)."""


def _json_object(**members: bytes) -> bytes:
    """A JSON object from members that are already JSON text, in keyword order."""
    return b"{" + b",".join(b'"' + name.encode() + b'":' + value for name, value in members.items()) + b"}"


def assess_request_json(
    batch_id: str, transactions: Sequence[Transaction], raw: Mapping[str, bytes] | None = None
) -> bytes:
    """An AssessBatchRequest as JSON: the batch in one serialisation, shared by every analysis agent; verdicts are
    asked for without evidence (the supervisor reads scores, statuses and reasons).

    `raw`: tx_id ▶ the JSON text a transaction arrived as, already validated as that Transaction (and without a
    label): it is passed on as it came instead of being written again.
    """
    if not raw:
        body = _TRANSACTIONS.dump_json(list(transactions))
    else:
        body = b"[" + b",".join(raw.get(t.tx_id) or _TRANSACTION.dump_json(t) for t in transactions) + b"]"
    return _json_object(batch_id=_STR.dump_json(batch_id), transactions=body, include_evidence=b"false")


def aggregation_request_json(
    batch_id: str, transactions: Sequence[Transaction], verdicts: dict[str, list[ScoredVerdict]]
) -> bytes:
    """An AggregationRequest as JSON: each transaction's TxFacts, and verdicts without evidence."""
    return _json_object(
        batch_id=_STR.dump_json(batch_id),
        transactions=_TRANSACTIONS.dump_json(list(transactions), include=_FACTS),
        verdicts=_VERDICTS.dump_json(verdicts),
    )


def action_request_json(
    batch_id: str, decided_at: datetime, policy_version: str, transactions: Sequence[Transaction],
    decisions: Sequence[AggregatedDecision],
) -> bytes:
    """An ActionRequest as JSON: each transaction's TxFacts and its decision."""
    return _json_object(
        batch_id=_STR.dump_json(batch_id),
        decided_at=_TIME.dump_json(decided_at),
        policy_version=_STR.dump_json(policy_version),
        transactions=_TRANSACTIONS.dump_json(list(transactions), include=_FACTS),
        decisions=_DECISIONS.dump_json(list(decisions)),
    )
