"""The whole embedded stack as child processes: broker, Redis, MCP servers, six A2A agents, workers.

Every child runs in its own session and gets SIGTERM if this process dies, so nothing is orphaned.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from pathlib import Path

import httpx

from riskmesh.contracts.settings import Settings
from riskmesh.orchestrator.infra import Infra
from riskmesh.orchestrator.procs import ChildProcess, free_port, python_module
from riskmesh.orchestrator.topology import AGENT_KINDS, MCP_HOSTS, MCP_SERVERS, SOC_AGENTS, AgentEndpoint, StackInfo

__all__ = ["Stack", "ensure_world"]

log = logging.getLogger("riskmesh.stack")


def ensure_world(settings: Settings) -> Path:
    """Generate the seeded synthetic reference data once; reuse it afterwards."""
    from riskmesh.orchestrator.synth import World

    if settings.world_dir_override is not None:  # given reference data: use as is
        return settings.world_dir_override
    world_dir = settings.world_dir
    marker = world_dir / f".seed-{settings.world_seed}-{settings.world_customers}"
    if not marker.exists():
        world_dir.mkdir(parents=True, exist_ok=True)
        World.generate(seed=settings.world_seed, customers=settings.world_customers).write(world_dir)
        for old in world_dir.glob(".seed-*"):
            old.unlink()
        marker.touch()
    from riskmesh.orchestrator.synth.telemetry import ensure_telemetry

    ensure_telemetry(world_dir, settings.world_seed, days=settings.soc_telemetry_days)  # SOC logs, once per world
    return world_dir


def _port_free(host: str, port: int) -> bool:
    if port <= 0:
        return False
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


class Stack:
    """Start with `start()`, stop with `stop()`; `info` says where everything listens."""

    def __init__(self, settings: Settings, workers: int = 1, *, review: bool = True, gateway: bool = True,
                 soc: bool = True) -> None:
        self.settings = settings
        self.workers = workers
        self.with_review = review
        self.with_gateway = gateway
        self.with_soc = soc
        self.log_dir = settings.run_dir / "logs"
        self.stack_file = settings.run_dir / "stack.json"
        self.infra = Infra(settings, self.log_dir)
        self.mcp_hosts: dict[str, ChildProcess] = {}
        """MCP host process ▶ the process (see MCP_HOSTS)."""
        self.agents: dict[str, ChildProcess] = {}
        self.worker_procs: list[ChildProcess] = []
        self.review: ChildProcess | None = None
        self.gateway: ChildProcess | None = None
        self.soc: ChildProcess | None = None
        self.info: StackInfo | None = None
        # children read the very same settings (data dir resolved, so their working directory does not matter)
        self.env = settings.model_copy(update={"data_dir": settings.data_dir.resolve()}).to_env()
        # glibc gives each thread that allocates its own malloc arena (asyncio.to_thread, grpc, librdkafka):
        # two arenas keep the services' heaps from fragmenting across many (docs/performance.md, round 4)
        self.env.setdefault("MALLOC_ARENA_MAX", os.environ.get("MALLOC_ARENA_MAX", "2"))

    # -- lifecycle -----------------------------------------------------------------------------------

    def start(self, timeout_s: float = 90) -> StackInfo:
        try:
            return self._start(timeout_s)
        except BaseException:
            self.stop()
            raise

    def _start(self, timeout_s: float) -> StackInfo:
        started = time.monotonic()
        self.infra.start()
        if self.with_review:
            self._forget_orphaned_reviews()
        world = ensure_world(self.settings)
        self._ensure_model(world)
        host = self.settings.host
        info = StackInfo(kafka=self.infra.kafka_bootstrap, redis=self.infra.redis_url, world_dir=str(world))
        mcp_ports = {name: free_port(host) for name in MCP_SERVERS}
        info.mcp = {name: f"http://{host}:{p}/mcp" for name, p in mcp_ports.items()}
        for host_name, servers in MCP_HOSTS.items():
            argv = ["--world", str(world), "--redis-url", info.redis, "--host", host,
                    "--token", self.settings.mcp_token.get_secret_value(), "--only", *servers]
            for name in servers:
                argv += ["--port", f"{name}={mcp_ports[name]}"]
            self.mcp_hosts[host_name] = ChildProcess(host_name, python_module("riskmesh.mcp_servers.serve", *argv),
                                                     self.log_dir / f"{host_name}.log", env=self.env).start()
        for kind in AGENT_KINDS:
            info.agents[kind] = AgentEndpoint(url=f"http://{host}:{free_port(host)}/", grpc=f"{host}:{free_port(host)}")
            self.agents[kind] = self._agent_process(kind, info).start()
        if self.with_gateway:
            info.gateway = AgentEndpoint(url=f"http://{host}:{free_port(host)}/", grpc=f"{host}:{free_port(host)}")
        if self.with_soc:
            info.soc_agents = {name: f"http://{host}:{free_port(host)}/" for name in SOC_AGENTS}
            self.soc = self._soc_process(info).start()
        self.info = info
        self._wait_ready(info, deadline=started + timeout_s)
        info.write(self.stack_file)
        if self.with_gateway:
            self.start_gateway()
        for i in range(self.workers):
            self.start_worker(i)
        if self.with_review:
            port = self.settings.console_port if _port_free(host, self.settings.console_port) else free_port(host)
            info.console = f"http://{host}:{port}/"
            info.write(self.stack_file)
            self.start_review()
        if self.workers:
            self.wait_workers_assigned(deadline=started + timeout_s)
        if self.with_review:
            self.wait_review_ready(deadline=started + timeout_s)
        if self.with_gateway:
            self._wait_http(self.gateway, self.info.gateway.url.rstrip("/") + "/healthz",  # type: ignore[union-attr]
                            started + timeout_s)
        log.info("stack ready in %.1fs", time.monotonic() - started)
        return info

    def _ensure_model(self, world: Path) -> None:
        """A fresh machine has no fraud model: train a small bootstrap one before the agents start."""
        from riskmesh.agents.model import MODEL_DIR_ENV
        from riskmesh.orchestrator.train import ensure_model

        model_dir = Path(os.environ.get(MODEL_DIR_ENV) or self.settings.data_dir.resolve() / "models")
        ensure_model(model_dir, world)
        self.env[MODEL_DIR_ENV] = str(model_dir)

    def _agent_process(self, kind: str, info: StackInfo) -> ChildProcess:
        ep = info.agents[kind]
        http_port = ep.url.rstrip("/").rsplit(":", 1)[1]
        grpc_port = ep.grpc.rsplit(":", 1)[1]
        argv = ["--agent", kind, "--host", self.settings.host, "--http-port", http_port, "--grpc-port", grpc_port,
                "--token", self.settings.a2a_token.get_secret_value(),
                "--mcp-token", self.settings.mcp_token.get_secret_value()]
        for server, url in info.mcp.items():  # the agent keeps the ones its registry entry allows
            argv += ["--mcp", f"{server}={url}"]
        return ChildProcess(f"agent-{kind}", python_module("riskmesh.a2a.serve", *argv),
                            self.log_dir / f"agent-{kind}.log", env=self.env)

    def _soc_process(self, info: StackInfo) -> ChildProcess:
        """Every SOC agent (three specialists, the investigator, incident response) in one process."""
        argv = ["--host", self.settings.host, "--token", self.settings.a2a_token.get_secret_value(),
                "--mcp-token", self.settings.mcp_token.get_secret_value(), "--redis-url", info.redis,
                "--investigation-deadline-s", str(self.settings.soc_investigation_deadline_s), "--log-level", "WARNING"]
        for server in ("soc-telemetry", "risk-actions", "customer-data", "transactions"):
            argv += ["--mcp", f"{server}={info.mcp[server]}"]
        for name, url in info.soc_agents.items():
            argv += ["--agent", f"{name}={url.rstrip('/').rsplit(':', 1)[1]}"]
        for card in filter(None, (c.strip() for c in self.settings.soc_agent_cards.split(","))):
            argv += ["--card-url", card]
        return ChildProcess("soc", python_module("riskmesh.a2a.soc_serve", *argv), self.log_dir / "soc.log",
                            env=self.env)

    def start_worker(self, index: int) -> ChildProcess:
        proc = ChildProcess(f"worker-{index}",
                            python_module("riskmesh.orchestrator.worker", "--stack", str(self.stack_file),
                                          "--worker-id", f"worker-{index}"),
                            self.log_dir / f"worker-{index}.log", env=self.env).start()
        self.worker_procs.append(proc)
        return proc

    def _wait_ready(self, info: StackInfo, deadline: float) -> None:
        pending: dict[str, tuple[ChildProcess, str]] = {
            f"mcp:{name}": (self._mcp_host_of(name), url.rsplit("/mcp", 1)[0] + "/healthz")
            for name, url in info.mcp.items()
        }
        pending.update({f"agent:{k}": (self.agents[k], e.card_url) for k, e in info.agents.items()})
        if self.soc is not None:
            pending.update({f"soc:{k}": (self.soc, url.rstrip("/") + "/healthz") for k, url in info.soc_agents.items()})
        with httpx.Client(timeout=1.0) as http:
            while pending:
                for key, (proc, url) in list(pending.items()):
                    if not proc.alive():
                        raise RuntimeError(f"{proc.name} exited during start-up:\n{proc.tail(30)}")
                    try:
                        if http.get(url).status_code == 200:
                            del pending[key]
                    except httpx.HTTPError:
                        pass
                if pending and time.monotonic() > deadline:
                    raise TimeoutError(f"not ready: {sorted(pending)}")
                time.sleep(0.1)

    def wait_workers_assigned(self, deadline: float) -> None:
        """Until the consumer group has settled: every worker reports partitions and all are covered."""
        import json

        import redis

        from riskmesh.orchestrator.worker import WORKERS_KEY

        assert self.info is not None
        client = redis.Redis.from_url(self.info.redis)
        try:
            while True:
                raw: dict[bytes, bytes] = client.hgetall(WORKERS_KEY)  # type: ignore[assignment]
                held = [json.loads(v)["partitions"] for k, v in raw.items()
                        if k.decode() in {p.name for p in self.worker_procs}]
                enough = len(self.worker_procs) > self.settings.transaction_partitions or all(held)
                if len(held) == len(self.worker_procs) and any(held) and enough:
                    return
                for proc in self.worker_procs:
                    if not proc.alive():
                        raise RuntimeError(f"{proc.name} exited during start-up:\n{proc.tail(30)}")
                if time.monotonic() > deadline:
                    raise TimeoutError(f"workers did not join the consumer group: {raw}")
                time.sleep(0.1)
        finally:
            client.close()

    def _forget_orphaned_reviews(self) -> None:
        """With an embedded (in-memory) Redis and broker, the held reviews of an earlier stack cannot be finished:
        their alerts, decisions and controls died with it. Their SQLite checkpoints would only be recovered into
        a desk that does not know them (and cost a core at start-up once thousands pile up), so a fresh embedded
        stack starts with a fresh review store. A configured Redis or checkpoint URL is never touched."""
        from riskmesh.orchestrator.review.graph import checkpoint_target

        if self.settings.redis_url or self.settings.review_checkpoint_url:
            return
        target = Path(checkpoint_target(self.settings))
        stale = [p for p in (target, target.with_name(target.name + "-wal"), target.with_name(target.name + "-shm"))
                 if p.exists()]
        for path in stale:
            path.unlink()
        if stale:
            log.info("embedded stack: dropped the review checkpoints of an earlier run (%s)", target)

    def start_review(self) -> ChildProcess:
        """The review service: review graph (durable checkpoints), alert desk and the analyst console."""
        self.review = ChildProcess("review", python_module("riskmesh.orchestrator.review.service",
                                                           "--stack", str(self.stack_file)),
                                   self.log_dir / "review.log", env=self.env).start()
        return self.review

    def wait_review_ready(self, deadline: float) -> None:
        assert self.info is not None and self.review is not None
        self._wait_http(self.review, self.info.console.rstrip("/") + "/healthz", deadline)

    def start_gateway(self) -> ChildProcess:
        """The risk-gateway: the service as an A2A agent (assess, explain, feedback) for other banking systems."""
        assert self.info is not None and self.info.gateway is not None
        ep = self.info.gateway
        self.gateway = ChildProcess("gateway", python_module(
            "riskmesh.orchestrator.gateway.service", "--stack", str(self.stack_file),
            "--port", ep.url.rstrip("/").rsplit(":", 1)[1], "--grpc-port", ep.grpc.rsplit(":", 1)[1]),
            self.log_dir / "gateway.log", env=self.env).start()
        return self.gateway

    def restart_gateway(self, timeout_s: float = 60) -> None:
        assert self.info is not None and self.info.gateway is not None
        if self.gateway is not None:
            self.gateway.stop()
        self.start_gateway()
        self._wait_http(self.gateway, self.info.gateway.url.rstrip("/") + "/healthz", time.monotonic() + timeout_s)

    @staticmethod
    def _wait_http(proc: ChildProcess | None, url: str, deadline: float) -> None:
        assert proc is not None
        with httpx.Client(timeout=1.0) as http:
            while True:
                if not proc.alive():
                    raise RuntimeError(f"{proc.name} exited during start-up:\n{proc.tail(30)}")
                try:
                    if http.get(url).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{proc.name} not ready at {url}")
                time.sleep(0.1)

    def restart_review(self, timeout_s: float = 60) -> None:
        if self.review is not None:
            self.review.stop()
        self.start_review()
        self.wait_review_ready(deadline=time.monotonic() + timeout_s)

    def stop(self) -> None:
        if self.soc is not None:
            self.soc.stop()
        if self.gateway is not None:
            self.gateway.stop()
        if self.review is not None:
            self.review.stop()
        for proc in self.worker_procs:
            proc.stop()
        for proc in self.agents.values():
            proc.stop()
        for proc in self.mcp_hosts.values():
            proc.stop()
        self.infra.stop()

    # -- failure drills (tests, chaos) ----------------------------------------------------------------

    def kill_agent(self, kind: str) -> None:
        self.agents[kind].kill()

    def restart_agent(self, kind: str, timeout_s: float = 30) -> None:
        assert self.info is not None
        self.agents[kind].stop()
        self.agents[kind] = self._agent_process(kind, self.info).start()
        sub = StackInfo(kafka=self.info.kafka, redis=self.info.redis, agents={kind: self.info.agents[kind]})
        self._wait_ready(sub, deadline=time.monotonic() + timeout_s)

    def children(self) -> list[ChildProcess]:
        procs = list(self.infra.children) + list(self.mcp_hosts.values()) + list(self.agents.values())
        extra = [p for p in (self.review, self.gateway, self.soc) if p is not None]
        return procs + self.worker_procs + extra

    def _mcp_host_of(self, server: str) -> ChildProcess:
        return next(self.mcp_hosts[h] for h, servers in MCP_HOSTS.items() if server in servers)
