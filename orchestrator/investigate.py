"""`riskmesh investigate` and `riskmesh containment`: SOC investigations and containment from the command line.

    riskmesh investigate --alert AL-… --follow            live per-agent progress and findings, then the incident
    riskmesh investigate --ip 203.0.113.9 --account A-1 --since 72h --json
    riskmesh investigate --alert AL-… --propose           …then ask incident-response for a containment proposal
    riskmesh containment approve TASK_ID --context CTX --by sol [--steps s1,s3]
    riskmesh containment reject TASK_ID --context CTX --by sol --reason "…"

Where the agents are: `--investigator URL` / `--incident-response URL`, else the stack file's
`soc_agents` {"soc-investigator": url, "incident-response": url}. Exit codes: 0 complete (or the
proposal awaits approval / ran), 3 partial incident (a specialist failed or timed out), 1 failure.
Approval is a separate command, not a flag of `investigate`: the approver should read the proposal first,
and the task waits (input-required) as long as it takes.
"""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console, Group
from rich.live import Live
from rich.table import Table

from riskmesh.a2a.soc_client import TaskEvent, TaskStreamClient, raw_part
from riskmesh.contracts.investigation import (
    CONTAINMENT_MEDIA_TYPE,
    INCIDENT_MEDIA_TYPE,
    INVESTIGATION_REQUEST_MEDIA_TYPE,
    ContainmentProposal,
    IncidentView,
    Indicator,
    IndicatorKind,
    InvestigationRequest,
)
from riskmesh.contracts.settings import Settings

__all__ = ["containment_app", "investigate", "resolve_agent_url"]

INVESTIGATOR, INCIDENT_RESPONSE = "soc-investigator", "incident-response"
EXIT = {"complete": 0, "partial": 3, "failed": 1, "running": 1}
_DURATION = re.compile(r"^(\d+)([smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}

containment_app = typer.Typer(help="Approve or reject a containment proposal awaiting a SOC engineer.",
                              no_args_is_help=True)


def resolve_agent_url(name: str, given: str | None, stack_file: Path | None = None) -> str:
    """`given`, else the stack file's `soc_agents[name]`; BadParameter saying how to name it otherwise."""
    if given:
        return given
    path = stack_file or Settings().run_dir / "stack.json"
    if path.exists():
        url = (json.loads(path.read_text()).get("soc_agents") or {}).get(name)
        if url:
            return str(url)
    raise typer.BadParameter(f"where is the {name} agent? pass --{name.removeprefix('soc-')} URL or start the stack")


def _duration(text: str) -> timedelta:
    match = _DURATION.match(text.strip())
    if not match:
        raise typer.BadParameter(f"{text!r}: use a number and s, m, h or d, e.g. 72h")
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


def _payload(alert: str | None, indicators: list[Indicator], since: str, by: str) -> tuple[bytes, str]:
    if alert:
        return json.dumps({"alert_id": alert, "requested_by": by}).encode(), "application/json"
    if not indicators:
        raise typer.BadParameter("name --alert, or at least one of --ip, --account, --device, --customer")
    now = datetime.now(UTC)
    request = InvestigationRequest(investigation_id="INV-" + uuid.uuid4().hex[:16], indicators=indicators,
                                   window_start=now - _duration(since), window_end=now, requested_by=by)
    return request.model_dump_json().encode(), INVESTIGATION_REQUEST_MEDIA_TYPE


def _render(view: IncidentView | None, line: str) -> Group:
    agents = Table(title="specialists", expand=False)
    for column in ("agent", "state", "findings", "detail"):
        agents.add_column(column)
    styles = {"completed": "green", "failed": "red", "timeout": "red", "working": "yellow"}
    for p in (view.agents.values() if view else []):
        agents.add_row(p.agent, f"[{styles.get(p.state, '')}]{p.state}[/]", str(p.findings), p.detail[:60])
    findings = Table(title="findings as they arrive", expand=False)
    for column in ("at", "agent", "severity", "summary"):
        findings.add_column(column)
    for t in (view.timeline if view else [])[-12:]:
        findings.add_row(t.at.strftime("%m-%d %H:%M"), t.agent, t.severity, t.summary[:80])
    return Group(line or "starting…", agents, findings)


def _incident_table(view: IncidentView) -> Group:
    timeline = Table(title=f"incident {view.investigation_id} · {view.status} · confidence {view.confidence:.2f}")
    for column in ("at", "agent", "severity", "summary"):
        timeline.add_column(column)
    for t in view.timeline:
        timeline.add_row(t.at.isoformat(timespec="minutes"), t.agent, t.severity, t.summary)
    indicators = Table(title="indicators")
    for column in ("kind", "value", "reputation", "sources"):
        indicators.add_column(column)
    for row in view.indicators:
        indicators.add_row(row.indicator.kind, row.indicator.value, row.reputation, ", ".join(row.sources))
    accounts = "affected accounts: " + (", ".join(view.affected_accounts) or "none")
    return Group(view.summary, timeline, indicators, accounts)


def _latest(event: TaskEvent, media_type: str, current: Any, model: type[Any]) -> Any:
    for chunk in event.artifacts:
        if chunk.media_type == media_type:
            current = model.model_validate_json(chunk.body)  # every artifact update replaces the view
    return current


async def stream_investigation(url: str, token: str, body: bytes, media_type: str, *, follow: bool,
                               console: Console, timeout_s: float) -> tuple[IncidentView | None, TaskEvent | None]:
    client = TaskStreamClient(url, token)
    view: IncidentView | None = None
    last: TaskEvent | None = None
    try:
        async with asyncio.timeout(timeout_s):
            live = Live(_render(None, ""), console=console, refresh_per_second=8, transient=True)
            with live if follow else contextlib.nullcontext():
                line = ""
                async for event in client.stream([raw_part(body, media_type)]):
                    last, line = event, event.text or line
                    view = _latest(event, INCIDENT_MEDIA_TYPE, view, IncidentView)
                    if follow:
                        live.update(_render(view, line))
    finally:
        await client.aclose()
    return view, last


async def request_containment(url: str, token: str, view: IncidentView, by: str,
                              timeout_s: float) -> tuple[ContainmentProposal | None, TaskEvent | None]:
    client = TaskStreamClient(url, token)
    body = json.dumps({"incident": json.loads(view.model_dump_json()), "requested_by": by}).encode()
    proposal, last = None, None
    try:
        async with asyncio.timeout(timeout_s):
            async for event in client.stream([raw_part(body, INCIDENT_MEDIA_TYPE)]):
                last = event
                proposal = _latest(event, CONTAINMENT_MEDIA_TYPE, proposal, ContainmentProposal)
    finally:
        await client.aclose()
    return proposal, last


def _print_proposal(console: Console, proposal: ContainmentProposal, last: TaskEvent) -> None:
    table = Table(title=f"containment {proposal.proposal_id} · {proposal.status}")
    for column in ("step", "action", "target", "status", "reason / detail"):
        table.add_column(column)
    for s in proposal.steps:
        table.add_row(s.step_id, s.action, s.target, s.status, s.detail or s.reason)
    console.print(table)
    if last.state == "input-required":
        console.print(f"awaiting approval: riskmesh containment approve {last.task_id} --context {last.context_id} "
                      "--by <you> [--steps s1,s2]   (or: riskmesh containment reject …)")


def investigate(
    alert: Annotated[str | None, typer.Option(help="investigate this alert (account, customer, device, IP)")] = None,
    ip: Annotated[list[str] | None, typer.Option(help="an IP address (repeat)")] = None,
    account: Annotated[list[str] | None, typer.Option(help="an account id (repeat)")] = None,
    device: Annotated[list[str] | None, typer.Option(help="a device id (repeat)")] = None,
    customer: Annotated[list[str] | None, typer.Option(help="a customer id (repeat)")] = None,
    since: Annotated[str, typer.Option(help="window for indicators, back from now: 30m, 72h, 7d")] = "72h",
    follow: Annotated[bool, typer.Option("--follow", help="live per-agent progress and findings")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print the final IncidentView as one JSON object")] = False,
    propose: Annotated[bool, typer.Option("--propose", help="then ask incident-response for containment")] = False,
    by: Annotated[str | None, typer.Option(help="who asks (default: your login name)")] = None,
    investigator: Annotated[str | None, typer.Option(help="the soc-investigator's base URL")] = None,
    incident_response: Annotated[str | None, typer.Option(help="the incident-response agent's base URL")] = None,
    timeout: Annotated[float, typer.Option(help="give up after this many seconds")] = 30.0,
) -> None:
    """Investigate an alert or indicators with the SOC specialist agents; stream progress; print the incident."""
    settings = Settings()
    token = settings.a2a_token.get_secret_value()
    who = by or getpass.getuser()
    given: dict[IndicatorKind, list[str] | None] = {"ip": ip, "account": account, "device": device,
                                                    "customer": customer}
    indicators = [Indicator(kind=k, value=v) for k, values in given.items() for v in values or []]
    body, media_type = _payload(alert, indicators, since, who)
    url = resolve_agent_url(INVESTIGATOR, investigator)
    console = Console(stderr=as_json)
    view, last = asyncio.run(stream_investigation(url, token, body, media_type, follow=follow and not as_json,
                                                  console=console, timeout_s=timeout))
    if view is None:
        console.print(f"[red]no incident[/]: {last.state + ': ' + last.text if last else 'no answer'}")
        raise typer.Exit(1)
    if as_json:
        typer.echo(view.model_dump_json())
    else:
        console.print(_incident_table(view))
    code = EXIT[view.status]
    if propose and code != 1:
        ir_url = resolve_agent_url(INCIDENT_RESPONSE, incident_response)
        proposal, ir_last = asyncio.run(request_containment(ir_url, token, view, who, timeout))
        if proposal is None or ir_last is None:
            console.print("[red]incident-response sent no proposal[/]")
            raise typer.Exit(1)
        _print_proposal(console, proposal, ir_last)
    raise typer.Exit(code)


async def answer_proposal(url: str, token: str, task_id: str, context_id: str, answer: dict[str, Any],
                          timeout_s: float) -> tuple[ContainmentProposal | None, TaskEvent | None]:
    client = TaskStreamClient(url, token)
    proposal, last = None, None
    try:
        async with asyncio.timeout(timeout_s):
            parts = [raw_part(json.dumps(answer).encode(), "application/json")]
            async for event in client.stream(parts, task_id=task_id, context_id=context_id):
                last = event
                proposal = _latest(event, CONTAINMENT_MEDIA_TYPE, proposal, ContainmentProposal)
    finally:
        await client.aclose()
    return proposal, last


def _answer(task_id: str, context: str, answer: dict[str, Any], incident_response: str | None,
            timeout: float) -> None:
    url = resolve_agent_url(INCIDENT_RESPONSE, incident_response)
    token = Settings().a2a_token.get_secret_value()
    console = Console()
    proposal, last = asyncio.run(answer_proposal(url, token, task_id, context, answer, timeout))
    if proposal is None or last is None:
        console.print(f"[red]no answer[/]: {last.text if last else ''}")
        raise typer.Exit(1)
    _print_proposal(console, proposal, last)
    if last.text:
        console.print(last.text)
    raise typer.Exit(0 if last.state == "completed" else 1)


@containment_app.command()
def approve(
    task_id: Annotated[str, typer.Argument(help="the proposal's task id (printed by investigate --propose)")],
    context: Annotated[str, typer.Option(help="the task's context id (printed with it)")],
    by: Annotated[str, typer.Option(help="the approving SOC engineer")],
    steps: Annotated[str, typer.Option(help="comma-separated step ids, or all")] = "all",
    reason: Annotated[str, typer.Option()] = "",
    incident_response: Annotated[str | None, typer.Option(help="the incident-response agent's base URL")] = None,
    timeout: Annotated[float, typer.Option()] = 60.0,
) -> None:
    """Approve a containment proposal (all or some steps); the approved steps run and are audited."""
    chosen: list[str] | str = "all" if steps.strip() == "all" else [s.strip() for s in steps.split(",") if s.strip()]
    _answer(task_id, context, {"approve": True, "approved_by": by, "steps": chosen, "reason": reason},
            incident_response, timeout)


@containment_app.command()
def reject(
    task_id: Annotated[str, typer.Argument()],
    context: Annotated[str, typer.Option()],
    by: Annotated[str, typer.Option()],
    reason: Annotated[str, typer.Option()] = "",
    incident_response: Annotated[str | None, typer.Option()] = None,
    timeout: Annotated[float, typer.Option()] = 30.0,
) -> None:
    """Reject a containment proposal: no step runs."""
    _answer(task_id, context, {"approve": False, "approved_by": by, "reason": reason}, incident_response, timeout)
