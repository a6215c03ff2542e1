"""customer-data MCP server: a 360° view of customers and accounts by id, one call per micro-batch.

One `get_customers_batch` call answers everything an agent needs about the parties of a batch:
the customers asked for, the accounts asked for (each with the controls in force), and the
customers *owning* those accounts even when their ids were not asked. What a caller sees of a
customer follows its policy (`policy.py`): e.g. the behaviour agent never sees names.

Reference records are frozen models, so their JSON views are built once per record (`JsonViews`)
instead of once per record per call: three agents ask for most of a batch's parties.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from mcp.server.mcpserver import Context, MCPServer
from mcp.types import CallToolResult
from pydantic import BaseModel, Field

from riskmesh.contracts import Account
from riskmesh.mcp_servers.policy import AccessPolicy
from riskmesh.mcp_servers.stores import ReferenceData
from riskmesh.mcp_servers.toolkit import ToolCall, ToolGuard, batch_result, check_batch_size

__all__ = ["SERVER_NAME", "JsonViews", "account_view", "build_customer_data_server"]

SERVER_NAME = "customer-data"
VERSION = "0.2.0"

RecordT = TypeVar("RecordT", bound=BaseModel)


def account_view(account: Account) -> dict[str, Any]:
    """Account JSON plus `controls`: what currently restricts payments on it."""
    view = account.model_dump(mode="json")
    view["controls"] = {
        "status": account.status,
        "payments_blocked": account.status != "active",
        "daily_limit": view.get("daily_limit"),
    }
    return view


def _record_json(record: BaseModel) -> dict[str, Any]:
    return record.model_dump(mode="json")


class JsonViews:
    """The JSON view of each reference record, built on first use and kept while the record is the same.

    Views are shared between calls, so they are read-only: `ToolCall.redact` copies a record
    before masking it. A record replaced in the store (same id, new object) gets a new view.
    """

    def __init__(self) -> None:
        self._views: dict[tuple[str, str], tuple[BaseModel, dict[str, Any]]] = {}

    def of(
        self, kind: str, key: str, record: RecordT | None, build: Callable[[RecordT], dict[str, Any]]
    ) -> dict[str, Any] | None:
        """The view of `record` (None stays None); `kind` and `key` name it among all records."""
        if record is None:
            return None
        known = self._views.get((kind, key))
        if known is None or known[0] is not record:
            known = self._views[(kind, key)] = (record, build(record))
        return known[1]


def _lookup(
    data: ReferenceData, views: JsonViews, call: ToolCall, customer_ids: list[str], account_ids: list[str]
) -> dict[str, Any]:
    accounts = {aid: data.accounts.get(aid) for aid in dict.fromkeys(account_ids)}
    owners = {aid: (a.customer_id if a else None) for aid, a in accounts.items()}
    wanted = dict.fromkeys([*customer_ids, *(c for c in owners.values() if c)])
    customers = {
        cid: call.redact("customer", views.of("customer", cid, data.customers.get(cid), _record_json))
        for cid in wanted
    }
    return {
        "customers": customers,
        "accounts": {aid: views.of("account", aid, a, account_view) for aid, a in accounts.items()},
        "owners": owners,
    }


def build_customer_data_server(
    data: ReferenceData, *, token: str | None = None, policy: AccessPolicy | None = None
) -> MCPServer:
    """An MCPServer answering customer and account look-ups from the in-memory reference stores."""
    server = MCPServer(
        SERVER_NAME,
        version=VERSION,
        instructions="Customer (KYC) and account reference data. Batch tools: one call per micro-batch.",
    )
    guard = ToolGuard(SERVER_NAME, token, policy)
    views = JsonViews()

    @server.tool(
        description=(
            "360° view of many customers and accounts in one call. Returns "
            '{"customers": {customer_id: Customer JSON (kyc_risk, pep, ...) or null}, '
            '"accounts": {account_id: Account JSON + "controls" {status, payments_blocked, daily_limit}, '
            'or null}, "owners": {account_id: owning customer_id or null}}. "customers" also holds the '
            "owner of every account asked for, even when its id was not asked. null means the id is "
            "unknown (a new customer or an external account). Fields the caller's policy hides are "
            'masked ("***") or left out.'
        ),
        structured_output=False,
    )
    async def get_customers_batch(
        ctx: Context,
        customer_ids: Annotated[list[str], Field(description="customer ids to look up (duplicates allowed)")],
        account_ids: Annotated[
            list[str], Field(description="account ids to look up (debtor and creditor accounts)")
        ] = [],  # noqa: B006 - pydantic copies defaults
    ) -> CallToolResult:
        with guard.call(ctx, "get_customers_batch", len(customer_ids) + len(account_ids)) as call:
            check_batch_size(len(customer_ids) + len(account_ids), "ids")
            return batch_result(_lookup(data, views, call, customer_ids, account_ids))

    @server.tool(
        description=(
            "Look up many devices in one call. Returns "
            '{"devices": {device_id: {"device_id", "first_seen", "customer_ids", "metadata"} or null}}.'
        ),
        structured_output=False,
    )
    async def get_devices_batch(
        ctx: Context,
        device_ids: Annotated[list[str], Field(description="device ids seen on transactions")],
    ) -> CallToolResult:
        with guard.call(ctx, "get_devices_batch", len(device_ids)) as call:
            check_batch_size(len(device_ids), "device ids")
            devices = {
                did: call.redact("device", views.of("device", did, data.devices.get(did), _record_json))
                for did in dict.fromkeys(device_ids)
            }
            return batch_result({"devices": devices})

    return server
