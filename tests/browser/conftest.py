"""Fixtures for browser tests (headless Debian Chromium + playwright-core); see browser_harness.py.

Browser tests never skip: if Chromium, Node or playwright-core is unavailable, every collected
browser test fails (errors at setup) with a message saying what is missing and how to install it.
Deselect them explicitly if you must run without a browser: ``pytest --ignore=tests/browser``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from browser_harness import BrowserHarnessError, BrowserToolchain, ensure_toolchain, run_browser_script, serve_asgi


@pytest.fixture(scope="session")
def browser_toolchain() -> BrowserToolchain:
    """Chromium path + playwright-core node_modules (installed into build/node on first use)."""
    try:
        return ensure_toolchain()
    except BrowserHarnessError as exc:
        problem = str(exc)
    pytest.fail(problem, pytrace=False)  # outside the except: no chained traceback in the report


@pytest.fixture(name="run_browser_script")
def run_browser_script_fixture(browser_toolchain: BrowserToolchain) -> Callable[..., Any]:
    """``run_browser_script(script_path, env, timeout_s=60, *, check=True) -> BrowserResult``."""
    return run_browser_script


@pytest.fixture
def asgi_server() -> Iterator[Callable[[Any], str]]:
    """``base_url = asgi_server(app)``: serve an ASGI app on 127.0.0.1:<free port> until the test ends."""
    with contextlib.ExitStack() as stack:
        yield lambda app: stack.enter_context(serve_asgi(app))
