"""`riskmesh investigate` against real local agents: --json prints the final incident; --propose then approve."""

from __future__ import annotations

import asyncio
import json
import re

import typer
from soc_investigation_doubles import TOKEN, FakeTools, Serve, free_port, serve_specialist, three_specialists
from test_soc_investigator_a2a import start_investigator
from typer.testing import CliRunner

from riskmesh.a2a.soc_agents import INCIDENT_RESPONSE, build_incident_response_executor, build_soc_app, soc_card
from riskmesh.contracts.investigation import IncidentView
from riskmesh.orchestrator.investigate import containment_app, investigate, resolve_agent_url

cli = typer.Typer()
cli.command()(investigate)
cli.add_typer(containment_app, name="containment")


def run(*args: str) -> object:
    return CliRunner().invoke(cli, ["investigate", *args] if args[0] != "containment" else list(args),
                              env={"RISKMESH_A2A_TOKEN": TOKEN, "COLUMNS": "200"})


async def test_json_prints_the_final_incident_view_and_exits_zero(serve: Serve) -> None:
    urls = [await serve_specialist(serve, f) for f in three_specialists()]
    investigator = await start_investigator(serve, urls)
    result = await asyncio.to_thread(run, "--alert", "AL-1", "--json", "--investigator", investigator)
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    view = IncidentView.model_validate_json(result.stdout.strip().splitlines()[-1])  # type: ignore[attr-defined]
    assert view.status == "complete" and len(view.timeline) == 4 and view.affected_accounts == ["A-1"]


async def test_indicators_follow_and_propose_print_the_proposal_then_approve_runs_it(serve: Serve) -> None:
    fakes = three_specialists()
    urls = [await serve_specialist(serve, f) for f in fakes]
    investigator = await start_investigator(serve, urls)
    tools = FakeTools()
    port = free_port()
    ir = await serve(build_soc_app(build_incident_response_executor(tools, None),
                                   soc_card(INCIDENT_RESPONSE, f"http://127.0.0.1:{port}/", "t"), TOKEN), port)
    result = await asyncio.to_thread(run, "--ip", "203.0.113.9", "--account", "A-1", "--since", "72h", "--follow",
                                     "--propose", "--by", "sol", "--investigator", investigator,
                                     "--incident-response", ir)
    out = result.output  # type: ignore[attr-defined]
    assert result.exit_code == 0, out  # type: ignore[attr-defined]
    assert "203.0.113.9" in out and "malicious" in out and "awaiting approval" in out
    assert tools.calls == []
    sent = json.loads(fakes[0].requests[0])
    assert {(i["kind"], i["value"]) for i in sent["indicators"]} == {("ip", "203.0.113.9"), ("account", "A-1")}
    task_id, context = re.search(r"approve (\S+) --context (\S+)", out).groups()  # type: ignore[union-attr]
    approved = await asyncio.to_thread(run, "containment", "approve", task_id, "--context", context, "--by", "sol",
                                       "--steps", "s1", "--incident-response", ir)
    assert approved.exit_code == 0, approved.output  # type: ignore[attr-defined]
    assert [(s, t) for s, t, _ in tools.calls] == [("soc-telemetry", "block_ip")]


def test_the_agent_url_comes_from_the_stack_file_when_not_given(tmp_path: object) -> None:
    path = tmp_path / "stack.json"  # type: ignore[operator]
    path.write_text(json.dumps({"kafka": "k", "redis": "r", "soc_agents": {"soc-investigator": "http://x:1/"}}))
    assert resolve_agent_url("soc-investigator", None, path) == "http://x:1/"
    assert resolve_agent_url("soc-investigator", "http://given/", path) == "http://given/"
