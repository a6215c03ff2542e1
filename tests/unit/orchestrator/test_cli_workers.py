"""`--workers` of up, run and bench stream: at least one; left out, the configured RISKMESH_WORKERS."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from riskmesh.orchestrator.cli import app


@pytest.mark.parametrize("command", [["up"], ["run"], ["bench", "stream"]])
def test_zero_workers_is_refused_with_a_message_before_anything_starts(command: list[str]) -> None:
    result = CliRunner().invoke(app, [*command, "--workers", "0"])
    assert result.exit_code == 2
    assert "--workers" in result.output
