"""The fraud model's features: one function used at train time and at serve time.

Inputs come only from MCP (customer-data `get_customers_batch`, transactions `features_batch`,
risk-graph `observe_and_features_batch` when that server answers) plus the transaction itself, so the
model never learns from a feature the online path cannot produce. Training replays labelled
history in time order through the *same* `fetch_inputs` + `feature_matrix` (see
riskmesh.orchestrator.train); only `observe` differs (training records history, the serving fraud
agent leaves that to the behaviour agent — the answer is the same either way).

Missing data is NaN, never a guess: an unknown customer, no history, no graph server. LightGBM
routes NaN down a learned default branch.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np

from riskmesh.agents._common import (
    INBOUND_TYPES,
    acting_party,
    approx_usd,
    batch_json,
    counterparty,
    feature_request,
    fetch,
    fetch_reference,
    iso_utc,
    num,
    parse_ts,
    tx_country,
)
from riskmesh.agents.base import ToolCaller, ToolCallError
from riskmesh.contracts import CHANNELS, TX_TYPES, Transaction

__all__ = [
    "CATEGORICAL_FEATURES",
    "FEATURE_NAMES",
    "GRAPH_FEATURES",
    "FeatureInputs",
    "feature_matrix",
    "feature_row",
    "fetch_inputs",
    "graph_event",
]

log = logging.getLogger("riskmesh.agents.features")

NAN = math.nan

HIGH_RISK_COUNTRIES: frozenset[str] = frozenset({"IR", "KP", "SY", "CU", "MM", "RU", "BY", "VE", "AF", "YE"})
"""FATF call-for-action and comprehensive-sanctions jurisdictions (the compliance agent's default list)."""

RISKY_MCCS: frozenset[str] = frozenset({"4829", "6051", "6540", "7995", "5967", "6211", "5816", "5815"})
"""Money transfer, quasi-cash / crypto, stored value, gambling, telemarketing, securities, digital goods."""

SCAM_WORDS: tuple[str, ...] = (
    "urgent", "guarantee", "profit", "return", "invest", "crypto", "bitcoin", "btc", "usdt", "wallet",
    "safe account", "security", "police", "customs", "parcel", "fee", "tax refund", "lottery", "prize",
    "romance", "visa", "gift card", "verification", "release", "inheritance", "refund",
)  # fmt: skip
"""Words typical of authorised-push-payment scams in a payment's free-text purpose."""

SEGMENTS: tuple[str, ...] = ("retail", "sme", "corporate", "private")
KYC_LEVEL: dict[str, float] = {"low": 0.0, "medium": 1.0, "high": 2.0}

GRAPH_FEATURES: dict[str, str] = {
    "graph_known": "known",
    "graph_fan_in": "fan_in",
    "graph_fan_out": "fan_out",
    "graph_fan_in_24h": "fan_in_24h",
    "graph_fan_out_24h": "fan_out_24h",
    "graph_pass_through": "pass_through_ratio",
    "graph_in_cycle": "in_cycle",
    "graph_is_bad": "is_bad",
    "graph_accounts_sharing_device": "accounts_sharing_device",
    "graph_accounts_sharing_ip": "accounts_sharing_ip",
    "graph_distance_to_bad": "distance_to_bad",
}
"""Model feature ▶ the risk-graph server's `graph_features_batch` field (absent or null ▶ NaN)."""

FEATURE_NAMES: tuple[str, ...] = (
    "log_amount_usd", "amount_to_mean", "amount_zscore", "amount_to_max", "n_history",
    "count_1h", "count_24h", "log_sum_24h_usd", "log_seconds_since_last",
    "known_device", "known_ip", "known_country", "known_payee",
    "distinct_devices_24h", "distinct_payees_24h", "country_changed",
    "channel", "type", "inbound", "has_device", "has_merchant", "risky_mcc", "hour_of_day",
    "cross_border", "counterparty_high_risk_country", "geo_abroad",
    "account_age_days", "creditor_account_age_days", "creditor_known", "account_restricted",
    "creditor_account_restricted", "daily_limit_use",
    "customer_known", "segment", "kyc_level", "pep", "is_company",
    "purpose_scam_words", "has_purpose",
    *GRAPH_FEATURES,
)  # fmt: skip
"""Column order of the model's input. A model card lists the features it was trained on."""

CATEGORICAL_FEATURES: tuple[str, ...] = ("channel", "type", "segment")


@dataclass
class FeatureInputs:
    """Everything the features of one batch are computed from, as the MCP servers answered."""

    customers: dict[str, dict[str, Any]] = field(default_factory=dict)
    accounts: dict[str, dict[str, Any]] = field(default_factory=dict)
    history: dict[str, dict[str, Any]] = field(default_factory=dict)
    graph: dict[str, dict[str, Any]] = field(default_factory=dict)
    graph_available: bool = False


def graph_request(tx: Transaction) -> dict[str, Any]:
    item: dict[str, Any] = {"ref": tx.tx_id, "account_id": acting_party(tx).account_id,
                            "counterparty_account_id": counterparty(tx).account_id}
    if tx.device and tx.device.device_id:
        item["device_id"] = tx.device.device_id
    if tx.device and tx.device.ip:
        item["ip"] = tx.device.ip
    return item


def graph_event(tx: Transaction) -> dict[str, Any]:
    """One risk-graph event: the payment edge with its type, and the device and IP of the debtor when the
    debtor initiated it (for deposits, refunds and disbursements the device is the creditor's: not sent).
    Fraud and compliance both record each batch (idempotent per tx_id), so they must send the same event."""
    item: dict[str, Any] = {"tx_id": tx.tx_id, "ts": iso_utc(tx.ts), "debtor_account_id": tx.debtor.account_id,
                            "creditor_account_id": tx.creditor.account_id, "amount": format(tx.amount, "f"),
                            "type": tx.type}
    if tx.device is not None and tx.type not in INBOUND_TYPES:
        if tx.device.device_id:
            item["device_id"] = tx.device.device_id
        if tx.device.ip:
            item["ip"] = tx.device.ip
    return item


async def _graph(tools: ToolCaller, transactions: list[Transaction]) -> dict[str, dict[str, Any]] | None:
    """risk-graph features by tx_id, read *after* the batch is recorded into the graph, or None when the
    server is not configured or fails (the features are then NaN).

    Observe-then-read makes the answer independent of call order: the compliance agent records the same
    batch concurrently (idempotent per tx_id), and whoever records first, the read sees the batch.
    """
    try:
        result = await tools.call("risk-graph", "observe_and_features_batch",
                                  {"transactions_json": batch_json([graph_event(t) for t in transactions]),
                                   "items_json": batch_json([graph_request(t) for t in transactions])})
    except ToolCallError as exc:
        log.debug("risk-graph unavailable, graph features are missing: %s", exc)
        return None
    table = result.get("features") if isinstance(result, dict) else None
    return {k: v for k, v in table.items() if isinstance(v, dict)} if isinstance(table, dict) else None


async def fetch_inputs(
    tools: ToolCaller, agent: str, transactions: list[Transaction], *, observe: bool = False
) -> FeatureInputs:
    """One call per tool for the batch. customer-data and transactions are required (AgentDataError).

    `observe` records the batch into the transactions server's history (training; online that is the
    behaviour agent's call). The batch is always recorded into the risk graph after its features are read.
    """
    import asyncio

    customer_ids = [c for t in transactions if (c := acting_party(t).customer_id)]
    account_ids = [a for t in transactions for a in (t.debtor.account_id, t.creditor.account_id)]
    arguments = {"transactions_json": batch_json([feature_request(t) for t in transactions]), "observe": observe}
    (customers, accounts), history, graph = await asyncio.gather(
        fetch_reference(tools, agent, customer_ids, account_ids),
        fetch(tools, agent, "transactions", "features_batch", arguments, "features"),
        _graph(tools, transactions),
    )
    return FeatureInputs(customers, accounts, history, graph or {}, graph is not None)


def feature_matrix(transactions: list[Transaction], inputs: FeatureInputs) -> np.ndarray:
    """Rows in `transactions` order, columns in FEATURE_NAMES order (float64, NaN = missing)."""
    rows = [feature_row(t, inputs) for t in transactions]
    return np.asarray(rows, dtype=np.float64).reshape(len(rows), len(FEATURE_NAMES))


def _flag(value: Any) -> float:
    return NAN if value is None else float(bool(value))


def _log(value: float | None) -> float:
    return NAN if value is None else math.log1p(max(0.0, value))


def _age_days(record: dict[str, Any] | None, key: str, now: datetime) -> float:
    opened = parse_ts(record.get(key)) if record else None
    return NAN if opened is None else (now - opened).total_seconds() / 86_400


def _restricted(record: dict[str, Any] | None) -> float:
    return NAN if record is None else float(record.get("status") in ("frozen", "closed"))


def _usd(value: float | None, tx: Transaction) -> float | None:
    if value is None:
        return None
    rate = approx_usd(tx.amount, tx.currency)
    return value * (rate / float(tx.amount)) if rate is not None else value


def feature_row(tx: Transaction, inputs: FeatureInputs) -> list[float]:
    """The features of one transaction, in FEATURE_NAMES order."""
    h = inputs.history.get(tx.tx_id) or {}
    amount = float(tx.amount)
    usd = approx_usd(tx.amount, tx.currency)
    n = int(num(h.get("n_history")) or 0)
    mean, std, top = num(h.get("amount_mean")), num(h.get("amount_std")), num(h.get("amount_max"))
    actor, other = acting_party(tx), counterparty(tx)
    customer = inputs.customers.get(actor.customer_id) if actor.customer_id else None
    account = inputs.accounts.get(actor.account_id)
    other_account = inputs.accounts.get(other.account_id)
    country = tx_country(tx)
    last_country = h.get("last_country")
    mcc = tx.merchant.mcc if tx.merchant else None
    limit = num(account.get("daily_limit")) if account else None
    spent = num(h.get("sum_24h")) or 0.0
    home = (customer or {}).get("country") or actor.country
    purpose = (tx.purpose or "").casefold()
    graph = inputs.graph.get(tx.tx_id) or {}
    row = [
        math.log1p(usd if usd is not None else amount),
        amount / mean if mean else NAN,
        (amount - mean) / std if mean is not None and std else NAN,
        amount / top if top else NAN,
        float(n),
        num(h.get("count_1h")) or 0.0,
        num(h.get("count_24h")) or 0.0,
        _log(_usd(num(h.get("sum_24h")), tx)),
        _log(num(h.get("seconds_since_last"))),
        _flag(h.get("known_device")) if tx.device and tx.device.device_id else NAN,
        _flag(h.get("known_ip")) if tx.device and tx.device.ip else NAN,
        _flag(h.get("known_country")) if country else NAN,
        _flag(h.get("known_payee")),
        num(h.get("distinct_devices_24h")) or 0.0,
        num(h.get("distinct_payees_24h")) or 0.0,
        NAN if not (country and last_country) else float(country != last_country),
        float(CHANNELS.index(tx.channel)),
        float(TX_TYPES.index(tx.type)),
        float(tx.type in INBOUND_TYPES),
        float(bool(tx.device and tx.device.device_id)),
        float(tx.merchant is not None),
        float(mcc in RISKY_MCCS),
        tx.ts.hour + tx.ts.minute / 60,
        NAN if not (tx.debtor.country and tx.creditor.country) else float(tx.debtor.country != tx.creditor.country),
        float((other.country or "") in HIGH_RISK_COUNTRIES or (country or "") in HIGH_RISK_COUNTRIES),
        NAN if not (country and home) else float(country != home),
        _age_days(account, "opened_at", tx.ts),
        _age_days(other_account, "opened_at", tx.ts),
        float(other_account is not None),
        _restricted(account),
        _restricted(other_account),
        NAN if not limit or tx.type in INBOUND_TYPES else (spent + amount) / limit,
        float(customer is not None),
        float(SEGMENTS.index(customer["segment"])) if customer and customer.get("segment") in SEGMENTS else NAN,
        KYC_LEVEL.get((customer or {}).get("kyc_risk") or "", NAN),
        _flag(customer.get("pep")) if customer else NAN,
        float(customer.get("type") == "company") if customer else NAN,
        float(sum(1 for w in SCAM_WORDS if w in purpose)),
        float(bool(purpose)),
    ]
    for key in GRAPH_FEATURES.values():
        value = graph.get(key)
        row.append(NAN if value is None else float(value) if isinstance(value, bool) else (num(value) or 0.0))
    return row
