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
    transaction_partitions: int = Field(default=6, ge=1, le=256)
    consumer_group: str = "riskmesh-orchestrator"
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

    # Synthetic world used by `make run`, demo and bench
    world_seed: int = 7
    world_customers: int = Field(default=2000, ge=10)
    world_dir_override: Path | None = None
    """Reference data of a given directory instead of the generated world (never overwritten)."""

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
    def world_dir(self) -> Path:
        return self.world_dir_override or self.data_dir / "world"
