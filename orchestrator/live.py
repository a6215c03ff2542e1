"""`riskmesh run` (what `make run` starts): the stack, a synthetic stream, and a live view of decisions."""

from __future__ import annotations

import itertools
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

from rich.console import Console, Group
from rich.live import Live
from rich.panel import Panel
from rich.table import Table

from riskmesh.contracts.settings import Settings
from riskmesh.orchestrator.stack import Stack
from riskmesh.orchestrator.streaming import DecisionTap, TapStats, percentile, produce
from riskmesh.orchestrator.topology import StackInfo

__all__ = ["describe_stack", "run_live"]


def describe_stack(info: StackInfo, stack_file: Path) -> Table:
    t = Table(title="riskmesh stack", show_header=True, header_style="bold")
    t.add_column("component")
    t.add_column("where")
    t.add_row("Kafka", info.kafka)
    t.add_row("Redis", info.redis)
    for kind, ep in info.agents.items():
        t.add_row(f"agent {kind}", f"{ep.card_url}  (gRPC {ep.grpc})")
    for name, url in info.mcp.items():
        t.add_row(f"MCP {name}", url)
    if info.gateway is not None:
        t.add_row("[bold]risk gateway (A2A)[/]", f"{info.gateway.card_url}  (gRPC {info.gateway.grpc}; dev "
                  "credentials: Authorization: Bearer or X-API-Key = RISKMESH_GATEWAY_DEV_TOKEN, default "
                  "riskmesh-dev-gateway-token)")
    for name, url in info.soc_agents.items():
        t.add_row(f"SOC agent {name}", url.rstrip("/") + "/.well-known/agent-card.json")
    if info.console:
        t.add_row("[bold]analyst console[/]", f"[bold]{info.console}[/]  (demo users ana, ben, sam, cora, sol, adam;"
                  " password: RISKMESH_CONSOLE_DEMO_PASSWORD, default riskmesh-demo)")
    t.add_row("stack file", str(stack_file))
    return t


def _stream(world_dir: str, seed: int, prefix: str, bad_every: int) -> Iterator[tuple[bytes, bytes]]:
    from riskmesh.orchestrator.synth import TransactionStream, World, bad_messages

    world = World.read(Path(world_dir))
    bad = itertools.cycle(bad_messages(12, seed))
    for i, tx in enumerate(TransactionStream(world, seed=seed, tx_prefix=prefix)):
        yield tx.debtor.account_id.encode(), tx.model_dump_json(exclude={"label"}).encode()
        if bad_every and i % bad_every == bad_every - 1:
            yield f"{prefix}-bad-{i}".encode(), next(bad)[1]


def _view(stats: TapStats, rate: float, sent: list[int], started: float) -> Table:
    t = Table(title=f"decisions (offered {rate:.0f} tx/s) — Ctrl-C stops everything", show_header=False)
    t.add_column(style="bold")
    t.add_column(justify="right")
    recent = list(stats.recent_ms)
    t.add_row("uptime", f"{time.monotonic() - started:,.0f} s")
    t.add_row("sent", f"{sent[0]:,}")
    t.add_row("decisions", f"{stats.decisions:,}")
    t.add_row("rate (5 s)", f"{stats.rate():,.0f} /s")
    t.add_row("p50 latency", f"{percentile(recent, 50):.1f} ms")
    t.add_row("p99 latency", f"{percentile(recent, 99):.1f} ms")
    t.add_row("[green]pass", f"{stats.outcomes.get('pass', 0):,}")
    t.add_row("[yellow]review", f"{stats.outcomes.get('review', 0):,}")
    t.add_row("[red]block", f"{stats.outcomes.get('block', 0):,}")
    t.add_row("DLQ", f"{stats.dlq:,}")
    t.add_row("degraded", ", ".join(f"{k}={v}" for k, v in stats.degraded.items()) or "none")
    return t


def run_live(settings: Settings, rate: float, workers: int, bad_every: int) -> None:
    console = Console()
    stack = Stack(settings, workers=workers)
    stop = threading.Event()
    tap: DecisionTap | None = None
    producer: threading.Thread | None = None
    try:
        with console.status("starting broker, Redis, MCP servers, agents and workers…"):
            info = stack.start()
        console.print(describe_stack(info, stack.stack_file))
        prefix = f"R{uuid.uuid4().hex[:6]}"
        tap = DecisionTap(info.kafka, settings.topic_decisions, settings.topic_dlq, prefix=prefix)
        tap.stats.keep_all = False
        tap.start()
        sent = [0]

        def pump() -> None:
            def counted() -> Iterator[tuple[bytes, bytes]]:
                for msg in _stream(info.world_dir, settings.world_seed + 1, prefix, bad_every):
                    sent[0] += 1
                    yield msg

            produce(info.kafka, settings.topic_transactions, counted(), rate=rate, stop=stop)

        producer = threading.Thread(target=pump, name="producer", daemon=True)
        producer.start()
        started = time.monotonic()
        logs = Panel(f"logs: {stack.log_dir}", expand=False)
        with Live(Group(_view(tap.stats, rate, sent, started), logs), console=console, refresh_per_second=2) as live:
            while True:
                time.sleep(0.5)
                live.update(Group(_view(tap.stats, rate, sent, started), logs))
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        if producer is not None:
            producer.join(timeout=10)
        if tap is not None:
            tap.stop()
        console.print("stopping every process…")
        stack.stop()
        console.print("stopped.")
