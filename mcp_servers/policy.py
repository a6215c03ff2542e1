"""Per-caller permission policy of the MCP servers: which tools each caller may call, which fields it sees.

The caller is the agent kind that calls (header `x-riskmesh-caller` over HTTP, request meta
`io.riskmesh/caller` in process). `DEFAULT_POLICY` below is the whole policy, one entry per caller:

- `tools`: server ▶ the tools it may call there (`"*"` = every tool of that server);
- `fields`: record kind ▶ field ▶ `"mask"` (value replaced by `***`) or `"drop"` (key removed).

Anything not listed is refused (default deny), including a caller not in the table. Servers load
the policy once at start-up (`load_policy`, or a JSON file with the same shape via `--policy`).
Record kinds are named by the servers that return them: `customer`, `account`, `device`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "DEFAULT_POLICY",
    "MASK",
    "AccessPolicy",
    "CallerPolicy",
    "FieldRules",
    "load_policy",
]

MASK = "***"
FieldAction = Literal["mask", "drop"]
FieldRules = Mapping[str, Mapping[str, FieldAction]]
"""record kind ▶ field ▶ action."""

_GRAPH_READ = ["graph_features_batch"]
_GRAPH_FEED = ["observe_batch", "observe_and_features_batch", *_GRAPH_READ]
"""Agents that record each micro-batch into the graph and read its features."""
_NO_IDENTITY: dict[str, FieldAction] = {"name": "mask", "date_of_birth": "drop"}
_CONSOLE_READ: dict[str, Any] = {
    "customer-data": ["get_customers_batch", "get_devices_batch"],
    "transactions": ["recent_history"],
    "risk-graph": ["neighbourhood"],
}
_CONSOLE_MASKED: dict[str, FieldAction] = {"name": "mask", "date_of_birth": "mask", "metadata": "mask"}
"""Identity and address-like fields (unmodelled ones such as address and phone live in `metadata`)."""

DEFAULT_POLICY: dict[str, dict[str, Any]] = {
    "fraud": {
        "tools": {
            "customer-data": ["get_customers_batch", "get_devices_batch"],
            "transactions": ["features_batch"],
            "risk-graph": _GRAPH_FEED,
        },
        "fields": {"customer": _NO_IDENTITY},
    },
    "credit": {
        "tools": {"customer-data": ["get_customers_batch"], "credit-bureau": ["get_credit_batch"]},
        "fields": {"customer": _NO_IDENTITY},
    },
    "behaviour": {
        "tools": {"customer-data": ["get_customers_batch"], "transactions": ["features_batch"]},
        "fields": {"customer": {"name": "drop", "date_of_birth": "drop"}},
    },
    "compliance": {
        "tools": {
            "customer-data": ["get_customers_batch", "get_devices_batch"],
            "watchlists": ["screen_names_batch", "watchlist_stats"],
            "risk-graph": _GRAPH_FEED,
        },
        "fields": {},
    },
    "aggregation": {  # segment and branch for the thresholds, frozen accounts for the hard rule
        "tools": {"customer-data": ["get_customers_batch"], "risk-actions": ["get_account_controls_batch"]},
        "fields": {"customer": {"name": "drop", "date_of_birth": "drop"}},
    },
    "action": {
        "tools": {
            "risk-actions": ["apply_decisions_batch", "apply_resolutions_batch", "get_alert"],
        },
        "fields": {},
    },
    # SOC path (issue #5): the investigator derives an alert's indicators; incident-response runs approved steps.
    "soc-investigator": {
        "tools": {
            "risk-actions": ["get_alert"],
            "customer-data": ["get_customers_batch"],
            "transactions": ["recent_history"],
        },
        "fields": {"customer": {"name": "drop", "date_of_birth": "drop", "metadata": "drop"}},
    },
    "incident-response": {  # no direct freeze: an approved freeze step opens a case asking for a four-eyes freeze
        "tools": {
            "soc-telemetry": ["block_ip", "isolate_host", "force_password_reset"],
            "risk-actions": ["open_case"],
        },
        "fields": {},
    },
    "console": {
        "tools": {
            "customer-data": "*",
            "risk-actions": [
                "list_open_alerts",
                "get_alert",
                "get_actions_batch",
                "get_account_controls_batch",
                "list_control_lifts",
                "generate_report",
            ],
            "risk-graph": [*_GRAPH_READ, "neighbourhood", "mark_bad_batch"],
            "watchlists": "*",
        },
        "fields": {"customer": {"date_of_birth": "mask"}},
    },
    # The risk gateway's explain-decision skill: the action log of the transactions it explains, nothing else.
    "gateway": {"tools": {"risk-actions": ["get_actions_batch"]}, "fields": {}},
    # The analyst console calls with one identity per role, so this table decides what each role sees.
    "console-analyst": {"tools": _CONSOLE_READ, "fields": {"customer": _CONSOLE_MASKED}},
    "console-soc": {"tools": _CONSOLE_READ, "fields": {"customer": {**_CONSOLE_MASKED, "date_of_birth": "drop"}}},
    "console-compliance": {"tools": _CONSOLE_READ, "fields": {}},
    # The console's account desk (orchestrator/review/controls_desk.py): it checks each analyst's role itself.
    "console-actions": {
        "tools": {
            "risk-actions": [
                "get_account_controls_batch",
                "get_actions_batch",
                "list_control_lifts",
                "request_control_lift",
                "approve_control_lift",
                "update_risk_rating_batch",
                "open_case",
                "generate_report",
            ],
        },
        "fields": {},
    },
    # SOC specialists (issue #5): each reads only its own telemetry; threat-intel sees IOC matches, not raw logs.
    "network-log": {"tools": {"soc-telemetry": ["auth_events", "network_flows"]}, "fields": {}},
    "endpoint-forensics": {"tools": {"soc-telemetry": ["endpoint_events", "auth_events"]}, "fields": {}},
    "threat-intel": {"tools": {"soc-telemetry": ["ioc_lookup", "ioc_sightings"]}, "fields": {}},
}
"""The policy in force unless a file replaces it. Least privilege: each agent gets what its logic reads."""


class CallerPolicy(BaseModel):
    """What one caller may do."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    tools: dict[str, list[str] | Literal["*"]] = Field(default_factory=dict)
    fields: dict[str, dict[str, FieldAction]] = Field(default_factory=dict)

    def allows(self, server: str, tool: str) -> bool:
        allowed = self.tools.get(server)
        return allowed == "*" or (isinstance(allowed, list) and tool in allowed)


class AccessPolicy(BaseModel):
    """Every caller's policy; callers not listed may do nothing."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    callers: dict[str, CallerPolicy]

    @classmethod
    def default(cls) -> AccessPolicy:
        return cls.from_table(DEFAULT_POLICY)

    @classmethod
    def from_table(cls, table: Mapping[str, Any]) -> AccessPolicy:
        return cls.model_validate({"callers": dict(table)})

    def allows(self, caller: str, server: str, tool: str) -> bool:
        policy = self.callers.get(caller)
        return policy is not None and policy.allows(server, tool)

    def field_rules(self, caller: str) -> FieldRules:
        policy = self.callers.get(caller)
        return policy.fields if policy is not None else {}

    def tools_of(self, caller: str, server: str) -> list[str] | Literal["*"]:
        policy = self.callers.get(caller)
        return policy.tools.get(server, []) if policy is not None else []


def load_policy(path: Path | str | None = None) -> AccessPolicy:
    """The policy of a JSON file shaped like `DEFAULT_POLICY`, or the default one when no path is given."""
    if path is None:
        return AccessPolicy.default()
    return AccessPolicy.from_table(orjson.loads(Path(path).read_bytes()))


def redact(record: dict[str, Any], rules: Mapping[str, FieldAction]) -> tuple[dict[str, Any], int]:
    """`record` with its ruled fields masked or dropped, and how many fields that touched."""
    touched = [name for name in rules if record.get(name) is not None]
    if not touched:
        return record, 0
    out = dict(record)
    for name in touched:
        if rules[name] == "drop":
            del out[name]
        else:
            out[name] = MASK
    return out, len(touched)
