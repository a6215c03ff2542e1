"""The one validated configuration object. Every variable is listed in .env.example.

Read once per process, in its bootstrap; nothing reads configuration at import time.
pydantic-settings is pydantic's own settings package, so contracts still depends on pydantic only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings"]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RISKMESH_", env_file=".env", extra="ignore", frozen=True)

    # External infrastructure: when set, the launcher starts nothing and uses these.
    kafka_bootstrap_servers: str | None = Field(
        default=None, validation_alias=AliasChoices("KAFKA_BOOTSTRAP_SERVERS", "RISKMESH_KAFKA_BOOTSTRAP_SERVERS")
    )
    redis_url: str | None = Field(default=None, validation_alias=AliasChoices("REDIS_URL", "RISKMESH_REDIS_URL"))

    host: str = "127.0.0.1"
    data_dir: Path = Path(".riskmesh")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "WARNING"

    # Kafka
    topic_transactions: str = "riskmesh.transactions"
    topic_decisions: str = "riskmesh.decisions"
    topic_dlq: str = "riskmesh.transactions.dlq"
    topic_labels: str = "riskmesh.labels"
    topic_shadow_decisions: str = "riskmesh.decisions.shadow"
    topic_review_outcomes: str = "riskmesh.review-outcomes"
    transaction_partitions: int = Field(default=6, ge=1, le=256)
    consumer_group: str = "riskmesh-orchestrator"
    workers: int = Field(default=2, ge=1, le=64)
    """Orchestrator worker processes `riskmesh up`, `run` and `bench stream` start (one consumer group): two
    keep two batches in flight, so the agents of one overlap the other's supervisor (docs/performance.md)."""
    session_timeout_ms: int = Field(default=6000, ge=1000)
    heartbeat_interval_ms: int = Field(default=500, ge=100)

    # Micro-batching and deadlines
    batch_max_size: int = Field(default=500, ge=1, le=10000)
    batch_max_wait_ms: int = Field(default=50, ge=1, le=60000)
    agent_deadline_ms: int = Field(default=2000, ge=10, le=120000)
    max_message_bytes: int = Field(default=64 * 1024, ge=1024)

    # A2A between the orchestrator and the agents
    a2a_binding: Literal["grpc", "jsonrpc", "http_json"] = "grpc"
    a2a_token: SecretStr = SecretStr("riskmesh-dev-token")
    mcp_token: SecretStr = SecretStr("riskmesh-dev-mcp-token")
    reference_cache_s: float = Field(default=60.0, ge=0, le=86400)
    """How long an agent keeps reference answers (customer and account records, name screening) before asking
    the MCP server again (agents/tool_cache.py); 0 asks every batch."""

    # Synthetic world used by `make run`, demo and bench
    world_seed: int = 7
    world_customers: int = Field(default=2000, ge=10)
    soc_telemetry_days: int = Field(default=30, ge=1, le=365)
    """Stream days the generated SOC telemetry covers (auth logs, flows, endpoint events, IOC feed; issue #5)."""
    world_dir_override: Path | None = None
    """Reference data of a given directory instead of the generated world (never overwritten)."""

    # Decision policy (policies/*.yaml). Unset: $data_dir/policies/active.yaml if deployed, else the model card's.
    policy_file: Path | None = None
    shadow_policy_file: Path | None = None
    """A challenger policy decided beside the live one; its decisions go to topic_shadow_decisions only."""

    # Review workflow: durable checkpoints of held reviews (None: SQLite under data_dir; postgres://… for Postgres)
    review_checkpoint_url: str | None = None
    review_consumer_group: str = "riskmesh-review"

    # Review desk and analyst console (the review service process)
    console_port: int = Field(default=8700, ge=0, le=65535)
    """The console's port; 0 or a port in use: a free one (the launcher prints the URL either way)."""
    review_lease_s: int = Field(default=900, ge=10)
    """How long a claim lasts before the alert goes back to the queue (renew by claiming again)."""
    review_sla_s: int = Field(default=4 * 3600, ge=10)
    review_sla_high_risk_s: int = Field(default=3600, ge=10)
    """Time to decide an alert; high risk (>= 0.8) gets the shorter SLA. Breaches escalate."""
    four_eyes_usd: float = Field(default=10_000, ge=0)
    """A block above this amount (and every freeze) needs a second analyst's approval."""
    console_demo_users: bool = True
    """Embedded stack: create the demo users (ana, ben analysts; sam supervisor; cora compliance; sol SOC; adam
    admin) with console_demo_password when they do not exist. Turn off in production and use `riskmesh users`."""
    console_demo_password: SecretStr = SecretStr("riskmesh-demo")

    # Risk gateway (the service as an A2A agent for other banking systems)
    gateway_batch_max_size: int = Field(default=200, ge=1, le=10000)
    gateway_batch_max_wait_ms: float = Field(default=3.0, ge=0, le=1000)
    """Concurrent assess requests join one micro-batch of at most this size, waiting at most this long."""
    gateway_batch_concurrency: int = Field(default=4, ge=1, le=64)
    """Micro-batches decided at the same time (supervisor runs in flight)."""
    gateway_clients_file: Path | None = None
    """JSON or YAML file of the gateway's clients (hashed secrets, scopes, rate limits); unset: the dev client."""
    gateway_dev_token: SecretStr = SecretStr("riskmesh-dev-gateway-token")
    """Embedded stack only (no clients file): the `dev` client's bearer token and API key, every scope."""
    gateway_task_ttl_s: int = Field(default=24 * 3600, ge=60)
    """How long the gateway keeps a Task (and its push configs) after its last change."""
    gateway_review_wait_s: int = Field(default=4 * 3600, ge=1)
    """How long a Task's executor waits in memory for the analyst; later outcomes complete it from the store."""
    gateway_instance_id: str = "gateway"
    """Names this gateway's consumer group on the review-outcomes topic and the tasks it completes."""
    gateway_push_allow_private: bool = False
    """Allow push-notification webhooks on private/loopback addresses (tests, the embedded stack)."""

    # SOC investigations (issue #5): the soc-investigator's registry of specialist agent cards
    soc_agent_cards: str = ""
    """Comma-separated base (or card) URLs of the SOC specialist agents; picked by the skill tags soc+investigation."""
    soc_investigation_deadline_s: float = Field(default=8.0, gt=0, le=300)
    """An investigation ends by then at the latest; specialists still running are reported as timeout."""

    # Idempotency: how long a decided tx_id is remembered
    decision_ttl_s: int = Field(default=7 * 24 * 3600, ge=60)
    worker_id: str | None = None

    def to_env(self) -> dict[str, str]:
        """These settings as environment variables, so child processes read exactly the same values."""
        env: dict[str, str] = {}
        for name, value in self.model_dump().items():
            if value is None:
                continue
            key = {"kafka_bootstrap_servers": "KAFKA_BOOTSTRAP_SERVERS", "redis_url": "REDIS_URL"}.get(
                name, f"RISKMESH_{name.upper()}")
            raw = getattr(self, name)
            env[key] = raw.get_secret_value() if isinstance(raw, SecretStr) else str(value)
        return env

    @property
    def run_dir(self) -> Path:
        return self.data_dir / "run"

    @property
    def active_policy_path(self) -> Path:
        """Where `riskmesh policy deploy` puts the live policy and where agents look for it."""
        return self.policy_file or self.data_dir / "policies" / "active.yaml"

    @property
    def world_dir(self) -> Path:
        return self.world_dir_override or self.data_dir / "world"
