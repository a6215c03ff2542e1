"""Dispositions as labels: the record, the Kafka sink, reading label files, and analyst precedence in training."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from review_graph_doubles import resolution

from riskmesh.contracts import Transaction
from riskmesh.contracts.review import LabelRecord
from riskmesh.orchestrator.review.labels import KafkaLabelSink, label_for, latest_labels, read_label_files
from riskmesh.orchestrator.train import with_analyst_labels

T0 = datetime(2026, 11, 21, tzinfo=UTC)


def label(tx_id: str, is_fraud: bool, minutes: int = 0, actor: str = "ana") -> LabelRecord:
    return LabelRecord(tx_id=tx_id, is_fraud=is_fraud, disposition="block" if is_fraud else "release",
                       actor=actor, labelled_at=T0 + timedelta(minutes=minutes))


def test_a_label_carries_the_disposition_its_alert_and_the_analyst():
    record = label_for(resolution(1, "freeze", by="bob"))
    assert (record.tx_id, record.is_fraud, record.disposition, record.alert_id, record.actor, record.source) == (
        "T-0001", True, "freeze", "AL-0001", "bob", "analyst")


class FakeProducer:
    """The part of AckedProducer the sink uses: produce_all returns once every record is acknowledged."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes | None, bytes]] = []
        self.calls = 0

    def produce_all(self, records, timeout_s: float = 30.0) -> int:
        self.calls += 1
        self.sent.extend(records)
        return len(self.sent)


async def test_the_kafka_sink_sends_label_json_keyed_by_tx_id_and_waits_for_the_acks():
    producer = FakeProducer()
    await KafkaLabelSink(producer, "riskmesh.labels").publish([label_for(resolution(3, "release"))])
    [(topic, key, value)] = producer.sent
    assert (topic, key, producer.calls) == ("riskmesh.labels", b"T-0003", 1)
    assert LabelRecord.model_validate_json(value).is_fraud is False


def test_the_latest_label_of_a_transaction_wins():
    latest = latest_labels([label("T-1", True, 5), label("T-1", False, 1), label("T-2", False, 0)])
    assert {k: v.is_fraud for k, v in latest.items()} == {"T-1": True, "T-2": False}


def test_a_bad_line_in_a_label_file_names_the_file_and_line(tmp_path):
    path = tmp_path / "labels.jsonl"
    path.write_text(label("T-1", True).model_dump_json() + "\n\n{\"tx_id\": \"T-2\"}\n")
    with pytest.raises(ValueError, match=r"labels\.jsonl:3"):
        read_label_files([path])


def test_analyst_labels_override_and_add_labels_of_the_training_data(valid_tx):
    def tx(tx_id: str, is_fraud: bool | None) -> Transaction:
        data = {**valid_tx, "tx_id": tx_id}
        if is_fraud is not None:
            data["label"] = {"is_fraud": is_fraud, "pattern": "app_scam" if is_fraud else None}
        return Transaction.model_validate(data)

    txs = [tx("T-1", True), tx("T-2", False), tx("T-3", None), tx("T-4", True)]
    records = [label("T-1", False), label("T-3", True), label("T-9", True), label("T-4", True)]
    out, counts = with_analyst_labels(txs, records)
    assert [t.label.is_fraud for t in out] == [False, False, True, True]
    assert out[3].label.pattern == "app_scam"  # an agreeing analyst label keeps the generator's pattern
    assert counts == {"records": 4, "tx_ids": 4, "applied": 3, "flipped": 1, "unmatched": 1}

    with pytest.raises(ValueError, match="T-3 has neither"):
        with_analyst_labels(txs, [])


def test_riskmesh_train_accepts_label_files_and_records_them_in_the_model_card(tmp_path):
    import json

    from typer.testing import CliRunner

    from riskmesh.agents.model import ModelRegistry
    from riskmesh.orchestrator.cli import app
    from riskmesh.orchestrator.replay import load_labelled
    from tests.unit.orchestrator.fraud_data import write_dataset

    _, data, _ = write_dataset(tmp_path, count=1200)
    txs = load_labelled(data)
    first = tmp_path / "labels-1.jsonl"
    first.write_text("".join(label(t.tx_id, not t.label.is_fraud).model_dump_json() + "\n" for t in txs[:5]))
    second = tmp_path / "labels-2.jsonl"
    second.write_text(label(txs[0].tx_id, txs[0].label.is_fraud, minutes=9).model_dump_json() + "\n"
                      + label("T-not-in-data", True).model_dump_json() + "\n")

    result = CliRunner().invoke(app, ["train", "--data", str(data), "--out", str(tmp_path / "models"),
                                      "--labels", str(first), "--labels", str(second)])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output.strip().splitlines()[-1])
    expected = {"files": [str(first), str(second)], "records": 7, "tx_ids": 6, "applied": 5, "flipped": 4,
                "unmatched": 1}
    assert summary["analyst_labels"] == expected
    assert ModelRegistry(tmp_path / "models").card()["training_data"]["analyst_labels"] == expected
