"""customer-data MCP server: customers, accounts and known devices by id, one call per micro-batch."""

from __future__ import annotations

from typing import Annotated

from mcp.server.mcpserver import Context, MCPServer
from mcp.types import CallToolResult
from pydantic import Field

from riskmesh.mcp_servers.stores import ReferenceData
from riskmesh.mcp_servers.toolkit import ToolGuard, batch_result, check_batch_size

__all__ = ["SERVER_NAME", "build_customer_data_server"]

SERVER_NAME = "customer-data"
VERSION = "0.1.0"


def build_customer_data_server(data: ReferenceData, *, token: str | None = None) -> MCPServer:
    """An MCPServer answering customer and account look-ups from the in-memory reference stores."""
    server = MCPServer(
        SERVER_NAME,
        version=VERSION,
        instructions="Customer (KYC) and account reference data. Batch tools: one call per micro-batch.",
    )
    guard = ToolGuard(SERVER_NAME, token)

    @server.tool(
        description=(
            "Look up many customers and accounts in one call. Returns "
            '{"customers": {customer_id: Customer JSON or null}, "accounts": {account_id: Account JSON or '
            "null}}; null means the id is unknown (a new customer or an external account)."
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
        with guard.call(ctx, "get_customers_batch", len(customer_ids) + len(account_ids)):
            check_batch_size(len(customer_ids) + len(account_ids), "ids")
            customers = {
                cid: (c.model_dump(mode="json") if (c := data.customers.get(cid)) else None)
                for cid in dict.fromkeys(customer_ids)
            }
            accounts = {
                aid: (a.model_dump(mode="json") if (a := data.accounts.get(aid)) else None)
                for aid in dict.fromkeys(account_ids)
            }
            return batch_result({"customers": customers, "accounts": accounts})

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
        with guard.call(ctx, "get_devices_batch", len(device_ids)):
            check_batch_size(len(device_ids), "device ids")
            devices = {
                did: (d.model_dump(mode="json") if (d := data.devices.get(did)) else None)
                for did in dict.fromkeys(device_ids)
            }
            return batch_result({"devices": devices})

    return server
