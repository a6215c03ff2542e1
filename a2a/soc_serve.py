"""One process hosting every SOC agent, each on its own HTTP port (JSON-RPC + HTTP+JSON, streaming, bearer).

    python -m riskmesh.a2a.soc_serve --host 127.0.0.1 --token T --mcp-token M \\
        --mcp soc-telemetry=http://127.0.0.1:8107/mcp --mcp risk-actions=http://127.0.0.1:8105/mcp \\
        --agent network-log=8301 --agent endpoint-forensics=8302 --agent threat-intel=8303

One process (one interpreter, one event loop) instead of one per agent saves ~60 MB per agent. Each
agent gets its own MCP tool caller under its own caller name, with only the MCP servers its registry
entry names (least privilege). Once every agent listens, one line `riskmesh-soc ready name=url ...` goes
to stdout. SIGTERM / SIGINT stop all agents and close their MCP sessions. Tokens may come from
RISKMESH_A2A_TOKEN / RISKMESH_MCP_TOKEN instead of the command line.

`SOC_AGENTS` is the registry: hosting another agent here is one `SocAgent` entry (MCP servers it may
reach, and how to build its app from its tool caller, the process runtime and its base URL).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

import uvicorn
from starlette.applications import Starlette

from riskmesh.a2a.server import _listen, _NoSignalServer
from riskmesh.agents.base import ToolCaller

__all__ = ["READY_PREFIX", "SOC_AGENTS", "BuiltAgent", "SocAgent", "SocRuntime", "main", "parse_args", "serve_soc"]

logger = logging.getLogger("riskmesh.a2a.soc_serve")

READY_PREFIX = "riskmesh-soc ready"


@dataclass(frozen=True)
class SocRuntime:
    """What the process knows that an agent may need besides its tools."""

    host: str
    token: str
    version: str
    agent_urls: Mapping[str, str] = field(default_factory=dict)
    """name ▶ base URL of every agent this process serves (e.g. the investigator's card registry)."""
    card_urls: tuple[str, ...] = ()
    """Extra agent-card URLs given with --card-url (specialists served elsewhere)."""
    audit: Any = None
    """The audit trail (an AuditLog) for agents whose actions must be audited (incident-response)."""
    investigation_deadline_s: float = 8.0


@dataclass
class BuiltAgent:
    app: Starlette
    closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    """Awaited at shutdown (e.g. a card directory's HTTP pool); the MCP tool caller is closed by the process."""


@dataclass(frozen=True)
class SocAgent:
    mcp_servers: tuple[str, ...]
    build: Callable[[ToolCaller, SocRuntime, str], BuiltAgent]
    """(its tool caller, the runtime, its base URL) ▶ its app."""


def _specialist(name: str) -> SocAgent:
    def build(tools: ToolCaller, runtime: SocRuntime, base_url: str) -> BuiltAgent:
        from riskmesh.a2a.soc_specialists import build_specialist_app
        from riskmesh.agents.soc.specialists import build_specialist

        agent = build_specialist(name, tools)
        return BuiltAgent(build_specialist_app(name, agent, base_url, runtime.token, runtime.version))

    return SocAgent(mcp_servers=("soc-telemetry",), build=build)


def _investigator(tools: ToolCaller, runtime: SocRuntime, base_url: str) -> BuiltAgent:
    from riskmesh.a2a.soc_agents import (
        INCIDENT_RESPONSE,
        INVESTIGATOR,
        build_investigator_executor,
        build_soc_app,
        soc_card,
    )

    cards = list(runtime.card_urls) or [url for name, url in runtime.agent_urls.items()
                                        if name not in (INVESTIGATOR, INCIDENT_RESPONSE)]
    executor, directory = build_investigator_executor(tools, cards, runtime.token,
                                                      deadline_s=runtime.investigation_deadline_s)
    app = build_soc_app(executor, soc_card(INVESTIGATOR, base_url, runtime.version), runtime.token)
    return BuiltAgent(app, closers=[directory.aclose])


def _incident_response(tools: ToolCaller, runtime: SocRuntime, base_url: str) -> BuiltAgent:
    from riskmesh.a2a.soc_agents import INCIDENT_RESPONSE, build_incident_response_executor, build_soc_app, soc_card

    executor = build_incident_response_executor(tools, runtime.audit)
    return BuiltAgent(build_soc_app(executor, soc_card(INCIDENT_RESPONSE, base_url, runtime.version), runtime.token))


SOC_AGENTS: dict[str, SocAgent] = {
    "network-log": _specialist("network-log"),
    "endpoint-forensics": _specialist("endpoint-forensics"),
    "threat-intel": _specialist("threat-intel"),
    "soc-investigator": SocAgent(("risk-actions", "customer-data", "transactions"), _investigator),
    "incident-response": SocAgent(("soc-telemetry", "risk-actions"), _incident_response),
}
"""Every agent this process can host: hosting another is one entry (its MCP servers and its build function)."""


def _pair(kind: str, value: str) -> tuple[str, str]:
    name, sep, rest = value.partition("=")
    if not sep or not name.strip() or not rest.strip():
        raise argparse.ArgumentTypeError(f"expected NAME={kind}, got {value!r}")
    return name.strip(), rest.strip()


def _package_version() -> str:
    try:
        return metadata.version("riskmesh")
    except metadata.PackageNotFoundError:
        return "0.0.0"


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m riskmesh.a2a.soc_serve", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--agent", action="append", default=[], type=lambda v: _pair("PORT", v), metavar="NAME=PORT",
                        help=f"an agent to serve and its HTTP port (0: a free one); NAME in {list(SOC_AGENTS)}")
    parser.add_argument("--mcp", action="append", default=[], type=lambda v: _pair("URL", v), metavar="NAME=URL",
                        help="an MCP server the agents may call; repeat per server")
    parser.add_argument("--card-url", action="append", default=[], metavar="URL",
                        help="an agent card served elsewhere, for agents that discover peers")
    parser.add_argument("--token", default=None, help="A2A bearer token (default: $RISKMESH_A2A_TOKEN)")
    parser.add_argument("--mcp-token", default=None, help="MCP bearer token (default: $RISKMESH_MCP_TOKEN)")
    parser.add_argument("--version", default=None, help="version on the agent cards (default: package version)")
    parser.add_argument("--redis-url", default=None, help="Redis of the audit trail (incident-response audits steps)")
    parser.add_argument("--investigation-deadline-s", type=float, default=8.0,
                        help="how long the investigator waits for its specialists")
    parser.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    args = parser.parse_args(argv)
    args.token = args.token or os.environ.get("RISKMESH_A2A_TOKEN")
    args.mcp_token = args.mcp_token or os.environ.get("RISKMESH_MCP_TOKEN", "")
    if not args.token:
        parser.error("an A2A bearer token is required: --token or $RISKMESH_A2A_TOKEN")
    if not args.agent:
        parser.error(f"name at least one --agent NAME=PORT ({', '.join(SOC_AGENTS)})")
    names = [name for name, _ in args.agent]
    unknown = sorted(set(names) - set(SOC_AGENTS))
    if unknown:
        parser.error(f"unknown SOC agent(s) {unknown}; choose from {list(SOC_AGENTS)}")
    for what, pairs in (("--agent", names), ("--mcp", [n for n, _ in args.mcp])):
        if len(pairs) != len(set(pairs)):
            parser.error(f"a name is given twice in {what}: {pairs}")
    if not all(port.isdigit() for _, port in args.agent):
        parser.error("--agent expects NAME=PORT with a numeric port")
    args.version = args.version or _package_version()
    return args


async def serve_soc(args: argparse.Namespace, stop: asyncio.Event, ready: Callable[[dict[str, str]], None]) -> None:
    """Bind every agent's port, build and serve them until `stop` is set, then stop all and close their tools."""
    from riskmesh.agents.mcp_client import McpToolCaller

    sockets = {name: _listen(args.host, int(port)) for name, port in args.agent}
    urls = {name: f"http://{args.host}:{sock.getsockname()[1]}/" for name, sock in sockets.items()}
    audit = None
    if args.redis_url:
        from riskmesh.orchestrator.audit import RedisAuditLog  # the audit trail, wired here in the process

        audit = RedisAuditLog.from_url(args.redis_url)
    runtime = SocRuntime(args.host, args.token, args.version, urls, tuple(args.card_url), audit,
                         args.investigation_deadline_s)
    offered = dict(args.mcp)
    tools: list[McpToolCaller] = []
    built: dict[str, BuiltAgent] = {}
    servers: dict[str, _NoSignalServer] = {}
    tasks: list[asyncio.Task[None]] = []
    try:
        for name, _ in args.agent:
            entry = SOC_AGENTS[name]
            caller = McpToolCaller({n: u for n, u in offered.items() if n in entry.mcp_servers}, caller=name,
                                   token=args.mcp_token)  # fmt: skip
            tools.append(caller)
            built[name] = entry.build(caller, runtime, urls[name])
            config = uvicorn.Config(built[name].app, log_level="warning", lifespan="off", timeout_graceful_shutdown=2)
            servers[name] = _NoSignalServer(config)
            tasks.append(asyncio.create_task(servers[name].serve(sockets=[sockets[name]]), name=f"soc-{name}"))
        async with asyncio.timeout(10):
            while not all(s.started for s in servers.values()):
                if any(t.done() for t in tasks):
                    raise RuntimeError("a SOC agent's HTTP server stopped during startup")
                await asyncio.sleep(0.01)
        ready(urls)
        stopper = asyncio.create_task(stop.wait())
        await asyncio.wait([stopper, *tasks], return_when=asyncio.FIRST_COMPLETED)
        stopper.cancel()
    finally:
        for server in servers.values():
            server.should_exit = True
        await asyncio.gather(*tasks, return_exceptions=True)
        for agent in built.values():
            for close in agent.closers:
                await close()
        for caller in tools:
            await caller.aclose()
        for sock in sockets.values():
            sock.close()


async def _run(args: argparse.Namespace) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    def ready(urls: dict[str, str]) -> None:
        print(READY_PREFIX, *(f"{n}={u}" for n, u in urls.items()), flush=True)

    await serve_soc(args, stop, ready)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=args.log_level, format="%(asctime)s %(levelname)s %(name)s [%(process)d] %(message)s")
    try:
        asyncio.run(_run(args))
    except OSError as exc:  # a port in use
        logger.error("SOC agents could not start: %s", exc)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
