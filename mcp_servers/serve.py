"""Run the riskmesh MCP data servers in one process, each on its own port (streamable HTTP).

    python -m riskmesh.mcp_servers.serve --world DIR --redis-url URL --host 127.0.0.1 \\
        --port customer-data=8101 --port transactions=8102 --port credit-bureau=8103 \\
        --port watchlists=8104 --port risk-actions=8105 --port risk-graph=8106 \\
        --port soc-telemetry=8107 [--token TOKEN] \\
        [--only NAME ...] [--policy FILE.json]

Without `--only`, the servers given a `--port` are served. Every server holds callers to the
permission policy (`policy.py`, or the JSON file of `--policy`). Each server answers MCP at
`/mcp` (stateless, JSON responses) and `GET /healthz` with 200.
Once every server listens, one line `riskmesh-mcp ready name=url ...` goes to stdout (port 0
picks a free port; the line tells which). SIGTERM / SIGINT stop all servers cleanly.
Without `--redis-url`, feature history and actions live in memory (single process only).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from collections.abc import Callable, Generator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import uvicorn
import uvloop
from mcp.server.mcpserver import MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from riskmesh.contracts.runtime import settle_service_gc
from riskmesh.mcp_servers.action_store import MemoryActionStore, RedisActionStore
from riskmesh.mcp_servers.credit_bureau import build_credit_bureau_server
from riskmesh.mcp_servers.customer_data import build_customer_data_server
from riskmesh.mcp_servers.graph_store import MemoryGraphStore
from riskmesh.mcp_servers.history import MemoryHistoryStore, RedisHistoryStore
from riskmesh.mcp_servers.policy import AccessPolicy, load_policy
from riskmesh.mcp_servers.risk_actions import build_risk_actions_server
from riskmesh.mcp_servers.risk_graph import build_risk_graph_server
from riskmesh.mcp_servers.screening import NameScreener
from riskmesh.mcp_servers.soc_store import MemoryContainmentStore, RedisContainmentStore, TelemetryStore
from riskmesh.mcp_servers.soc_telemetry import build_soc_telemetry_server
from riskmesh.mcp_servers.stores import ReferenceData, load_reference_data
from riskmesh.mcp_servers.transactions import build_transactions_server
from riskmesh.mcp_servers.watchlist_loaders import load_ofac_dir, load_opensanctions
from riskmesh.mcp_servers.watchlists import build_watchlists_server

__all__ = ["SERVER_NAMES", "build_servers", "http_app", "main"]

logger = logging.getLogger("riskmesh.mcp.serve")

SERVER_NAMES = (
    "customer-data", "transactions", "credit-bureau", "watchlists", "risk-actions", "risk-graph", "soc-telemetry",
)
READY_PREFIX = "riskmesh-mcp ready"
_QUIET_LOGGERS = ("httpx", "httpx2", "httpcore", "mcp", "uvicorn.access", "uvicorn.error", "sse_starlette")


def build_servers(
    world_dir: Path | str | None,
    redis: Any | None = None,
    *,
    token: str | None = None,
    ofac_dir: Path | str | None = None,
    opensanctions: Path | str | None = None,
    only: Sequence[str] | None = None,
    policy: AccessPolicy | None = None,
) -> dict[str, MCPServer]:
    """Every MCP data server (or those named in `only`), wired to one world's reference data.

    `redis` is a `redis.asyncio.Redis` for the stateful servers (transactions, risk-actions);
    None keeps their state in memory. The risk graph is always in memory (process lifetime).
    `token`, when set, is required as `Bearer` on HTTP calls; `policy` (default: `DEFAULT_POLICY`)
    says what each named caller may call and see.
    """
    names = list(only) if only else list(SERVER_NAMES)
    unknown = sorted(set(names) - set(SERVER_NAMES))
    if unknown:
        raise ValueError(f"unknown MCP server(s) {unknown}; choose from {list(SERVER_NAMES)}")
    data = load_reference_data(world_dir)
    policy = policy if policy is not None else AccessPolicy.default()
    builders: dict[str, Callable[[], MCPServer]] = {
        "customer-data": lambda: build_customer_data_server(data, token=token, policy=policy),
        "transactions": lambda: build_transactions_server(
            RedisHistoryStore(redis) if redis is not None else MemoryHistoryStore(), token=token, policy=policy
        ),
        "credit-bureau": lambda: build_credit_bureau_server(data, token=token, policy=policy),
        "watchlists": lambda: build_watchlists_server(
            NameScreener(
                [
                    *data.watchlist,
                    *(load_ofac_dir(Path(ofac_dir)) if ofac_dir else []),
                    *(load_opensanctions(Path(opensanctions)) if opensanctions else []),
                ]
            ),
            token=token,
            policy=policy,
        ),
        "risk-actions": lambda: build_risk_actions_server(
            RedisActionStore(redis) if redis is not None else MemoryActionStore(), token=token, policy=policy
        ),
        "risk-graph": lambda: build_risk_graph_server(_seeded_graph(data), token=token, policy=policy),
        "soc-telemetry": lambda: build_soc_telemetry_server(
            TelemetryStore.load(world_dir),
            RedisContainmentStore(redis) if redis is not None else MemoryContainmentStore(),
            token=token,
            policy=policy,
        ),
    }
    return {name: builders[name]() for name in names}


def _seeded_graph(data: ReferenceData) -> MemoryGraphStore:
    store = MemoryGraphStore()
    store.seed(data)
    return store


async def _healthz(_request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def _metrics(_request: Request) -> Response:
    """Prometheus metrics of this process (tool calls by server, tool, caller and outcome; durations)."""
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


def http_app(server: MCPServer) -> Starlette:
    """The server's streamable-HTTP app at `/mcp` plus `GET /healthz` and `GET /metrics`."""
    server.custom_route("/healthz", methods=["GET"], include_in_schema=False)(_healthz)
    server.custom_route("/metrics", methods=["GET"], include_in_schema=False)(_metrics)
    return server.streamable_http_app(
        streamable_http_path="/mcp",
        stateless_http=True,
        json_response=True,
        transport_security=TransportSecuritySettings(
            enable_dns_rebinding_protection=True,
            allowed_hosts=["127.0.0.1:*", "localhost:*", "[::1]:*"],
            allowed_origins=["http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*"],
        ),
    )


class _Server(uvicorn.Server):
    """A uvicorn server that leaves signals to `serve_all` (several servers share one loop)."""

    @contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


def _bound_port(server: uvicorn.Server, fallback: int) -> int:
    for listener in getattr(server, "servers", []):
        for sock in listener.sockets:
            return int(sock.getsockname()[1])
    return fallback


async def _wait_started(servers: Mapping[str, uvicorn.Server], tasks: Mapping[str, asyncio.Task[None]]) -> None:
    """Until every server listens or one has stopped (uvicorn offers a flag, not an event)."""
    while not all(s.started for s in servers.values()):
        if any(t.done() for t in tasks.values()):
            return
        await asyncio.sleep(0.02)


async def serve_all(apps: dict[str, Starlette], host: str, ports: dict[str, int]) -> int:
    """Serve every app on its port until SIGTERM / SIGINT; 0 on a clean stop, 1 if one failed."""
    servers = {
        name: _Server(uvicorn.Config(app, host=host, port=ports[name], log_level="warning", lifespan="on"))
        for name, app in apps.items()
    }
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    tasks = {name: asyncio.create_task(s.serve(), name=f"mcp-{name}") for name, s in servers.items()}
    await _wait_started(servers, tasks)
    if all(s.started for s in servers.values()):
        urls = [f"{n}=http://{host}:{_bound_port(s, ports[n])}/mcp" for n, s in servers.items()]
        print(READY_PREFIX, *urls, flush=True)
        stopper = asyncio.create_task(stop.wait())
        await asyncio.wait([stopper, *tasks.values()], return_when=asyncio.FIRST_COMPLETED)
        stopper.cancel()
    for server in servers.values():
        server.should_exit = True
    await asyncio.gather(*tasks.values(), return_exceptions=True)
    failed = [n for n, t in tasks.items() if t.exception() is not None or not servers[n].started]
    for name in failed:
        logger.error("MCP server %s failed: %s", name, tasks[name].exception() or "did not start")
    return 1 if failed else 0


def _parse_ports(specs: Sequence[str]) -> dict[str, int]:
    ports: dict[str, int] = {}
    for spec in specs:
        name, sep, port = spec.partition("=")
        if not sep or not port.isdigit() or name not in SERVER_NAMES:
            raise SystemExit(f"--port expects NAME=PORT with NAME in {list(SERVER_NAMES)}, got {spec!r}")
        ports[name] = int(port)
    return ports


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="riskmesh.mcp_servers.serve", description=__doc__.split("\n")[0])
    parser.add_argument("--world", type=Path, help="directory of the reference JSONL files")
    parser.add_argument("--redis-url", help="redis:// or unix:// URL; state stays in memory without it")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", action="append", default=[], metavar="NAME=PORT")
    parser.add_argument("--token", default=os.environ.get("RISKMESH_MCP_TOKEN"), help="bearer token")
    parser.add_argument("--only", nargs="+", choices=SERVER_NAMES, metavar="NAME")
    parser.add_argument("--ofac-dir", type=Path, help="directory with OFAC sdn.csv / alt.csv / add.csv")
    parser.add_argument("--opensanctions", type=Path, help="OpenSanctions targets.simple.csv to screen against")
    parser.add_argument("--policy", type=Path, help="JSON caller policy replacing the built-in DEFAULT_POLICY")
    parser.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    return parser.parse_args(argv)


async def _run(args: argparse.Namespace) -> int:
    ports = _parse_ports(args.port)
    names = list(args.only or [n for n in SERVER_NAMES if n in ports] or SERVER_NAMES)
    missing = [n for n in names if n not in ports]
    if missing:
        raise SystemExit(f"no --port given for {missing}")
    redis_client = None
    if args.redis_url:
        from redis.asyncio import Redis

        redis_client = Redis.from_url(args.redis_url)
    try:
        servers = build_servers(
            args.world,
            redis_client,
            token=args.token,
            ofac_dir=args.ofac_dir,
            opensanctions=args.opensanctions,
            only=names,
            policy=load_policy(args.policy),
        )
        settle_service_gc()  # permanent state frozen out of the GC, batch-sized thresholds
        return await serve_all({n: http_app(s) for n, s in servers.items()}, args.host, ports)
    finally:
        if redis_client is not None:
            await redis_client.aclose()


def main(argv: Sequence[str] | None = None) -> int:
    args = _arguments(argv)
    logging.basicConfig(
        level=args.log_level, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    for name in _QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    return uvloop.run(_run(args))  # the loop's own work is a large share of a call's cost (docs/performance.md)


if __name__ == "__main__":
    sys.exit(main())
