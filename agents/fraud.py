"""Fraud agent: is this payment likely unauthorised or made through a mule account?

Two scorers over the same data:
- the **model** (default when the registry has one): a LightGBM model over the features of
  riskmesh.agents.features. The score is the model's probability; the reasons are the features
  with the largest positive contributions (LightGBM `pred_contrib`), grouped into a few
  `FRAUD_MODEL_*` codes with the feature named in `detail`. `model_version` is the registry version.
- the **rules** (`fraud-rules-1`): transparent rules, used when no model is installed or when
  `RISKMESH_FRAUD_MODE=rules` (the baseline of `riskmesh eval`).

Data (one MCP call per tool per batch): customer-data `get_customers_batch` for the acting
customer (the debtor, or the creditor for deposits, refunds and loan disbursements) and both
accounts; transactions `features_batch` with `observe=False` (the behaviour agent is the one that
records the stream into the profiles); risk-graph `observe_and_features_batch` when that server answers
(graph features are NaN otherwise).

Failure: a tool call that fails raises AgentDataError for the whole batch. The agent does not
guess a verdict without its data; the orchestrator marks it `error` and fails closed.
"""

from __future__ import annotations

import logging
import math
import os
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np

from riskmesh.agents._common import (
    INBOUND_TYPES,
    VerdictBuilder,
    acting_party,
    approx_usd,
    novelty,
    num,
    parse_ts,
)
from riskmesh.agents.base import ToolCaller
from riskmesh.agents.features import FEATURE_NAMES, FeatureInputs, feature_matrix, fetch_inputs
from riskmesh.agents.model import SCORING_MODE_ENV, Contribution, FraudModel, ModelRegistry
from riskmesh.contracts import AgentVerdict, Transaction

__all__ = ["MODEL_REASON_GROUPS", "FraudAgent", "FraudConfig"]

log = logging.getLogger("riskmesh.agents.fraud")

MODEL_REASON_GROUPS: dict[str, tuple[str, ...]] = {
    "FRAUD_MODEL_AMOUNT": ("log_amount_usd", "amount_to_mean", "amount_zscore", "amount_to_max", "daily_limit_use"),
    "FRAUD_MODEL_VELOCITY": ("count_1h", "count_24h", "log_sum_24h_usd", "log_seconds_since_last",
                             "distinct_devices_24h", "distinct_payees_24h"),
    "FRAUD_MODEL_NEW_ATTRIBUTE": ("known_device", "known_ip", "known_country", "known_payee", "country_changed",
                                  "geo_abroad"),
    "FRAUD_MODEL_HISTORY": ("n_history",),
    "FRAUD_MODEL_ACCOUNT": ("account_age_days", "account_restricted", "customer_known", "segment", "kyc_level",
                            "pep", "is_company"),
    "FRAUD_MODEL_COUNTERPARTY": ("creditor_account_age_days", "creditor_known", "creditor_account_restricted",
                                 "cross_border", "counterparty_high_risk_country"),
    "FRAUD_MODEL_PURPOSE": ("purpose_scam_words", "has_purpose"),
    "FRAUD_MODEL_NETWORK": tuple(n for n in FEATURE_NAMES if n.startswith("graph_")),
}
"""Reason code of each model feature; features in no group explain as FRAUD_MODEL_CONTEXT."""
_CODE_OF = {f: code for code, feats in MODEL_REASON_GROUPS.items() for f in feats}


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


RULES_VERSION = "fraud-rules-1"


class FraudAgent:
    """`FraudAgent(tools)` scores with the rules; pass `model=` (or use `from_environment`) for the model."""

    name = "fraud"

    def __init__(
        self, tools: ToolCaller, config: FraudConfig | None = None, model: FraudModel | None = None,
        top_reasons: int = 3, explain_from: float = 0.02,
    ) -> None:
        self.tools = tools
        self.config = config or FraudConfig()
        self.model = model
        self.top_reasons = top_reasons
        self.explain_from = explain_from
        """Scores below this get no contribution reasons (FRAUD_NO_RISK_SIGNAL): they pass anyway."""

    @classmethod
    def from_environment(cls, tools: ToolCaller, model_dir: str | os.PathLike[str] | None = None) -> FraudAgent:
        """The current registry model (`RISKMESH_MODEL_DIR`), or the rules if there is none or
        `RISKMESH_FRAUD_MODE=rules`. Read once, when the agent process starts."""
        if os.environ.get(SCORING_MODE_ENV, "").lower() == "rules":
            return cls(tools)
        registry = ModelRegistry(Path(model_dir) if model_dir is not None else None)
        try:
            model = registry.load()
        except (OSError, ValueError, KeyError) as exc:  # a broken version must not stop the agent
            log.error("fraud model in %s could not be loaded, using the rules: %s", registry.root, exc)
            model = None
        if model is None:
            log.warning("no fraud model in %s: using the rules (%s)", registry.root, RULES_VERSION)
        return cls(tools, model=model)

    @property
    def model_version(self) -> str:
        return self.model.version if self.model is not None else RULES_VERSION

    async def assess(self, transactions: list[Transaction]) -> list[AgentVerdict]:
        if not transactions:
            return []
        inputs = await fetch_inputs(self.tools, self.name, transactions, observe=False)
        if self.model is None:
            return [self._one(t, inputs.customers, inputs.accounts, inputs.history.get(t.tx_id) or {})
                    for t in transactions]
        return self._model_verdicts(self.model, transactions, inputs)

    def _model_verdicts(self, model: FraudModel, txs: list[Transaction], inputs: FeatureInputs) -> list[AgentVerdict]:
        x = model.select(feature_matrix(txs, inputs), FEATURE_NAMES)
        scores = model.predict(x)
        # TreeSHAP costs ~1 ms a row; only scores that can matter to a decision are explained.
        worth = np.flatnonzero(scores >= self.explain_from)
        explained: list[list[Contribution]] = [[] for _ in txs]
        for i, top in zip(worth, model.explain(x[worth], self.top_reasons), strict=True):
            explained[i] = top
        out = []
        for tx, score, top in zip(txs, scores, explained, strict=True):
            v = VerdictBuilder(self.name, tx.tx_id)
            h = inputs.history.get(tx.tx_id) or {}
            if int(num(h.get("n_history")) or 0) == 0:
                v.add("FRAUD_NO_HISTORY", 0.0, "no earlier transactions on this account")
            actor = acting_party(tx)
            if (actor.customer_id not in inputs.customers) and actor.account_id not in inputs.accounts:
                v.add("FRAUD_UNKNOWN_CUSTOMER", 0.0, f"neither the customer nor account {actor.account_id} is on file")
            if not inputs.graph_available:
                v.add("FRAUD_MODEL_NO_GRAPH", 0.0, "risk-graph features unavailable: scored without them")
            _model_reasons(v, float(score), top)
            v.evidence = {"features": h, "contributions": {c.feature: round(c.contribution, 4) for c in top}}
            quiet = "no feature raised the fraud score"
            out.append(v.build(model.version, "FRAUD_NO_RISK_SIGNAL", quiet, score=float(score)))
        return out

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
        return v.build(RULES_VERSION, "FRAUD_NO_RISK_SIGNAL", "no fraud rule fired")


def _model_reasons(v: VerdictBuilder, score: float, top: list[Contribution]) -> None:
    """Reasons from the top positive contributions; weights share the score in proportion to them."""
    total = sum(c.contribution for c in top)
    for c in top:
        value = "missing" if math.isnan(c.value) else f"{c.value:.4g}"
        weight = score * c.contribution / total if total > 0 else 0.0
        v.add(_CODE_OF.get(c.feature, "FRAUD_MODEL_CONTEXT"), weight,
              f"{c.feature}={value} raised the log-odds by {c.contribution:.3f}")


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
