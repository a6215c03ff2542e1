"""The orchestrator worker: a Kafka consumer-group member that decides micro-batches.

`python -m riskmesh.orchestrator.worker --stack .riskmesh/run/stack.json`
Offsets are committed only after the batch's decisions are acknowledged by the broker; a batch that
cannot be finished (Redis or Kafka unavailable) is rewound and retried, never dropped.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import socket
import time
from dataclasses import dataclass

import redis.asyncio as aioredis
from confluent_kafka import KafkaException
from redis.exceptions import RedisError

from riskmesh.contracts.runtime import settle_service_gc
from riskmesh.contracts.settings import Settings
from riskmesh.orchestrator.audit import DecisionAuditTrail, RedisAuditLog
from riskmesh.orchestrator.decision_store import RedisDecisionStore
from riskmesh.orchestrator.graph import Supervisor
from riskmesh.orchestrator.kafka_io import LIBRDKAFKA_LOGGER, BatchConsumer, KafkaEmitter, make_producer
from riskmesh.orchestrator.pipeline import AgentTransport, BatchResult
from riskmesh.orchestrator.procs import configure_logging, run_until_signalled
from riskmesh.orchestrator.topology import StackInfo

__all__ = ["STATS_A2A_CALLS", "STATS_PIPELINE", "WORKERS_KEY", "PoolTransport", "Worker", "main"]

log = logging.getLogger("riskmesh.worker")

STATS_A2A_CALLS = "riskmesh:stats:a2a_calls"
STATS_PIPELINE = "riskmesh:stats:pipeline"
WORKERS_KEY = "riskmesh:workers"
"""Hash worker_id ▶ JSON {partitions, pid, at}: which partitions each live worker holds."""


class PoolTransport:
    """AgentTransport over the A2A client pool (one long-lived client per agent)."""

    def __init__(self, pool: object) -> None:
        self.pool = pool

    async def call(self, agent: str, payload: bytes, media_type: str, timeout_s: float) -> bytes:
        client = self.pool.get(agent)  # type: ignore[attr-defined]
        result: bytes = await client.call(payload, media_type, timeout_s)
        return result


@dataclass
class Worker:
    settings: Settings
    stack: StackInfo
    worker_id: str

    async def run(self, stop: asyncio.Event) -> None:
        from riskmesh.a2a.client import AgentPool  # the A2A edge, imported where it is wired

        pool = AgentPool(self.stack.agent_endpoints(), self.settings.a2a_token.get_secret_value(),
                         self.settings.a2a_binding)
        await pool.start()
        redis_client = aioredis.Redis.from_url(self.stack.redis)
        store = RedisDecisionStore(redis_client, self.settings.decision_ttl_s)
        producer = make_producer(self.stack.kafka, client_id=self.worker_id)
        emitter = KafkaEmitter(producer, self.settings.topic_decisions, self.settings.topic_dlq,
                               shadow_topic=self.settings.topic_shadow_decisions)
        transport: AgentTransport = PoolTransport(pool)
        audit = DecisionAuditTrail(RedisAuditLog.from_url(self.stack.redis), actor=f"orchestrator:{self.worker_id}")
        supervisor = Supervisor(transport, store, emitter, deadline_s=self.settings.agent_deadline_ms / 1000,
                                max_message_bytes=self.settings.max_message_bytes, audit=audit)
        consumer = BatchConsumer(self.stack.kafka, self.settings, client_id=self.worker_id)
        settle_service_gc()  # permanent state frozen out of the GC, batch-sized thresholds
        assigned: list[str] | None = None
        try:
            while not stop.is_set():
                try:
                    records = await asyncio.to_thread(consumer.poll_batch)
                except KafkaException:  # the broker is away: nothing was taken, so nothing is lost; try again
                    log.exception("poll failed; retrying")
                    await asyncio.sleep(0.5)
                    continue
                now_assigned = sorted(f"{tp.topic}:{tp.partition}" for tp in consumer.assignment())
                if now_assigned != assigned and await self._publish_holdings(redis_client, now_assigned):
                    log.info("%s holds partitions %s", self.worker_id, now_assigned)  # once per change
                    assigned = now_assigned
                if not records:
                    continue
                before = dict(supervisor.calls)
                try:
                    result = await supervisor.run(records)
                except Exception:  # top-level handler: keep the worker alive, lose nothing
                    log.exception("batch of %d failed; rewinding to retry", len(records))
                    await asyncio.to_thread(consumer.rewind, records)
                    await asyncio.sleep(0.5)
                    continue
                # a commit refused by a rebalance is logged and survived: the batch comes again (idempotent)
                await asyncio.to_thread(consumer.commit, records)
                calls = {a: n - before.get(a, 0) for a, n in supervisor.calls.items() if n != before.get(a, 0)}
                try:
                    await _record_stats(redis_client, calls, result)
                except RedisError:  # counters for the dashboard only: the batch itself is done
                    log.warning("could not record batch counters", exc_info=True)
        finally:
            await redis_client.hdel(WORKERS_KEY, self.worker_id)
            await asyncio.to_thread(consumer.close)
            producer.close(timeout=5)
            await pool.aclose()
            await store.aclose()

    async def _publish_holdings(self, client: aioredis.Redis, partitions: list[str]) -> bool:
        """Which partitions this worker holds, for the dashboard and the failover test; best effort."""
        status = {"partitions": partitions, "pid": os.getpid(), "at": time.time()}
        try:
            await client.hset(WORKERS_KEY, self.worker_id, json.dumps(status))
        except RedisError:
            log.warning("could not publish the partitions held", exc_info=True)
            return False
        return True


async def _record_stats(client: aioredis.Redis, calls: dict[str, int], result: BatchResult) -> None:
    """Counters every worker adds to, for `riskmesh demo`, tests and the console dashboard."""
    async with client.pipeline(transaction=False) as pipe:
        for agent, n in calls.items():
            pipe.hincrby(STATS_A2A_CALLS, agent, n)
        for field, n in (("decided", len(result.decisions)), ("emitted", result.emitted),
                         ("skipped_duplicates", result.skipped_duplicates), ("replayed", result.replayed),
                         ("dead_letters", len(result.dead_letters)), ("batches", 1)):
            if n:
                pipe.hincrby(STATS_PIPELINE, field, n)
        if result.decisions:  # for the console dashboard: review and block rates, mean latency
            for outcome in ("review", "block"):
                pipe.hincrby(STATS_PIPELINE, outcome, sum(1 for d in result.decisions if d.decision == outcome))
            pipe.hincrby(STATS_PIPELINE, "latency_ms_sum", round(sum(result.latencies_ms)))
        await pipe.execute()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="riskmesh orchestrator worker (Kafka consumer group member)")
    parser.add_argument("--stack", required=True, help="path of the stack.json written by the launcher")
    parser.add_argument("--worker-id", default=None)
    args = parser.parse_args(argv)
    settings = Settings()
    configure_logging(settings.log_level, LIBRDKAFKA_LOGGER, "httpx", "httpx2")
    worker_id = args.worker_id or settings.worker_id or f"worker-{socket.gethostname()}-{os.getpid()}"
    stack = StackInfo.read(args.stack)
    run_until_signalled(Worker(settings, stack, worker_id).run)


if __name__ == "__main__":
    main()
