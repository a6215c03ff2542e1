"""customer-data MCP server: a 360° view of customers and accounts by id, one call per micro-batch.

One `get_customers_batch` call answers everything an agent needs about the parties of a batch:
the customers asked for, the accounts asked for (each with the controls in force), and the
customers *owning* those accounts even when their ids were not asked. What a caller sees of a
customer follows its policy (`policy.py`): e.g. the behaviour agent never sees names.
"""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.types import CallToolResult
from pydantic import Field

from riskmesh.contracts import Account
from riskmesh.mcp_servers.policy import AccessPolicy
from riskmesh.mcp_servers.stores import ReferenceData
from riskmesh.mcp_servers.toolkit import ToolCall, ToolGuard, batch_result, check_batch_size

__all__ = ["SERVER_NAME", "account_view", "build_customer_data_server"]

SERVER_NAME = "customer-data"
VERSION = "0.2.0"


def account_view(account: Account) -> dict[str, Any]:
    """Account JSON plus `controls`: what currently restricts payments on it."""
    view = account.model_dump(mode="json")
    view["controls"] = {
        "status": account.status,
        "payments_blocked": account.status != "active",
        "daily_limit": view.get("daily_limit"),
    }
    return view


def _lookup(data: ReferenceData, call: ToolCall, customer_ids: list[str], account_ids: list[str]) -> dict[str, Any]:
    accounts = {aid: data.accounts.get(aid) for aid in dict.fromkeys(account_ids)}
    owners = {aid: (a.customer_id if a else None) for aid, a in accounts.items()}
    wanted = dict.fromkeys([*customer_ids, *(c for c in owners.values() if c)])
    customers: dict[str, Any] = {}
    for cid in wanted:
        customer = data.customers.get(cid)
        customers[cid] = call.redact("customer", customer.model_dump(mode="json")) if customer else None
    return {
        "customers": customers,
        "accounts": {aid: (account_view(a) if a else None) for aid, a in accounts.items()},
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
            return batch_result(_lookup(data, call, customer_ids, account_ids))

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
                did: (call.redact("device", d.model_dump(mode="json")) if (d := data.devices.get(did)) else None)
                for did in dict.fromkeys(device_ids)
            }
            return batch_result({"devices": devices})

    return server
