"""Action agent: carry decisions and resolutions out through the risk-actions MCP server.

Two skills. `act`: one `apply_decisions_batch` call per batch (hold, block, alert, escalation).
`resolve`: one `apply_resolutions_batch` call per request, carrying analysts' final dispositions
(release, block, freeze). Which controls follow is the risk-actions server's policy; this agent only
hands items over and reports, per item, what was done. It never raises for one bad item: a failed
call marks every outcome `error` with the detail, an item the server did not answer is marked
`error` alone. Both calls are idempotent on the server (per tx_id, per alert_id), so resending after
a crash acts once.
"""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter, ValidationError

from riskmesh.agents._common import batch_json, iso_utc
from riskmesh.agents.base import ToolCaller, ToolCallError
from riskmesh.contracts import (
    ActionOutcome,
    ActionRequest,
    ActionResponse,
    AggregatedDecision,
    Reason,
    TxFacts,
)
from riskmesh.contracts.review import (
    ControlChange,
    Resolution,
    ResolutionOutcome,
    ResolutionRequest,
    ResolutionResponse,
)

__all__ = ["ActionAgentImpl"]

_REASONS = TypeAdapter(list[Reason])


class ActionAgentImpl:
    name = "action"
    model_version = "action-1"

    def __init__(self, tools: ToolCaller) -> None:
        self.tools = tools

    async def act(self, request: ActionRequest) -> ActionResponse:
        by_id = {t.tx_id: t for t in request.transactions}
        decided_at = iso_utc(request.decided_at)
        items: list[dict[str, Any]] = []
        outcomes: dict[str, ActionOutcome] = {}
        for decision in request.decisions:
            tx = by_id.get(decision.tx_id)
            if tx is None:
                outcomes[decision.tx_id] = _error(decision.tx_id, "no transaction with this tx_id in the request")
            else:
                items.append(_item(tx, decision, request.policy_version, decided_at))
        results: dict[str, Any] = {}
        failure = ""
        if items:
            try:
                answer = await self.tools.call("risk-actions", "apply_decisions_batch",
                                               {"items_json": batch_json(items)})
            except ToolCallError as exc:
                failure = str(exc)
            else:
                found = answer.get("results") if isinstance(answer, dict) else None
                if isinstance(found, dict):
                    results = found
                else:
                    failure = "risk-actions answered without a 'results' object"
        for item in items:
            tx_id = item["tx_id"]
            if failure:
                outcomes[tx_id] = _error(tx_id, failure)
            else:
                outcomes[tx_id] = _outcome(tx_id, results.get(tx_id))
        return ActionResponse(batch_id=request.batch_id, outcomes=[outcomes[d.tx_id] for d in request.decisions])

    async def resolve(self, request: ResolutionRequest) -> ResolutionResponse:
        """Carry out every resolution in one call; one outcome per resolution, in request order."""
        if not request.resolutions:
            return ResolutionResponse(request_id=request.request_id, outcomes=[])
        arguments = {"resolutions": [r.model_dump(mode="json") for r in request.resolutions]}
        results: dict[str, Any] = {}
        failure = ""
        try:
            answer = await self.tools.call("risk-actions", "apply_resolutions_batch", arguments)
        except ToolCallError as exc:
            failure = str(exc)
        else:
            found = answer.get("results") if isinstance(answer, dict) else None
            if isinstance(found, dict):
                results = found
            else:
                failure = "risk-actions answered without a 'results' object"
        outcomes = [
            _resolution_error(r, failure) if failure else _resolution_outcome(r, results.get(r.alert_id))
            for r in request.resolutions
        ]
        return ResolutionResponse(request_id=request.request_id, outcomes=outcomes)


def _item(tx: TxFacts, decision: AggregatedDecision, policy_version: str, decided_at: str) -> dict[str, Any]:
    """One `apply_decisions_batch` item; `decided_at` is the batch's time, already in wire format."""
    return {
        "tx_id": tx.tx_id,
        "decision": decision.decision,
        "risk_score": decision.risk_score,
        "amount": format(tx.amount, "f"),
        "currency": tx.currency,
        "debtor_account_id": tx.debtor.account_id,
        "reasons": _REASONS.dump_python(decision.reasons, mode="json"),
        "degraded": list(decision.degraded),
        "policy_version": policy_version,
        "decided_at": decided_at,
    }


def _outcome(tx_id: str, result: Any) -> ActionOutcome:
    if not isinstance(result, dict):
        return _error(tx_id, "risk-actions returned no result for this transaction")
    if isinstance(result.get("error"), str) and result["error"]:
        return _error(tx_id, result["error"][:2048])
    actions = result.get("actions") or []
    alert_id = result.get("alert_id")
    if not isinstance(actions, list) or not all(isinstance(a, str) for a in actions):
        return _error(tx_id, f"risk-actions returned malformed actions: {actions!r}"[:2048])
    return ActionOutcome(tx_id=tx_id, actions=actions, alert_id=alert_id if isinstance(alert_id, str) else None)


def _error(tx_id: str, detail: str) -> ActionOutcome:
    return ActionOutcome(tx_id=tx_id, status="error", detail=detail)


def _resolution_outcome(resolution: Resolution, result: Any) -> ResolutionOutcome:
    if not isinstance(result, dict):
        return _resolution_error(resolution, "risk-actions returned no result for this alert")
    if isinstance(result.get("error"), str) and result["error"]:
        return _resolution_error(resolution, result["error"])
    actions = result.get("actions") or []
    if not isinstance(actions, list) or not all(isinstance(a, str) for a in actions):
        return _resolution_error(resolution, f"risk-actions returned malformed actions: {actions!r}")
    try:
        controls = [ControlChange.model_validate(c) for c in result.get("controls") or []]
    except ValidationError as exc:
        return _resolution_error(resolution, f"risk-actions returned malformed controls: {exc.errors()[0]['msg']}")
    return ResolutionOutcome(alert_id=resolution.alert_id, tx_id=resolution.tx_id, actions=actions, controls=controls)


def _resolution_error(resolution: Resolution, detail: str) -> ResolutionOutcome:
    return ResolutionOutcome(alert_id=resolution.alert_id, tx_id=resolution.tx_id, status="error", detail=detail[:2048])
