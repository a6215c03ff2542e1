"""Conformance suite for the hash-chained audit trail: every backend must pass the same tests."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis
from typer.testing import CliRunner

from riskmesh.contracts.audit import GENESIS_HASH, AuditEvent, compute_hash
from riskmesh.orchestrator.audit import AuditLog, MemoryAuditLog, RedisAuditLog, audit_app


@pytest.fixture(scope="session")
def redis_url(redis_server_url: str) -> str:
    """The session's private redis-server (tests/conftest.py)."""
    return redis_server_url


@dataclass
class Backend:
    """An audit log plus raw access to its storage, so tests can play the attacker."""

    log: AuditLog
    memory: list[str] | None = None
    client: redis.Redis | None = None
    key: str = ""

    def raw(self) -> list[str]:
        if self.memory is not None:
            return list(self.memory)
        assert self.client is not None
        return [r.decode() for r in self.client.lrange(self.key, 0, -1)]

    def overwrite(self, raws: list[str]) -> None:
        if self.memory is not None:
            self.memory[:] = raws
            return
        assert self.client is not None
        self.client.delete(self.key)
        if raws:
            self.client.rpush(self.key, *raws)

    def set_at(self, index: int, raw: str) -> None:
        rows = self.raw()
        rows[index] = raw
        self.overwrite(rows)


@pytest.fixture(params=["memory", "redis"])
def backend(request: pytest.FixtureRequest) -> Iterator[Backend]:
    if request.param == "memory":
        log = MemoryAuditLog()
        yield Backend(log, memory=log._raw)
        return
    url = request.getfixturevalue("redis_url")
    client = redis.Redis.from_url(url)
    key = f"test:audit:{request.node.name}"
    client.delete(key)
    yield Backend(RedisAuditLog(client, key), client=client, key=key)
    client.delete(key)
    client.close()


def _fill(log: AuditLog, n: int = 5) -> list[AuditEvent]:
    actions = ["decision.made", "alert.claimed", "control.applied", "policy.changed"]
    return [log.append(f"analyst-{i}", actions[i % 4], f"tx:T-{i}", {"i": i, "note": "ok"}) for i in range(n)]


def _tampered(raw: str, **changes: Any) -> str:
    fields = json.loads(raw)
    fields.update(changes)
    return json.dumps(fields)


def test_events_are_numbered_from_one_and_each_links_to_the_previous_hash(backend: Backend) -> None:
    events = _fill(backend.log, 3)
    assert [e.seq for e in events] == [1, 2, 3]
    assert events[0].prev_hash == GENESIS_HASH
    assert events[1].prev_hash == events[0].hash
    assert all(e.hash == compute_hash(e.model_dump(mode="json")) for e in events)
    assert list(backend.log.events()) == events
    assert [e.seq for e in backend.log.events(start_seq=2)] == [2, 3]


def test_an_untouched_log_verifies(backend: Backend) -> None:
    _fill(backend.log, 6)
    result = backend.log.verify()
    assert (result.ok, result.checked, result.first_bad_seq) == (True, 6, None)


def test_an_empty_log_verifies(backend: Backend) -> None:
    assert backend.log.verify().ok


def test_altering_one_stored_events_details_makes_verify_fail_naming_that_seq(backend: Backend) -> None:
    _fill(backend.log, 5)
    backend.set_at(2, _tampered(backend.raw()[2], details={"i": 2, "note": "approved after all"}))
    result = backend.log.verify()
    assert (result.ok, result.first_bad_seq, result.reason, result.checked) == (False, 3, "hash mismatch", 2)


def test_altering_an_event_and_recomputing_its_hash_breaks_the_next_link(backend: Backend) -> None:
    _fill(backend.log, 4)
    fields = json.loads(backend.raw()[1]) | {"actor": "someone-else"}
    backend.set_at(1, json.dumps(fields | {"hash": compute_hash(fields)}))
    result = backend.log.verify()
    assert (result.ok, result.first_bad_seq) == (False, 3)
    assert result.reason.startswith("broken link")


def test_deleting_an_event_is_a_gap_in_sequence(backend: Backend) -> None:
    _fill(backend.log, 5)
    rows = backend.raw()
    backend.overwrite(rows[:1] + rows[2:])
    result = backend.log.verify()
    assert (result.ok, result.first_bad_seq) == (False, 3)
    assert result.reason.startswith("gap in sequence")


def test_reordering_events_breaks_the_link(backend: Backend) -> None:
    _fill(backend.log, 5)
    rows = backend.raw()
    rows[1], rows[2] = rows[2], rows[1]
    backend.overwrite(rows)
    result = backend.log.verify()
    assert (result.ok, result.first_bad_seq) == (False, 3)
    assert result.reason.startswith("broken link")


def test_an_unreadable_event_is_named_by_its_position(backend: Backend) -> None:
    _fill(backend.log, 3)
    backend.set_at(1, "not json")
    result = backend.log.verify()
    assert (result.ok, result.first_bad_seq) == (False, 2)
    assert result.reason.startswith("unreadable")


def test_export_writes_one_json_line_per_event(backend: Backend, tmp_path: Path) -> None:
    events = _fill(backend.log, 4)
    out = tmp_path / "audit.jsonl"
    assert backend.log.export(out) == 4
    lines = out.read_text().splitlines()
    assert [AuditEvent.model_validate_json(line) for line in lines] == events


def test_concurrent_appends_from_two_threads_keep_one_unbroken_chain(backend: Backend) -> None:
    per_thread = 50
    barrier = threading.Barrier(2)

    def writer(name: str) -> None:
        barrier.wait(timeout=10)
        for i in range(per_thread):
            backend.log.append(name, "decision.made", f"tx:{name}-{i}", {})

    threads = [threading.Thread(target=writer, args=(n,)) for n in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not any(t.is_alive() for t in threads)
    result = backend.log.verify()
    assert (result.ok, result.checked) == (True, 2 * per_thread)


def test_cli_verify_passes_then_fails_naming_the_seq_after_lset(redis_url: str, tmp_path: Path) -> None:
    client = redis.Redis.from_url(redis_url)
    key = "test:audit:cli"
    client.delete(key)
    try:
        _fill(RedisAuditLog(client, key), 4)
        runner = CliRunner()
        args = ["--redis-url", redis_url, "--key", key]

        ok = runner.invoke(audit_app, ["verify", *args])
        assert ok.exit_code == 0, ok.output
        assert json.loads(ok.output) == {"ok": True, "checked": 4, "first_bad_seq": None, "reason": ""}

        out = tmp_path / "export.jsonl"
        exported = runner.invoke(audit_app, ["export", "--out", str(out), *args])
        assert exported.exit_code == 0, exported.output
        assert len(out.read_text().splitlines()) == 4

        client.lset(key, 1, _tampered(client.lindex(key, 1).decode(), subject="tx:someone-else"))
        bad = runner.invoke(audit_app, ["verify", *args])
        assert bad.exit_code == 1
        report = json.loads(bad.output)
        assert (report["ok"], report["first_bad_seq"], report["reason"]) == (False, 2, "hash mismatch")
    finally:
        client.delete(key)
        client.close()
