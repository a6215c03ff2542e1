"""The HTML report of `riskmesh eval --report FILE.html`: one self-contained page, inline SVG, no scripts.

Per run (the system, the rules-only baseline): precision-recall curves per agent and for the
decision's risk score, score histograms of positives against negatives, the decision confusion matrix.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

import numpy as np

from riskmesh.contracts import ANALYSIS_AGENTS
from riskmesh.orchestrator.metrics import DECISIONS, histogram, pr_curve

__all__ = ["render_report", "write_report"]

COLOURS = {"fraud": "#d62728", "credit": "#9467bd", "behaviour": "#1f77b4", "compliance": "#2ca02c",
           "decision": "#111111"}
W, H, PAD = 360, 260, 40


def _frame(title: str, body: str, x_label: str, y_label: str) -> str:
    ticks = "".join(
        f'<text x="{PAD + t * (W - 2 * PAD):.1f}" y="{H - PAD + 14}" font-size="9" text-anchor="middle">{t:.1f}</text>'
        f'<text x="{PAD - 6}" y="{H - PAD - t * (H - 2 * PAD) + 3:.1f}" font-size="9" text-anchor="end">{t:.1f}</text>'
        for t in (0.0, 0.5, 1.0))
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" role="img" '
            f'aria-label="{html.escape(title)}"><title>{html.escape(title)}</title>'
            f'<rect x="{PAD}" y="{PAD}" width="{W - 2 * PAD}" height="{H - 2 * PAD}" fill="none" stroke="#999"/>'
            f'<text x="{W / 2}" y="18" font-size="12" text-anchor="middle">{html.escape(title)}</text>'
            f'<text x="{W / 2}" y="{H - 6}" font-size="10" text-anchor="middle">{x_label}</text>'
            f'<text x="12" y="{H / 2}" font-size="10" text-anchor="middle" '
            f'transform="rotate(-90 12 {H / 2})">{y_label}</text>{ticks}{body}</svg>')


def _xy(x: float, y: float) -> str:
    return f"{PAD + x * (W - 2 * PAD):.1f},{H - PAD - y * (H - 2 * PAD):.1f}"


def pr_svg(title: str, curves: dict[str, tuple[np.ndarray, np.ndarray]]) -> str:
    """Precision (y) against recall (x), one polyline per named score."""
    body, legend = [], []
    for i, (name, (y, s)) in enumerate(curves.items()):
        precision, recall, _ = pr_curve(y, s)
        if len(recall) > 400:  # thin long curves, keep the ends
            keep = np.unique(np.r_[np.linspace(0, len(recall) - 1, 400).astype(int), len(recall) - 1])
            precision, recall = precision[keep], recall[keep]
        points = " ".join(_xy(r, p) for r, p in zip(np.r_[0.0, recall], np.r_[1.0, precision], strict=True))
        colour = COLOURS.get(name, "#ff7f0e")
        body.append(f'<polyline fill="none" stroke="{colour}" stroke-width="1.5" points="{points}"/>')
        legend.append(f'<text x="{W - PAD - 4}" y="{PAD + 12 + 12 * i}" font-size="10" text-anchor="end" '
                      f'fill="{colour}">{html.escape(name)}</text>')
    return _frame(title, "".join(body + legend), "recall", "precision")


def histogram_svg(title: str, y: np.ndarray, s: np.ndarray, bins: int = 20) -> str:
    """Score histograms, each class scaled to its own share so rare positives stay visible."""
    body = []
    for cls, colour in ((False, "#1f77b4"), (True, "#d62728")):
        counts = np.asarray(histogram(s[y == cls], bins), dtype=float)
        share = counts / max(1.0, counts.sum())
        for b, v in enumerate(share):
            x0 = PAD + b / bins * (W - 2 * PAD)
            h = v * (H - 2 * PAD)
            body.append(f'<rect x="{x0:.1f}" y="{H - PAD - h:.1f}" width="{(W - 2 * PAD) / bins:.1f}" '
                        f'height="{h:.1f}" fill="{colour}" fill-opacity="0.45"/>')
    for i, (text, colour) in enumerate((("positives", "#d62728"), ("negatives", "#1f77b4"))):
        body.append(f'<text x="{W - PAD - 4}" y="{PAD + 12 + 12 * i}" font-size="10" text-anchor="end" '
                    f'fill="{colour}">{text}</text>')
    return _frame(title, "".join(body), "score", "share of class")


def confusion_svg(title: str, matrix: dict[str, dict[str, int]]) -> str:
    """Rows: label (positive, negative); columns: decision; cell shade by row share."""
    cw, ch, left, top = 90, 50, 90, 50
    body = [f'<text x="{left + cw * j + cw / 2}" y="{top - 8}" font-size="11" text-anchor="middle">{d}</text>'
            for j, d in enumerate(DECISIONS)]
    for i, row in enumerate(("positive", "negative")):
        total = max(1, sum(matrix[row].values()))
        body.append(f'<text x="{left - 8}" y="{top + ch * i + ch / 2 + 4}" font-size="11" '
                    f'text-anchor="end">{row}</text>')
        for j, d in enumerate(DECISIONS):
            n = matrix[row][d]
            shade = int(255 - 180 * n / total)
            body.append(f'<rect x="{left + cw * j}" y="{top + ch * i}" width="{cw}" height="{ch}" '
                        f'fill="rgb({shade},{shade},255)" stroke="#666"/>'
                        f'<text x="{left + cw * j + cw / 2}" y="{top + ch * i + ch / 2 + 4}" font-size="12" '
                        f'text-anchor="middle">{n}</text>')
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + 3 * cw + 10}" height="{top + 2 * ch + 10}" '
            f'role="img"><title>{html.escape(title)}</title>{"".join(body)}</svg>')


def _scores(decisions: list[dict[str, Any]], agent: str) -> np.ndarray:
    if agent == "decision":
        return np.asarray([float(d["risk_score"]) for d in decisions])
    return np.asarray([float((d["verdicts"].get(agent) or {}).get("score", 1.0)) for d in decisions])


def render_report(report: dict[str, Any], material: dict[str, Any]) -> str:
    txs, labels = material["txs"], material["labels"]
    y = labels["any"]
    sections = []
    for name, run in material["runs"].items():
        decided = [run.decisions[t.tx_id] for t in txs]
        scored = report if name == "system" else report["baseline"]
        curves = {a: (y, _scores(decided, a)) for a in (*ANALYSIS_AGENTS, "decision")}
        fraud_curves = {a: (labels["fraud"], _scores(decided, a)) for a in ("fraud", "behaviour", "decision")}
        hists = "".join(histogram_svg(f"{a} score", y, _scores(decided, a)) for a in (*ANALYSIS_AGENTS, "decision"))
        sections.append(
            f"<h2>{html.escape(name)}</h2>"
            f"<div>{pr_svg('PR: fraud or AML', curves)}{pr_svg('PR: fraud only', fraud_curves)}"
            f"{confusion_svg('decisions', scored['decision']['confusion'])}</div><div>{hists}</div>")
    summary = html.escape(json.dumps({k: v for k, v in report.items() if k != "baseline"}, indent=1))
    return ("<!doctype html><html><head><meta charset='utf-8'><title>riskmesh eval</title>"
            "<style>body{font-family:sans-serif;margin:20px}svg{margin:6px;background:#fff}"
            "pre{background:#f6f6f6;padding:8px;font-size:11px}</style></head><body>"
            f"<h1>riskmesh eval: {html.escape(str(report.get('data')))}</h1>{''.join(sections)}"
            f"<h2>metrics</h2><pre>{summary}</pre></body></html>")


def write_report(path: Path, report: dict[str, Any], material: dict[str, Any]) -> Path:
    path.write_text(render_report(report, material))
    return path
