"""`write_dataset`: a world plus its labelled, time-ordered transactions over a period, split by day.

The files are the public formats of CONTRACTS.md: `customers.jsonl`, `accounts.jsonl`,
`credit.jsonl`, `watchlist.jsonl`, `devices.jsonl` (the reference snapshot) and
`transactions.jsonl` (labelled transactions), plus `train.jsonl` (days 1..split_day) and
`eval.jsonl` (the rest) when a split day is given. Transactions are streamed to disk.

The credit snapshot is taken at the end of the period: customers who busted out a credit line
in it show the line maxed and delinquent there.
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, BinaryIO

import orjson

from riskmesh.contracts import CreditRecord
from riskmesh.orchestrator.synth import catalog
from riskmesh.orchestrator.synth.stream import DEFAULT_START, TransactionStream
from riskmesh.orchestrator.synth.world import World

__all__ = ["write_dataset"]

_BUFFER = 1 << 20


def write_dataset(
    out: Path,
    customers: int,
    days: int,
    seed: int,
    split_day: int | None = None,
    start: datetime | None = None,
) -> dict[str, Any]:
    """Write the world and `days` days of labelled transactions from `start` into `out`; return a summary.

    The same arguments always give the same bytes. `split_day` (1..days-1) also writes
    `train.jsonl` (days 1..split_day) and `eval.jsonl` (days split_day+1..days).
    """
    if customers < 1 or days < 1:
        raise ValueError("customers and days must be at least 1")
    if split_day is not None and not 0 < split_day < days:
        raise ValueError(f"split_day must be between 1 and {days - 1}")
    begin = (start or DEFAULT_START).astimezone(UTC)
    end = begin + timedelta(days=days)
    out.mkdir(parents=True, exist_ok=True)
    world = World.generate(seed=seed, customers=customers)
    stream = TransactionStream(world, seed=seed, start=begin, until=end)
    cut = None if split_day is None else _stamp(begin + timedelta(days=split_day))
    tally = _Tally()
    names = ["transactions.jsonl"] + ([] if cut is None else ["train.jsonl", "eval.jsonl"])
    files = {name: (out / name).open("wb", buffering=_BUFFER) for name in names}
    try:
        _write_stream(stream, files, cut, tally)
    finally:
        for fh in files.values():
            fh.close()
    world.credit = _credit_at(world.credit, tally.drawn, end, random.Random(f"bust-out:{seed}"))
    world.write(out)
    return tally.summary(out, world, begin, end, names)


def _stamp(moment: datetime) -> str:
    """The stream's own timestamp format, so that the split compares strings."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _write_stream(stream: TransactionStream, files: dict[str, BinaryIO], cut: str | None, tally: _Tally) -> None:
    dumps = orjson.dumps
    everything = files["transactions.jsonl"]
    train, evaluation = files.get("train.jsonl"), files.get("eval.jsonl")
    for tx in stream.iter_dicts():
        line = dumps(tx) + b"\n"
        everything.write(line)
        if cut is not None:
            if tx["ts"] < cut:
                train.write(line)  # type: ignore[union-attr]
                tally.train += 1
            else:
                evaluation.write(line)  # type: ignore[union-attr]
                tally.eval += 1
        tally.add(tx)


class _Tally:
    def __init__(self) -> None:
        self.transactions = self.fraud = self.aml = self.train = self.eval = 0
        self.patterns: Counter[str] = Counter()
        self.pattern_fraud: Counter[str] = Counter()
        self.pattern_aml: Counter[str] = Counter()
        self.drawn: dict[str, Decimal] = {}
        self.first_ts = self.last_ts = ""

    def add(self, tx: dict[str, Any]) -> None:
        self.transactions += 1
        self.last_ts = tx["ts"]
        self.first_ts = self.first_ts or tx["ts"]
        tag = tx["label"]
        pattern = tag["pattern"]
        if pattern is None:
            return
        self.patterns[pattern] += 1
        self.fraud += tag["is_fraud"]
        self.aml += tag["is_suspicious_aml"]
        self.pattern_fraud[pattern] += tag["is_fraud"]
        self.pattern_aml[pattern] += tag["is_suspicious_aml"]
        if pattern == "credit_bust_out":
            cid = tx["debtor"]["customer_id"]
            local = Decimal(tx["amount"]) / Decimal(str(catalog.FX_PER_USD[tx["currency"]]))
            self.drawn[cid] = self.drawn.get(cid, Decimal(0)) + local  # in USD

    def summary(self, out: Path, world: World, begin: datetime, end: datetime, names: list[str]) -> dict[str, Any]:
        n = max(1, self.transactions)
        return {
            "out": str(out),
            "customers": len(world.customers),
            "accounts": len(world.accounts),
            "credit_records": len(world.credit),
            "watchlist": len(world.watchlist),
            "devices": len(world.devices),
            "start": _stamp(begin),
            "end": _stamp(end),
            "first_ts": self.first_ts,
            "last_ts": self.last_ts,
            "transactions": self.transactions,
            "train": self.train if "train.jsonl" in names else None,
            "eval": self.eval if "eval.jsonl" in names else None,
            "fraud": self.fraud,
            "aml": self.aml,
            "fraud_rate": round(self.fraud / n, 5),
            "aml_rate": round(self.aml / n, 5),
            "patterns": {
                name: {"transactions": count, "fraud": self.pattern_fraud[name], "aml": self.pattern_aml[name]}
                for name, count in sorted(self.patterns.items())
            },
            "bust_out_customers": len(self.drawn),
            "bytes": {name: (out / name).stat().st_size for name in [*names, *(f"{k}.jsonl" for k in World.FILES)]},
        }


def _credit_at(
    records: list[CreditRecord], drawn: dict[str, Decimal], end: datetime, rng: random.Random
) -> list[CreditRecord]:
    """The credit snapshot at `end`: bust-out customers maxed out and past due, everyone else as before."""
    out = []
    for r in records:
        if r.customer_id not in drawn:
            out.append(r.model_copy(update={"as_of": end}))
            continue
        currency = str(r.metadata.get("currency", "USD"))
        used = drawn[r.customer_id] * Decimal(str(catalog.FX_PER_USD.get(currency, 1.0)))
        exposure = max(r.exposure + used, r.limit * Decimal(str(round(rng.uniform(0.97, 1.08), 3))))
        out.append(
            r.model_copy(
                update={
                    "as_of": end,
                    "exposure": Decimal(int(exposure)),
                    "days_past_due": rng.choice((30, 45, 60, 90)),
                    "rating": rng.choice(("CCC", "CCC", "D")),
                    "pd": round(rng.uniform(0.35, 0.9), 4),
                }
            )
        )
    return out
