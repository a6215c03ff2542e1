"""Reference data loading: valid lines load, bad lines are logged with file:line and skipped."""

from __future__ import annotations

import logging
from pathlib import Path

from riskmesh.mcp_servers.stores import load_reference_data


def test_valid_lines_of_every_file_are_loaded_into_the_stores(world_dir: Path) -> None:
    data = load_reference_data(world_dir)
    assert data.summary() == {"customers": 2, "accounts": 1, "credit": 2, "watchlist": 3, "devices": 1}
    assert data.customers["C1"].metadata == {"branch": "SH-01"}
    assert str(data.accounts["A1-01"].daily_limit) == "50000"


def test_a_bad_line_is_logged_with_file_and_line_and_skipped(world_dir: Path, caplog) -> None:
    with caplog.at_level(logging.WARNING, logger="riskmesh.mcp.stores"):
        data = load_reference_data(world_dir)
    assert "C9" not in data.customers
    messages = [r.getMessage() for r in caplog.records]
    assert any("customers.jsonl:3: skipped" in m and "type" in m for m in messages), messages
    assert any("accounts.jsonl:2: skipped, invalid JSON" in m for m in messages), messages


def test_missing_files_and_a_missing_world_give_empty_stores(tmp_path: Path) -> None:
    (tmp_path / "customers.jsonl").write_text("", encoding="utf-8")
    assert sum(load_reference_data(tmp_path).summary().values()) == 0
    assert sum(load_reference_data(tmp_path / "nowhere").summary().values()) == 0
    assert sum(load_reference_data(None).summary().values()) == 0
