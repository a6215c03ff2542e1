"""risk-actions MCP server: carry decisions and analysts' resolutions out, apply graded controls.

Decisions (idempotent per tx_id): pass ▶ no action; block ▶ block_transaction; review ▶
hold_transaction + open_alert, with an `Alert` queued by priority (risk first, then amount). Each
block or review is a hit on the debtor account; repeated hits escalate it (limit_account,
suspend_remote_channels; see controls.py and docs/controls.md). Resolutions (idempotent per
alert_id): release ▶ release_transaction; block ▶ block_transaction (+ a hit); freeze ▶
block_transaction + freeze_account, only with a second person's approval. The alert id is derived
from the tx_id, so a redelivered decision finds the alert it already opened.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from decimal import Decimal
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context, MCPServer
from mcp.types import CallToolResult
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, TypeAdapter

from riskmesh.contracts import Alert, Reason
from riskmesh.contracts.review import Resolution
from riskmesh.mcp_servers.account_tools import register_case_tools, register_control_tools
from riskmesh.mcp_servers.action_store import ActionRecord, ActionStore, MemoryActionStore, RedisActionStore
from riskmesh.mcp_servers.cases import CaseStore, MemoryCaseStore, RedisCaseStore
from riskmesh.mcp_servers.controls import CONTROL_ACTIONS, ControlStore, Effects
from riskmesh.mcp_servers.policy import AccessPolicy
from riskmesh.mcp_servers.toolkit import BATCH_JSON_DESCRIPTION, ToolGuard, batch_items, batch_result, check_batch_size

__all__ = [
    "SERVER_NAME",
    "DecisionItem",
    "alert_id_for",
    "alert_priority",
    "build_risk_actions_server",
    "resolution_record",
    "to_record",
]

SERVER_NAME = "risk-actions"
VERSION = "0.2.0"
ACTIONS: dict[str, list[str]] = {
    "pass": [],
    "block": ["block_transaction"],
    "review": ["hold_transaction", "open_alert"],
}
RESOLUTION_ACTIONS: dict[str, list[str]] = {
    "release": ["release_transaction"],
    "block": ["block_transaction"],
    "freeze": ["block_transaction"],  # + freeze_account, from the effects
}
HOLD_NOTE = "held for an analyst's review (delayed settlement)"
_AMOUNT_CAP = Decimal(999_999)


class DecisionItem(BaseModel):
    """One decision to carry out (extra keys are ignored)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    tx_id: str = Field(min_length=1, max_length=256)
    decision: Literal["pass", "block", "review"]
    risk_score: float = Field(ge=0.0, le=1.0)
    amount: Decimal = Field(ge=0, allow_inf_nan=False)
    currency: str = Field(min_length=1, max_length=8)
    debtor_account_id: str = Field(min_length=1, max_length=256)
    reasons: list[Reason] = Field(default_factory=list)
    degraded: list[str] = Field(default_factory=list)
    policy_version: str
    decided_at: AwareDatetime


_DECISION_ITEMS = TypeAdapter(list[DecisionItem])


def alert_id_for(tx_id: str) -> str:
    """Deterministic: the same transaction always maps to the same alert."""
    return "AL-" + hashlib.sha1(tx_id.encode(), usedforsecurity=False).hexdigest()[:16]


def alert_priority(risk_score: float, amount: Decimal) -> float:
    """Queue score: highest risk first (in steps of 0.001), then the larger amount.

    The risk is scaled to integer thousandths times 1e6 so that the capped amount (< 1e6) only breaks
    ties between equal risks: a plain `risk * 1e6 + amount` would let 999,999 of amount outrank
    0.99 of risk. The largest score, ~1e9, is exact in a double.
    """
    return round(risk_score * 1000) * 1e6 + float(min(amount, _AMOUNT_CAP))


def to_record(item: DecisionItem, freeze_codes: Collection[str] = ()) -> ActionRecord:
    """The record of one decision: its actions, its alert (review), its account effects.

    A block whose reasons carry one of `freeze_codes` (a hard rule) also freezes the account.
    """
    hit = item.decision != "pass"
    freeze = item.decision == "block" and any(r.code in freeze_codes for r in item.reasons)
    effects = Effects(
        account_id=item.debtor_account_id,
        at=item.decided_at,
        hit=hit,
        hold=item.decision == "review",
        freeze=freeze,
        note=HOLD_NOTE if item.decision == "review" else ("hard rule: " + _codes(item, freeze_codes) if freeze else ""),
    )
    log = {"actor": f"policy:{item.policy_version}", "source": "decision", "account_id": item.debtor_account_id}
    if item.decision != "review":
        return ActionRecord(
            item.tx_id, {"actions": list(ACTIONS[item.decision]), "alert_id": None}, effects=effects, log=log
        )
    alert = Alert(
        alert_id=alert_id_for(item.tx_id),
        tx_id=item.tx_id,
        created_at=item.decided_at,
        risk_score=item.risk_score,
        amount=item.amount,
        currency=item.currency,
        debtor_account_id=item.debtor_account_id,
        reasons=item.reasons,
        degraded=item.degraded,
        policy_version=item.policy_version,
    )
    result: dict[str, Any] = {"actions": list(ACTIONS["review"]), "alert_id": alert.alert_id}
    log["alert_id"] = alert.alert_id
    return ActionRecord(
        item.tx_id, result, alert, alert_priority(item.risk_score, item.amount), effects=effects, log=log
    )


_ESCALATIONS = frozenset(CONTROL_ACTIONS.values())


def _base(result: dict[str, Any]) -> dict[str, Any]:
    """A stored result without what escalation added: what the decision itself asked for."""
    return {"actions": [a for a in result["actions"] if a not in _ESCALATIONS], "alert_id": result["alert_id"]}


def _codes(item: DecisionItem, codes: Collection[str]) -> str:
    return ", ".join(sorted({r.code for r in item.reasons if r.code in codes}))


def resolution_record(res: Resolution) -> ActionRecord:
    """The record of one alert's final disposition (idempotent per alert_id)."""
    who = res.decided_by + (f", approved by {res.approved_by}" if res.approved_by else "")
    note = f"{res.disposition} by {who}" + (f": {res.reason}" if res.reason else "")
    effects = Effects(
        account_id=res.debtor_account_id,
        at=res.decided_at,
        hit=res.disposition != "release",
        unhold=True,
        freeze=res.disposition == "freeze",
        note=note[:4000],
    )
    log = {
        "actor": res.decided_by,
        "approved_by": res.approved_by,
        "source": "resolution",
        "alert_id": res.alert_id,
        "account_id": res.debtor_account_id,
    }
    result = {"actions": list(RESOLUTION_ACTIONS[res.disposition]), "alert_id": res.alert_id}
    return ActionRecord(res.tx_id, result, effects=effects, resolution=res.alert_id, log=log)


def _resolution_refusal(res: Resolution, alert: Alert | None) -> str:
    """Why a resolution cannot be carried out, or "" when it can."""
    if alert is None:
        return f"unknown alert {res.alert_id}"
    if alert.tx_id != res.tx_id or alert.debtor_account_id != res.debtor_account_id:
        return (
            f"alert {res.alert_id} is about tx {alert.tx_id} on account {alert.debtor_account_id}, "
            f"not tx {res.tx_id} on account {res.debtor_account_id}"
        )
    if res.disposition == "freeze" and (not res.approved_by or res.approved_by == res.decided_by):
        return "four-eyes: a freeze needs the approval of a second person (approved_by other than decided_by)"
    return ""


def _default_controls(store: ActionStore) -> ControlStore:
    controls = getattr(store, "controls", None)
    if not isinstance(controls, ControlStore):
        raise TypeError("pass `controls=`: this action store does not bring a control store")
    return controls


def _default_cases(store: ActionStore) -> CaseStore:
    if isinstance(store, RedisActionStore):
        return RedisCaseStore(store._redis)
    if isinstance(store, MemoryActionStore):
        return MemoryCaseStore()
    raise TypeError("pass `cases=`: no default case store for this action store")


def build_risk_actions_server(
    store: ActionStore,
    *,
    controls: ControlStore | None = None,
    cases: CaseStore | None = None,
    token: str | None = None,
    policy: AccessPolicy | None = None,
    freeze_codes: Collection[str] = (),
) -> MCPServer:
    """An MCPServer applying decisions and resolutions through `store` (in memory or Redis).

    `controls` and `cases` default to the stores matching `store` (same Redis, or in memory).
    `freeze_codes`: reason codes that make a block freeze the account (a hard rule); none by default,
    since a confirmed sanctions match may concern the creditor rather than the bank's customer.
    """
    server = MCPServer(
        SERVER_NAME,
        version=VERSION,
        instructions="Carries decisions and analysts' resolutions out: holds, releases, blocks, graded account "
        "controls, the analyst alert queue, cases, risk ratings, risk reports. Idempotent per tx_id / alert_id.",
    )
    guard = ToolGuard(SERVER_NAME, token, policy)
    controls = controls if controls is not None else _default_controls(store)
    cases = cases if cases is not None else _default_cases(store)
    _decision_tools(server, guard, store, frozenset(freeze_codes))
    register_control_tools(server, guard, controls)
    register_case_tools(server, guard, store, controls, cases, alert_id_for)
    return server


def _decision_tools(server: MCPServer, guard: ToolGuard, store: ActionStore, freeze_codes: frozenset[str]) -> None:
    @server.tool(
        description=(
            "Apply many decisions in one call. pass ▶ no action; block ▶ block_transaction; review ▶ "
            "hold_transaction + open_alert and an alert queued by risk then amount. Every block or review is a "
            "hit on the debtor account: 3 hits within 30 days add limit_account, 5 add suspend_remote_channels "
            "(never a freeze). Idempotent per tx_id: a repeated tx gets the result recorded the first time, "
            'counts no hit and writes nothing. Returns {"results": {tx_id: {"actions": [str], "alert_id": str '
            'or null, "controls": [{account_id, control, change, level, reason}]}}}.'
        ),
        structured_output=False,
    )
    async def apply_decisions_batch(
        ctx: Context,
        items: Annotated[
            list[DecisionItem] | None,
            Field(
                description=(
                    "items {tx_id, decision, risk_score, amount, currency, debtor_account_id, reasons, "
                    "degraded, policy_version, decided_at}"
                )
            ),
        ] = None,
        items_json: Annotated[str, Field(description=BATCH_JSON_DESCRIPTION)] = "",
    ) -> CallToolResult:
        with guard.call(ctx, "apply_decisions_batch", 0) as call:
            decisions = batch_items(call, "items", items, items_json, _DECISION_ITEMS)
            records = {item.tx_id: to_record(item, freeze_codes) for item in decisions}
            stored = await store.apply(list(records.values()))
            changed = [tx for tx, rec in records.items() if _base(stored[tx]) != rec.result]
            if changed:
                guard.logger.warning(
                    "caller=%s: %d decisions differ from the actions already recorded (kept the first): %s",
                    call.caller,
                    len(changed),
                    changed[:10],
                )
            return batch_result({"results": stored})

    @server.tool(
        description=(
            "Carry out analysts' final dispositions of alerts, many per call. release ▶ release_transaction "
            "(the hold is lifted, delayed settlement proceeds); block ▶ block_transaction and a hit on the account "
            "(may escalate); freeze ▶ block_transaction + freeze_account (level 4), refused unless approved_by "
            "names a second person. Idempotent per alert_id: a repeated resolution returns the first result and "
            "acts once. An item that cannot be carried out (unknown alert, tx or account mismatch, freeze without "
            'four eyes) gets {"error"} and nothing is recorded for it. Returns {"results": {alert_id: {"tx_id", '
            '"actions": [str], "alert_id", "controls": [ControlChange]} or {"tx_id", "error"}}}.'
        ),
        structured_output=False,
    )
    async def apply_resolutions_batch(
        ctx: Context,
        resolutions: Annotated[
            list[Resolution],
            Field(
                description="{alert_id, tx_id, debtor_account_id, disposition: release|block|freeze, decided_by, "
                "approved_by, reason, decided_at}"
            ),
        ],
    ) -> CallToolResult:
        with guard.call(ctx, "apply_resolutions_batch", len(resolutions)):
            check_batch_size(len(resolutions), "resolutions")
            results: dict[str, dict[str, Any]] = {}
            records: list[ActionRecord] = []
            for res in resolutions:
                refusal = _resolution_refusal(res, await store.get_alert(res.alert_id))
                if refusal:
                    results.setdefault(res.alert_id, {"tx_id": res.tx_id, "error": refusal})
                else:
                    records.append(resolution_record(res))
            stored = await store.apply(records)
            for record in records:
                results[record.key] = {"tx_id": record.tx_id, **stored[record.key]}
            return batch_result({"results": results})

    @server.tool(
        description='Open alerts, highest risk then amount first: {"alerts": [Alert JSON]}.',
        structured_output=False,
    )
    async def list_open_alerts(
        ctx: Context,
        limit: Annotated[int, Field(ge=1, le=1000, description="most alerts to return")] = 50,
    ) -> CallToolResult:
        with guard.call(ctx, "list_open_alerts", limit) as call:
            alerts = await store.list_open(limit)
            call.items = len(alerts)
            return batch_result({"alerts": [a.model_dump(mode="json") for a in alerts]})

    @server.tool(
        description='One alert by id: {"alert": Alert JSON or null when unknown}.',
        structured_output=False,
    )
    async def get_alert(
        ctx: Context,
        alert_id: Annotated[str, Field(min_length=1, max_length=64, description="e.g. AL-0123456789abcdef")],
    ) -> CallToolResult:
        with guard.call(ctx, "get_alert", 1):
            alert = await store.get_alert(alert_id)
            payload: dict[str, Any] = {"alert": alert.model_dump(mode="json") if alert else None}
            return batch_result(payload)

    @server.tool(
        description=(
            "The action log of many transactions: every action actually taken, oldest first, once each "
            '(redeliveries add nothing). Returns {"actions": {tx_id: [{action, at, actor, source, alert_id, '
            "account_id, approved_by?}]}} with [] for a transaction nothing was done to."
        ),
        structured_output=False,
    )
    async def get_actions_batch(
        ctx: Context,
        tx_ids: Annotated[list[str], Field(description="transaction ids")],
    ) -> CallToolResult:
        with guard.call(ctx, "get_actions_batch", len(tx_ids)):
            check_batch_size(len(tx_ids), "tx_ids")
            return batch_result({"actions": await store.get_actions(tx_ids)})
