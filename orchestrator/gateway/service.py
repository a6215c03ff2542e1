"""The risk-gateway process: `python -m riskmesh.orchestrator.gateway.service --stack … --port P --grpc-port G`.

Wires, from one Settings object and the running stack, what a worker has (the supervisor over the A2A agent
pool, the Redis decision store, the Kafka emitter to `riskmesh.decisions`, the audit trail) plus the gateway's
own parts: the coalescer, Redis task / push-config stores with expiry, the review-outcome follower, the
explain and feedback use cases, client auth; then serves until SIGTERM/SIGINT.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from importlib import metadata
from typing import Any

import httpx
import redis
import redis.asyncio as aioredis
from a2a.server.tasks import BasePushNotificationSender
from a2a.utils.push_url_validator import validate_push_notification_url

from riskmesh.contracts.settings import Settings
from riskmesh.orchestrator.audit import DecisionAuditTrail, RedisAuditLog
from riskmesh.orchestrator.decision_store import RedisDecisionStore
from riskmesh.orchestrator.gateway.card import build_gateway_card
from riskmesh.orchestrator.gateway.clients import Authenticator, dev_clients, load_clients
from riskmesh.orchestrator.gateway.coalescer import Coalescer, SupervisorRunner
from riskmesh.orchestrator.gateway.executor import GatewayExecutor, GatewayRequestHandler
from riskmesh.orchestrator.gateway.outcomes import OutcomeFollower, OutcomeRouter, RedisReviewLedger
from riskmesh.orchestrator.gateway.server import GatewayServer
from riskmesh.orchestrator.gateway.tasks import RedisPushConfigStore, RedisTaskStore
from riskmesh.orchestrator.gateway.usecases import Explainer, FeedbackDesk, McpActionLog
from riskmesh.orchestrator.graph import Supervisor
from riskmesh.orchestrator.kafka_io import LIBRDKAFKA_LOGGER, KafkaEmitter, make_producer
from riskmesh.orchestrator.procs import configure_logging, run_until_signalled
from riskmesh.orchestrator.review.labels import KafkaLabelSink
from riskmesh.orchestrator.topology import StackInfo
from riskmesh.orchestrator.worker import PoolTransport

__all__ = ["INTERRUPTED_TASK_RELEASE_S", "authenticator_from", "main", "push_url_policy", "run_gateway"]

log = logging.getLogger("riskmesh.gateway.service")

INTERRUPTED_TASK_RELEASE_S = 60.0
"""A Task left in input-required after its executor stopped waiting leaves memory after this (it stays stored)."""


def authenticator_from(settings: Settings) -> Authenticator:
    if settings.gateway_clients_file is not None:
        return Authenticator(load_clients(settings.gateway_clients_file))
    log.warning("no RISKMESH_GATEWAY_CLIENTS_FILE: serving the dev client only (embedded stack)")
    return Authenticator(dev_clients(settings.gateway_dev_token.get_secret_value()))


def push_url_policy(settings: Settings) -> Callable[[str], Awaitable[bool]] | None:
    """The SDK's SSRF screening of webhook URLs, unless private addresses are allowed (tests only)."""
    return None if settings.gateway_push_allow_private else validate_push_notification_url


def _version() -> str:
    try:
        return metadata.version("riskmesh")
    except metadata.PackageNotFoundError:
        return "0.0.0"


@contextlib.asynccontextmanager
async def _parts(settings: Settings, stack: StackInfo) -> AsyncIterator[dict[str, Any]]:
    from riskmesh.a2a.client import AgentPool  # the A2A edge, imported where it is wired
    from riskmesh.agents.mcp_client import McpToolCaller

    s = settings
    pool = AgentPool(stack.agent_endpoints(), s.a2a_token.get_secret_value(), s.a2a_binding)
    await pool.start()
    # redis-py 8 caps a plain pool at 100 connections and *raises* beyond that ("Too many connections"),
    # which failed requests at 200 concurrent callers; a blocking pool waits for a free connection instead.
    async_redis = aioredis.Redis(connection_pool=aioredis.BlockingConnectionPool.from_url(
        stack.redis, max_connections=512, timeout=10))
    sync_redis = redis.Redis.from_url(stack.redis)
    producer = make_producer(stack.kafka, client_id=f"gateway-{s.gateway_instance_id}")
    labels = KafkaLabelSink.connect(stack.kafka, s.topic_labels)
    actions_url = {name: url for name, url in stack.mcp.items() if name == "risk-actions"}
    tools = McpToolCaller(urls=actions_url, caller="gateway", token=s.mcp_token.get_secret_value())
    push_http = httpx.AsyncClient(timeout=httpx.Timeout(10.0), limits=httpx.Limits(max_connections=32))
    try:
        decisions = RedisDecisionStore(async_redis, s.decision_ttl_s)
        audit = RedisAuditLog(sync_redis)
        emitter = KafkaEmitter(producer, s.topic_decisions, s.topic_dlq, shadow_topic=s.topic_shadow_decisions)
        supervisor = Supervisor(PoolTransport(pool), decisions, emitter, deadline_s=s.agent_deadline_ms / 1000,
                                max_message_bytes=s.max_message_bytes,
                                audit=DecisionAuditTrail(audit, actor=f"gateway:{s.gateway_instance_id}"))
        task_store = RedisTaskStore(async_redis, s.gateway_task_ttl_s)
        push_store = RedisPushConfigStore(async_redis, s.gateway_task_ttl_s)
        sender = BasePushNotificationSender(push_http, push_store, push_url_validator=push_url_policy(s))
        ledger = RedisReviewLedger(async_redis, s.decision_ttl_s)
        yield {"supervisor": supervisor, "decisions": decisions, "audit": audit, "task_store": task_store,
               "push_store": push_store, "sender": sender, "ledger": ledger, "labels": labels,
               "actions": McpActionLog(tools) if actions_url else None}
    finally:
        await push_http.aclose()
        await tools.aclose()
        labels.close()
        producer.close(timeout=5)
        await pool.aclose()
        await async_redis.aclose()
        sync_redis.close()


async def run_gateway(settings: Settings, stack: StackInfo, host: str, port: int, grpc_port: int,
                      public_url: str | None, stop: asyncio.Event) -> None:
    s = settings
    async with _parts(s, stack) as p:
        coalescer = Coalescer(SupervisorRunner(p["supervisor"], p["decisions"]), max_size=s.gateway_batch_max_size,
                              max_wait_s=s.gateway_batch_max_wait_ms / 1000, concurrency=s.gateway_batch_concurrency)
        router = OutcomeRouter(p["ledger"], p["task_store"], p["sender"])
        executor = GatewayExecutor(coalescer, router, Explainer(p["decisions"], p["ledger"], p["audit"], p["actions"]),
                                   FeedbackDesk(p["labels"], p["audit"]), review_wait_s=s.gateway_review_wait_s)
        card = build_gateway_card(public_url or f"http://{host}:{port}/", f"{host}:{grpc_port}", _version())
        handler = GatewayRequestHandler(agent_executor=executor, task_store=p["task_store"], agent_card=card,
                                        push_config_store=p["push_store"], push_sender=p["sender"],
                                        push_url_validator=push_url_policy(s),
                                        interrupted_task_timeout=INTERRUPTED_TASK_RELEASE_S)
        server = GatewayServer(handler, card, authenticator_from(s), host=host, http_port=port, grpc_port=grpc_port,
                               health=lambda: {"batches": coalescer.batches})
        follower = OutcomeFollower(stack.kafka, s, router)
        await coalescer.start()
        following = asyncio.create_task(follower.run(stop), name="gateway-outcomes")
        try:
            await server.start()
            ended = asyncio.create_task(server.wait())
            stopped = asyncio.create_task(stop.wait())
            await asyncio.wait({ended, stopped}, return_when=asyncio.FIRST_COMPLETED)
            for task in (ended, stopped):
                task.cancel()
        finally:
            stop.set()
            await server.stop()
            await coalescer.aclose()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(following, timeout=10)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="riskmesh risk gateway: the service as an A2A agent")
    parser.add_argument("--stack", required=True, help="path of the stack.json written by the launcher")
    parser.add_argument("--host", default=None, help="default: RISKMESH_HOST")
    parser.add_argument("--port", type=int, required=True, help="HTTP: JSON-RPC at /, HTTP+JSON, card, /healthz")
    parser.add_argument("--grpc-port", type=int, required=True)
    parser.add_argument("--public-url", default=None, help="base URL on the card when behind a proxy")
    args = parser.parse_args(argv)
    settings = Settings()
    configure_logging(settings.log_level, LIBRDKAFKA_LOGGER, "httpx", "httpx2")
    stack = StackInfo.read(args.stack)
    host = args.host or settings.host
    run_until_signalled(lambda stop: run_gateway(settings, stack, host, args.port, args.grpc_port, args.public_url,
                                                 stop))


if __name__ == "__main__":
    main()
