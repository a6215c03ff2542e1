"""A small client of the analyst console's JSON API, as a logged-in user (session cookie + CSRF header)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx

DEMO_PASSWORD = "riskmesh-demo"


class ConsoleClient:
    def __init__(self, base_url: str, username: str, password: str = DEMO_PASSWORD) -> None:
        self.http = httpx.Client(base_url=base_url.rstrip("/"), timeout=30)
        reply = self.http.post("/api/login", json={"username": username, "password": password})
        assert reply.status_code == 200, reply.text
        self.csrf = reply.json()["csrf_token"]
        self.username = username

    def get(self, path: str, **params: Any) -> Any:
        reply = self.http.get(path, params={k: v for k, v in params.items() if v is not None})
        assert reply.status_code == 200, f"GET {path}: {reply.status_code} {reply.text}"
        return reply.json()

    def post(self, path: str, body: dict[str, Any] | None = None, expect: int = 200) -> Any:
        reply = self.http.post(path, json=body or {}, headers={"x-csrf-token": self.csrf})
        assert reply.status_code == expect, f"POST {path}: {reply.status_code} {reply.text}"
        return reply.json()

    def queue(self, **params: Any) -> dict[str, Any]:
        result: dict[str, Any] = self.get("/api/queue", **params)
        return result

    def close(self) -> None:
        self.http.close()


def poll(condition: Callable[[], Any], timeout_s: float, interval_s: float = 0.1, what: str = "condition") -> Any:
    """Call `condition` until it returns something truthy; AssertionError after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s}s waiting for {what}")
        time.sleep(interval_s)


def put(client: ConsoleClient, path: str, body: dict[str, Any]) -> httpx.Response:
    return client.http.put(path, json=body, headers={"x-csrf-token": client.csrf})
