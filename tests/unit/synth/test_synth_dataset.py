"""`write_dataset`: reference files plus a labelled, time-ordered, day-split transaction file, byte-stable."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest

from riskmesh.contracts import Transaction
from riskmesh.orchestrator.synth import World, write_dataset

START = datetime(2026, 2, 2, tzinfo=UTC)
DAYS, SPLIT = 6, 4


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("dataset")
    return out, write_dataset(out, customers=150, days=DAYS, seed=9, split_day=SPLIT, start=START)


def lines(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines()


def test_the_dataset_holds_the_world_files_and_the_transaction_files(written: tuple[Path, dict[str, Any]]) -> None:
    out, summary = written
    names = {p.name for p in out.iterdir()}
    assert names == {f"{k}.jsonl" for k in World.FILES} | {"transactions.jsonl", "train.jsonl", "eval.jsonl"}
    assert summary["customers"] == 150 == len(lines(out / "customers.jsonl"))
    assert summary["transactions"] == len(lines(out / "transactions.jsonl"))
    assert summary["bytes"]["transactions.jsonl"] == (out / "transactions.jsonl").stat().st_size
    assert summary["fraud"] == sum(p["fraud"] for p in summary["patterns"].values())
    assert World.read(out).customers[0].customer_id == "C000001"


def test_every_line_validates_and_time_stays_within_the_period_in_order(written: tuple[Path, dict[str, Any]]) -> None:
    out, summary = written
    txs = [Transaction.model_validate_json(line) for line in lines(out / "transactions.jsonl")]
    assert all(tx.label is not None for tx in txs)
    times = [tx.ts for tx in txs]
    assert times == sorted(times)
    assert START <= times[0] < START + timedelta(hours=1)
    assert START + timedelta(days=DAYS - 1, hours=23) < times[-1] < START + timedelta(days=DAYS)
    assert len({tx.tx_id for tx in txs}) == len(txs) == summary["transactions"]


def test_train_and_eval_partition_the_transactions_by_day(written: tuple[Path, dict[str, Any]]) -> None:
    out, summary = written
    train, evaluation = lines(out / "train.jsonl"), lines(out / "eval.jsonl")
    assert train + evaluation == lines(out / "transactions.jsonl")
    assert (summary["train"], summary["eval"]) == (len(train), len(evaluation))
    cut = START + timedelta(days=SPLIT)
    assert all(Transaction.model_validate_json(x).ts < cut for x in train[-50:])
    assert all(Transaction.model_validate_json(x).ts >= cut for x in evaluation[:50])
    days = {orjson.loads(x)["ts"][:10] for x in train}
    assert len(days) == SPLIT


def test_the_same_arguments_write_the_same_bytes(tmp_path: Path, written: tuple[Path, dict[str, Any]]) -> None:
    out, _ = written
    write_dataset(tmp_path, customers=150, days=DAYS, seed=9, split_day=SPLIT, start=START)
    for path in sorted(out.iterdir()):
        assert (tmp_path / path.name).read_bytes() == path.read_bytes(), path.name


def test_a_different_seed_writes_different_transactions(tmp_path: Path, written: tuple[Path, dict[str, Any]]) -> None:
    out, _ = written
    write_dataset(tmp_path, customers=150, days=2, seed=10, start=START)
    assert lines(tmp_path / "transactions.jsonl")[:50] != lines(out / "transactions.jsonl")[:50]
    assert not (tmp_path / "train.jsonl").exists()


def test_bust_out_customers_show_a_maxed_delinquent_line_in_the_credit_snapshot(tmp_path: Path) -> None:
    summary = write_dataset(tmp_path, customers=400, days=20, seed=3)
    assert summary["bust_out_customers"] > 0
    busted = {
        tx["debtor"]["customer_id"]
        for tx in map(orjson.loads, lines(tmp_path / "transactions.jsonl"))
        if tx["label"]["pattern"] == "credit_bust_out"
    }
    credit = {r.customer_id: r for r in World.read(tmp_path).credit}
    for cid in busted:
        assert credit[cid].days_past_due >= 30
        assert credit[cid].exposure >= credit[cid].limit * 95 / 100
    assert {r.as_of for r in credit.values()} == {datetime(2026, 1, 25, tzinfo=UTC)}


@pytest.mark.parametrize("split_day", [0, DAYS, -1])
def test_a_split_day_outside_the_period_is_refused(tmp_path: Path, split_day: int) -> None:
    with pytest.raises(ValueError, match="split_day"):
        write_dataset(tmp_path, customers=10, days=DAYS, seed=1, split_day=split_day)
