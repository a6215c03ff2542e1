"""`deploy_policy` / `riskmesh policy deploy`: validate, make active, and chain a `policy.changed` audit event."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from riskmesh.agents.policy_file import configured_policies
from riskmesh.contracts.settings import Settings
from riskmesh.orchestrator.audit import MemoryAuditLog, RedisAuditLog
from riskmesh.orchestrator.policy_commands import policy_app
from riskmesh.orchestrator.policy_deploy import PolicyDeployError, deploy_policy

SHIPPED = Path(__file__).resolve().parents[3] / "policies" / "policy-1.yaml"


def version(tmp_path: Path, name: str, text_changes: dict[str, str]) -> Path:
    text = SHIPPED.read_text()
    for old, new in text_changes.items():
        assert old in text
        text = text.replace(old, new)
    path = tmp_path / f"{name}.yaml"
    path.write_text(text)
    return path


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", _env_file=None)


def test_deploy_makes_the_file_active_and_writes_the_audit_event(tmp_path: Path, settings: Settings) -> None:
    log = MemoryAuditLog()
    first = deploy_policy(SHIPPED, "alice", log, settings)
    assert first == {"ok": True, "changed": True, "old_version": None, "new_version": "policy-1",
                     "target": str(settings.active_policy_path), "changes": 0, "audit_seq": 1}
    two = version(tmp_path, "policy-2", {"version: policy-1": "version: policy-2",
                                         "review_threshold: 0.12": "review_threshold: 0.1"})
    second = deploy_policy(two, "bob", log, settings)
    assert (second["old_version"], second["new_version"], second["changes"]) == ("policy-1", "policy-2", 2)
    assert settings.active_policy_path.read_bytes() == two.read_bytes()
    assert configured_policies(settings)[0].version == "policy-2", "agents pick up the deployed file at start"
    event = log.recent(1)[0]
    assert (event.actor, event.action, event.subject) == ("bob", "policy.changed", "policy:active")
    assert event.details["old_version"] == "policy-1" and event.details["new_version"] == "policy-2"
    assert {"path": "review_threshold", "a": 0.12, "b": 0.1} in event.details["diff"]
    assert len(event.details["sha256"]) == 64
    assert log.verify().ok


def test_an_invalid_policy_is_refused_and_nothing_changes(tmp_path: Path, settings: Settings) -> None:
    log = MemoryAuditLog()
    bad = version(tmp_path, "bad", {"review_threshold: 0.12": "review_threshold: 0.999"})
    with pytest.raises(PolicyDeployError) as refused:
        deploy_policy(bad, "alice", log, settings)
    assert refused.value.errors[0]["field"] == "review_threshold"
    assert not settings.active_policy_path.exists()
    assert log.recent() == []


def test_a_changed_policy_that_kept_its_version_is_refused(tmp_path: Path, settings: Settings) -> None:
    log = MemoryAuditLog()
    deploy_policy(SHIPPED, "alice", log, settings)
    same_version = version(tmp_path, "sneaky", {"review_threshold: 0.12": "review_threshold: 0.2"})
    with pytest.raises(PolicyDeployError, match="keeps its version"):
        deploy_policy(same_version, "mallory", log, settings)
    assert settings.active_policy_path.read_bytes() == SHIPPED.read_bytes()
    assert len(log.recent()) == 1


def test_redeploying_the_active_policy_is_a_no_op_without_an_event(settings: Settings) -> None:
    log = MemoryAuditLog()
    deploy_policy(SHIPPED, "alice", log, settings)
    again = deploy_policy(SHIPPED, "alice", log, settings)
    assert (again["changed"], again["audit_seq"]) == (False, None)
    assert len(log.recent()) == 1


def test_a_failed_audit_append_leaves_the_active_policy_unchanged(tmp_path: Path, settings: Settings) -> None:
    class BrokenLog(MemoryAuditLog):
        def append(self, *args, **kwargs):
            raise ConnectionError("redis down")

    deploy_policy(SHIPPED, "alice", MemoryAuditLog(), settings)
    two = version(tmp_path, "policy-2", {"version: policy-1": "version: policy-2"})
    with pytest.raises(ConnectionError):
        deploy_policy(two, "bob", BrokenLog(), settings)
    assert settings.active_policy_path.read_bytes() == SHIPPED.read_bytes()
    assert [p.name for p in settings.active_policy_path.parent.iterdir()] == ["active.yaml"]


def test_an_actor_is_required(settings: Settings) -> None:
    with pytest.raises(PolicyDeployError, match="actor"):
        deploy_policy(SHIPPED, " ", MemoryAuditLog(), settings)


def test_cli_deploy_appends_to_the_audit_trail_at_the_given_redis(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    log, urls = MemoryAuditLog(), []
    monkeypatch.setattr(RedisAuditLog, "from_url", classmethod(lambda cls, url, key="riskmesh:audit": (
        urls.append(url), log)[1]))
    monkeypatch.setenv("RISKMESH_DATA_DIR", str(tmp_path / "data"))
    result = CliRunner().invoke(policy_app, ["deploy", str(SHIPPED), "--actor", "alice", "--redis-url", "redis://x"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["new_version"] == "policy-1"
    assert urls == ["redis://x"]
    [event] = log.recent()
    assert (event.actor, event.action) == ("alice", "policy.changed")
    assert (tmp_path / "data" / "policies" / "active.yaml").exists()


def test_cli_deploy_of_an_invalid_file_exits_1(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(RedisAuditLog, "from_url", classmethod(lambda cls, url, key="riskmesh:audit": MemoryAuditLog()))
    monkeypatch.setenv("RISKMESH_DATA_DIR", str(tmp_path / "data"))
    bad = version(tmp_path, "bad", {"version: policy-1": "version: ''"})
    result = CliRunner().invoke(policy_app, ["deploy", str(bad), "--actor", "alice", "--redis-url", "redis://x"])
    assert result.exit_code == 1
    assert json.loads(result.output)["errors"][0]["field"] == "version"
