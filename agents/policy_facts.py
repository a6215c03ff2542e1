"""What the aggregation policy needs to know about a batch's parties, fetched through MCP once per batch.

- customer-data `get_customers_batch` (names dropped by the MCP policy): the acting customer's segment
  and branch (per-segment and per-branch thresholds) and the reference status of both accounts;
- risk-actions `get_account_controls_batch`: the controls in force on both accounts (frozen or not).

At most one call per tool per batch, both at once, and only the calls the policy needs. A failed call
never raises: the facts say what is unknown and why, and the policy fails closed on it
(HARD_RULE_CONTROLS_UNAVAILABLE, AGGREGATION_CUSTOMER_DATA_UNAVAILABLE).

The branch is read from the customer record's `branch`, else `metadata.branch` (CONTRACTS.md keeps
fields the reference format does not name in `metadata`).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from riskmesh.agents._common import acting_party
from riskmesh.agents.base import ToolCaller, ToolCallError
from riskmesh.contracts import TxFacts

__all__ = ["BatchFacts", "gather_facts"]


@dataclass(frozen=True)
class BatchFacts:
    """Reference data and account controls for one batch; `None` means "not known" (see the errors)."""

    customers: dict[str, dict[str, Any]] | None = None
    accounts: dict[str, dict[str, Any]] = field(default_factory=dict)
    controls: dict[str, dict[str, Any]] | None = None
    customer_error: str = ""
    controls_error: str = ""

    @classmethod
    def unavailable(cls, why: str) -> BatchFacts:
        return cls(customer_error=why, controls_error=why)

    def customer_of(self, tx: TxFacts) -> dict[str, Any] | None:
        """The acting customer's record (by id, else the owner of the acting account), if known."""
        if self.customers is None:
            return None
        party = acting_party(tx)
        if party.customer_id and isinstance(self.customers.get(party.customer_id), dict):
            return self.customers[party.customer_id]
        owner = (self.accounts.get(party.account_id) or {}).get("customer_id")
        found = self.customers.get(owner) if isinstance(owner, str) else None
        return found if isinstance(found, dict) else None

    def segment_and_branch(self, tx: TxFacts) -> tuple[str | None, str | None]:
        customer = self.customer_of(tx)
        if customer is None:
            return None, None
        segment = customer.get("segment")
        metadata = customer.get("metadata")
        branch = customer.get("branch") or (metadata.get("branch") if isinstance(metadata, dict) else None)
        return (segment if isinstance(segment, str) else None), (str(branch) if branch else None)

    def frozen(self, account_id: str) -> bool | None:
        """True when reference data or a control says frozen; None when the controls are unknown."""
        reference = self.accounts.get(account_id) or {}
        if reference.get("status") == "frozen":
            return True
        if self.controls is None:
            return None
        control = self.controls.get(account_id)
        return bool(isinstance(control, dict) and control.get("frozen"))


async def gather_facts(
    tools: ToolCaller | None, transactions: list[TxFacts], *, customers: bool, controls: bool
) -> BatchFacts:
    """One customer-data call (if `customers`) and one risk-actions call (if `controls`), concurrently."""
    if not transactions or not (customers or controls):
        return BatchFacts()
    if tools is None:
        return BatchFacts.unavailable("the aggregation agent has no MCP tool caller")
    account_ids = sorted({a for t in transactions for a in (t.debtor.account_id, t.creditor.account_id)})
    customer_ids = sorted({c for t in transactions if (c := acting_party(t).customer_id)})
    ref, ctl = await asyncio.gather(
        _reference(tools, customer_ids, account_ids) if customers else _not_asked((None, {}, "")),
        _controls(tools, account_ids) if controls else _not_asked((None, "")),
    )
    (known_customers, known_accounts, customer_error), (known_controls, controls_error) = ref, ctl
    return BatchFacts(known_customers, known_accounts, known_controls, customer_error, controls_error)


async def _not_asked(value: Any) -> Any:
    return value


async def _reference(
    tools: ToolCaller, customer_ids: list[str], account_ids: list[str]
) -> tuple[dict[str, dict[str, Any]] | None, dict[str, dict[str, Any]], str]:
    arguments = {"customer_ids": customer_ids, "account_ids": account_ids}
    try:
        result = await tools.call("customer-data", "get_customers_batch", arguments)
    except ToolCallError as exc:
        return None, {}, str(exc)
    found_c = result.get("customers") if isinstance(result, dict) else None
    found_a = result.get("accounts") if isinstance(result, dict) else None
    if not isinstance(found_c, dict) or not isinstance(found_a, dict):
        return None, {}, "customer-data.get_customers_batch answered without customers/accounts"
    return (
        {k: c for k, c in found_c.items() if isinstance(c, dict)},
        {k: a for k, a in found_a.items() if isinstance(a, dict)},
        "",
    )


async def _controls(tools: ToolCaller, account_ids: list[str]) -> tuple[dict[str, dict[str, Any]] | None, str]:
    try:
        result = await tools.call("risk-actions", "get_account_controls_batch", {"account_ids": account_ids})
    except ToolCallError as exc:
        return None, str(exc)
    found = result.get("controls") if isinstance(result, dict) else None
    if not isinstance(found, dict):
        return None, "risk-actions.get_account_controls_batch answered without a 'controls' object"
    return {k: c for k, c in found.items() if isinstance(c, dict)}, ""
