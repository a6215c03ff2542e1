"""`riskmesh eval`: metrics against hand-computed values, every key on an unseen file, an HTML report of SVGs."""

from __future__ import annotations

import math

import pytest

from riskmesh.orchestrator.evaluate import evaluate
from riskmesh.orchestrator.metrics import auprc, confusion, decision_metrics, recall_at_fpr, threshold_for_rate
from riskmesh.orchestrator.report import render_report
from tests.unit.orchestrator.fraud_data import write_dataset


def test_auprc_is_average_precision_over_distinct_thresholds():
    # ranks: + (P=1, R=.5), - , + (P=2/3, R=1), -  ▶ AP = .5*1 + .5*2/3
    assert auprc([1, 0, 1, 0], [0.9, 0.8, 0.7, 0.1]) == pytest.approx(0.5 + 0.5 * 2 / 3)
    assert auprc([1, 0], [0.5, 0.5]) == pytest.approx(0.5)  # a tie is one threshold
    assert auprc([1, 1, 0, 0], [0.9, 0.8, 0.2, 0.1]) == pytest.approx(1.0)
    assert math.isnan(auprc([0, 0], [0.1, 0.2]))


def test_recall_at_a_false_positive_rate_takes_the_best_threshold_within_the_budget():
    y, s = [1, 0, 1, 0], [0.9, 0.8, 0.7, 0.1]
    assert recall_at_fpr(y, s, 0.01) == pytest.approx(0.5)  # no false positive allowed: only 0.9
    assert recall_at_fpr(y, s, 0.5) == pytest.approx(1.0)  # one false positive allowed: down to 0.7
    assert recall_at_fpr([1, 0], [0.1, 0.9], 0.01) == 0.0


def test_threshold_for_a_rate_keeps_ties_inside_the_budget():
    assert threshold_for_rate([0.1, 0.2, 0.3, 0.4], 0.5) == pytest.approx(0.3)
    t = threshold_for_rate([0.5, 0.5, 0.5, 0.1], 0.5)
    assert t > 0.5


def test_decision_metrics_count_the_confusion_matrix_and_the_caught_amount():
    y = [True, True, False, False, False]
    decisions = ["block", "pass", "review", "pass", "pass"]
    out = decision_metrics(y, decisions, [100.0, 300.0, 50.0, 10.0, 10.0])
    assert out["confusion"] == confusion(y, decisions) == {
        "positive": {"pass": 1, "review": 0, "block": 1},
        "negative": {"pass": 2, "review": 1, "block": 0},
    }
    assert out["review_rate"] == pytest.approx(0.2)
    assert out["block_rate"] == pytest.approx(0.2)
    assert out["fraud_amount_caught_share"] == pytest.approx(0.25)
    assert out["recall"] == pytest.approx(0.5)


@pytest.fixture(scope="module")
def unseen_eval(tmp_path_factory):
    root = tmp_path_factory.mktemp("eval")
    _, _, eval_file = write_dataset(root, seed=5, customers=60, count=1600, split=0.5)
    report, material = evaluate(eval_file, inprocess=True, world=None, model_dir=root / "no-models")
    return report, material


def test_eval_in_process_of_an_unseen_file_without_reference_data_reports_every_metric(unseen_eval):
    report, _ = unseen_eval
    assert report["transactions"] == 800
    assert report["decision"]["transactions"] == 800
    for run in (report, report["baseline"]):
        for agent in ("fraud", "credit", "behaviour", "compliance", "decision"):
            assert {"auprc", "recall_at_1pct_fpr", "by_label"} <= set(run["agents"][agent])
        decision = run["decision"]
        assert {"confusion", "review_rate", "block_rate", "fraud_amount_caught_share"} <= set(decision)
        assert sum(sum(row.values()) for row in decision["confusion"].values()) == 800
    assert report["model_versions"]["fraud"] == "fraud-rules-1"  # no model installed
    assert "beats_baseline_auprc" in report


def test_the_html_report_draws_curves_histograms_and_the_confusion_matrix_as_svg(unseen_eval):
    report, material = unseen_eval
    page = render_report(report, material)
    assert page.startswith("<!doctype html>")
    assert page.count("<svg") >= 2 * (2 + 1 + 5)
    assert "<polyline" in page and "<rect" in page
    assert "<script" not in page
