"""Compliance agent: sanctions screening, PEP and KYC risk, jurisdictions, reportable amounts.

Data: customer-data `get_customers_batch` (PEP flag, KYC risk, names and countries of known
parties), then ONE watchlists `screen_names_batch` call for the names of both parties of every
transaction in the batch (deduplicated by name and country). Concurrently, ONE risk-graph
`observe_and_features_batch` call records the batch into the graph (idempotent per tx_id), then
answers features of both accounts of every transaction: mule indicators
(devices / IPs shared by many accounts, fan-in then fan-out, rapid pass-through, payment rings,
closeness to known-bad nodes).

Hard rule: a confirmed watchlist match (score ≥ `confirmed_score`, or the normalised names are
identical) sets `hard_block`, which the aggregation policy turns into `block` whatever the score.

Failure: a tool call that fails raises AgentDataError for the whole batch; the orchestrator marks
the agent `error` and fails closed. Screening is never skipped silently.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from riskmesh.agents._common import (
    INBOUND_TYPES,
    VerdictBuilder,
    batch_json,
    fetch,
    fetch_reference,
    normalise_name,
    num,
)
from riskmesh.agents.base import ToolCaller
from riskmesh.agents.features import graph_event
from riskmesh.contracts import AgentVerdict, Transaction

__all__ = ["DEFAULT_HIGH_RISK_COUNTRIES", "ComplianceAgent", "ComplianceConfig", "ReportingThreshold"]

DEFAULT_HIGH_RISK_COUNTRIES: frozenset[str] = frozenset({"IR", "KP", "SY", "CU", "MM", "RU", "BY", "VE", "AF", "YE"})
"""FATF call-for-action / comprehensive-sanctions jurisdictions and similar; a policy choice."""


@dataclass(frozen=True)
class ReportingThreshold:
    currency: str
    amount: Decimal
    label: str
    cash_only: bool = True
    """Cash reports (CTR, PBoC large-value cash) apply to cash deposits and withdrawals only."""


DEFAULT_THRESHOLDS: tuple[ReportingThreshold, ...] = (
    ReportingThreshold("USD", Decimal("10000"), "US currency transaction report (CTR)"),
    ReportingThreshold("CNY", Decimal("50000"), "PBoC large-value cash transaction report"),
)
_CASH_TYPES = frozenset({"deposit", "withdrawal"})


@dataclass(frozen=True)
class ComplianceConfig:
    high_risk_countries: frozenset[str] = DEFAULT_HIGH_RISK_COUNTRIES
    thresholds: tuple[ReportingThreshold, ...] = DEFAULT_THRESHOLDS
    screen_threshold: float = 0.88
    """Lowest fuzzy score the watchlist server reports: a possible match."""
    confirmed_score: float = 0.95
    """From this score a match is treated as confirmed (hard block)."""
    structuring_band: Decimal = Decimal("0.9")
    """Amounts in [band * threshold, threshold) hint at structuring."""
    shared_device_accounts: int = 3
    """A device used by at least this many *other* accounts is a mule-farm signal."""
    shared_ip_accounts: int = 5
    mule_fan_in: int = 5
    """Distinct senders in 24h that, with onward payments, make an account look like a collector."""
    pass_through_band: tuple[float, float] = (0.8, 1.2)
    """Out/in amount over 24h in this band: money leaves about as fast as it arrives."""
    pass_through_min_in: float = 1000.0
    """Least 24h inflow (in transaction units) for the pass-through rule to mean anything."""


class ComplianceAgent:
    name = "compliance"
    model_version = "compliance-rules-1"

    def __init__(self, tools: ToolCaller, config: ComplianceConfig | None = None) -> None:
        self.tools = tools
        self.config = config or ComplianceConfig()

    async def assess(self, transactions: list[Transaction]) -> list[AgentVerdict]:
        if not transactions:
            return []
        (parties, refs, hits), graph = await asyncio.gather(self._screen(transactions), self._graph(transactions))
        out = []
        for t in transactions:
            screened = [
                (p, hits.get(refs[(p["name"], p["country"])]) or []) if p["name"] else (p, None)
                for p in parties[t.tx_id]
            ]
            out.append(self._one(t, screened, graph))
        return out

    async def _graph(self, transactions: list[Transaction]) -> dict[str, Any]:
        """risk-graph, one call: record the batch, then features of both accounts of each tx."""
        events = [graph_event(t) for t in transactions]
        items = [
            {"ref": f"{t.tx_id}:{role}", "account_id": account, "counterparty_account_id": other, **_device(t, role)}
            for t in transactions
            for role, account, other in (
                ("debtor", t.debtor.account_id, t.creditor.account_id),
                ("creditor", t.creditor.account_id, t.debtor.account_id),
            )
        ]
        return await fetch(self.tools, self.name, "risk-graph", "observe_and_features_batch",
                           {"transactions_json": batch_json(events), "items_json": batch_json(items)}, "features")

    async def _screen(
        self, transactions: list[Transaction]
    ) -> tuple[dict[str, list[dict[str, Any]]], dict[tuple[str, str | None], str], dict[str, Any]]:
        customer_ids = [c for t in transactions for c in (t.debtor.customer_id, t.creditor.customer_id) if c]
        account_ids = [a for t in transactions for a in (t.debtor.account_id, t.creditor.account_id)]
        customers, accounts = await fetch_reference(self.tools, self.name, customer_ids, account_ids)
        parties = {t.tx_id: _parties(t, customers, accounts) for t in transactions}
        refs: dict[tuple[str, str | None], str] = {}
        for per_tx in parties.values():
            for party in per_tx:
                if party["name"]:
                    refs.setdefault((party["name"], party["country"]), f"n{len(refs)}")
        hits: dict[str, Any] = {}
        if refs:
            names = [{"ref": ref, "name": name, "country": country} for (name, country), ref in refs.items()]
            arguments = {"names": names, "threshold": self.config.screen_threshold}
            hits = await fetch(self.tools, self.name, "watchlists", "screen_names_batch", arguments, "results")
        return parties, refs, hits

    def _one(
        self, tx: Transaction, screened: list[tuple[dict[str, Any], list[Any] | None]], graph: dict[str, Any]
    ) -> AgentVerdict:
        v = VerdictBuilder(self.name, tx.tx_id)
        v.evidence = {"screened": {}, "countries": [], "graph": {}}
        for role in ("debtor", "creditor"):
            feats = graph.get(f"{tx.tx_id}:{role}")
            if isinstance(feats, dict):
                v.evidence["graph"][role] = feats
                self._graph_rules(v, role, feats)
        for party, matches in screened:
            self._screening(v, party, matches)
            customer = party["customer"]
            if customer and customer.get("pep"):
                v.add("COMPLIANCE_PEP", 0.3, f"the {party['role']} is a politically exposed person")
            if customer and customer.get("kyc_risk") == "high":
                v.add("COMPLIANCE_KYC_HIGH_RISK", 0.2, f"the {party['role']} is rated high risk at KYC")
        self._jurisdictions(v, tx, screened)
        self._amount_rules(v, tx)
        return v.build(self.model_version, "COMPLIANCE_CLEAR", "screened, no compliance concern")

    def _graph_rules(self, v: VerdictBuilder, role: str, feats: dict[str, Any]) -> None:
        """Mule and ring indicators of one party's account, from risk-graph features."""
        cfg = self.config
        device = int(num(feats.get("accounts_sharing_device")) or 0)
        if device >= cfg.shared_device_accounts:
            v.add("COMPLIANCE_SHARED_DEVICE", 0.3, f"the {role}'s device is used by {device} other accounts")
        ip = int(num(feats.get("accounts_sharing_ip")) or 0)
        if ip >= cfg.shared_ip_accounts:
            v.add("COMPLIANCE_SHARED_IP", 0.15, f"the {role}'s IP address is used by {ip} other accounts")
        fan_in, fan_out = int(num(feats.get("fan_in_24h")) or 0), int(num(feats.get("fan_out_24h")) or 0)
        ratio = num(feats.get("pass_through_ratio"))
        inflow = num(feats.get("in_amount_24h")) or 0.0
        low, high = cfg.pass_through_band
        passes = ratio is not None and low <= ratio <= high and inflow >= cfg.pass_through_min_in
        if fan_in >= cfg.mule_fan_in and fan_out >= 1 and ratio is not None and ratio >= low:
            v.add(
                "COMPLIANCE_MULE_FAN_IN_OUT",
                0.35,
                f"the {role}'s account received from {fan_in} senders and paid {fan_out} in 24h "
                f"(out/in {ratio:.2f}): collection account pattern",
            )
        elif passes:
            v.add(
                "COMPLIANCE_RAPID_PASS_THROUGH",
                0.3,
                f"the {role}'s account paid out {ratio:.0%} of the {inflow:.2f} it received in 24h",
            )
        if feats.get("in_cycle"):
            v.add("COMPLIANCE_PAYMENT_RING", 0.3, f"the {role}'s account is in a payment cycle of "
                  f"{feats.get('cycle_length')} accounts")  # fmt: skip
        distance = num(feats.get("distance_to_bad"))
        if distance is not None and distance <= 2:
            weight = {0: 0.5, 1: 0.35}.get(int(distance), 0.2)
            v.add(
                "COMPLIANCE_NEAR_KNOWN_BAD",
                weight,
                f"the {role}'s account, device, IP or counterparty is {int(distance)} hop(s) from known-bad "
                f"{feats.get('nearest_bad')} ({feats.get('nearest_bad_reason')})",
            )

    def _screening(self, v: VerdictBuilder, party: dict[str, Any], matches: list[Any] | None) -> None:
        role = party["role"]
        if matches is None:
            v.evidence["screened"][role] = None
            v.add("COMPLIANCE_NAME_MISSING", 0.0, f"no {role} name to screen")
            return
        valid = [m for m in matches if isinstance(m, dict)]
        v.evidence["screened"][role] = {"name": party["name"], "matches": valid}
        if not valid:
            return
        best = max(valid, key=lambda m: (num(m.get("score")) or 0.0, str(m.get("entry_id"))))
        score = num(best.get("score")) or 0.0
        wanted = normalise_name(party["name"])
        exact = wanted in {normalise_name(str(best.get(k) or "")) for k in ("name", "matched_alias")}
        what = f"{role} '{party['name']}' ~ {best.get('list')} {best.get('entry_id')} '{best.get('name')}'"
        if exact or score >= self.config.confirmed_score:
            v.hard_block = True
            v.add("COMPLIANCE_SANCTIONS_MATCH", 1.0, f"confirmed match: {what} (score {score:.2f})")
        else:
            v.add("COMPLIANCE_POSSIBLE_SANCTIONS_MATCH", 0.7, f"possible match: {what} (score {score:.2f})")

    def _jurisdictions(
        self, v: VerdictBuilder, tx: Transaction, screened: list[tuple[dict[str, Any], list[Any] | None]]
    ) -> None:
        seen = {p["country"] for p, _ in screened}
        seen |= {tx.geo.country if tx.geo else None, tx.merchant.country if tx.merchant else None}
        seen |= {_bic_country(tx.debtor.bank_bic), _bic_country(tx.creditor.bank_bic)}
        countries = sorted(c for c in seen if c)
        v.evidence["countries"] = countries
        risky = [c for c in countries if c in self.config.high_risk_countries]
        if risky:
            v.add(
                "COMPLIANCE_HIGH_RISK_JURISDICTION",
                0.5,
                f"involves high-risk jurisdiction(s) {', '.join(risky)}",
            )

    def _amount_rules(self, v: VerdictBuilder, tx: Transaction) -> None:
        is_cash = tx.type in _CASH_TYPES
        for rule in self.config.thresholds:
            if rule.currency != tx.currency or (rule.cash_only and not is_cash):
                continue
            if tx.amount >= rule.amount:
                v.add(
                    "COMPLIANCE_REPORTABLE_AMOUNT",
                    0.1,
                    f"{rule.label}: {tx.amount} ≥ {rule.amount} {rule.currency}",
                )
            elif tx.amount >= rule.amount * self.config.structuring_band:
                v.add(
                    "COMPLIANCE_STRUCTURING_HINT",
                    0.25,
                    f"{tx.amount} {tx.currency} is just below the {rule.label} threshold of {rule.amount}",
                )


def _parties(tx: Transaction, customers: dict[str, Any], accounts: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for role, party in (("debtor", tx.debtor), ("creditor", tx.creditor)):
        customer_id = party.customer_id
        if customer_id is None:
            customer_id = accounts.get(party.account_id, {}).get("customer_id")
        customer = customers.get(customer_id) if customer_id else None
        name = party.name or (customer or {}).get("name")
        country = party.country or (customer or {}).get("country")
        out.append({"role": role, "name": name, "country": country, "customer": customer})
    return out


def _device(tx: Transaction, role: str) -> dict[str, str]:
    """The device and IP of the party that initiated the payment (the creditor for inbound types)."""
    initiator = "creditor" if tx.type in INBOUND_TYPES else "debtor"
    if role != initiator or tx.device is None:
        return {}
    return {k: v for k, v in (("device_id", tx.device.device_id), ("ip", tx.device.ip)) if v}


def _bic_country(bic: str | None) -> str | None:
    return bic[4:6] if bic and len(bic) >= 6 else None
