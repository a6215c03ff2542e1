"""Test doubles shared by the agent tests: a scripted ToolCaller and a transaction factory."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from riskmesh.agents.base import ToolCallError
from riskmesh.contracts import Transaction

Answer = dict[str, Any] | Exception | Callable[[dict[str, Any]], dict[str, Any]]


class FakeTools:
    """A ToolCaller that answers from a script keyed by (server, tool) and records every call."""

    def __init__(self, script: dict[tuple[str, str], Answer] | None = None) -> None:
        self.script = dict(script or {})
        self.calls: list[tuple[str, str, dict[str, Any]]] = []

    async def call(self, server: str, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
        arguments = as_structured(arguments)
        self.calls.append((server, tool, arguments))
        answer = self.script.get((server, tool))
        if answer is None:
            raise ToolCallError(server, tool, "not scripted")
        if isinstance(answer, Exception):
            raise answer
        if callable(answer):
            return answer(arguments)
        return answer

    def calls_to(self, server: str, tool: str) -> list[dict[str, Any]]:
        return [args for s, t, args in self.calls if (s, t) == (server, tool)]


def as_structured(arguments: dict[str, Any]) -> dict[str, Any]:
    """Batch arguments sent as JSON text (`items_json`) read back as the structured argument (`items`)."""
    return {(k[:-5] if k.endswith("_json") else k): (orjson.loads(v) if k.endswith("_json") else v)
            for k, v in arguments.items()}


def make_tx(tx_id: str = "T1", **changes: Any) -> Transaction:
    """A valid transaction; `changes` override top-level fields, `debtor`/`creditor` etc. merge."""
    data: dict[str, Any] = {
        "schema_version": "1",
        "tx_id": tx_id,
        "ts": "2026-11-21T09:15:02.123Z",
        "type": "transfer",
        "channel": "mobile",
        "amount": "120.00",
        "currency": "CNY",
        "debtor": {"customer_id": "C1", "account_id": "A1", "name": "Li Wei", "country": "CN"},
        "creditor": {"account_id": "B1", "name": "Acme Trading Ltd", "country": "HK"},
        "device": {"device_id": "D1", "ip": "203.0.113.7"},
        "geo": {"country": "CN"},
    }
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key] = {**data[key], **value}
        else:
            data[key] = value
    return Transaction.model_validate(data)


def features(**changes: Any) -> dict[str, Any]:
    """Features of an established, regular account; override what a test is about."""
    base: dict[str, Any] = {
        "n_history": 40,
        "count_1h": 0,
        "count_24h": 2,
        "sum_24h": 200.0,
        "amount_mean": 100.0,
        "amount_std": 30.0,
        "amount_max": 250.0,
        "known_device": True,
        "known_ip": True,
        "known_country": True,
        "known_payee": True,
        "seconds_since_last": 86_400.0,
        "last_country": "CN",
        "distinct_devices_24h": 1,
        "distinct_payees_24h": 1,
    }
    return {**base, **changes}


COLD_START: dict[str, Any] = {
    "n_history": 0, "count_1h": 0, "count_24h": 0, "sum_24h": 0, "amount_mean": None, "amount_std": None,
    "amount_max": None, "known_device": False, "known_ip": False, "known_country": False,
    "known_payee": False, "seconds_since_last": None, "last_country": None,
    "distinct_devices_24h": 0, "distinct_payees_24h": 0,
}  # fmt: skip

CUSTOMER = {
    "customer_id": "C1", "name": "Li Wei", "type": "person", "country": "CN", "segment": "retail",
    "kyc_risk": "low", "pep": False, "onboarded_at": "2020-01-01T00:00:00.000Z", "metadata": {},
}  # fmt: skip
ACCOUNT = {
    "account_id": "A1", "customer_id": "C1", "opened_at": "2020-01-02T00:00:00.000Z", "product": "current",
    "currency": "CNY", "status": "active", "daily_limit": "50000", "metadata": {},
}  # fmt: skip


def reference(customers: dict[str, Any] | None = None, accounts: dict[str, Any] | None = None) -> Answer:
    """A get_customers_batch answer that knows `customers`/`accounts` and returns null for the rest."""
    known_c = {"C1": CUSTOMER} if customers is None else customers
    known_a = {"A1": ACCOUNT} if accounts is None else accounts

    def answer(arguments: dict[str, Any]) -> dict[str, Any]:
        return {
            "customers": {c: known_c.get(c) for c in arguments["customer_ids"]},
            "accounts": {a: known_a.get(a) for a in arguments["account_ids"]},
        }

    return answer


def features_for(per_tx: dict[str, dict[str, Any]] | None = None, default: dict[str, Any] | None = None) -> Answer:
    def answer(arguments: dict[str, Any]) -> dict[str, Any]:
        chosen = per_tx or {}
        return {
            "features": {t["tx_id"]: chosen.get(t["tx_id"], default or features()) for t in arguments["transactions"]}
        }

    return answer
