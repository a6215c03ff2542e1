"""A Ctrl-C that lands while the launcher forks a child is not lost (Python drops it inside at-fork hooks)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from riskmesh.orchestrator.procs import ChildProcess

_armed: list[bool] = []


def _interrupt_once_after_fork() -> None:
    if _armed:
        _armed.clear()
        raise KeyboardInterrupt  # what a SIGINT does when it arrives during the parent's at-fork hooks


os.register_at_fork(after_in_parent=_interrupt_once_after_fork)  # inert unless a test arms it


def test_an_interrupt_dropped_in_an_at_fork_hook_surfaces_and_the_child_is_stopped(tmp_path: Path) -> None:
    child = ChildProcess("sleeper", ["sleep", "30"], tmp_path / "sleeper.log")
    _armed.append(True)
    with pytest.raises(KeyboardInterrupt):
        child.start()
    assert child.proc is not None and not child.alive()  # forked, then stopped: nobody else knows of it


def test_a_start_without_interrupt_runs_the_child(tmp_path: Path) -> None:
    child = ChildProcess("sleeper", ["sleep", "30"], tmp_path / "sleeper.log").start()
    try:
        assert child.alive()
    finally:
        child.stop()
