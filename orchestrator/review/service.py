"""The review service: held reviews (LangGraph, durable checkpoints), the review desk and the analyst console.

`python -m riskmesh.orchestrator.review.service --stack .riskmesh/run/stack.json`

One process owns the review graph (the SQLite checkpointer is a local file; with Postgres several could
share it, guarded by the action agent's per-alert idempotency). It follows `riskmesh.decisions` to open a
review thread per `review` decision, serves the console, and every few seconds returns expired claims,
escalates SLA breaches and recovers reviews whose resume did not finish (a crash between an analyst's
decision and the action). Everything here is wiring: the logic lives in desk, queue, graph and console.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any

import orjson
import redis
import redis.asyncio as aioredis
import uvicorn

from riskmesh.contracts.settings import Settings
from riskmesh.orchestrator.audit import RedisAuditLog
from riskmesh.orchestrator.decision_store import RedisDecisionStore
from riskmesh.orchestrator.kafka_io import LIBRDKAFKA_LOGGER
from riskmesh.orchestrator.procs import configure_logging, run_until_signalled
from riskmesh.orchestrator.review.desk import Desk
from riskmesh.orchestrator.review.follower import DecisionFollower
from riskmesh.orchestrator.review.graph import ReviewGraph, checkpoint_target, open_checkpointer
from riskmesh.orchestrator.review.labels import KafkaLabelSink, KafkaOutcomeSink
from riskmesh.orchestrator.review.queue import RedisAlertQueue, SlaPolicy
from riskmesh.orchestrator.topology import StackInfo
from riskmesh.orchestrator.worker import PoolTransport

__all__ = ["ReviewService", "main"]

log = logging.getLogger("riskmesh.review.service")

SWEEP_EVERY_S = 5.0
RECOVER_EVERY_S = 60.0


class ReviewService:
    def __init__(self, settings: Settings, stack: StackInfo) -> None:
        self.settings = settings
        self.stack = stack

    async def run(self, stop: asyncio.Event) -> None:
        async with self._parts() as (desk, graph, app):
            report = await graph.recover()
            log.info("review graph recovered: %s", report)
            follower = DecisionFollower(self.stack.kafka, self.settings, graph)
            host, port = _host_port(self.stack.console)
            server = _NoSignalServer(uvicorn.Config(app, host=host, port=port, log_level="warning",
                                                    lifespan="on", access_log=False))
            tasks = [
                asyncio.create_task(follower.run(stop), name="follower"),
                asyncio.create_task(_every(SWEEP_EVERY_S, desk.sweep, stop), name="sweep"),
                asyncio.create_task(_every(RECOVER_EVERY_S, graph.recover, stop), name="recover"),
                asyncio.create_task(server.serve(), name="console"),
            ]
            await stop.wait()
            server.should_exit = True
            done, pending = await asyncio.wait(tasks, timeout=10)
            for task in pending:
                task.cancel()
            for task in done:
                if not task.cancelled() and task.exception() is not None:
                    log.error("%s ended with %r", task.get_name(), task.exception())

    @contextlib.asynccontextmanager
    async def _parts(self) -> AsyncIterator[tuple[Desk, ReviewGraph, Any]]:
        from riskmesh.a2a.client import AgentPool  # the A2A edge, imported where it is wired

        s, stack = self.settings, self.stack
        sync_redis = redis.Redis.from_url(stack.redis)
        async_redis = aioredis.Redis.from_url(stack.redis)
        audit = RedisAuditLog(sync_redis)
        queue = RedisAlertQueue(sync_redis, audit, SlaPolicy(s.review_sla_s, s.review_sla_high_risk_s))
        decisions = RedisDecisionStore(async_redis, s.decision_ttl_s)

        async def decision_of(tx_id: str) -> dict[str, Any] | None:
            found = (await decisions.lookup([tx_id])).get(tx_id)
            return orjson.loads(found.payload) if found is not None else None

        pool = AgentPool({"action": stack.agent_endpoints()["action"]}, s.a2a_token.get_secret_value(),
                         s.a2a_binding)
        await pool.start()
        labels = KafkaLabelSink.connect(stack.kafka, s.topic_labels)
        outcomes = KafkaOutcomeSink.connect(stack.kafka, s.topic_review_outcomes)
        desk = Desk(queue, audit, None, decisions=decision_of, lease_s=s.review_lease_s,
                    four_eyes_usd=s.four_eyes_usd)
        try:
            async with open_checkpointer(checkpoint_target(s)) as checkpointer:
                graph = ReviewGraph(checkpointer, PoolTransport(pool), labels, resolutions=desk.resolution_of,
                                    deadline_s=max(s.agent_deadline_ms / 1000, 5.0), audit=audit,
                                    outcomes=outcomes)
                desk.resumer = graph
                app, close_console = await _console_app(s, stack, desk, graph, audit, async_redis)
                try:
                    yield desk, graph, app
                finally:
                    await close_console()
        finally:
            labels.close()
            outcomes.close()
            await pool.aclose()
            await async_redis.aclose()
            sync_redis.close()


async def _console_app(settings: Settings, stack: StackInfo, desk: Desk, graph: ReviewGraph, audit: RedisAuditLog,
                       client: aioredis.Redis) -> tuple[Any, Any]:
    from riskmesh.orchestrator.console.wiring import build_console  # the web edge, imported where it is wired

    return await build_console(settings, stack, desk, graph, audit, client)


async def _every(period_s: float, job: Any, stop: asyncio.Event) -> None:
    while not stop.is_set():
        try:
            await job()
        except Exception:  # top-level handler of a periodic job: log, keep the service up, try again
            log.exception("periodic job %s failed", getattr(job, "__name__", job))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=period_s)


class _NoSignalServer(uvicorn.Server):
    """uvicorn without its own SIGINT/SIGTERM handlers: this process's stop event owns shutdown."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def _host_port(url: str) -> tuple[str, int]:
    hostport = url.split("://", 1)[-1].rstrip("/")
    host, _, port = hostport.rpartition(":")
    return host, int(port)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="riskmesh review service: review graph, desk and analyst console")
    parser.add_argument("--stack", required=True, help="path of the stack.json written by the launcher")
    args = parser.parse_args(argv)
    settings = Settings()
    configure_logging(settings.log_level, LIBRDKAFKA_LOGGER, "httpx", "aiosqlite")
    stack = StackInfo.read(args.stack)
    run_until_signalled(ReviewService(settings, stack).run)


if __name__ == "__main__":
    main()
