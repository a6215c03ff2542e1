"""Malformed Kafka payloads, one kind after another, for dead-letter and robustness tests."""

from __future__ import annotations

import random
from typing import Any

import orjson

__all__ = ["BAD_KINDS", "bad_messages"]

BAD_KINDS: tuple[str, ...] = (
    "invalid_json",
    "missing_fields",
    "negative_amount",
    "unknown_currency",
    "oversized",
    "wrong_types",
)
"""Every kind is refused by `riskmesh.contracts.parse_transaction`."""


def _valid(rng: random.Random, n: int) -> dict[str, Any]:
    return {
        "schema_version": "1",
        "tx_id": f"BAD-{n:09d}",
        "ts": f"2026-01-05T{rng.randrange(24):02d}:{rng.randrange(60):02d}:00.000Z",
        "type": "transfer",
        "channel": "mobile",
        "amount": f"{rng.uniform(1, 5000):.2f}",
        "currency": "CNY",
        "debtor": {"customer_id": "C000001", "account_id": "A000001-01", "country": "CN"},
        "creditor": {"account_id": f"X{rng.randrange(10**12):012d}", "name": "Harbour Trading Ltd"},
    }


def _make(kind: str, rng: random.Random, n: int) -> bytes:
    tx = _valid(rng, n)
    if kind == "invalid_json":
        text = orjson.dumps(tx).decode()
        cut = rng.choice((len(text) // 2, len(text) - 1))
        return (text[:cut] + rng.choice(("", ",", "}}", "'oops'"))).encode()
    if kind == "missing_fields":
        for key in rng.sample(
            ["tx_id", "amount", "currency", "debtor", "creditor", "ts"], k=rng.randint(1, 3)
        ):
            tx.pop(key)
    elif kind == "negative_amount":
        tx["amount"] = rng.choice((f"-{tx['amount']}", "0", "0.00", -12.5))
    elif kind == "unknown_currency":
        tx["currency"] = rng.choice(("XXY", "usd", "RMB", "BTC", "EURO"))
    elif kind == "oversized":
        tx["purpose"] = "x" * 1000
        tx["metadata"] = {"blob": "A" * (64 * 1024 + rng.randrange(1, 4096))}
    elif kind == "wrong_types":
        field, value = rng.choice(
            (
                ("amount", {"value": 10}),
                ("debtor", "A000001-01"),
                ("ts", ["2026-01-05T09:00:00Z"]),
                ("type", 7),
                ("amount", True),
                ("creditor", ["X1"]),
            )
        )
        tx[field] = value
    else:
        raise ValueError(f"unknown bad message kind {kind!r}")
    return orjson.dumps(tx)


def bad_messages(count: int, seed: int) -> list[tuple[str, bytes]]:
    """`count` (kind, payload) pairs cycling over `BAD_KINDS`; deterministic for a seed."""
    rng = random.Random(seed)
    return [
        (BAD_KINDS[n % len(BAD_KINDS)], _make(BAD_KINDS[n % len(BAD_KINDS)], rng, n)) for n in range(count)
    ]
