"""Harness for browser tests: headless Debian Chromium driven by playwright-core from Node.

A browser test is a Python test plus a Node spec (``*.mjs``, next to the test). The Python side
starts the app (``serve_asgi``), runs the spec with ``run_browser_script`` and then checks backend
state; the spec drives the page through ``tests/browser/lib.mjs`` and prints one final JSON line.

Nothing here skips: a browser test that is collected and cannot get Chromium, Node or
playwright-core FAILS with a message saying what is missing and how to install it.

- Chromium: ``$RISKMESH_CHROMIUM`` if set, else ``chromium`` on PATH (Debian's package, installed
  by ``.ci/run`` and by ``make test`` when run as root). playwright-core never downloads a browser.
- playwright-core: pinned to ``PLAYWRIGHT_CORE_VERSION``; installed on first use with
  ``npm install --prefix build/node`` (gitignored, kept between runs).
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

# Verified with Debian's Chromium 156.0.8078.79 (bookworm): launch, fill, click, screenshot.
PLAYWRIGHT_CORE_VERSION = "1.65.1"

REPO_ROOT = Path(__file__).resolve().parents[2]
BROWSER_TESTS_DIR = Path(__file__).resolve().parent
NODE_PREFIX = REPO_ROOT / "build" / "node"
NODE_MODULES = NODE_PREFIX / "node_modules"
ARTIFACTS_DIR = REPO_ROOT / "build" / "browser-artifacts"

NPM_INSTALL_TIMEOUT_S = 300.0
_OUTPUT_TAIL_LINES = 200

INSTALL_HINT = (
    "Browser tests need Debian's Chromium. Install it with\n"
    "    apt-get update && apt-get install -y --no-install-recommends chromium\n"
    "(.ci/run does this, and `make test` does it when run as root), or point RISKMESH_CHROMIUM at a\n"
    "Chromium/Chrome binary."
)


class BrowserHarnessError(RuntimeError):
    """The browser toolchain (Chromium, Node, npm, playwright-core) is missing or broken."""


@dataclasses.dataclass(frozen=True)
class BrowserResult:
    """What a spec run produced. ``data`` is the final JSON line the spec printed."""

    returncode: int
    data: dict[str, Any]
    stdout: str
    stderr: str
    duration_s: float

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and self.data.get("ok") is True

    def __getitem__(self, key: str) -> Any:
        return self.data[key]


# --------------------------------------------------------------------------- toolchain


def find_chromium() -> str:
    """Path of the Chromium binary, or BrowserHarnessError with install instructions."""
    override = os.environ.get("RISKMESH_CHROMIUM")
    if override:
        if not (os.path.isfile(override) and os.access(override, os.X_OK)):
            raise BrowserHarnessError(f"RISKMESH_CHROMIUM={override!r} is not an executable file.\n{INSTALL_HINT}")
        return override
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    raise BrowserHarnessError(f"Chromium not found on PATH.\n{INSTALL_HINT}")


NODE_PACKAGES: dict[str, str] = {
    "playwright-core": PLAYWRIGHT_CORE_VERSION,
    "@a2a-js/sdk": "1.3.0",  # the official A2A JavaScript client, for the gateway's interoperability test
}
"""Every npm package the tests use, pinned. They are installed together: `npm install` into a prefix without
a package.json prunes what the command does not name, so installing one alone would remove the others."""


def _installed_version(package: str) -> str | None:
    try:
        meta = json.loads((NODE_MODULES / package / "package.json").read_text())
    except (OSError, ValueError):
        return None
    version = meta.get("version")
    return version if isinstance(version, str) else None


def _all_installed() -> bool:
    return all(_installed_version(name) == version for name, version in NODE_PACKAGES.items())


def ensure_node_packages() -> Path:
    """Install the pinned NODE_PACKAGES into build/node if any is missing; return node_modules."""
    if _all_installed():
        return NODE_MODULES
    npm = shutil.which("npm")
    if shutil.which("node") is None or npm is None:
        raise BrowserHarnessError("Node tests need Node.js and npm on PATH (Debian: apt-get install -y nodejs npm).")
    NODE_PREFIX.mkdir(parents=True, exist_ok=True)
    # A lock so that parallel pytest processes do not run npm into the same prefix at once.
    with open(NODE_PREFIX / ".install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _all_installed():
            return NODE_MODULES
        cmd = [
            npm,
            "install",
            "--prefix",
            str(NODE_PREFIX),
            "--no-save",
            "--no-package-lock",
            "--no-audit",
            "--no-fund",
            "--loglevel=error",
            *(f"{name}@{version}" for name, version in NODE_PACKAGES.items()),
        ]
        # Belt and braces: playwright-core has no install script, but never let it fetch a browser.
        env = {**os.environ, "PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD": "1"}
        try:
            proc = subprocess.run(
                cmd, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=NPM_INSTALL_TIMEOUT_S, check=False
            )
        except subprocess.TimeoutExpired as exc:
            raise BrowserHarnessError(f"`{' '.join(cmd)}` timed out after {NPM_INSTALL_TIMEOUT_S:.0f}s") from exc
        if proc.returncode != 0 or not _all_installed():
            found = {name: _installed_version(name) for name in NODE_PACKAGES}
            raise BrowserHarnessError(
                f"`{' '.join(cmd)}` failed (exit {proc.returncode}, installed {found}).\n"
                f"--- npm stdout ---\n{proc.stdout}\n--- npm stderr ---\n{proc.stderr}"
            )
    return NODE_MODULES


ensure_playwright_core = ensure_node_packages


@dataclasses.dataclass(frozen=True)
class BrowserToolchain:
    chromium: str
    node_modules: Path


_toolchain: BrowserToolchain | None = None


def ensure_toolchain() -> BrowserToolchain:
    """Chromium + playwright-core, checked/installed once per process."""
    global _toolchain
    if _toolchain is None:
        chromium = find_chromium()
        _toolchain = BrowserToolchain(chromium=chromium, node_modules=ensure_playwright_core())
    return _toolchain


# --------------------------------------------------------------------------- running specs


def _pump(stream: Any, sink: list[str], echo: Any) -> None:
    # Live echo only when pytest's capture is off (-s); otherwise the output would appear twice on
    # failure (captured section + the failure message, which always carries it).
    live = echo is sys.__stdout__ or echo is sys.__stderr__
    for line in iter(stream.readline, ""):
        sink.append(line)
        if live:
            with contextlib.suppress(Exception):
                echo.write(line)
                echo.flush()
    stream.close()


def _tail(text: str) -> str:
    lines = text.splitlines()
    if len(lines) > _OUTPUT_TAIL_LINES:
        lines = [f"... ({len(lines) - _OUTPUT_TAIL_LINES} earlier lines cut)", *lines[-_OUTPUT_TAIL_LINES:]]
    return "\n".join(lines)


def _last_json_line(stdout: str) -> dict[str, Any] | None:
    for line in reversed(stdout.splitlines()):
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            value = json.loads(line)
        except ValueError:
            continue
        if isinstance(value, dict):
            return value
    return None


def run_browser_script(
    script_path: str | os.PathLike[str],
    env: Mapping[str, Any] | None = None,
    timeout_s: float = 60.0,
    *,
    check: bool = True,
) -> BrowserResult:
    """Run ``node <script_path>`` against headless Chromium and return its final JSON line.

    ``env`` is added to the process environment (values are str()-ed): base URL, usernames,
    passwords... The harness also sets NODE_PATH (build/node/node_modules), CHROMIUM_PATH,
    BROWSER_ARTIFACTS_DIR (build/browser-artifacts) and BROWSER_TEST_NAME (the current pytest test).

    With ``check`` (the default) the test FAILS, with the spec's stdout and stderr in the message,
    when the script exits non-zero, times out, prints no final JSON object, or that object lacks
    ``"ok": true``. With ``check=False`` the result is returned as is (a timeout still fails).
    """
    try:
        toolchain = ensure_toolchain()
    except BrowserHarnessError as exc:
        problem = str(exc)
    else:
        problem = None
    if problem is not None:
        pytest.fail(problem, pytrace=False)
    script = Path(script_path).resolve()
    if not script.is_file():
        pytest.fail(f"browser spec not found: {script}", pytrace=False)
    ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)

    test_name = os.environ.get("PYTEST_CURRENT_TEST", script.stem).split(" ")[0]
    node_path = os.pathsep.join(p for p in (str(toolchain.node_modules), os.environ.get("NODE_PATH", "")) if p)
    proc_env = {
        **os.environ,
        "NODE_PATH": node_path,
        "CHROMIUM_PATH": toolchain.chromium,
        "BROWSER_ARTIFACTS_DIR": str(ARTIFACTS_DIR),
        "BROWSER_TEST_NAME": test_name,
        "PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD": "1",
    }
    proc_env.update({k: str(v) for k, v in (env or {}).items()})

    cmd = ["node", str(script)]
    started = time.monotonic()
    proc = subprocess.Popen(  # own process group: on timeout we kill node *and* its Chromium
        cmd,
        cwd=script.parent,
        env=proc_env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        errors="replace",
        start_new_session=True,
    )
    out_lines: list[str] = []
    err_lines: list[str] = []
    pumps = [
        threading.Thread(target=_pump, args=(proc.stdout, out_lines, sys.stdout), daemon=True),
        threading.Thread(target=_pump, args=(proc.stderr, err_lines, sys.stderr), daemon=True),
    ]
    for t in pumps:
        t.start()
    timed_out = False
    try:
        proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        timed_out = True
    finally:
        if proc.poll() is None or timed_out:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        else:
            # node exited; make sure no stray Chromium of its group outlives it
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
        for t in pumps:
            t.join(timeout=5)
    duration = time.monotonic() - started
    stdout, stderr = "".join(out_lines), "".join(err_lines)
    data = _last_json_line(stdout)
    result = BrowserResult(
        returncode=proc.returncode, data=data or {}, stdout=stdout, stderr=stderr, duration_s=duration
    )

    problem = None
    if timed_out:
        problem = f"timed out after {timeout_s:.0f}s (killed)"
    elif check and data is None:
        problem = f"exited {proc.returncode} without printing a final JSON object line"
    elif check and not result.ok:
        problem = f"exited {proc.returncode} with result {json.dumps(data)}"
    if problem:
        pytest.fail(
            f"browser spec {script.name} {problem} after {duration:.1f}s\n"
            f"--- command ---\n{' '.join(cmd)}  (cwd {script.parent})\n"
            f"--- stdout ---\n{_tail(stdout)}\n--- stderr ---\n{_tail(stderr)}\n"
            f"(screenshots, if any: {ARTIFACTS_DIR})",
            pytrace=False,
        )
    return result


# --------------------------------------------------------------------------- serving an app


@contextlib.contextmanager
def serve_asgi(app: Any, *, host: str = "127.0.0.1", startup_timeout_s: float = 10.0) -> Iterator[str]:
    """Serve an ASGI app (e.g. Starlette) with uvicorn in a thread on a free port; yield its base URL."""
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="auto", ws="none")
    server = uvicorn.Server(config)
    errors: list[BaseException] = []

    def _run() -> None:
        try:
            server.run(sockets=[sock])
        except BaseException as exc:  # reported to the test below, not lost in the thread
            errors.append(exc)

    thread = threading.Thread(target=_run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + startup_timeout_s
    while not server.started:
        if errors or not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            sock.close()
            raise RuntimeError(f"uvicorn did not start on {host}:{port}: {errors[0] if errors else 'timeout'}")
        time.sleep(0.02)
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
        if errors:
            raise RuntimeError(f"uvicorn on {host}:{port} crashed") from errors[0]
