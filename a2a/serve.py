"""Process entrypoint of one agent: `python -m riskmesh.a2a.serve --agent fraud --http-port … --grpc-port …`.

Wires the agent (riskmesh.agents.registry.build_agent) to its MCP tool caller and serves it over A2A
until SIGTERM/SIGINT; then drains, stops both bindings and closes the MCP sessions.
The bearer tokens may come from RISKMESH_A2A_TOKEN / RISKMESH_MCP_TOKEN instead of the command line,
where any local user could read them in the process list.
"""

from __future__ import annotations

import argparse
import inspect
import logging
import os
import sys
from collections.abc import Sequence
from importlib import metadata
from typing import Any

import uvloop

from riskmesh.a2a.server import serve_agent
from riskmesh.a2a.skills import AGENT_KINDS
from riskmesh.contracts.runtime import settle_service_gc

__all__ = ["main", "parse_args", "run"]

logger = logging.getLogger("riskmesh.a2a.serve")


def _mcp_endpoint(value: str) -> tuple[str, str]:
    name, sep, url = value.partition("=")
    if not sep or not name.strip() or not url.strip():
        raise argparse.ArgumentTypeError(f"expected NAME=URL (e.g. customer-data=http://…/mcp), got {value!r}")
    return name.strip(), url.strip()


def _package_version() -> str:
    try:
        return metadata.version("riskmesh")
    except metadata.PackageNotFoundError:
        return "0.0.0"


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m riskmesh.a2a.serve", description=__doc__.splitlines()[0])
    parser.add_argument("--agent", required=True, choices=AGENT_KINDS, help="which agent to serve")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--http-port", type=int, required=True, help="JSON-RPC, HTTP+JSON and the agent card")
    parser.add_argument("--grpc-port", type=int, required=True)
    parser.add_argument("--token", default=None, help="A2A bearer token (default: $RISKMESH_A2A_TOKEN)")
    parser.add_argument(
        "--mcp",
        action="append",
        type=_mcp_endpoint,
        default=[],
        metavar="NAME=URL",
        help="an MCP server the agent may call; repeat per server",
    )
    parser.add_argument("--mcp-token", default=None, help="MCP bearer token (default: $RISKMESH_MCP_TOKEN)")
    parser.add_argument("--version", default=None, help="version on the agent card (default: package version)")
    parser.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    parser.add_argument("--reference-cache-s", type=float,
                        default=float(os.environ.get("RISKMESH_REFERENCE_CACHE_S", "60")),
                        help="seconds an agent keeps reference answers (default: $RISKMESH_REFERENCE_CACHE_S or 60)")
    args = parser.parse_args(argv)
    args.token = args.token or os.environ.get("RISKMESH_A2A_TOKEN")
    args.mcp_token = args.mcp_token or os.environ.get("RISKMESH_MCP_TOKEN", "")
    if not args.token:
        parser.error("an A2A bearer token is required: --token or $RISKMESH_A2A_TOKEN")
    names = [name for name, _ in args.mcp]
    if len(names) != len(set(names)):
        parser.error(f"an MCP server is named twice in --mcp: {names}")
    return args


async def _maybe_await(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


async def run(args: argparse.Namespace) -> None:
    """Build the tool caller and the agent, serve until a signal, then close the tool caller."""
    # Imported here: the agents and their MCP client are wired per process, not at import time.
    from riskmesh.agents.mcp_client import McpToolCaller
    from riskmesh.agents.registry import MCP_SERVERS_FOR_AGENT, build_agent
    from riskmesh.agents.tool_cache import CachingToolCaller

    # least privilege: of the MCP endpoints offered, keep those this agent kind may reach
    allowed = set(MCP_SERVERS_FOR_AGENT.get(args.agent, ()))
    urls = {name: url for name, url in args.mcp if name in allowed}
    tools = CachingToolCaller(McpToolCaller(urls=urls, caller=args.agent, token=args.mcp_token),
                              ttl_s=args.reference_cache_s)
    try:
        agent = await _maybe_await(build_agent(args.agent, tools))
        settle_service_gc()  # permanent state frozen out of the GC, batch-sized thresholds
        await serve_agent(
            agent,
            args.agent,
            host=args.host,
            http_port=args.http_port,
            grpc_port=args.grpc_port,
            token=args.token,
            version=args.version or _package_version(),
        )
    finally:
        close = getattr(tools, "aclose", None) or getattr(tools, "close", None)
        if close is not None:
            await _maybe_await(close())
        logger.info("%s agent stopped", args.agent)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=args.log_level, format="%(asctime)s %(levelname)s %(name)s [%(process)d] %(message)s")
    for name in ("httpx", "httpx2"):  # a line per MCP request is noise and CPU; the MCP servers log each call
        logging.getLogger(name).setLevel(logging.WARNING)
    try:
        uvloop.run(run(args))  # the loop's own work is a large share of a batch's cost (docs/performance.md)
    except OSError as exc:  # port in use, MCP unreachable at startup
        logger.error("%s agent could not start: %s", args.agent, exc)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
