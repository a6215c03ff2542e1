"""An embedded stack starts with a fresh review store; configured infrastructure keeps its reviews."""

from __future__ import annotations

from pathlib import Path

from riskmesh.contracts.settings import Settings
from riskmesh.orchestrator.stack import Stack


def _store(data_dir: Path) -> Path:
    target = data_dir / "review" / "checkpoints.sqlite"
    target.parent.mkdir(parents=True)
    target.write_bytes(b"old")
    target.with_name("checkpoints.sqlite-wal").write_bytes(b"old")
    return target


def test_an_embedded_stack_drops_the_reviews_an_earlier_embedded_stack_left(tmp_path: Path) -> None:
    target = _store(tmp_path)
    Stack(Settings(data_dir=tmp_path, redis_url=None))._forget_orphaned_reviews()
    assert not target.exists() and not target.with_name("checkpoints.sqlite-wal").exists()


def test_reviews_in_a_configured_redis_deployment_are_kept(tmp_path: Path) -> None:
    target = _store(tmp_path)
    Stack(Settings(data_dir=tmp_path, redis_url="redis://redis.internal:6379/0"))._forget_orphaned_reviews()
    assert target.read_bytes() == b"old"
