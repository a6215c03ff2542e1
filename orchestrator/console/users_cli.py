"""`riskmesh users`: add console users and issue machine tokens in the stack's Redis.

    riskmesh users add ana --role analyst                 # prompts for the password twice
    printf '%s\\n' "$PW" | riskmesh users add ana --role analyst --password-stdin
    riskmesh users add gateway --role soc_engineer --machine
    riskmesh users token gateway --label payment-gateway  # prints the token once
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from typing import TypeVar

import redis.asyncio as aioredis
import typer

from riskmesh.contracts.review import ROLES
from riskmesh.orchestrator.audit import _resolve_redis_url
from riskmesh.orchestrator.console.auth import Authenticator, RedisAuthStore
from riskmesh.orchestrator.review.errors import ReviewError

__all__ = ["users_app"]

T = TypeVar("T")

users_app = typer.Typer(help="Console users, roles and machine tokens.", no_args_is_help=True)

_REDIS_URL_OPTION = typer.Option(None, "--redis-url", help="default: REDIS_URL, else the running stack's Redis")


def _run(redis_url: str | None, action: Callable[[Authenticator], Awaitable[T]]) -> T:
    async def main() -> T:
        client = aioredis.Redis.from_url(_resolve_redis_url(redis_url))
        try:
            return await action(Authenticator(RedisAuthStore(client)))
        finally:
            await client.aclose()

    try:
        return asyncio.run(main())
    except ReviewError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc


@users_app.command("add")
def add_command(
    name: str = typer.Argument(..., help="user name (a-z 0-9 . _ -)"),
    role: str = typer.Option(..., "--role", help=f"one of {', '.join(ROLES)}"),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="read the password from stdin's first line"),
    machine: bool = typer.Option(False, "--machine", help="a system account: no password, API tokens only"),
    redis_url: str | None = _REDIS_URL_OPTION,
) -> None:
    """Create a user, or replace its role and password."""
    password: str | None = None
    if not machine:
        if password_stdin:
            password = sys.stdin.readline().rstrip("\r\n")
        else:
            password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    user = _run(redis_url, lambda auth: auth.add_user(name, role, password, machine=machine))
    typer.echo(json.dumps(user.public()))


@users_app.command("token")
def token_command(
    name: str = typer.Argument(..., help="the user the token acts as"),
    label: str = typer.Option("api", "--label", help="what the token is for (shown in listings)"),
    redis_url: str | None = _REDIS_URL_OPTION,
) -> None:
    """Issue an API token (Authorization: Bearer …). It is printed once and stored only as a hash."""
    typer.echo(_run(redis_url, lambda auth: auth.issue_token(name, label)))


@users_app.command("list")
def list_command(redis_url: str | None = _REDIS_URL_OPTION) -> None:
    """Every user with role and kind, one JSON object per line."""
    for user in _run(redis_url, lambda auth: auth.store.list_users()):
        typer.echo(json.dumps(user.public()))
