"""Detection-quality metrics with numpy only: AUPRC, recall at a false-positive rate, decision confusion.

Conventions (the same as scikit-learn's where one exists):
- `auprc` is average precision: sum of (R_k - R_{k-1}) * P_k over the distinct score thresholds,
  highest first; ties are one threshold. No positives ▶ NaN (undefined), reported as null.
- `recall_at_fpr(y, s, 0.01)`: the largest recall among thresholds whose false-positive rate is
  ≤ 1 %, where a transaction is flagged when its score ≥ the threshold.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = [
    "DECISIONS",
    "auprc",
    "confusion",
    "decision_metrics",
    "histogram",
    "pr_curve",
    "recall_at_fpr",
    "threshold_for_rate",
]

DECISIONS: tuple[str, ...] = ("pass", "review", "block")


def _arrays(y: Sequence[bool] | np.ndarray, s: Sequence[float] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    yy = np.asarray(y, dtype=bool)
    ss = np.asarray(s, dtype=np.float64)
    if yy.shape != ss.shape:
        raise ValueError(f"labels {yy.shape} and scores {ss.shape} differ in shape")
    return yy, ss


def _cumulative(y: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(thresholds descending, true positives ≥ t, false positives ≥ t) at each distinct score."""
    order = np.argsort(-s, kind="stable")
    s_sorted, y_sorted = s[order], y[order]
    last = np.r_[np.flatnonzero(np.diff(s_sorted)), len(s_sorted) - 1]
    tp = np.cumsum(y_sorted)[last]
    fp = np.cumsum(~y_sorted)[last]
    return s_sorted[last], tp, fp


Labels = Sequence[bool] | np.ndarray
Scores = Sequence[float] | np.ndarray


def pr_curve(y: Labels, s: Scores) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(precision, recall, thresholds), thresholds descending."""
    yy, ss = _arrays(y, s)
    if len(yy) == 0:
        return np.zeros(0), np.zeros(0), np.zeros(0)
    thresholds, tp, fp = _cumulative(yy, ss)
    positives = max(1, int(yy.sum()))
    return tp / (tp + fp), tp / positives, thresholds


def auprc(y: Sequence[bool] | np.ndarray, s: Sequence[float] | np.ndarray) -> float:
    yy, _ = _arrays(y, s)
    if not yy.any():
        return math.nan
    precision, recall, _ = pr_curve(y, s)
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def recall_at_fpr(y: Sequence[bool] | np.ndarray, s: Sequence[float] | np.ndarray, fpr: float = 0.01) -> float:
    yy, ss = _arrays(y, s)
    if not yy.any():
        return math.nan
    _, tp, fp = _cumulative(yy, ss)
    negatives = int((~yy).sum())
    ok = fp <= fpr * negatives
    return float(tp[ok].max() / yy.sum()) if ok.any() else 0.0


def threshold_for_rate(s: Sequence[float] | np.ndarray, rate: float) -> float:
    """The lowest threshold t such that the share of scores ≥ t is ≤ `rate` (1.0 + ε if none)."""
    ss = np.sort(np.asarray(s, dtype=np.float64))[::-1]
    if len(ss) == 0:
        return 1.0
    allowed = math.floor(rate * len(ss))
    if allowed <= 0:
        return float(np.nextafter(ss[0], np.inf))
    t = ss[allowed - 1]
    # scores tied with t would exceed the budget: move just above them
    return float(t if (ss >= t).sum() <= allowed else np.nextafter(t, np.inf))


def confusion(y: Sequence[bool] | np.ndarray, decisions: Sequence[str]) -> dict[str, dict[str, int]]:
    """{"positive": {"pass": n, "review": n, "block": n}, "negative": {...}}."""
    yy = np.asarray(y, dtype=bool)
    out = {"positive": dict.fromkeys(DECISIONS, 0), "negative": dict.fromkeys(DECISIONS, 0)}
    for label, decision in zip(yy.tolist(), decisions, strict=True):
        out["positive" if label else "negative"][decision] += 1
    return out


def decision_metrics(
    y: Sequence[bool] | np.ndarray, decisions: Sequence[str], amounts: Sequence[float] | np.ndarray
) -> dict[str, Any]:
    """Confusion matrix, review/block rates and the share of labelled-positive amount reviewed or blocked."""
    yy = np.asarray(y, dtype=bool)
    aa = np.asarray(amounts, dtype=np.float64)
    flagged = np.asarray([d != "pass" for d in decisions], dtype=bool)
    n = max(1, len(yy))
    positive_amount = float(aa[yy].sum())
    matrix = confusion(yy, decisions)
    reviewed = sum(matrix[k]["review"] for k in matrix)
    blocked = sum(matrix[k]["block"] for k in matrix)
    return {
        "confusion": matrix,
        "transactions": len(yy),
        "positives": int(yy.sum()),
        "review_rate": round(reviewed / n, 6),
        "block_rate": round(blocked / n, 6),
        "flag_rate": round((reviewed + blocked) / n, 6),
        "recall": round(float((flagged & yy).sum() / max(1, yy.sum())), 6),
        "precision": round(float((flagged & yy).sum() / max(1, flagged.sum())), 6),
        "fraud_amount_caught_share": round(float(aa[yy & flagged].sum()) / positive_amount, 6)
        if positive_amount > 0 else None,
    }


def histogram(s: Sequence[float] | np.ndarray, bins: int = 20) -> list[int]:
    """Counts of scores in `bins` equal bins over 0..1."""
    counts, _ = np.histogram(np.clip(np.asarray(s, dtype=np.float64), 0.0, 1.0), bins=bins, range=(0.0, 1.0))
    return [int(c) for c in counts]
