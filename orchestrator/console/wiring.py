"""Builds the console app of the review service from the running stack (the one place it is wired)."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route

from riskmesh.agents.mcp_client import McpToolCaller
from riskmesh.contracts.settings import Settings
from riskmesh.orchestrator.audit import AuditLog
from riskmesh.orchestrator.console.app import create_app
from riskmesh.orchestrator.console.auth import Authenticator, RedisAuthStore, seed_demo_users
from riskmesh.orchestrator.console.dashboard import RedisDashboard, agent_health_urls
from riskmesh.orchestrator.console.evidence import McpEvidence
from riskmesh.orchestrator.console.investigate_api import Investigations
from riskmesh.orchestrator.review.controls_desk import CONSOLE_ACTIONS_CALLER, AccountDesk
from riskmesh.orchestrator.review.ports import Actor, ReviewDesk
from riskmesh.orchestrator.topology import StackInfo

__all__ = ["PendingReviews", "build_console", "health_routes"]


class PendingReviews:
    """What the review graph holds, for /healthz/reviews (count only: alert ids stay behind the login).

    Counting reads every review thread's checkpoint, so it grows with the backlog (over a second at ~1,800
    waiting reviews): it is an operator's question, never a probe's. /healthz stays constant-time.
    """

    def __init__(self, pending: Callable[[], Awaitable[list[str]]]) -> None:
        self._pending = pending

    async def count(self) -> int:
        return len(await self._pending())


def health_routes(pending: PendingReviews) -> list[Route]:
    """`/healthz`: constant-time liveness (the launcher's and a probe's); `/healthz/reviews`: the backlog count."""

    async def healthz(request: Request) -> Response:
        return JSONResponse({"ok": True}, headers={"cache-control": "no-store"})

    async def pending_reviews(request: Request) -> Response:
        return JSONResponse({"pending_reviews": await pending.count()}, headers={"cache-control": "no-store"})

    return [Route("/healthz", healthz), Route("/healthz/reviews", pending_reviews)]


async def build_console(settings: Settings, stack: StackInfo, desk: ReviewDesk, graph: Any, audit: AuditLog,
                        client: aioredis.Redis) -> tuple[Starlette, Callable[[], Awaitable[None]]]:
    """The console app and a function that closes what it opened."""
    auth = Authenticator(RedisAuthStore(client))
    if settings.console_demo_users:
        await seed_demo_users(auth.store, settings.console_demo_password.get_secret_value())
    evidence = McpEvidence.over_http(stack.mcp, settings.mcp_token.get_secret_value())
    actions_url = {name: url for name, url in stack.mcp.items() if name == "risk-actions"}
    accounts = AccountDesk(McpToolCaller(actions_url, CONSOLE_ACTIONS_CALLER, settings.mcp_token.get_secret_value()),
                           audit)
    dashboard = RedisDashboard(client, agent_health_urls(stack))
    # SOC trigger: present once the stack records where the soc-investigator listens (StackInfo.soc_agents)
    investigator_url = (getattr(stack, "soc_agents", None) or {}).get("soc-investigator")
    investigations = (Investigations.over_http(investigator_url, settings.a2a_token.get_secret_value())
                      if investigator_url else None)

    def deploy(yaml_text: str, actor: Actor) -> dict[str, Any]:
        from riskmesh.orchestrator.policy_deploy import deploy_policy

        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "policy.yaml"
            path.write_text(yaml_text, encoding="utf-8")
            return deploy_policy(path, actor.username, audit, settings)

    async def deploy_async(yaml_text: str, actor: Actor) -> dict[str, Any]:
        return await asyncio.to_thread(deploy, yaml_text, actor)

    app = create_app(desk=desk, auth=auth, evidence=evidence, dashboard=dashboard, deploy_policy=deploy_async,
                     audit_log=audit, accounts=accounts, investigations=investigations)
    outer = Starlette(routes=[*health_routes(PendingReviews(graph.pending)), Mount("/", app)])

    async def close() -> None:
        await evidence.aclose()
        await accounts.aclose()
        await dashboard.aclose()
        if investigations is not None:
            await investigations.aclose()

    return outer, close
