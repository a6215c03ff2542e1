"""risk-actions MCP server: carry decisions out (hold, block, open an alert), idempotent per tx_id.

Rules: pass ▶ no action; block ▶ block_transaction; review ▶ hold_transaction + open_alert, with
an `Alert` queued by priority (risk first, then amount). The alert id is derived from the tx_id,
so a redelivered decision finds the alert it already opened.
"""

from __future__ import annotations

import hashlib
from decimal import Decimal
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context, MCPServer
from mcp.types import CallToolResult
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from riskmesh.contracts import Alert, Reason
from riskmesh.mcp_servers.action_store import ActionRecord, ActionStore
from riskmesh.mcp_servers.policy import AccessPolicy
from riskmesh.mcp_servers.toolkit import ToolGuard, batch_result, check_batch_size

__all__ = ["SERVER_NAME", "DecisionItem", "alert_id_for", "alert_priority", "build_risk_actions_server"]

SERVER_NAME = "risk-actions"
VERSION = "0.1.0"
ACTIONS: dict[str, list[str]] = {
    "pass": [],
    "block": ["block_transaction"],
    "review": ["hold_transaction", "open_alert"],
}
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


def to_record(item: DecisionItem) -> ActionRecord:
    if item.decision != "review":
        return ActionRecord(item.tx_id, {"actions": list(ACTIONS[item.decision]), "alert_id": None})
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
    result = {"actions": list(ACTIONS["review"]), "alert_id": alert.alert_id}
    return ActionRecord(item.tx_id, result, alert, alert_priority(item.risk_score, item.amount))


def build_risk_actions_server(
    store: ActionStore, *, token: str | None = None, policy: AccessPolicy | None = None
) -> MCPServer:
    """An MCPServer applying decisions through `store` (in memory or Redis)."""
    server = MCPServer(
        SERVER_NAME,
        version=VERSION,
        instructions="Carries decisions out: holds, blocks, the analyst alert queue. Idempotent per tx_id.",
    )
    guard = ToolGuard(SERVER_NAME, token, policy)

    @server.tool(
        description=(
            "Apply many decisions in one call. pass ▶ no action; block ▶ block_transaction; review ▶ "
            "hold_transaction + open_alert and an alert queued by risk then amount. Idempotent per tx_id: "
            "a repeated tx gets the result recorded the first time and writes nothing. Returns "
            '{"results": {tx_id: {"actions": [str], "alert_id": str or null}}}.'
        ),
        structured_output=False,
    )
    async def apply_decisions_batch(
        ctx: Context,
        items: Annotated[
            list[DecisionItem],
            Field(
                description=(
                    "items {tx_id, decision, risk_score, amount, currency, debtor_account_id, reasons, "
                    "degraded, policy_version, decided_at}"
                )
            ),
        ],
    ) -> CallToolResult:
        with guard.call(ctx, "apply_decisions_batch", len(items)) as call:
            check_batch_size(len(items), "decisions")
            records = {item.tx_id: to_record(item) for item in items}
            stored = await store.apply(list(records.values()))
            changed = [tx for tx, rec in records.items() if stored[tx] != rec.result]
            if changed:
                guard.logger.warning(
                    "caller=%s: %d decisions differ from the actions already recorded (kept the first): %s",
                    call.caller,
                    len(changed),
                    changed[:10],
                )
            return batch_result({"results": stored})

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

    return server
