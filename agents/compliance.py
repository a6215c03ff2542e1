"""Compliance agent: sanctions screening, PEP and KYC risk, jurisdictions, reportable amounts.

Data: customer-data `get_customers_batch` (PEP flag, KYC risk, names and countries of known
parties), then ONE watchlists `screen_names_batch` call for the names of both parties of every
transaction in the batch (deduplicated by name and country).

Hard rule: a confirmed watchlist match (score ≥ `confirmed_score`, or the normalised names are
identical) sets `hard_block`, which the aggregation policy turns into `block` whatever the score.

Failure: a tool call that fails raises AgentDataError for the whole batch; the orchestrator marks
the agent `error` and fails closed. Screening is never skipped silently.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from riskmesh.agents._common import VerdictBuilder, fetch, fetch_reference, normalise_name, num
from riskmesh.agents.base import ToolCaller
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


class ComplianceAgent:
    name = "compliance"
    model_version = "compliance-rules-1"

    def __init__(self, tools: ToolCaller, config: ComplianceConfig | None = None) -> None:
        self.tools = tools
        self.config = config or ComplianceConfig()

    async def assess(self, transactions: list[Transaction]) -> list[AgentVerdict]:
        if not transactions:
            return []
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
        out = []
        for t in transactions:
            screened = [
                (p, hits.get(refs[(p["name"], p["country"])]) or []) if p["name"] else (p, None)
                for p in parties[t.tx_id]
            ]
            out.append(self._one(t, screened))
        return out

    def _one(self, tx: Transaction, screened: list[tuple[dict[str, Any], list[Any] | None]]) -> AgentVerdict:
        v = VerdictBuilder(self.name, tx.tx_id)
        v.evidence = {"screened": {}, "countries": []}
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


def _bic_country(bic: str | None) -> str | None:
    return bic[4:6] if bic and len(bic) >= 6 else None
