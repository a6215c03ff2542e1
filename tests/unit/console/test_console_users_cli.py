"""`riskmesh users` against an embedded Redis: add a person from stdin, a machine, and a token that works."""

from __future__ import annotations

import asyncio
import json

import pytest
from redis.asyncio import Redis
from typer.testing import CliRunner

from riskmesh.orchestrator.console.auth import Authenticator, RedisAuthStore
from riskmesh.orchestrator.console.users_cli import users_app


@pytest.fixture
def redis_url(redis_socket: str) -> str:
    import redis

    with redis.Redis(unix_socket_path=redis_socket) as client:
        client.flushdb()
    return f"unix://{redis_socket}"


def _principal(url: str, token: str):
    async def check():
        client = Redis.from_url(url)
        try:
            return await Authenticator(RedisAuthStore(client)).from_token(token)
        finally:
            await client.aclose()

    return asyncio.run(check())


def test_users_are_added_listed_and_given_tokens_that_authenticate(redis_url: str) -> None:
    runner = CliRunner()
    added = runner.invoke(users_app, ["add", "ana", "--role", "analyst", "--password-stdin", "--redis-url", redis_url],
                          input="a long enough password\n")
    assert added.exit_code == 0, added.output
    assert json.loads(added.stdout) == {"username": "ana", "role": "analyst", "machine": False, "disabled": False}
    machine = runner.invoke(users_app, ["add", "gateway", "--role", "soc_engineer", "--machine",
                                        "--redis-url", redis_url])
    assert machine.exit_code == 0, machine.output
    listed = [json.loads(line)["username"] for line in
              runner.invoke(users_app, ["list", "--redis-url", redis_url]).stdout.splitlines()]
    assert listed == ["ana", "gateway"]
    token = runner.invoke(users_app, ["token", "gateway", "--redis-url", redis_url]).stdout.strip()
    assert token.startswith("rmk_")
    assert _principal(redis_url, token).username == "gateway"


def test_a_bad_role_or_a_short_password_is_refused_with_exit_code_2(redis_url: str) -> None:
    runner = CliRunner()
    bad_role = runner.invoke(users_app, ["add", "x", "--role", "god", "--password-stdin", "--redis-url", redis_url],
                             input="a long enough password\n")
    assert bad_role.exit_code == 2 and "unknown role" in bad_role.output
    short = runner.invoke(users_app, ["add", "x", "--role", "analyst", "--password-stdin", "--redis-url", redis_url],
                          input="short\n")
    assert short.exit_code == 2
