"""Fraud agent: is this payment likely unauthorised or made through a mule account?

Data (one MCP call per tool per batch): customer-data `get_customers_batch` for the acting
customer (the debtor, or the creditor for deposits, refunds and loan disbursements) and both
accounts; transactions `features_batch` with `observe=False` (the behaviour agent is the one that
records the stream into the profiles).

Failure: a tool call that fails raises AgentDataError for the whole batch. The agent does not
guess a verdict without its data; the orchestrator marks it `error` and fails closed.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from riskmesh.agents._common import (
    INBOUND_TYPES,
    VerdictBuilder,
    acting_party,
    approx_usd,
    feature_request,
    fetch,
    fetch_reference,
    novelty,
    num,
    parse_ts,
)
from riskmesh.agents.base import ToolCaller
from riskmesh.contracts import AgentVerdict, Transaction

__all__ = ["FraudAgent", "FraudConfig"]


@dataclass(frozen=True)
class FraudConfig:
    high_amount_usd: float = 5_000.0
    """Absolute size (approximate USD) from which a payment counts as high on its own."""
    habit_ratio: float = 3.0
    """Amount / the account's mean amount from which a payment is above habit."""
    min_history: int = 3
    """Transactions of history needed before habit rules apply."""
    new_account_days: int = 30
    risky_mccs: frozenset[str] = field(
        default_factory=lambda: frozenset({"4829", "6051", "6540", "7995", "5967", "6211"})
    )
    """Money transfer, quasi-cash / crypto, stored-value load, gambling, inbound telemarketing, securities."""
    risky_channels: frozenset[str] = field(default_factory=lambda: frozenset({"api", "wire"}))


class FraudAgent:
    name = "fraud"
    model_version = "fraud-rules-1"

    def __init__(self, tools: ToolCaller, config: FraudConfig | None = None) -> None:
        self.tools = tools
        self.config = config or FraudConfig()

    async def assess(self, transactions: list[Transaction]) -> list[AgentVerdict]:
        if not transactions:
            return []
        customer_ids = [c for t in transactions if (c := acting_party(t).customer_id)]
        account_ids = [a for t in transactions for a in (t.debtor.account_id, t.creditor.account_id)]
        (customers, accounts), features = await asyncio.gather(
            fetch_reference(self.tools, self.name, customer_ids, account_ids),
            fetch(
                self.tools,
                self.name,
                "transactions",
                "features_batch",
                {"transactions": [feature_request(t) for t in transactions], "observe": False},
                "features",
            ),
        )
        return [self._one(t, customers, accounts, features.get(t.tx_id) or {}) for t in transactions]

    def _one(
        self,
        tx: Transaction,
        customers: dict[str, Any],
        accounts: dict[str, Any],
        feats: dict[str, Any],
    ) -> AgentVerdict:
        cfg = self.config
        v = VerdictBuilder(self.name, tx.tx_id)
        amount = float(tx.amount)
        usd = approx_usd(tx.amount, tx.currency)
        n_history = int(num(feats.get("n_history")) or 0)
        mean = num(feats.get("amount_mean"))
        ratio = amount / mean if mean and n_history >= cfg.min_history else None
        high = (usd is not None and usd >= cfg.high_amount_usd) or (ratio is not None and ratio >= cfg.habit_ratio)
        v.evidence = {
            "features": feats,
            "amount_usd_approx": usd,
            "amount_to_mean": ratio,
            "high_amount": high,
        }

        actor = acting_party(tx)
        customer = customers.get(actor.customer_id) if actor.customer_id else None
        account = accounts.get(tx.debtor.account_id)
        creditor_account = accounts.get(tx.creditor.account_id)
        v.evidence["customer_known"] = customer is not None
        v.evidence["debtor_account"] = _pick(account, "status", "opened_at", "daily_limit", "customer_id")
        v.evidence["creditor_account"] = _pick(creditor_account, "status", "opened_at", "customer_id")

        if n_history == 0:
            v.add("FRAUD_NO_HISTORY", 0.0, "no earlier transactions on this account: habit rules not applied")
        if customer is None and accounts.get(actor.account_id) is None:
            v.add(
                "FRAUD_UNKNOWN_CUSTOMER",
                0.1,
                f"neither the customer nor account {actor.account_id} is on file",
            )
        _account_rules(v, tx, account, creditor_account, amount, feats, high, cfg)
        if customer is not None and customer.get("kyc_risk") == "high":
            v.add("FRAUD_KYC_HIGH_RISK", 0.15, "the customer is rated high risk at KYC")
        if ratio is not None and ratio >= cfg.habit_ratio:
            # Modest on its own (the behaviour agent scores amount deviation too); the ATO rules below
            # are what make a high amount suspicious here.
            weight = 0.3 if ratio >= 10 else 0.2 if ratio >= 5 else 0.1
            v.add("FRAUD_AMOUNT_ABOVE_HABIT", weight, f"amount is {ratio:.1f}x the account's mean of {mean:.2f}")
        _velocity_rules(v, feats)
        new = novelty(tx, feats)
        if high and new["device"] and n_history > 0:
            v.add("FRAUD_NEW_DEVICE_HIGH_AMOUNT", 0.45, "a high amount from a device never seen on this account")
        if high and new["ip"] and n_history > 0:
            v.add(
                "FRAUD_NEW_IP_HIGH_AMOUNT",
                0.25,
                "a high amount from an IP address never seen on this account",
            )
        mcc = tx.merchant.mcc if tx.merchant else None
        if mcc in cfg.risky_mccs:
            v.add("FRAUD_RISKY_MCC", 0.2, f"merchant category {mcc} is often used to cash out fraud")
        if high and tx.channel in cfg.risky_channels:
            v.add("FRAUD_RISKY_CHANNEL", 0.1, f"a high amount through the {tx.channel} channel")
        return v.build(self.model_version, "FRAUD_NO_RISK_SIGNAL", "no fraud rule fired")


def _account_rules(
    v: VerdictBuilder,
    tx: Transaction,
    account: dict[str, Any] | None,
    creditor_account: dict[str, Any] | None,
    amount: float,
    feats: dict[str, Any],
    high: bool,
    cfg: FraudConfig,
) -> None:
    status = account.get("status") if account else None
    if status == "closed":
        v.add("FRAUD_ACCOUNT_CLOSED", 0.95, f"debtor account {tx.debtor.account_id} is closed")
    elif status == "frozen":
        v.add("FRAUD_ACCOUNT_FROZEN", 0.9, f"debtor account {tx.debtor.account_id} is frozen")
    if creditor_account and creditor_account.get("status") in ("frozen", "closed"):
        v.add(
            "FRAUD_CREDITOR_ACCOUNT_RESTRICTED",
            0.5,
            f"creditor account {tx.creditor.account_id} is {creditor_account['status']}",
        )
    if account is None or tx.type in INBOUND_TYPES:
        return
    limit = num(account.get("daily_limit"))
    spent = num(feats.get("sum_24h")) or 0.0
    if limit is not None and spent + amount > limit:
        v.add(
            "FRAUD_DAILY_LIMIT_EXCEEDED",
            0.35,
            f"{spent + amount:.2f} in 24h exceeds the daily limit {limit:.2f}",
        )
    opened = parse_ts(account.get("opened_at"))
    if high and opened is not None and tx.ts - opened < timedelta(days=cfg.new_account_days):
        days = max(0, (tx.ts - opened).days)
        v.add("FRAUD_NEW_ACCOUNT_HIGH_AMOUNT", 0.2, f"a high amount from an account opened {days} days ago")


def _velocity_rules(v: VerdictBuilder, feats: dict[str, Any]) -> None:
    count_1h = int(num(feats.get("count_1h")) or 0)
    count_24h = int(num(feats.get("count_24h")) or 0)
    if count_1h >= 10:
        v.add("FRAUD_VELOCITY", 0.4, f"{count_1h} transactions in the last hour")
    elif count_1h >= 5:
        v.add("FRAUD_VELOCITY", 0.25, f"{count_1h} transactions in the last hour")
    elif count_24h >= 30:
        v.add("FRAUD_VELOCITY", 0.3, f"{count_24h} transactions in the last 24 hours")


def _pick(record: dict[str, Any] | None, *keys: str) -> dict[str, Any] | None:
    return None if record is None else {k: record.get(k) for k in keys}
