"""`riskmesh policy backtest` on a small generated world and labelled stream (agents in process, rules scoring)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from riskmesh.contracts import AggregatedDecision
from riskmesh.orchestrator.backtest import compare, render_table
from riskmesh.orchestrator.policy_commands import policy_app
from riskmesh.orchestrator.replay import load_labelled
from riskmesh.orchestrator.synth import write_dataset

SHIPPED = Path(__file__).resolve().parents[3] / "policies" / "policy-1.yaml"
runner = CliRunner()


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("backtest")
    summary = write_dataset(out, customers=150, days=4, seed=3)
    assert summary["fraud"] > 0, "the stream must hold some labelled fraud for the test to mean anything"
    # live: the shipped policy without the frozen-account rule (risk-actions controls are not needed then);
    # candidate: the same with a lower review threshold, under a new version
    live = SHIPPED.read_text().replace("frozen_account: block", 'frozen_account: "off"')
    (out / "live.yaml").write_text(live)
    candidate = live.replace("version: policy-1", "version: policy-2")
    (out / "candidate.yaml").write_text(candidate.replace("review_threshold: 0.12", "review_threshold: 0.05"))
    return out


@pytest.fixture(autouse=True)
def rules_scoring(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("RISKMESH_MODEL_DIR", str(tmp_path / "no-models"))
    monkeypatch.setenv("RISKMESH_FRAUD_MODE", "rules")


def backtest_json(dataset: Path, candidate: str = "candidate.yaml") -> dict:
    result = runner.invoke(policy_app, ["backtest", "--candidate", str(dataset / candidate), "--data",
                                        str(dataset / "transactions.jsonl"), "--live", str(dataset / "live.yaml"),
                                        "--world", str(dataset), "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output.strip().splitlines()[-1])


def test_backtest_compares_a_stricter_candidate_side_by_side(dataset: Path) -> None:
    report = backtest_json(dataset)
    live, cand, changed = report["live"], report["candidate"], report["changed"]
    n = report["transactions"]
    assert (live["policy_version"], cand["policy_version"]) == ("policy-1", "policy-2")
    assert sum(live["decisions"].values()) == sum(cand["decisions"].values()) == n
    assert cand["review_rate"] >= live["review_rate"]
    assert live["review_rate"] == pytest.approx(live["decisions"]["review"] / n, abs=1e-6)
    assert cand["fraud"]["labelled"] == live["fraud"]["labelled"] > 0
    assert cand["fraud"]["caught"] >= live["fraud"]["caught"]
    assert 0.0 <= live["fraud"]["amount_share"] <= cand["fraud"]["amount_share"] <= 1.0
    assert cand["false_positive_rate"] >= live["false_positive_rate"]
    assert changed["count"] == sum(changed["by_transition"].values()) > 0
    assert set(changed["by_transition"]) <= {"pass▶review", "pass▶block", "review▶block"}
    assert 0 < len(changed["examples"]) <= 10
    example = changed["examples"][0]
    assert example["live"]["decision"] != example["candidate"]["decision"]
    assert {"risk_score"} <= set(example["live"]) & set(example["candidate"])


def test_a_candidate_that_only_renames_the_version_changes_nothing(dataset: Path) -> None:
    (dataset / "renamed.yaml").write_text((dataset / "live.yaml").read_text().replace("version: policy-1",
                                                                                    "version: policy-1b"))
    report = backtest_json(dataset, "renamed.yaml")
    assert report["changed"] == {"count": 0, "by_transition": {}, "examples": []}
    assert report["live"] | {"policy_version": "x"} == report["candidate"] | {"policy_version": "x"}


def test_an_invalid_candidate_exits_1_naming_the_field(dataset: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(SHIPPED.read_text().replace("review_threshold: 0.12", "review_threshold: 1.5"))
    result = runner.invoke(policy_app, ["backtest", "--candidate", str(bad), "--data",
                                        str(dataset / "transactions.jsonl"), "--json"])
    assert result.exit_code == 1
    assert json.loads(result.output)["errors"][0]["field"] == "review_threshold"


def test_the_table_shows_both_policies_and_the_changed_decisions(dataset: Path) -> None:
    from rich.console import Console

    txs = load_labelled(dataset / "transactions.jsonl")[:3]
    live = {t.tx_id: AggregatedDecision(tx_id=t.tx_id, decision="pass", risk_score=0.1) for t in txs}
    cand = {**live, txs[0].tx_id: AggregatedDecision(tx_id=txs[0].tx_id, decision="block", risk_score=1.0)}
    report = compare(txs, live, cand, "policy-1", "policy-2")
    assert report["changed"]["by_transition"] == {"pass▶block": 1}
    console = Console(record=True, width=120)
    console.print(render_table(report))
    text = console.export_text()
    assert "live policy-1" in text and "candidate policy-2" in text
    assert txs[0].tx_id in text and "block (1.000)" in text
