"""One real embedded stack per test session: tansu, Redis, MCP servers, six A2A agents, one worker.

Everything binds 127.0.0.1 on ports chosen at run time.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from riskmesh.contracts.settings import Settings
from riskmesh.orchestrator.demo import synthetic_messages
from riskmesh.orchestrator.stack import Stack
from riskmesh.orchestrator.streaming import DecisionTap, produce
from riskmesh.orchestrator.topology import StackInfo

pytestmark = pytest.mark.integration


GATEWAY_BANK_TOKEN = "it-bank-token"
GATEWAY_BANK_API_KEY = "it-bank-api-key"
GATEWAY_EXPLAIN_ONLY_TOKEN = "it-explain-only-token"


def _gateway_clients(data_dir: Path) -> Path:
    """Two gateway clients: a bank with every scope (bearer and API key) and one allowed only to explain."""
    import hashlib
    import json

    def digest(secret: str) -> str:
        return hashlib.sha256(secret.encode()).hexdigest()

    clients = {"clients": [
        {"id": "it-bank", "scopes": ["assess", "assess:task", "explain", "feedback"], "rate_per_s": 5000,
         "burst": 10000, "credentials": [{"type": "bearer", "sha256": digest(GATEWAY_BANK_TOKEN)},
                                         {"type": "api_key", "sha256": digest(GATEWAY_BANK_API_KEY)}]},
        {"id": "it-auditor", "scopes": ["explain"], "rate_per_s": 100, "burst": 100,
         "credentials": [{"type": "bearer", "sha256": digest(GATEWAY_EXPLAIN_ONLY_TOKEN)}]},
    ]}
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / "gateway-clients.json"
    path.write_text(json.dumps(clients))
    return path


def integration_settings(data_dir: Path) -> Settings:
    return Settings(
        gateway_clients_file=_gateway_clients(data_dir),
        data_dir=data_dir,
        world_customers=300,
        session_timeout_ms=2000,
        heartbeat_interval_ms=300,
        batch_max_wait_ms=20,
        batch_max_size=200,
        agent_deadline_ms=1500,
        transaction_partitions=4,
        console_port=0,
        four_eyes_usd=0,  # every block waits for a second analyst here (the threshold is unit-tested)
        gateway_push_allow_private=True,  # the push-notification test's webhook listens on 127.0.0.1
    )


@dataclass
class Running:
    stack: Stack
    settings: Settings
    info: StackInfo

    def send(self, count: int, bad: int = 0, seed: int = 11, prefix: str | None = None) -> str:
        """Send generated transactions with a fresh tx_id prefix; returns the prefix."""
        prefix = prefix or f"I{uuid.uuid4().hex[:8]}"
        messages = synthetic_messages(self.info.world_dir, count, bad, seed, prefix)
        produce(self.info.kafka, self.settings.topic_transactions, messages)
        return prefix

    def tap(self, prefix: str, keep: bool = False) -> DecisionTap:
        return DecisionTap(self.info.kafka, self.settings.topic_decisions, self.settings.topic_dlq,
                           prefix=prefix, keep_decisions=keep).start()


@pytest.fixture(scope="session", autouse=True)
def shared_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Every stack of the session (and the CLI subprocesses) shares one bootstrap fraud model."""
    import os

    path = tmp_path_factory.mktemp("models")
    old = os.environ.get("RISKMESH_MODEL_DIR")
    os.environ["RISKMESH_MODEL_DIR"] = str(path)
    yield path
    if old is None:
        os.environ.pop("RISKMESH_MODEL_DIR", None)
    else:
        os.environ["RISKMESH_MODEL_DIR"] = old


@pytest.fixture(scope="session")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    settings = integration_settings(tmp_path_factory.mktemp("riskmesh"))
    stack = Stack(settings, workers=1)
    info = stack.start()
    try:
        yield Running(stack, settings, info)
    finally:
        stack.stop()
