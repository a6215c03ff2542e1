"""credit-bureau MCP server: credit records and the utilisation a transaction would cause."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import CallToolResult
from pydantic import Field

from riskmesh.contracts import CreditRecord
from riskmesh.mcp_servers.policy import AccessPolicy
from riskmesh.mcp_servers.stores import ReferenceData
from riskmesh.mcp_servers.toolkit import ToolGuard, batch_result, check_batch_size

__all__ = ["SERVER_NAME", "build_credit_bureau_server", "credit_view"]

SERVER_NAME = "credit-bureau"
VERSION = "0.1.0"


def _parse_amount(customer_id: str, raw: Any) -> Decimal:
    if isinstance(raw, bool):
        raise ToolError(f"amounts[{customer_id!r}]: expected a decimal string, got a boolean")
    try:
        value = Decimal(str(raw))
    except InvalidOperation:
        raise ToolError(f"amounts[{customer_id!r}]: {raw!r} is not a decimal amount") from None
    if not value.is_finite() or value < 0:
        raise ToolError(f"amounts[{customer_id!r}]: {raw!r} must be a finite amount >= 0")
    return value


def credit_view(record: CreditRecord, amount: Decimal | None) -> dict[str, Any]:
    """The record as JSON plus `utilisation` now and `utilisation_after` this amount (null if no limit)."""
    view = record.model_dump(mode="json")
    if record.limit > 0:
        view["utilisation"] = float(record.exposure / record.limit)
        after = None if amount is None else float((record.exposure + amount) / record.limit)
    else:
        view["utilisation"] = None
        after = None
    view["utilisation_after"] = after
    return view


def build_credit_bureau_server(
    data: ReferenceData, *, token: str | None = None, policy: AccessPolicy | None = None
) -> MCPServer:
    """An MCPServer answering credit look-ups from the in-memory credit store."""
    server = MCPServer(
        SERVER_NAME,
        version=VERSION,
        instructions="Credit bureau records (rating, PD, limit, exposure, arrears). One call per batch.",
    )
    guard = ToolGuard(SERVER_NAME, token, policy)

    @server.tool(
        description=(
            "Credit records of many customers in one call. Returns "
            '{"credit": {customer_id: CreditRecord JSON + "utilisation" + "utilisation_after", or null}}. '
            "utilisation_after = (exposure + amount) / limit for the amount given in `amounts`; "
            "null when no amount was given or the limit is 0. null record = no bureau file."
        ),
        structured_output=False,
    )
    async def get_credit_batch(
        ctx: Context,
        customer_ids: Annotated[list[str], Field(description="customer ids to look up")],
        amounts: Annotated[
            dict[str, str] | None,
            Field(description="customer_id ▶ amount of this transaction (decimal string)"),
        ] = None,
    ) -> CallToolResult:
        with guard.call(ctx, "get_credit_batch", len(customer_ids)):
            check_batch_size(len(customer_ids), "customer ids")
            wanted = amounts or {}
            credit: dict[str, Any] = {}
            for cid in dict.fromkeys(customer_ids):
                record = data.credit.get(cid)
                if record is None:
                    credit[cid] = None
                    continue
                amount = _parse_amount(cid, wanted[cid]) if cid in wanted else None
                credit[cid] = credit_view(record, amount)
            return batch_result({"credit": credit})

    return server
