"""Risk reports: one self-contained HTML page per alert or transaction (no scripts, no external assets).

HTML only: no PDF library is installed in this service, and a heavy one (WeasyPrint, ReportLab) is
not worth its dependencies here; print the page to PDF from a browser when a PDF is needed.
Every value is escaped: reasons, names and notes come from outside and may hold markup.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from riskmesh.contracts import Alert

__all__ = ["REPORT_MEDIA_TYPE", "render_report"]

REPORT_MEDIA_TYPE = "text/html; charset=utf-8"

_STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:60rem;color:#1b1f23}
h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:1.6rem;border-bottom:1px solid #d0d7de}
table{border-collapse:collapse;width:100%}th,td{border:1px solid #d0d7de;padding:.3rem .5rem;text-align:left}
th{background:#f6f8fa}.muted{color:#57606a}.level{font-weight:600}
"""


def _cell(value: Any) -> str:
    if value is None or value == "":
        return '<span class="muted">&ndash;</span>'
    if isinstance(value, list | tuple):
        return escape(", ".join(str(v) for v in value)) or '<span class="muted">&ndash;</span>'
    return escape(str(value))


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]], empty: str) -> str:
    if not rows:
        return f'<p class="muted">{escape(empty)}</p>'
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{_cell(v)}</td>" for v in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _fields(pairs: Sequence[tuple[str, Any]]) -> str:
    rows = "".join(f"<tr><th>{escape(k)}</th><td>{_cell(v)}</td></tr>" for k, v in pairs)
    return f"<table><tbody>{rows}</tbody></table>"


def _alert_section(alert: Alert | None, tx_id: str) -> str:
    if alert is None:
        return (
            f'<h2>Alert</h2><p class="muted">No alert was opened for transaction {escape(tx_id)} '
            "(it was passed or blocked outright; the decision record holds its reasons).</p>"
        )
    summary = _fields(
        [
            ("Alert", alert.alert_id),
            ("Transaction", alert.tx_id),
            ("Opened", alert.created_at.isoformat()),
            ("Risk score", f"{alert.risk_score:.3f}"),
            ("Amount", f"{alert.amount} {alert.currency}"),
            ("Debtor account", alert.debtor_account_id),
            ("Policy version", alert.policy_version),
            ("Degraded agents", alert.degraded),
        ]
    )
    reasons = _table(
        ["Code", "Agent", "Weight", "Detail"],
        [[r.code, r.agent, f"{r.weight:.2f}", r.detail] for r in alert.reasons],
        "No weighted reasons were recorded.",
    )
    return f"<h2>Alert</h2>{summary}<h2>Decision reasons</h2>{reasons}"


def _controls_section(account_id: str | None, controls: Mapping[str, Any] | None) -> str:
    if not account_id or controls is None:
        return ""
    summary = _fields(
        [
            ("Account", account_id),
            ("Level", f"{controls.get('level', 0)} (0 none, 1 hold, 2 limit, 3 remote channels suspended, 4 frozen)"),
            ("Active controls", controls.get("active") or []),
            ("Hits in window", controls.get("hits", 0)),
            ("Frozen", "yes" if controls.get("frozen") else "no"),
        ]
    )
    return f"<h2>Account controls</h2>{summary}"


def _log_section(actions: Sequence[Mapping[str, Any]]) -> str:
    rows = [
        [a.get("at"), a.get("action"), a.get("actor"), a.get("approved_by"), a.get("source"), a.get("alert_id")]
        for a in actions
    ]
    table = _table(["At", "Action", "Actor", "Approved by", "Source", "Alert"], rows, "No action was taken.")
    return f"<h2>Action log</h2>{table}"


def render_report(
    *,
    tx_id: str,
    alert: Alert | None,
    actions: Sequence[Mapping[str, Any]],
    account_id: str | None,
    controls: Mapping[str, Any] | None,
    generated_at: str,
) -> str:
    """The HTML risk report of one transaction: its alert and reasons, its account's controls, its action log."""
    subject = alert.alert_id if alert is not None else tx_id
    title = f"Risk report {subject}"
    body = "".join(
        [
            f"<h1>{escape(title)}</h1>",
            f'<p class="muted">Generated {escape(generated_at)} by riskmesh risk-actions. Confidential.</p>',
            _alert_section(alert, tx_id),
            _controls_section(account_id, controls),
            _log_section(actions),
        ]
    )
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body>{body}</body></html>"
    )
