"""Smoke test of the browser harness: a tiny Starlette page driven by headless Chromium."""

from __future__ import annotations

from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse
from starlette.routing import Route

SPEC = Path(__file__).with_name("smoke_spec.mjs")

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>riskmesh smoke</title><link rel="icon" href="data:,"></head>
<body>
  <form id="login" onsubmit="return false">
    <input id="username" name="username" autocomplete="off">
    <input id="password" name="password" type="password">
    <button id="go" type="button">Sign in</button>
  </form>
  <p id="status">signed out</p>
  <script>
    document.getElementById('go').addEventListener('click', async () => {
      const username = document.getElementById('username').value;
      const resp = await fetch('/api/login', {
        method: 'POST', headers: {'content-type': 'application/json'},
        body: JSON.stringify({username, password: document.getElementById('password').value}),
      });
      const body = await resp.json();
      document.getElementById('status').textContent = body.ok ? 'Hello, ' + body.username : 'denied';
    });
  </script>
</body></html>
"""


def make_app(logins: list[str]) -> Starlette:
    async def index(request: Request) -> HTMLResponse:
        return HTMLResponse(PAGE)

    async def login(request: Request) -> JSONResponse:
        body = await request.json()
        ok = body.get("password") == "s3cret"
        if ok:
            logins.append(body["username"])
        return JSONResponse({"ok": ok, "username": body.get("username")})

    return Starlette(routes=[Route("/", index), Route("/api/login", login, methods=["POST"])])


def test_fill_click_and_wait_for_text(asgi_server, run_browser_script):
    logins: list[str] = []
    base_url = asgi_server(make_app(logins))

    result = run_browser_script(
        SPEC, {"BASE_URL": base_url, "SMOKE_USER": "analyst1", "SMOKE_PASSWORD": "s3cret"}, timeout_s=30
    )

    assert result.data == {"ok": True, "spec": "smoke", "status": "Hello, analyst1", "title": "riskmesh smoke"}
    assert logins == ["analyst1"]  # backend state seen by the Python side after the browser run
