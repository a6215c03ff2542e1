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
from riskmesh.orchestrator.audit import audit_app
from riskmesh.orchestrator.console.users_cli import users_app
from riskmesh.orchestrator.investigate import containment_app, investigate
from riskmesh.orchestrator.policy_commands import policy_app  # validate, diff, backtest, deploy
from riskmesh.orchestrator.review.labels import labels_app

__all__ = ["app", "main"]

app = typer.Typer(help="riskmesh: multi-agent risk orchestration for banks.", no_args_is_help=True,
                  add_completion=False, pretty_exceptions_enable=False)
bench_app = typer.Typer(help="Measure the stack (BENCHMARKS.md).", no_args_is_help=True)
app.add_typer(bench_app, name="bench")
app.add_typer(policy_app, name="policy", help="Validate, diff, backtest and deploy policy files (YAML).")
app.add_typer(audit_app, name="audit", help="Verify and export the hash-chained audit trail.")
app.add_typer(labels_app, name="labels", help="Analyst dispositions as training labels (riskmesh.labels).")
app.add_typer(users_app, name="users", help="Console users, roles and machine tokens.")
app.add_typer(containment_app, name="containment", help="Approve or reject a SOC containment proposal.")
app.command("investigate")(investigate)


def _settings() -> Settings:
    settings = Settings()
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    from riskmesh.orchestrator.kafka_io import LIBRDKAFKA_LOGGER  # librdkafka's own log lines

    for noisy in (LIBRDKAFKA_LOGGER, "httpx", "httpx2"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    return settings


def _raise_keyboard_interrupt_on_sigterm() -> None:
    def handler(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)


WorkersOption = Annotated[int | None, typer.Option(min=1, help="worker processes (default RISKMESH_WORKERS)")]
"""`--workers`: None means the configured RISKMESH_WORKERS; 0 is refused rather than read as "default"."""


@app.command()
def up(
    workers: WorkersOption = None,
) -> None:
    """Start the whole stack (broker, Redis, MCP servers, agents, workers) and keep it running."""
    from rich.console import Console

    from riskmesh.orchestrator.live import describe_stack
    from riskmesh.orchestrator.stack import Stack

    settings = _settings()
    _raise_keyboard_interrupt_on_sigterm()
    console = Console()
    stack = Stack(settings, workers=workers or settings.workers)
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
    workers: WorkersOption = None,
    bad_every: Annotated[int, typer.Option(help="one malformed message every N (0 = none)")] = 500,
) -> None:
    """The main job: start the stack, stream synthetic transactions, show decisions live. Ctrl-C stops all."""
    from riskmesh.orchestrator.live import run_live

    settings = _settings()
    _raise_keyboard_interrupt_on_sigterm()
    run_live(settings, rate=rate, workers=workers or settings.workers, bad_every=bad_every)


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


def _print_report(title: str, report: dict[str, object], *, as_json: bool, table: bool) -> None:
    """A bench report as one JSON line on stdout and, with --table, a readable table on stderr."""
    if table:
        from rich.console import Console
        from rich.table import Table

        t = Table("metric", "value", title=title)
        for k, v in report.items():
            t.add_row(k, str(v))
        Console(stderr=True).print(t)
    if as_json:
        typer.echo(json.dumps(report))


@bench_app.command("stream")
def bench_stream(
    tx: Annotated[int, typer.Option(help="transactions to stream")] = 100_000,
    rate: Annotated[float | None, typer.Option(help="offered load, tx/s (default: as fast as possible)")] = None,
    inprocess: Annotated[bool, typer.Option(help="only the in-process run (protocols bypassed)")] = False,
    workers: WorkersOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = True,
    table: Annotated[bool, typer.Option("--table", help="also print a readable table")] = False,
) -> None:
    """Kafka in ▶ supervisor ▶ agents over A2A ▶ MCP ▶ Kafka out, and the same analytics in-process."""
    from riskmesh.orchestrator.bench import bench_stream as run_bench

    settings = _settings()
    report = run_bench(settings, tx=tx, rate=rate, inprocess_only=inprocess, workers=workers or settings.workers)
    _print_report("riskmesh bench stream", report, as_json=as_json, table=table)


@bench_app.command("assess")
def bench_assess(
    concurrency: Annotated[int, typer.Option(min=1, help="concurrent callers, one request in flight each")] = 1,
    duration: Annotated[float, typer.Option(min=0.1, help="measured seconds (after a warm-up)")] = 20.0,
    binding: Annotated[str, typer.Option(help="jsonrpc | http_json | grpc")] = "jsonrpc",
    warmup: Annotated[float | None, typer.Option(help="warm-up seconds (default: duration/5, 1-5 s)")] = None,
    token: Annotated[str | None, typer.Option(envvar="RISKMESH_BENCH_GATEWAY_TOKEN",
                                              help="gateway bearer token (default: the dev token)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = True,
    table: Annotated[bool, typer.Option("--table", help="also print a readable table")] = False,
) -> None:
    """Synchronous assess-transaction over A2A against the risk gateway: C callers for S seconds."""
    from riskmesh.orchestrator.bench_assess import bench_assess as run_bench

    if binding not in ("jsonrpc", "http_json", "grpc"):
        raise typer.BadParameter("jsonrpc, http_json or grpc", param_hint="--binding")
    report = run_bench(_settings(), concurrency=concurrency, duration_s=duration, binding=binding,  # type: ignore[arg-type]
                       warmup_s=warmup, token=token)
    _print_report("riskmesh bench assess", report, as_json=as_json, table=table)


@app.command()
def generate(
    customers: Annotated[int, typer.Option(help="customers in the world")] = 2000,
    days: Annotated[int, typer.Option(help="days of labelled activity written to transactions.jsonl")] = 30,
    seed: Annotated[int, typer.Option(help="random seed (same arguments, same bytes)")] = 7,
    out: Annotated[Path, typer.Option(help="output directory")] = Path("world"),
    split_day: Annotated[int | None, typer.Option(help="also write train.jsonl (days 1..N) and eval.jsonl")] = None,
) -> None:
    """Write a seeded synthetic world (reference data JSONL) and a time-ordered labelled transaction stream."""
    from riskmesh.orchestrator.synth import write_dataset

    summary = write_dataset(out, customers=customers, days=days, seed=seed, split_day=split_day)
    typer.echo(json.dumps({"out": str(out), **summary}, default=str))


@app.command()
def train(
    data: Annotated[Path, typer.Option(help="labelled transactions (JSONL, label.is_fraud)")],
    out: Annotated[Path | None, typer.Option(help="model registry (default: $RISKMESH_MODEL_DIR or DATA_DIR/models)")]
    = None,
    world: Annotated[Path | None, typer.Option(help="reference data directory the history belongs to")] = None,
    seed: Annotated[int, typer.Option(help="random seed (training is deterministic for a seed)")] = 7,
    holdout: Annotated[float, typer.Option(help="last share of the history, by time, held out for metrics")] = 0.2,
    label: Annotated[str, typer.Option(help="fraud (label.is_fraud) or fraud_or_aml")] = "fraud",
    review_budget: Annotated[float, typer.Option(help="review+block share the calibrated policy aims at")] = 0.025,
    labels: Annotated[list[Path] | None, typer.Option(
        help="analyst labels (JSONL from `riskmesh labels export`), repeatable; they win over the file's")] = None,
) -> None:
    """Fit the fraud model on labelled history, register a new version with its card, print a JSON summary."""
    from riskmesh.orchestrator.train import train as fit_model

    settings = _settings()
    summary = fit_model(data, out or _model_dir(settings), world, seed=seed, holdout=holdout, label=label,
                        review_budget=review_budget, labels=labels or ())
    typer.echo(json.dumps(summary))


@app.command("eval")
def eval_(
    data: Annotated[Path, typer.Option(help="labelled transactions (JSONL) to score")],
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object (always on)")] = True,
    report: Annotated[Path | None, typer.Option(help="also write a self-contained HTML report here")] = None,
    inprocess: Annotated[bool, typer.Option(help="in-process pipeline instead of the protocol stack")] = False,
    world: Annotated[Path | None, typer.Option(help="reference data directory (default: none in-process)")] = None,
    history: Annotated[Path | None, typer.Option(help="labelled file replayed first, unscored (warm-up)")] = None,
    baseline: Annotated[bool, typer.Option(help="also score the rules-only baseline (in-process)")] = True,
    dump: Annotated[Path | None, typer.Option(help="also write one JSONL line per transaction: label, scores")] = None,
) -> None:
    """Replay labelled transactions through the pipeline in time order; print per-agent and decision metrics."""
    from riskmesh.orchestrator.evaluate import evaluate
    from riskmesh.orchestrator.report import write_report

    settings = _settings()
    if world is not None:
        settings = settings.model_copy(update={"world_dir_override": world.resolve()})
    result, material = evaluate(data, inprocess=inprocess, world=world, history=history, settings=settings,
                                model_dir=_model_dir(settings), baseline=baseline)
    if report is not None:
        result["report"] = str(write_report(report, result, material))
    if dump is not None:
        from riskmesh.orchestrator.evaluate import write_dump

        result["dump"] = str(write_dump(dump, material))
    typer.echo(json.dumps(result))


def _model_dir(settings: Settings) -> Path:
    import os

    from riskmesh.agents.model import MODEL_DIR_ENV

    return Path(os.environ[MODEL_DIR_ENV]) if os.environ.get(MODEL_DIR_ENV) else settings.data_dir / "models"


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
