"""Credit agent: can the customer carry this payment, and is the customer in credit distress?

The customer is the acting party: the debtor, or the creditor for deposits, refunds and loan
disbursements (a loan disbursement raises the borrower's exposure: utilisation applies to it).

Data: customer-data `get_customers_batch` (to find the customer behind an account when the
transaction does not name one), then credit-bureau `get_credit_batch` with the batch's amounts.
The `amounts` argument is the sum of the customer's debits in this batch, so the bureau's
`utilisation_after` describes the whole batch; the agent also computes utilisation after each
single transaction from `limit` and `exposure` when the bureau discloses them.

Rating scales: letter grades AAA..D, or numeric 1..10 where 1 is best and 10 is default.

Failure: a tool call that fails raises AgentDataError for the whole batch; the orchestrator marks
the agent `error` and fails closed. A customer without a bureau record is not a failure: the
verdict is neutral with CREDIT_NO_DATA.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from decimal import Decimal
from typing import Any

from riskmesh.agents._common import VerdictBuilder, acting_party, fetch, fetch_reference, num, parse_ts
from riskmesh.agents.base import ToolCaller
from riskmesh.contracts import AgentVerdict, Transaction

__all__ = ["NEUTRAL_SCORE", "CreditAgent", "rating_risk"]

NEUTRAL_SCORE = 0.1
"""Score when nothing is known: low, because customers new to the bureau are normal."""

_CREDIT_NEUTRAL_TYPES = frozenset({"deposit", "refund"})
"""Money coming in does not draw on the customer's credit (a loan disbursement does)."""

_LETTER_RISK: dict[str, float] = {"D": 0.7, "C": 0.5, "CC": 0.5, "CCC": 0.45, "B": 0.25, "BB": 0.1}
_NUMERIC_RISK: dict[int, float] = {10: 0.7, 9: 0.5, 8: 0.45, 7: 0.25, 6: 0.1}


def rating_risk(rating: str) -> float:
    """Reason weight of a rating: 0 for investment grade, up to 0.7 for default."""
    if rating.isdigit():
        return _NUMERIC_RISK.get(int(rating), 0.0)
    return _LETTER_RISK.get(rating.rstrip("+-"), 0.0)


class CreditAgent:
    name = "credit"
    model_version = "credit-rules-1"

    def __init__(self, tools: ToolCaller, stale_after_days: int = 365) -> None:
        self.tools = tools
        self.stale_after = timedelta(days=stale_after_days)

    async def assess(self, transactions: list[Transaction]) -> list[AgentVerdict]:
        if not transactions:
            return []
        customers, accounts = await fetch_reference(
            self.tools,
            self.name,
            [c for t in transactions if (c := acting_party(t).customer_id)],
            [acting_party(t).account_id for t in transactions],
        )
        owner = {t.tx_id: _owner(t, accounts) for t in transactions}
        amounts: dict[str, Decimal] = defaultdict(Decimal)
        for t in transactions:
            customer_id = owner[t.tx_id]
            if customer_id and t.type not in _CREDIT_NEUTRAL_TYPES:
                amounts[customer_id] += t.amount
        ids = sorted({c for c in owner.values() if c})
        credit: dict[str, Any] = {}
        if ids:
            arguments = {
                "customer_ids": ids,
                "amounts": {c: format(a, "f") for c, a in sorted(amounts.items())},
            }
            credit = await fetch(self.tools, self.name, "credit-bureau", "get_credit_batch", arguments, "credit")
        out = []
        for t in transactions:
            customer_id = owner[t.tx_id]
            record = credit.get(customer_id) if customer_id else None
            segment = customers.get(customer_id or "", {}).get("segment")
            out.append(self._one(t, customer_id, record if isinstance(record, dict) else None, segment))
        return out

    def _one(
        self, tx: Transaction, customer_id: str | None, record: dict[str, Any] | None, segment: str | None
    ) -> AgentVerdict:
        v = VerdictBuilder(self.name, tx.tx_id)
        v.evidence = {"customer_id": customer_id, "segment": segment, "credit": record}
        if record is None:
            v.baseline = NEUTRAL_SCORE
            why = "no customer id for this account" if customer_id is None else "no credit bureau record"
            v.add("CREDIT_NO_DATA", 0.0, f"{why}: neutral credit score")
            return v.build(self.model_version, "CREDIT_NO_DATA", "")
        _pd_rule(v, num(record.get("pd")))
        rating = str(record.get("rating") or "")
        if (weight := rating_risk(rating)) > 0:
            v.add("CREDIT_LOW_RATING", weight, f"credit rating {rating}")
        _dpd_rule(v, int(num(record.get("days_past_due")) or 0))
        if tx.type not in _CREDIT_NEUTRAL_TYPES:
            _utilisation_rule(v, tx, record)
        as_of = parse_ts(record.get("as_of"))
        if as_of is not None and tx.ts - as_of > self.stale_after:
            v.add("CREDIT_STALE_DATA", 0.05, f"bureau record is from {as_of.date().isoformat()}")
        return v.build(self.model_version, "CREDIT_SOUND", f"rating {rating}, no credit concern")


def _owner(tx: Transaction, accounts: dict[str, dict[str, Any]]) -> str | None:
    actor = acting_party(tx)
    if actor.customer_id:
        return actor.customer_id
    owner = accounts.get(actor.account_id, {}).get("customer_id")
    return owner if isinstance(owner, str) and owner else None


def _pd_rule(v: VerdictBuilder, pd: float | None) -> None:
    if pd is None or pd < 0.05:
        return
    weight = 0.6 if pd >= 0.2 else 0.4 if pd >= 0.1 else 0.2
    v.add("CREDIT_HIGH_PD", weight, f"probability of default {pd:.1%}")


def _dpd_rule(v: VerdictBuilder, dpd: int) -> None:
    if dpd >= 90:
        v.add("CREDIT_DAYS_PAST_DUE", 0.6, f"{dpd} days past due (non-performing)")
    elif dpd >= 30:
        v.add("CREDIT_DAYS_PAST_DUE", 0.35, f"{dpd} days past due")
    elif dpd > 0:
        v.add("CREDIT_DAYS_PAST_DUE", 0.1, f"{dpd} days past due")


def _utilisation_rule(v: VerdictBuilder, tx: Transaction, record: dict[str, Any]) -> None:
    limit, exposure = num(record.get("limit")), num(record.get("exposure"))
    utilisation: float | None
    if limit and exposure is not None:
        utilisation = (exposure + float(tx.amount)) / limit
    else:
        utilisation = num(record.get("utilisation_after"))
    v.evidence["utilisation_after_tx"] = None if utilisation is None else round(utilisation, 4)
    if utilisation is None or utilisation < 0.75:
        return
    if utilisation >= 1.0:
        v.add("CREDIT_OVER_LIMIT", 0.6, f"utilisation after this payment would be {utilisation:.0%}")
    else:
        weight = 0.35 if utilisation >= 0.9 else 0.15
        v.add("CREDIT_HIGH_UTILISATION", weight, f"utilisation after this payment would be {utilisation:.0%}")
