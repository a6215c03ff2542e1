"""Shared building blocks of the analysis agents: tool fetches, verdict building, small helpers.

Scoring convention for the rule-based agents: every finding is a `Reason` with a weight in 0..1,
read as "probability this finding alone means risk". A verdict's score is the noisy-OR of its
baseline and its reasons' weights: `1 - (1 - baseline) * Π(1 - weight)`. Neutral findings (cold
start, no data) carry weight 0, so they explain without moving the score. Deterministic.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any, Protocol, TypeVar

import orjson

from riskmesh.agents.base import ToolCaller, ToolCallError
from riskmesh.contracts import AgentVerdict, Party, Reason, Transaction

__all__ = [
    "APPROX_USD_RATES",
    "INBOUND_TYPES",
    "AgentDataError",
    "VerdictBuilder",
    "acting_party",
    "approx_usd",
    "batch_json",
    "counterparty",
    "feature_request",
    "fetch",
    "fetch_reference",
    "iso_utc",
    "normalise_name",
    "novelty",
    "num",
    "parse_ts",
    "tx_country",
]

#: Rough USD value of one unit, for *relative* sizing only (e.g. "a high amount for a new device").
#: Regulatory thresholds never use this table: they are compared in the transaction's own currency.
APPROX_USD_RATES: dict[str, float] = {
    "USD": 1.0, "EUR": 1.08, "GBP": 1.27, "CHF": 1.12, "CNY": 0.14, "HKD": 0.128, "JPY": 0.0067,
    "SGD": 0.74, "AUD": 0.66, "CAD": 0.73, "NZD": 0.6, "SEK": 0.095, "NOK": 0.093, "DKK": 0.145,
    "INR": 0.012, "KRW": 0.00075, "TWD": 0.031, "AED": 0.27, "SAR": 0.27, "RUB": 0.011, "BRL": 0.18,
    "MXN": 0.055, "ZAR": 0.054, "TRY": 0.03, "PLN": 0.25, "CZK": 0.043, "HUF": 0.0027, "THB": 0.028,
    "MYR": 0.21, "IDR": 0.000062, "PHP": 0.017, "VND": 0.00004,
}  # fmt: skip


class AgentDataError(RuntimeError):
    """An analysis agent could not get the data it needs for a batch.

    Raised for the *whole* batch rather than guessing per transaction: the A2A edge turns it into
    an agent error, and the orchestrator then fails closed (status `error` ▶ never `pass`).
    """

    def __init__(self, agent: str, message: str) -> None:
        super().__init__(f"{agent} agent: {message}")
        self.agent = agent


async def fetch(tools: ToolCaller, agent: str, server: str, tool: str, arguments: dict[str, Any], key: str) -> dict:
    """Call one batch tool and return `result[key]`, a dict; raise AgentDataError otherwise."""
    try:
        result = await tools.call(server, tool, arguments)
    except ToolCallError as exc:
        raise AgentDataError(agent, f"tool call failed: {exc}") from exc
    value = result.get(key) if isinstance(result, dict) else None
    if not isinstance(value, dict):
        raise AgentDataError(agent, f"{server}.{tool} answered without a '{key}' object")
    return value


async def fetch_reference(
    tools: ToolCaller, agent: str, customer_ids: Iterable[str], account_ids: Iterable[str]
) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    """customer-data `get_customers_batch` ▶ (customers by id, accounts by id), unknown ids left out."""
    arguments = {"customer_ids": sorted(set(customer_ids)), "account_ids": sorted(set(account_ids))}
    try:
        result = await tools.call("customer-data", "get_customers_batch", arguments)
    except ToolCallError as exc:
        raise AgentDataError(agent, f"tool call failed: {exc}") from exc
    customers = result.get("customers") if isinstance(result, dict) else None
    accounts = result.get("accounts") if isinstance(result, dict) else None
    if not isinstance(customers, dict) or not isinstance(accounts, dict):
        raise AgentDataError(agent, "customer-data.get_customers_batch answered without customers/accounts")
    return (
        {k: c for k, c in customers.items() if isinstance(c, dict)},
        {k: a for k, a in accounts.items() if isinstance(a, dict)},
    )


def batch_json(items: list[dict[str, Any]]) -> str:
    """A batch argument as one JSON array text, for a tool's `<name>_json` parameter: the MCP SDK then encodes,
    logs and decodes one string instead of every item (docs/decisions/0007)."""
    return orjson.dumps(items).decode()


def num(value: Any) -> float | None:
    """A finite float from a JSON number or decimal string, else None."""
    if value is None or isinstance(value, bool):
        return None
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return out if math.isfinite(out) else None


def iso_utc(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_ts(value: Any) -> datetime | None:
    """An aware datetime from an RFC 3339 string (as the MCP servers send), else None."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def approx_usd(amount: Decimal, currency: str) -> float | None:
    rate = APPROX_USD_RATES.get(currency)
    return None if rate is None else float(amount) * rate


def normalise_name(name: str) -> str:
    """Case-, accent- and punctuation-insensitive form used for exact-match checks."""
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    kept = "".join(c if c.isalnum() else " " for c in decomposed if not unicodedata.combining(c))
    return " ".join(kept.split())


INBOUND_TYPES: frozenset[str] = frozenset({"deposit", "refund", "loan_disbursement"})
"""Money coming in: the bank's customer is the creditor; the debtor is a till, a merchant, the loan book."""


_P_co = TypeVar("_P_co", covariant=True)


class HasParties(Protocol[_P_co]):
    """A Transaction, or the TxFacts the aggregation and action agents get: a type and its two parties."""

    @property
    def type(self) -> str: ...
    @property
    def debtor(self) -> _P_co: ...
    @property
    def creditor(self) -> _P_co: ...


def acting_party(tx: HasParties[_P_co]) -> _P_co:
    """The customer whose behaviour the payment is: the creditor for inbound types, else the debtor."""
    return tx.creditor if tx.type in INBOUND_TYPES else tx.debtor


def counterparty(tx: Transaction) -> Party:
    return tx.debtor if tx.type in INBOUND_TYPES else tx.creditor


def feature_request(tx: Transaction) -> dict[str, Any]:
    """One item of the transactions server's `features_batch` input.

    Profiles are kept per *acting* account (see `acting_party`), so a loan book or a cash till never
    gets a profile and a customer's deposits count in the customer's own history.
    """
    item: dict[str, Any] = {
        "tx_id": tx.tx_id,
        "ts": iso_utc(tx.ts),
        "account_id": acting_party(tx).account_id,
        "amount": format(tx.amount, "f"),
        "currency": tx.currency,
        "creditor_account_id": counterparty(tx).account_id,
        "channel": tx.channel,
    }
    device, country = tx.device, tx_country(tx)
    if device is not None and device.device_id is not None:
        item["device_id"] = device.device_id
    if device is not None and device.ip is not None:
        item["ip"] = device.ip
    if country is not None:
        item["country"] = country
    return item


def tx_country(tx: Transaction) -> str | None:
    """Where the customer physically was: the geo country only.

    The merchant's country is not a location: online merchants abroad would fake travel.
    """
    return tx.geo.country if tx.geo else None


def novelty(tx: Transaction, feats: dict[str, Any]) -> dict[str, bool]:
    """Which of device, ip, country and payee are new to the account.

    Only attributes the transaction carries can be new: a payment without a device is not a
    "new device", whatever the server's flag says.
    """
    device = tx.device
    present = {
        "device": bool(device and device.device_id),
        "ip": bool(device and device.ip),
        "country": tx_country(tx) is not None,
        "payee": True,
    }
    return {k: present[k] and feats.get(f"known_{k}") is False for k in present}


class VerdictBuilder:
    """Collects the reasons and evidence for one transaction and turns them into an AgentVerdict."""

    def __init__(self, agent: str, tx_id: str, baseline: float = 0.02) -> None:
        self.agent = agent
        self.tx_id = tx_id
        self.baseline = baseline
        self.reasons: list[Reason] = []
        self.evidence: dict[str, Any] = {}
        self.hard_block = False

    def add(self, code: str, weight: float, detail: str) -> None:
        self.reasons.append(_reason(code, self.agent, round(weight, 4), detail))

    @property
    def codes(self) -> set[str]:
        return {r.code for r in self.reasons}

    def score(self) -> float:
        return noisy_or([self.baseline, *(r.weight for r in self.reasons)])

    def build(
        self, model_version: str, quiet_code: str, quiet_detail: str, score: float | None = None
    ) -> AgentVerdict:
        """The verdict; `quiet_code` (weight 0) is added when no other reason was found.

        `score` replaces the noisy-OR of the reasons (a model's probability); a hard block is 1.0 either way.
        """
        if not self.reasons:
            self.add(quiet_code, 0.0, quiet_detail)
        if self.hard_block:
            score = 1.0
        elif score is None:
            score = self.score()
        ranked = sorted(self.reasons, key=lambda r: (-r.weight, r.code))
        # Every field is built here from validated parts (Reasons, a clamped score, str ids): constructing
        # without validation saves revalidating them per transaction (~4 µs each, hundreds per batch).
        return AgentVerdict.model_construct(
            tx_id=str(self.tx_id),
            agent=str(self.agent),
            score=round(min(1.0, max(0.0, float(score))), 4),
            status="ok",
            reasons=ranked,
            model_version=str(model_version),
            hard_block=bool(self.hard_block),
            evidence=self.evidence,
        )


@lru_cache(maxsize=8192)
def _reason(code: str, agent: str, weight: float, detail: str) -> Reason:
    """A Reason, shared between verdicts that give the same one (it is frozen).

    Most reasons are one of a few fixed texts ("no earlier transactions on this account"), so a batch
    validates each of those once instead of once per transaction, and allocates nothing for the repeats.
    """
    return Reason(code=code, agent=agent, weight=weight, detail=detail)


def noisy_or(weights: Iterable[float]) -> float:
    keep = 1.0
    for w in weights:
        keep *= 1.0 - min(1.0, max(0.0, w))
    return 1.0 - keep
