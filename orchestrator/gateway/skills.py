"""The risk gateway's four skills, how a request picks one, and the scope each needs.

One table read by the card (card.py), the auth layer (auth.py) and the executor (executor.py), so the media
types, the selection rules and the scopes cannot drift between what the card says and what is enforced.

How a message picks its skill (first rule that applies):
1. message metadata `{"riskmesh": {"skill": "<id>"}}` (or a top-level `"skill": "<id>"`);
2. the first part's media type, when it is one of a skill's declared input media types;
3. for plain JSON (a `data` part, or `text`/`raw` declared `application/json` or undeclared), the payload's
   shape: an object with `transactions` ▶ assess-batch, with `feedback` ▶ submit-feedback, with only `tx_id`
   ▶ explain-decision, anything else (a Transaction) ▶ assess-transaction.

assess-transaction answers with a Message unless the caller asks for a Task (see `wants_task`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from riskmesh.contracts import RiskmeshModel, Transaction
from riskmesh.contracts.gateway import (
    BATCH_ASSESS_REQUEST_MEDIA_TYPE,
    BATCH_ASSESS_RESPONSE_MEDIA_TYPE,
    DECISION_MEDIA_TYPE,
    EXPLAIN_REQUEST_MEDIA_TYPE,
    EXPLANATION_MEDIA_TYPE,
    FEEDBACK_MEDIA_TYPE,
    FEEDBACK_RECEIPT_MEDIA_TYPE,
    TRANSACTION_MEDIA_TYPE,
    BatchAssessRequest,
    ExplainRequest,
    FeedbackRequest,
)

__all__ = [
    "ASSESS",
    "BATCH",
    "EXPLAIN",
    "FEEDBACK",
    "GENERIC_MEDIA_TYPES",
    "SCOPES",
    "SKILLS",
    "TASK_SCOPE",
    "TASK_TRIGGERS",
    "GatewaySkill",
    "UnknownSkill",
    "required_scopes",
    "riskmesh_metadata",
    "select_skill",
    "skill_by_id",
    "wants_task",
]

GENERIC_MEDIA_TYPES = frozenset({"", "application/json", "text/plain"})
TASK_SCOPE = "assess:task"
"""Needed to ask assess-transaction for a Task and for every task method (get, cancel, subscribe, push configs)."""
SCOPES: tuple[str, ...] = ("assess", TASK_SCOPE, "explain", "feedback")

TASK_TRIGGERS = (
    "Ask for a Task (to follow a `review` to its human outcome) with any of: "
    "`configuration.returnImmediately: true`, a `configuration.taskPushNotificationConfig` (webhook + token), "
    'or message metadata `{"riskmesh": {"await_review": true}}`. The Task goes to `input-required` while the '
    "alert is with an analyst (the status message names the alert id) and completes with the final decision "
    "(artifact `final-decision`, plus the `review-outcome`); a pass or block completes at once. Follow it with "
    "SendStreamingMessage, GetTask, SubscribeToTask or push notifications; CancelTask stops following: the "
    "alert stays with the analyst and nothing is released. Needs scope `assess:task`."
)


@dataclass(frozen=True, slots=True)
class GatewaySkill:
    skill_id: str
    name: str
    description: str
    tags: tuple[str, ...]
    request_model: type[RiskmeshModel]
    input_media_type: str
    output_media_type: str
    scope: str


ASSESS = GatewaySkill(
    "assess-transaction", "Assess a transaction",
    "Decides one payment transaction: pass, block or review, with every agent's verdict and reasons. "
    "Send the Transaction (CONTRACTS.md v1) as a `data` part (or JSON text/raw). The reply is a Message "
    "whose `data` part is the Decision. " + TASK_TRIGGERS,
    ("risk", "fraud", "aml", "decision", "sync"), Transaction, TRANSACTION_MEDIA_TYPE, DECISION_MEDIA_TYPE, "assess")
BATCH = GatewaySkill(
    "assess-batch", "Assess many transactions",
    'Decides up to 1000 transactions in one call: `{"request_id"?, "transactions": [Transaction, ...]}` in, '
    '`{"request_id", "decisions": [Decision, ...]}` out, in request order. A raw part of the declared media '
    "type is the fastest form for big batches.",
    ("risk", "batch", "decision"), BatchAssessRequest, BATCH_ASSESS_REQUEST_MEDIA_TYPE,
    BATCH_ASSESS_RESPONSE_MEDIA_TYPE, "assess")
EXPLAIN = GatewaySkill(
    "explain-decision", "Explain a decision",
    '`{"tx_id": "..."}` in; the decision, every agent\'s verdict and reasons, the analyst\'s outcome when it was '
    "reviewed, the actions taken and the audit events of the transaction and its alert out.",
    ("risk", "explainability", "audit"), ExplainRequest, EXPLAIN_REQUEST_MEDIA_TYPE, EXPLANATION_MEDIA_TYPE,
    "explain")
FEEDBACK = GatewaySkill(
    "submit-feedback", "Submit feedback",
    'Confirmed fraud, chargebacks and false positives from other systems: `{"feedback": [{"tx_id", "kind": '
    '"confirmed_fraud" | "chargeback" | "false_positive", "reported_at"?, "pattern"?, "note"?}]}`. Stored as '
    "training labels and audited; the receipt counts what was accepted.",
    ("risk", "feedback", "labels"), FeedbackRequest, FEEDBACK_MEDIA_TYPE, FEEDBACK_RECEIPT_MEDIA_TYPE, "feedback")

SKILLS: tuple[GatewaySkill, ...] = (ASSESS, BATCH, EXPLAIN, FEEDBACK)
_BY_ID = {s.skill_id: s for s in SKILLS}
_BY_MEDIA_TYPE = {s.input_media_type: s for s in SKILLS}


def skill_by_id(skill_id: str) -> GatewaySkill | None:
    return _BY_ID.get(skill_id)


def riskmesh_metadata(metadata: Mapping[str, Any] | None) -> Mapping[str, Any]:
    """The `riskmesh` object of a message's metadata ({} when absent or not an object)."""
    inner = (metadata or {}).get("riskmesh")
    return inner if isinstance(inner, Mapping) else {}


class UnknownSkill(ValueError):
    """The message names a skill, or declares a media type, that this agent does not serve."""


def select_skill(metadata: Mapping[str, Any] | None, media_type: str,
                 payload_keys: Callable[[], frozenset[str] | None]) -> GatewaySkill:
    """The skill a message asks for (see the module docstring); `payload_keys` is called only for plain JSON.

    UnknownSkill names what was asked and what is accepted.
    """
    named = riskmesh_metadata(metadata).get("skill") or (metadata or {}).get("skill")
    if named:
        skill = _BY_ID.get(str(named))
        if skill is None:
            raise UnknownSkill(f"unknown skill {named!r}; this agent serves {', '.join(_BY_ID)}")
        return skill
    if media_type in _BY_MEDIA_TYPE:
        return _BY_MEDIA_TYPE[media_type]
    if media_type not in GENERIC_MEDIA_TYPES:
        accepted = ", ".join([*_BY_MEDIA_TYPE, "application/json"])
        raise UnknownSkill(f"media type {media_type!r} is not accepted; send one of {accepted}")
    keys = payload_keys() or frozenset()
    if "transactions" in keys:
        return BATCH
    if "feedback" in keys:
        return FEEDBACK
    if keys == {"tx_id"}:
        return EXPLAIN
    return ASSESS


def wants_task(metadata: Mapping[str, Any] | None, return_immediately: bool, has_push_config: bool) -> bool:
    """Whether an assess-transaction caller asked for a Task rather than a Message (see TASK_TRIGGERS)."""
    return bool(return_immediately or has_push_config or riskmesh_metadata(metadata).get("await_review") is True)


def required_scopes(skill: GatewaySkill, task: bool) -> frozenset[str]:
    """The scopes a call of `skill` needs (a Task of assess-transaction also needs `assess:task`)."""
    return frozenset({skill.scope, TASK_SCOPE}) if task and skill is ASSESS else frozenset({skill.scope})

