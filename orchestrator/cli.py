"""The `riskmesh` command line."""

from __future__ import annotations

import json
import logging
import signal
import sys
import threading
from pathlib import Path
from typing import Annotated

import typer

from riskmesh.contracts.settings import Settings

__all__ = ["app", "main"]

app = typer.Typer(help="riskmesh: multi-agent risk orchestration for banks.", no_args_is_help=True,
                  add_completion=False, pretty_exceptions_enable=False)
bench_app = typer.Typer(help="Measure the stack (BENCHMARKS.md).", no_args_is_help=True)
app.add_typer(bench_app, name="bench")


def _settings() -> Settings:
    settings = Settings()
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    for noisy in ("kafka", "httpx", "httpx2"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    return settings


def _raise_keyboard_interrupt_on_sigterm() -> None:
    def handler(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)


@app.command()
def up(workers: Annotated[int, typer.Option(help="orchestrator worker processes")] = 1) -> None:
    """Start the whole stack (broker, Redis, MCP servers, agents, workers) and keep it running."""
    from rich.console import Console

    from riskmesh.orchestrator.live import describe_stack
    from riskmesh.orchestrator.stack import Stack

    settings = _settings()
    _raise_keyboard_interrupt_on_sigterm()
    console = Console()
    stack = Stack(settings, workers=workers)
    try:
        with console.status("starting the stack…"):
            info = stack.start()
        console.print(describe_stack(info, stack.stack_file))
        console.print("[bold green]up[/] — Ctrl-C stops every process")
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        console.print("stopping…")
        stack.stop()


@app.command()
def run(
    rate: Annotated[float, typer.Option(help="synthetic transactions per second")] = 300.0,
    workers: Annotated[int, typer.Option(help="orchestrator worker processes")] = 1,
    bad_every: Annotated[int, typer.Option(help="one malformed message every N (0 = none)")] = 500,
) -> None:
    """The main job: start the stack, stream synthetic transactions, show decisions live. Ctrl-C stops all."""
    from riskmesh.orchestrator.live import run_live

    settings = _settings()
    _raise_keyboard_interrupt_on_sigterm()
    run_live(settings, rate=rate, workers=workers, bad_every=bad_every)


@app.command()
def produce(
    count: Annotated[int, typer.Option(help="generated transactions to send")] = 1000,
    file: Annotated[Path | None, typer.Option(help="JSONL file of transactions to send instead")] = None,
    rate: Annotated[float | None, typer.Option(help="messages per second (default: as fast as possible)")] = None,
    seed: Annotated[int, typer.Option(help="seed of the generated stream")] = 1,
    prefix: Annotated[str, typer.Option(help="tx_id prefix of generated transactions")] = "T",
) -> None:
    """Send generated (or file) transactions to riskmesh.transactions of the running or configured stack."""
    from riskmesh.orchestrator.producer import file_messages, generated_messages, resolve_bootstrap
    from riskmesh.orchestrator.streaming import produce as send

    settings = _settings()
    bootstrap = resolve_bootstrap(settings)
    messages = file_messages(file) if file else generated_messages(settings, count, seed, prefix)
    sent = send(bootstrap, settings.topic_transactions, messages, rate=rate)
    typer.echo(json.dumps({"sent": sent, "topic": settings.topic_transactions, "bootstrap": bootstrap}))


@app.command()
def demo(
    count: Annotated[int, typer.Option(help="valid transactions to send")] = 1000,
    bad: Annotated[int, typer.Option(help="malformed messages to mix in")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
    workers: Annotated[int, typer.Option(help="orchestrator worker processes")] = 1,
    timeout: Annotated[float, typer.Option(help="seconds to wait for every decision")] = 300.0,
) -> None:
    """Start the stack, send COUNT transactions (+ BAD malformed), wait for every decision, print the tally."""
    from riskmesh.orchestrator.demo import run_demo

    settings = _settings()
    result = run_demo(settings, count, bad, timeout_s=timeout, workers=workers)
    if as_json:
        typer.echo(json.dumps(result.report))
    else:
        from rich.console import Console
        from rich.pretty import Pretty

        Console().print(Pretty(result.report))
    if not result.report["complete"]:
        raise typer.Exit(1)


@bench_app.command("stream")
def bench_stream(
    tx: Annotated[int, typer.Option(help="transactions to stream")] = 100_000,
    rate: Annotated[float | None, typer.Option(help="offered load, tx/s (default: as fast as possible)")] = None,
    inprocess: Annotated[bool, typer.Option(help="only the in-process run (protocols bypassed)")] = False,
    workers: Annotated[int, typer.Option(help="orchestrator worker processes")] = 1,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = True,
    table: Annotated[bool, typer.Option("--table", help="also print a readable table")] = False,
) -> None:
    """Kafka in ▶ supervisor ▶ agents over A2A ▶ MCP ▶ Kafka out, and the same analytics in-process."""
    from riskmesh.orchestrator.bench import bench_stream as run_bench

    settings = _settings()
    report = run_bench(settings, tx=tx, rate=rate, inprocess_only=inprocess, workers=workers)
    if table:
        from rich.console import Console
        from rich.table import Table

        t = Table("metric", "value", title="riskmesh bench stream")
        for k, v in report.items():
            t.add_row(k, str(v))
        Console(stderr=True).print(t)
    if as_json:
        typer.echo(json.dumps(report))


@app.command()
def generate(
    customers: Annotated[int, typer.Option(help="customers in the world")] = 2000,
    seed: Annotated[int, typer.Option(help="random seed")] = 7,
    out: Annotated[Path, typer.Option(help="output directory")] = Path("world"),
    transactions: Annotated[int, typer.Option(help="labelled transactions to write to transactions.jsonl")] = 0,
) -> None:
    """Write a seeded synthetic world (reference data) and optionally a labelled transaction stream."""
    from riskmesh.orchestrator.synth import TransactionStream, World

    world = World.generate(seed=seed, customers=customers)
    world.write(out)
    if transactions:
        with open(out / "transactions.jsonl", "wb") as fh:
            for line in TransactionStream(world, seed=seed).take_json(transactions):
                fh.write(line + b"\n")
    typer.echo(json.dumps({"out": str(out), "customers": len(world.customers), "transactions": transactions}))


@app.command()
def schemas(check: Annotated[bool, typer.Option(help="fail if the committed schemas drift")] = False) -> None:
    """Regenerate the JSON Schemas of the contracts (or check them)."""
    from riskmesh.contracts.schema import SCHEMA_DIR, render_schemas, write_schemas

    if check:
        drift = [n for n, text in render_schemas().items()
                 if not (SCHEMA_DIR / n).exists() or (SCHEMA_DIR / n).read_text() != text]
        if drift:
            typer.echo(f"schemas drifted: {drift}; run `riskmesh schemas`", err=True)
            raise typer.Exit(1)
        typer.echo("schemas up to date")
        return
    for p in write_schemas():
        typer.echo(f"wrote {p}")


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
