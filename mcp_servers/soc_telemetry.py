"""soc-telemetry MCP server: authentication logs, network flows, endpoint events, an IOC feed, containment.

Read tools take a batch of indicators ({kind, value}: ip, account, customer, device, host, user, domain,
hash) and a time window, and return the matching records oldest first (`limit`, with the total that
matched). An account indicator matches through its owning customer. `ioc_lookup` looks values up in
the feed; `ioc_sightings` tells which feed entries were observed around some entities (so a caller can
learn about IOCs without reading raw logs). Containment tools record an action once per (action,
target): asking again returns the record already made (`created: false`).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Annotated, Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import CallToolResult
from pydantic import AwareDatetime, Field

from riskmesh.contracts.investigation import Indicator
from riskmesh.mcp_servers.policy import AccessPolicy
from riskmesh.mcp_servers.soc_store import ContainmentStore, MemoryContainmentStore, TelemetryStore
from riskmesh.mcp_servers.toolkit import ToolGuard, batch_result, check_batch_size

__all__ = ["CONTAINMENT_TOOLS", "READ_TOOLS", "SERVER_NAME", "build_soc_telemetry_server"]

SERVER_NAME = "soc-telemetry"
VERSION = "0.1.0"
READ_TOOLS = ("auth_events", "network_flows", "endpoint_events", "ioc_lookup", "ioc_sightings", "list_containment")
CONTAINMENT_TOOLS = ("block_ip", "isolate_host", "force_password_reset")
MAX_LIMIT = 5000
MAX_WINDOW = timedelta(days=31)
_IOC_KINDS = ("ip", "domain", "hash")
# where an observed value sits in each source's records, by IOC kind
_OBSERVED = {
    "auth_events": (("ip", "ip"),),
    "network_flows": (("ip", "src_ip"),),
    "endpoint_events": (("hash", "sha256"), ("domain", "domain"), ("ip", "remote_ip")),
}

Indicators = Annotated[
    list[Indicator],
    Field(description="items {kind: ip|account|customer|device|host|user|domain|hash, value}", min_length=1),
]
WindowStart = Annotated[AwareDatetime, Field(description="RFC 3339 start of the window (inclusive)")]
WindowEnd = Annotated[AwareDatetime, Field(description="RFC 3339 end of the window (inclusive)")]
Limit = Annotated[int, Field(ge=1, le=MAX_LIMIT, description="at most this many records (oldest first)")]
Actor = Annotated[str | None, Field(max_length=128, description="who asks (the approving engineer or the agent)")]
Requester = Annotated[str | None, Field(max_length=128, description="synonym of actor")]
Reason = Annotated[str, Field(max_length=2000, description="why, for the record")]


def _window(start: AwareDatetime, end: AwareDatetime) -> None:
    if end < start:
        raise ToolError("window_end is before window_start")
    if end - start > MAX_WINDOW:
        raise ToolError(f"window longer than {MAX_WINDOW.days} days: narrow it")


def _ip(value: str) -> str:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        raise ToolError(f"not an IP address: {value!r}") from None


def _pairs(indicators: Sequence[Indicator]) -> list[tuple[str, str]]:
    return [(i.kind, i.value) for i in indicators]


def build_soc_telemetry_server(
    telemetry: TelemetryStore,
    containment: ContainmentStore | None = None,
    *,
    token: str | None = None,
    policy: AccessPolicy | None = None,
) -> MCPServer:
    """The soc-telemetry server over `telemetry`; containment in memory unless a store is given."""
    server = MCPServer(
        SERVER_NAME,
        version=VERSION,
        instructions="SOC telemetry (auth logs, flows, endpoint events, IOC feed) and containment actions.",
    )
    guard = ToolGuard(SERVER_NAME, token, policy)
    actions = containment if containment is not None else MemoryContainmentStore()

    def read(source: str, indicators: list[Indicator], start: AwareDatetime, end: AwareDatetime,
             limit: int) -> CallToolResult:  # fmt: skip
        check_batch_size(len(indicators), "indicators")
        _window(start, end)
        rows, total = telemetry.query(source, _pairs(indicators), start, end, limit)
        return batch_result({"records": rows, "total": total, "truncated": total > len(rows)})

    @server.tool(
        description=(
            "Login attempts to online and mobile banking matching any indicator (ip, account, customer, device, "
            'user) in the window. Returns {"records": [{event_id, ts, user, customer_id, ip, device_id, user_agent, '
            'channel, result: success|failure, reason, country, lat, lon, endpoint}], "total", "truncated"}.'
        ),
        structured_output=False,
    )
    async def auth_events(ctx: Context, indicators: Indicators, window_start: WindowStart, window_end: WindowEnd,
                          limit: Limit = 500) -> CallToolResult:  # fmt: skip
        with guard.call(ctx, "auth_events", len(indicators)):
            return read("auth_events", indicators, window_start, window_end, limit)

    @server.tool(
        description=(
            "Hourly flow summaries to the bank's login endpoints from (or to) the ip indicators in the window. "
            'Returns {"records": [{flow_id, ts, ts_end, src_ip, dst_ip, dst_port, host, requests, http_401, '
            'bytes_in, bytes_out, country}], "total", "truncated"}.'
        ),
        structured_output=False,
    )
    async def network_flows(ctx: Context, indicators: Indicators, window_start: WindowStart, window_end: WindowEnd,
                            limit: Limit = 500) -> CallToolResult:  # fmt: skip
        with guard.call(ctx, "network_flows", len(indicators)):
            return read("network_flows", indicators, window_start, window_end, limit)

    @server.tool(
        description=(
            "Events of the banking app's device-integrity SDK on customer devices matching any indicator (customer, "
            'account, device, host, ip, domain, hash) in the window. Returns {"records": [{event_id, ts, device_id, '
            "host, customer_id, kind: process_start|app_install|credential_access|accessibility_grant|dns_query|"
            'network_connect|device_registration, process, path, sha256, parent, signed, domain, remote_ip, detection, '
            'ip}], "total", "truncated"}.'
        ),
        structured_output=False,
    )
    async def endpoint_events(ctx: Context, indicators: Indicators, window_start: WindowStart,
                              window_end: WindowEnd, limit: Limit = 500) -> CallToolResult:  # fmt: skip
        with guard.call(ctx, "endpoint_events", len(indicators)):
            return read("endpoint_events", indicators, window_start, window_end, limit)

    @server.tool(
        description=(
            "Look ip, domain and hash indicators up in the IOC feed (other kinds are ignored). Returns "
            '{"matches": [{kind, value, reputation, confidence, tags, sources, first_seen, last_seen, description}], '
            '"misses": [{kind, value}]}.'
        ),
        structured_output=False,
    )
    async def ioc_lookup(ctx: Context, indicators: Indicators) -> CallToolResult:
        with guard.call(ctx, "ioc_lookup", len(indicators)):
            check_batch_size(len(indicators), "indicators")
            matches: list[dict[str, Any]] = []
            misses: list[dict[str, Any]] = []
            for kind, value in dict.fromkeys(_pairs(indicators)):
                if kind not in _IOC_KINDS:
                    continue
                hit = telemetry.lookup(kind, value)
                (matches if hit else misses).append(hit or {"kind": kind, "value": value})
            return batch_result({"matches": matches, "misses": misses})

    @server.tool(
        description=(
            "IOC feed entries observed around entities (account, customer, device, host, user, ip) in the window: "
            "IPs they logged in from or that attacked them, hashes, domains and remote IPs on their devices. Returns "
            '{"sightings": [{"ioc": {feed entry}, "count", "first", "last", "entities": [{kind, value}]}]}, '
            "without the raw records."
        ),
        structured_output=False,
    )
    async def ioc_sightings(ctx: Context, indicators: Indicators, window_start: WindowStart,
                            window_end: WindowEnd) -> CallToolResult:  # fmt: skip
        with guard.call(ctx, "ioc_sightings", len(indicators)):
            check_batch_size(len(indicators), "indicators")
            _window(window_start, window_end)
            return batch_result({"sightings": _sightings(telemetry, indicators, window_start, window_end)})

    async def contain(ctx: Context, tool: str, target: Callable[[], str], actor: str | None,
                      reason: str) -> CallToolResult:  # fmt: skip
        with guard.call(ctx, tool, 1):
            if not actor or not actor.strip():
                raise ToolError("name who asks: actor (or requested_by)")
            rec, created = await actions.record(tool, target(), actor.strip(), reason.strip())
            return batch_result({"containment": rec, "created": created})

    @server.tool(description="Block an IP at the bank's edge. Idempotent per IP. Returns {containment, created}.",
                 structured_output=False)  # fmt: skip
    async def block_ip(ctx: Context, ip: Annotated[str, Field(min_length=2, max_length=64)], actor: Actor = None,
                       reason: Reason = "", requested_by: Requester = None) -> CallToolResult:  # fmt: skip
        return await contain(ctx, "block_ip", lambda: _ip(ip), actor or requested_by, reason)

    @server.tool(description="Isolate a host (device) from the bank's services. Idempotent per host. "
                             "Returns {containment, created}.", structured_output=False)  # fmt: skip
    async def isolate_host(ctx: Context, host: Annotated[str, Field(min_length=1, max_length=256)],
                           actor: Actor = None, reason: Reason = "",
                           requested_by: Requester = None) -> CallToolResult:  # fmt: skip
        return await contain(ctx, "isolate_host", lambda: host.strip(), actor or requested_by, reason)

    @server.tool(description="Force a password reset of a customer (customer_id) or login (user); give one. "
                             "Idempotent per target. Returns {containment, created}.",
                 structured_output=False)  # fmt: skip
    async def force_password_reset(ctx: Context, customer_id: Annotated[str | None, Field(max_length=64)] = None,
                                   user: Annotated[str | None, Field(max_length=128)] = None, actor: Actor = None,
                                   reason: Reason = "", requested_by: Requester = None) -> CallToolResult:  # fmt: skip
        def target() -> str:
            if bool(customer_id) == bool(user):
                raise ToolError("give exactly one of customer_id and user")
            return f"customer:{customer_id}" if customer_id else f"user:{user}"

        return await contain(ctx, "force_password_reset", target, actor or requested_by, reason)

    @server.tool(description='Every containment action recorded, oldest first: {"containment": [...]}.',
                 structured_output=False)  # fmt: skip
    async def list_containment(ctx: Context) -> CallToolResult:
        with guard.call(ctx, "list_containment", 0):
            return batch_result({"containment": await actions.list()})

    return server


def _sightings(telemetry: TelemetryStore, indicators: Sequence[Indicator], start: AwareDatetime,
               end: AwareDatetime) -> list[dict[str, Any]]:  # fmt: skip
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for indicator in dict.fromkeys(indicators):
        for source, fields in _OBSERVED.items():
            rows, _ = telemetry.query(source, [(indicator.kind, indicator.value)], start, end, MAX_LIMIT)
            for row in rows:
                for kind, name in fields:
                    value = row.get(name)
                    ioc = telemetry.lookup(kind, str(value)) if value else None
                    if ioc is None:
                        continue
                    seen = found.setdefault((kind, str(value)), {"ioc": ioc, "count": 0, "first": row["ts"],
                                                                 "last": row["ts"], "entities": []})  # fmt: skip
                    seen["count"] += 1
                    seen["first"], seen["last"] = min(seen["first"], row["ts"]), max(seen["last"], row["ts"])
                    entity = {"kind": indicator.kind, "value": indicator.value}
                    if entity not in seen["entities"]:
                        seen["entities"].append(entity)
    return sorted(found.values(), key=lambda s: (s["first"], s["ioc"]["value"]))
