"""Evidence for an alert, fetched through MCP with one caller identity per console role.

The MCP servers apply their field policy to the caller name (`mcp_servers/policy.py`, entries `console-*`), so
masking is decided where the data lives, not in the browser: an analyst's session never receives a customer's
name or date of birth, a compliance officer's does. The three look-ups of one alert run concurrently and each
fails on its own: a missing part is reported under `errors`, the rest is still shown.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from riskmesh.agents.base import ToolCaller, ToolCallError
from riskmesh.agents.mcp_client import McpToolCaller
from riskmesh.contracts import Alert
from riskmesh.contracts.review import Role

__all__ = ["ROLE_CALLERS", "McpEvidence", "history_summary"]

ROLE_CALLERS: dict[str, str] = {
    "analyst": "console-analyst",
    "supervisor": "console-analyst",
    "admin": "console-analyst",
    "soc_engineer": "console-soc",
    "compliance_officer": "console-compliance",
}
"""Console role ▶ the MCP caller identity whose field policy applies to it."""

MASK = "***"


class McpEvidence:
    """`EvidenceSource` over MCP: customer and account (customer-data), recent history (transactions) and the
    account's graph neighbourhood (risk-graph). `callers` maps each MCP caller identity to a `ToolCaller`."""

    def __init__(self, callers: Mapping[str, ToolCaller], *, history_limit: int = 20, depth: int = 2,
                 max_nodes: int = 60, timeout_s: float = 3.0) -> None:
        self._callers = dict(callers)
        self.history_limit = history_limit
        self.depth = depth
        self.max_nodes = max_nodes
        self.timeout_s = timeout_s

    @classmethod
    def over_http(cls, urls: Mapping[str, str], token: str | None = None, timeout_s: float = 3.0) -> McpEvidence:
        """One long-lived MCP client per caller identity, to the stack's MCP server URLs."""
        names = sorted(set(ROLE_CALLERS.values()))
        return cls({n: McpToolCaller(urls, n, token, timeout_s) for n in names}, timeout_s=timeout_s)

    @classmethod
    def in_process(cls, servers: Mapping[str, Any], timeout_s: float = 3.0) -> McpEvidence:
        """Real MCP to server instances in this process (tests, the single-process embedded console)."""
        names = sorted(set(ROLE_CALLERS.values()))
        return cls({n: McpToolCaller.in_process(servers, n, timeout_s) for n in names}, timeout_s=timeout_s)

    async def aclose(self) -> None:
        for caller in self._callers.values():
            close = getattr(caller, "aclose", None)
            if close is not None:
                await close()

    async def evidence(self, alert: Alert, role: Role) -> dict[str, Any]:
        caller = self._callers.get(ROLE_CALLERS.get(role, ""))
        if caller is None:
            return {"errors": {"all": f"no evidence access configured for role {role}"}}
        started = time.perf_counter()
        account = alert.debtor_account_id
        parts = await asyncio.gather(
            self._call(caller, "customer-data", "get_customers_batch", {"customer_ids": [], "account_ids": [account]}),
            self._call(caller, "transactions", "recent_history", {"account_id": account, "limit": self.history_limit}),
            self._call(caller, "risk-graph", "neighbourhood",
                       {"node": f"account:{account}", "depth": self.depth, "max_nodes": self.max_nodes}),
        )
        out: dict[str, Any] = {"errors": {}}
        for name, part in zip(("customer", "history", "neighbourhood"), parts, strict=True):
            if isinstance(part, str):
                out["errors"][name] = part
        if isinstance(parts[0], dict):
            owner = (parts[0].get("owners") or {}).get(account)
            customer = (parts[0].get("customers") or {}).get(owner) if owner else None
            out["customer"] = customer
            out["account"] = (parts[0].get("accounts") or {}).get(account)
            out["masked_fields"] = sorted(k for k, v in (customer or {}).items() if v == MASK)
        if isinstance(parts[1], dict):
            rows = list(parts[1].get("transactions") or [])
            out["history"] = rows
            out["history_summary"] = history_summary(rows, alert.created_at)
        if isinstance(parts[2], dict):
            out["neighbourhood"] = parts[2]
        out["elapsed_ms"] = round((time.perf_counter() - started) * 1000, 1)
        return out

    async def _call(self, caller: ToolCaller, server: str, tool: str,
                    arguments: dict[str, Any]) -> dict[str, Any] | str:
        """The tool's answer, or why it is missing (a string)."""
        try:
            async with asyncio.timeout(self.timeout_s):
                return await caller.call(server, tool, arguments)
        except ToolCallError as exc:
            return str(exc)
        except TimeoutError:
            return f"{server}.{tool}: no answer within {self.timeout_s:g} s"


def history_summary(rows: list[dict[str, Any]], at: datetime) -> dict[str, Any]:
    """Counts and amounts of the history before `at`: what an analyst compares the alerted amount with."""
    cutoff = at.timestamp()
    timed = [(ts, r) for r in rows if (ts := _ts(r)) is not None and ts < cutoff]
    before = [r for _, r in timed]
    amounts = [float(r.get("amount") or 0.0) for r in before]
    day = [r for ts, r in timed if cutoff - ts <= 86_400]
    return {
        "count": len(before),
        "count_24h": len(day),
        "sum_24h": round(sum(float(r.get("amount") or 0.0) for r in day), 2),
        "amount_mean": round(sum(amounts) / len(amounts), 2) if amounts else None,
        "amount_max": max(amounts) if amounts else None,
        "countries": sorted({str(r["country"]) for r in before if r.get("country")}),
        "devices": len({r["device_id"] for r in before if r.get("device_id")}),
        "payees": len({r["payee"] for r in before if r.get("payee")}),
    }


def _ts(row: dict[str, Any]) -> float | None:
    try:
        return datetime.fromisoformat(str(row["ts"]).replace("Z", "+00:00")).timestamp()
    except (KeyError, ValueError):
        return None
