"""The same analytics with the protocols bypassed: agents called in this process, MCP servers in memory.

Used for the benchmark ceiling (`ratio` in BENCHMARKS.md) and `riskmesh eval --inprocess`. This is the
one place the orchestrator loads agent logic itself; the production path reaches agents only over A2A.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis

from riskmesh.orchestrator.decision_store import DecisionStore
from riskmesh.orchestrator.graph import Supervisor
from riskmesh.orchestrator.pipeline import Emitter

__all__ = ["InProcessPipeline", "InProcessTransport", "NullEmitter"]


class InProcessTransport:
    """The agents called directly: the same envelopes and logic as over A2A, no network."""

    def __init__(self, agents: dict[str, Any]) -> None:
        from riskmesh.a2a.skills import skill_for

        self.agents = agents
        self.skills = {kind: skill_for(kind) for kind in agents}

    async def call(self, agent: str, payload: bytes, media_type: str, timeout_s: float) -> bytes:
        from riskmesh.a2a.skills import skill_for_media_type

        skill = skill_for_media_type(agent, media_type) or self.skills[agent]
        request = skill.request_model.model_validate_json(payload)
        response = await skill.invoke(self.agents[agent], request)
        return response.model_dump_json().encode()


class NullEmitter:
    async def emit(self, decisions: Sequence[tuple[str, bytes]], dead_letters: Sequence[tuple[str, bytes]],
                   *, shadow: Sequence[tuple[str, bytes]] = ()) -> None:
        return None


class InProcessPipeline:
    """Builds every MCP server and agent in this process around one Redis; `supervisor` decides batches."""

    def __init__(self, world_dir: Path | None, redis_url: str | None, store: DecisionStore, emitter: Emitter,
                 deadline_s: float, reference_cache_s: float = 0.0, **agent_options: Any) -> None:
        """`reference_cache_s`: agents keep reference answers this long, as a served agent does (0: off)."""
        from riskmesh.agents.mcp_client import McpToolCaller
        from riskmesh.agents.registry import AGENT_KINDS, MCP_SERVERS_FOR_AGENT, build_agent
        from riskmesh.agents.tool_cache import CachingToolCaller
        from riskmesh.mcp_servers.serve import build_servers

        self.redis = aioredis.Redis.from_url(redis_url) if redis_url else None
        servers = build_servers(world_dir, self.redis)
        self.callers = {k: CachingToolCaller(McpToolCaller.in_process({s: servers[s] for s in MCP_SERVERS_FOR_AGENT[k]},
                                                                      caller=k), ttl_s=reference_cache_s)
                        for k in AGENT_KINDS}
        self.agents = {k: build_agent(k, self.callers[k], **agent_options.get(k, {})) for k in AGENT_KINDS}
        self.supervisor = Supervisor(InProcessTransport(self.agents), store, emitter, deadline_s=deadline_s)

    async def aclose(self) -> None:
        for caller in self.callers.values():
            await caller.aclose()
        if self.redis is not None:
            await self.redis.aclose()
