"""Behaviour agent: does this payment fit how this account usually behaves?

Data: transactions `features_batch` with `observe=True`: this agent is the one whose call records
the batch into the online profiles, so profiles build up from the stream (cold start is normal).
Features describe history strictly before each transaction.

Failure: a tool call that fails raises AgentDataError for the whole batch; the orchestrator marks
the agent `error` and fails closed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from riskmesh.agents._common import (
    INBOUND_TYPES,
    VerdictBuilder,
    batch_json,
    counterparty,
    feature_request,
    fetch,
    novelty,
    num,
    tx_country,
)
from riskmesh.agents.base import ToolCaller
from riskmesh.contracts import AgentVerdict, Transaction

__all__ = ["BehaviourAgent", "BehaviourConfig"]

_PAYEE_TYPES = frozenset({"transfer", "payment"})
"""Where a new or many counterparties mean something: credit transfers, not shops, tills or the loan book."""


@dataclass(frozen=True)
class BehaviourConfig:
    min_history: int = 3
    """Transactions of history needed before amount statistics are trusted."""
    travel_window_s: float = 2 * 3600
    """A country change faster than this is physically implausible for one customer."""
    velocity_1h: int = 5
    many_devices_24h: int = 3
    many_payees_24h: int = 5


class BehaviourAgent:
    name = "behaviour"
    model_version = "behaviour-rules-1"

    def __init__(self, tools: ToolCaller, config: BehaviourConfig | None = None) -> None:
        self.tools = tools
        self.config = config or BehaviourConfig()

    async def assess(self, transactions: list[Transaction]) -> list[AgentVerdict]:
        if not transactions:
            return []
        arguments = {"transactions_json": batch_json([feature_request(t) for t in transactions]), "observe": True}
        features = await fetch(self.tools, self.name, "transactions", "features_batch", arguments, "features")
        return [self._one(t, features.get(t.tx_id) or {}) for t in transactions]

    def _one(self, tx: Transaction, feats: dict[str, Any]) -> AgentVerdict:
        cfg = self.config
        v = VerdictBuilder(self.name, tx.tx_id)
        n_history = int(num(feats.get("n_history")) or 0)
        z = _zscore(float(tx.amount), feats) if n_history >= cfg.min_history else None
        country = tx_country(tx)
        new = novelty(tx, feats)
        v.evidence = {"features": feats, "amount_zscore": z, "country": country}
        if n_history == 0:
            v.add("BEHAVIOUR_NO_HISTORY", 0.0, "first transaction seen on this account: no profile yet")
            return v.build(self.model_version, "BEHAVIOUR_NO_HISTORY", "")
        if n_history < cfg.min_history:
            v.add(
                "BEHAVIOUR_THIN_HISTORY",
                0.0,
                f"only {n_history} earlier transactions: amount habit not scored",
            )
        unusual_amount = z is not None and z >= 2.0
        if z is not None and z >= 3.0:
            weight = 0.5 if z >= 6 else 0.35 if z >= 4 else 0.2
            v.add("BEHAVIOUR_AMOUNT_ZSCORE", weight, f"amount is {z:.1f} standard deviations above the mean")
        if new["device"]:
            if unusual_amount:
                v.add("BEHAVIOUR_NEW_DEVICE_HIGH_AMOUNT", 0.35, "an unusually high amount from a new device")
            else:
                v.add("BEHAVIOUR_NEW_DEVICE", 0.15, "a device never seen on this account")
        if new["ip"] and not new["device"]:
            v.add("BEHAVIOUR_NEW_IP", 0.05, "an IP address never seen on this account")
        if new["payee"] and tx.type in _PAYEE_TYPES:
            other = counterparty(tx).account_id
            if unusual_amount:
                v.add(
                    "BEHAVIOUR_NEW_PAYEE_HIGH_AMOUNT",
                    0.25,
                    f"an unusually high amount with new counterparty {other}",
                )
            else:
                v.add("BEHAVIOUR_NEW_PAYEE", 0.1, f"first payment with counterparty {other}")
        _place_rules(v, feats, country, new["country"], cfg)
        _velocity_rules(v, tx, feats, cfg)
        return v.build(self.model_version, "BEHAVIOUR_CONSISTENT", "consistent with the account's profile")


def _zscore(amount: float, feats: dict[str, Any]) -> float | None:
    mean = num(feats.get("amount_mean"))
    if mean is None:
        return None
    std = num(feats.get("amount_std")) or 0.0
    # A perfectly regular account (std 0) still deserves a scale: 10% of its mean.
    scale = max(std, abs(mean) * 0.1, 0.01)
    return round((amount - mean) / scale, 2)


def _place_rules(
    v: VerdictBuilder, feats: dict[str, Any], country: str | None, new_country: bool, cfg: BehaviourConfig
) -> None:
    last_country = feats.get("last_country")
    since = num(feats.get("seconds_since_last"))
    moved = bool(country and last_country and country != last_country)
    if moved and since is not None and since < cfg.travel_window_s:
        weight = 0.55 if since < 1800 else 0.45
        v.add(
            "BEHAVIOUR_IMPOSSIBLE_TRAVEL",
            weight,
            f"{last_country} ▶ {country} within {since / 60:.0f} minutes of the previous transaction",
        )
    elif new_country:
        v.add("BEHAVIOUR_NEW_COUNTRY", 0.2, f"first transaction from {country}")


def _velocity_rules(v: VerdictBuilder, tx: Transaction, feats: dict[str, Any], cfg: BehaviourConfig) -> None:
    count_1h = int(num(feats.get("count_1h")) or 0)
    if count_1h >= cfg.velocity_1h:
        weight = 0.4 if count_1h >= 2 * cfg.velocity_1h else 0.25
        v.add("BEHAVIOUR_VELOCITY_SPIKE", weight, f"{count_1h} transactions in the last hour")
    devices = int(num(feats.get("distinct_devices_24h")) or 0)
    if devices >= cfg.many_devices_24h:
        v.add("BEHAVIOUR_MANY_DEVICES", 0.25, f"{devices} different devices in 24 hours")
    payees = int(num(feats.get("distinct_payees_24h")) or 0)
    if payees >= cfg.many_payees_24h and tx.type in _PAYEE_TYPES:
        what = "senders" if tx.type in INBOUND_TYPES else "payees"
        v.add("BEHAVIOUR_MANY_PAYEES", 0.25, f"{payees} different {what} in 24 hours")
