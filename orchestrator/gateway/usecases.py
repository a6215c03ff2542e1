"""explain-decision and submit-feedback: what they read and write, behind small ports.

explain-decision reads the decision store (the Decision JSON as emitted: verdicts, reasons, policy and model
versions), the review ledger (the analyst's outcome), the risk-actions MCP server (the action log; caller
identity `gateway`, allowed `get_actions_batch` only) and the audit trail (events of `tx:<id>` and, when the
decision raised an alert, of `alert:<id>`; `decision.made` itself is not indexed per subject, the Decision
carries the same facts). submit-feedback writes `LabelRecord(source="feedback")` to `riskmesh.labels` and one
`feedback.received` audit event per transaction.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

from riskmesh.agents.base import ToolCaller, ToolCallError
from riskmesh.contracts import Decision
from riskmesh.contracts.gateway import Explanation, FeedbackReceipt, FeedbackRequest, ReviewOutcome
from riskmesh.contracts.review import LabelRecord
from riskmesh.orchestrator.audit import AuditEntry, AuditLog
from riskmesh.orchestrator.decision_store import DecisionStore

__all__ = ["ActionLog", "DecisionNotFound", "Explainer", "FeedbackDesk", "LabelSink", "McpActionLog"]

log = logging.getLogger("riskmesh.gateway.usecases")

GATEWAY_CALLER = "gateway"


class DecisionNotFound(LookupError):
    """No decision is stored for the tx_id (never decided, or older than the retention)."""


class ActionLog(Protocol):
    async def actions_for(self, tx_id: str) -> list[dict[str, Any]]: ...


class OutcomeLookup(Protocol):
    async def outcome_of(self, alert_id: str) -> ReviewOutcome | None: ...


class LabelSink(Protocol):
    async def publish(self, labels: Sequence[LabelRecord]) -> None: ...


class McpActionLog:
    """The action log through the risk-actions MCP server."""

    def __init__(self, tools: ToolCaller) -> None:
        self._tools = tools

    async def actions_for(self, tx_id: str) -> list[dict[str, Any]]:
        result = await self._tools.call("risk-actions", "get_actions_batch", {"tx_ids": [tx_id]})
        found = result.get("actions", {}).get(tx_id, [])
        return list(found) if isinstance(found, list) else []


class Explainer:
    def __init__(self, decisions: DecisionStore, outcomes: OutcomeLookup, audit: AuditLog,
                 actions: ActionLog | None) -> None:
        self._decisions = decisions
        self._outcomes = outcomes
        self._audit = audit
        self._actions = actions

    async def explain(self, tx_id: str) -> Explanation:
        stored = (await self._decisions.lookup([tx_id])).get(tx_id)
        if stored is None:
            raise DecisionNotFound(f"no decision is stored for tx_id {tx_id!r} (unknown, or past the retention)")
        decision = Decision.model_validate_json(stored.payload)
        unavailable: list[str] = []
        actions: list[dict[str, Any]] = []
        if self._actions is None:
            unavailable.append("actions")
        else:
            try:
                actions = await self._actions.actions_for(tx_id)
            except ToolCallError as exc:
                log.warning("explain %s: action log unavailable: %s", tx_id, exc)
                unavailable.append("actions")
        review = await self._outcomes.outcome_of(decision.alert_id) if decision.alert_id else None
        subjects = [f"tx:{tx_id}", *([f"alert:{decision.alert_id}"] if decision.alert_id else [])]
        found = await asyncio.gather(*(asyncio.to_thread(self._audit.events_for, s) for s in subjects))
        events = sorted({e.seq: e for batch in found for e in batch}.values(), key=lambda e: e.seq)
        return Explanation(tx_id=tx_id, decision=decision, review=review, actions=actions, audit=events,
                           unavailable=unavailable)


class FeedbackDesk:
    def __init__(self, labels: LabelSink, audit: AuditLog,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._labels = labels
        self._audit = audit
        self._clock = clock

    async def submit(self, client_id: str, request: FeedbackRequest) -> FeedbackReceipt:
        """Publish the labels (acknowledged), then audit each one; a retry after a failure publishes again."""
        now = self._clock()
        labels = [LabelRecord(tx_id=f.tx_id, is_fraud=f.kind != "false_positive", pattern=f.pattern,
                              source="feedback", disposition=f.kind, actor=f"client:{client_id}",
                              labelled_at=f.reported_at or now) for f in request.feedback]
        await self._labels.publish(labels)
        entries: list[AuditEntry] = [
            (f"client:{client_id}", "feedback.received", f"tx:{f.tx_id}",
             {"kind": f.kind, "pattern": f.pattern, "note": f.note,
              "reported_at": f.reported_at.isoformat() if f.reported_at else None})
            for f in request.feedback]
        await asyncio.to_thread(self._audit.append_many, entries)
        return FeedbackReceipt(accepted=len(labels), tx_ids=[f.tx_id for f in request.feedback], received_at=now)
