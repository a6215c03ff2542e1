"""Shared test helpers."""

from __future__ import annotations

import copy
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import pytest

VALID_TX: dict[str, Any] = {
    "schema_version": "1",
    "tx_id": "T-2026-000001",
    "ts": "2026-11-21T09:15:02.123Z",
    "type": "transfer",
    "channel": "mobile",
    "amount": "12500.00",
    "currency": "CNY",
    "debtor": {"customer_id": "C000123", "account_id": "A000123-01", "name": "Li Wei", "country": "CN"},
    "creditor": {"customer_id": None, "account_id": "A998877-01", "name": "Acme Trading Ltd", "country": "HK",
                 "bank_bic": "HSBCHKHHXXX"},
    "merchant": {"mcc": "5732", "merchant_id": "M1", "country": "CN"},
    "device": {"device_id": "D-ab12", "ip": "203.0.113.7", "user_agent": "..."},
    "geo": {"lat": 31.23, "lon": 121.47, "country": "CN"},
    "purpose": "invoice 4411",
    "metadata": {},
}


@pytest.fixture
def valid_tx() -> dict[str, Any]:
    return copy.deepcopy(VALID_TX)


@pytest.fixture(scope="session")
def redis_server_url() -> Iterator[str]:
    """A private redis-server on a free 127.0.0.1 port for the whole session (no persistence)."""
    import redis

    from riskmesh.orchestrator.infra import find_redis_server
    from riskmesh.orchestrator.procs import free_port

    port = free_port()
    proc = subprocess.Popen(
        [find_redis_server(), "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url, socket_timeout=1)
    deadline = time.monotonic() + 20
    try:
        while True:
            try:
                if client.ping():
                    break
            except redis.RedisError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
            time.sleep(0.05)
        yield url
    finally:
        client.close()
        proc.kill()
        proc.wait(timeout=10)
