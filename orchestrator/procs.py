"""Child processes that never outlive their parent, and free loopback ports."""

from __future__ import annotations

import contextlib
import ctypes
import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

__all__ = ["ChildProcess", "configure_logging", "free_port", "run_until_signalled", "wait_until"]

_PR_SET_PDEATHSIG = 1


_LISTEN_PORTS = (20000, 32000)
"""Where listening ports are picked: below Linux's ephemeral range (32768-60999 by default), so that no
outgoing connection (a Kafka or Redis client of a sibling process) takes the port between the moment it is
picked here and the moment the child binds it. A port picked by the OS (bind to 0) has exactly that race."""
_handed_out: set[int] = set()


def free_port(host: str = "127.0.0.1") -> int:
    """A port free on `host` now, below the ephemeral range, and never handed out twice by this process."""
    rng = random.Random()
    for _ in range(500):
        port = rng.randint(*_LISTEN_PORTS)
        if port in _handed_out:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind((host, port))
            except OSError:
                continue
        _handed_out.add(port)
        return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:  # range exhausted: let the OS pick
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def port_open(host: str, port: int, timeout: float = 0.2) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_until(check: Callable[[], bool], timeout_s: float, what: str, interval_s: float = 0.05) -> None:
    """Poll `check` until it is true; raise TimeoutError naming `what` after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(interval_s)
    raise TimeoutError(f"{what} not ready after {timeout_s:.0f}s")


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    os.setsid()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


@contextlib.contextmanager
def _surfacing_interrupts() -> Iterator[None]:
    """Re-raise a Ctrl-C (or SIGTERM made KeyboardInterrupt) that Python dropped while we forked.

    With a `preexec_fn`, Python runs its at-fork hooks in the parent (logging's `_releaseLock`). A signal that
    lands then raises KeyboardInterrupt inside the hook, where it is reported as "Exception ignored" and
    dropped: the launcher went on starting the stack and then waited for a Ctrl-C it had already received.
    """
    dropped: list[BaseException] = []
    previous = sys.unraisablehook

    def keep(unraisable: Any) -> None:
        if isinstance(unraisable.exc_value, KeyboardInterrupt):
            dropped.append(unraisable.exc_value)
        else:
            previous(unraisable)

    sys.unraisablehook = keep
    try:
        yield
    finally:
        sys.unraisablehook = previous
    if dropped:
        raise KeyboardInterrupt from dropped[0]


class ChildProcess:
    """A subprocess in its own session that receives SIGTERM if its parent dies, with its log in a file."""

    def __init__(self, name: str, argv: Sequence[str], log_path: Path, env: dict[str, str] | None = None) -> None:
        self.name = name
        self.argv = list(argv)
        self.log_path = log_path
        self.env = env
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> ChildProcess:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")  # noqa: SIM115 - the child owns it for its lifetime
        try:
            with _surfacing_interrupts():
                self.proc = subprocess.Popen(
                    self.argv,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    env={**os.environ, **(self.env or {})},
                    preexec_fn=_die_with_parent,
                    close_fds=True,
                )
        except KeyboardInterrupt:
            if self.proc is not None:  # forked before the interrupt surfaced: the caller never sees this child
                self.stop()
            raise
        finally:
            log.close()
        return self

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def kill(self) -> None:
        """SIGKILL the whole process group at once (used by failure tests)."""
        if self.alive() and self.proc is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self, timeout_s: float = 8.0) -> None:
        """SIGTERM the process group, then SIGKILL what is left after `timeout_s`."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)  # stragglers the child forked


def python_module(module: str, *args: str) -> list[str]:
    return [sys.executable, "-m", module, *args]


def configure_logging(level: str, *noisy: str) -> None:
    """A service process's logging: one format, and chatty libraries held at WARNING."""
    import logging

    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    for name in noisy:
        logging.getLogger(name).setLevel(logging.WARNING)


def run_until_signalled(serve: Callable[[Any], Awaitable[None]]) -> None:
    """Run `serve(stop)` in a fresh uvloop event loop; SIGTERM or SIGINT sets the `asyncio.Event` it watches.

    uvloop: these processes spend much of their CPU in the loop itself (callbacks, socket reads and writes
    for gRPC, Redis and HTTP), which uvloop runs in C (docs/performance.md).
    """
    import asyncio

    import uvloop

    async def _amain() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await serve(stop)

    with contextlib.suppress(KeyboardInterrupt):
        uvloop.run(_amain())
