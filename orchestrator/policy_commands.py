"""`riskmesh policy backtest|deploy`, added to the `policy_app` of agents/policy_file.py (validate, diff).

They live in the orchestrator because they run the pipeline in process and write the audit trail,
which agent code may not import.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from riskmesh.agents.policy_file import PolicyFileError, policy_app, validation_errors

__all__ = ["policy_app"]


@policy_app.command("backtest")
def backtest_command(
    candidate: Annotated[Path, typer.Option(help="candidate policy YAML file")],
    data: Annotated[Path, typer.Option(help="labelled transactions (JSONL, CONTRACTS.md labels)")],
    live: Annotated[Path | None, typer.Option(help="live policy YAML (default: the configured live policy)")] = None,
    world: Annotated[Path | None, typer.Option(help="reference data directory (default: none)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
) -> None:
    """Decide a labelled file with the live policy and the candidate (agents run once); compare side by side."""
    from riskmesh.orchestrator.backtest import backtest, render_table

    try:
        report = backtest(candidate, data, live_file=live, world=world)
    except (ValidationError, PolicyFileError) as exc:
        typer.echo(json.dumps({"ok": False, "errors": validation_errors(exc)}))
        raise typer.Exit(1) from None
    if as_json:
        typer.echo(json.dumps(report))
        return
    from rich.console import Console

    Console().print(render_table(report))


@policy_app.command("deploy")
def deploy_command(
    file: Annotated[Path, typer.Argument(help="policy YAML file to make live")],
    actor: Annotated[str, typer.Option(help="who deploys it (recorded in the audit trail)")],
    redis_url: Annotated[str | None, typer.Option(help="Redis of the audit trail (default: REDIS_URL, the stack)")]
    = None,
) -> None:
    """Validate FILE, copy it to the active location and append `policy.changed` to the audit trail."""
    from riskmesh.contracts.settings import Settings
    from riskmesh.orchestrator.audit import RedisAuditLog, _resolve_redis_url
    from riskmesh.orchestrator.policy_deploy import PolicyDeployError, deploy_policy

    log = RedisAuditLog.from_url(_resolve_redis_url(redis_url))
    try:
        result = deploy_policy(file, actor, log, Settings())
    except PolicyDeployError as exc:
        typer.echo(json.dumps({"ok": False, "error": str(exc), "errors": exc.errors}))
        raise typer.Exit(1) from None
    typer.echo(json.dumps(result))
