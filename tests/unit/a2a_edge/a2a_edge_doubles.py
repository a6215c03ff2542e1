"""Fakes and a real in-process AgentServer on free 127.0.0.1 ports for the A2A edge tests."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from riskmesh.a2a.server import AgentServer
from riskmesh.contracts import (
    ActionOutcome,
    ActionRequest,
    ActionResponse,
    AgentVerdict,
    AggregatedDecision,
    AggregationRequest,
    AggregationResponse,
    Reason,
    Transaction,
)

TOKEN = "test-a2a-token"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_tx(i: int) -> Transaction:
    return Transaction(
        schema_version="1",
        tx_id=f"tx-{i:05d}",
        ts=datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC),
        type="payment",
        channel="card",
        amount=f"{10 + i}.25",
        currency="EUR",
        debtor={"account_id": f"acc-{i}", "customer_id": f"cust-{i}", "country": "DE"},
        creditor={"account_id": "merchant-1", "country": "FR"},
        merchant={"mcc": "5411", "merchant_id": "m-1", "country": "FR"},
        metadata={"n": i},
    )


class FakeAnalysisAgent:
    """Scores by position; `mode` switches it to raising, hanging or answering short."""

    def __init__(self, name: str = "fraud") -> None:
        self.name = name
        self.model_version = "fake-1.0"
        self.mode = "ok"
        self.release = asyncio.Event()
        self.finished = asyncio.Event()
        self.seen: list[list[str]] = []

    async def assess(self, transactions: list[Transaction]) -> list[AgentVerdict]:
        self.seen.append([t.tx_id for t in transactions])
        if self.mode == "raise":
            raise RuntimeError("risk-graph MCP server unreachable")
        if self.mode == "hang":
            try:
                await self.release.wait()
            finally:
                self.finished.set()
        verdicts = [
            AgentVerdict(
                tx_id=t.tx_id,
                agent=self.name,
                score=min(1.0, i / 1000),
                model_version=self.model_version,
                reasons=[Reason(code="FAKE_SCORE", agent=self.name, weight=0.1, detail="position")],
                evidence={"amount": str(t.amount)},
            )
            for i, t in enumerate(transactions)
        ]
        return verdicts[:-1] if self.mode == "short" else verdicts


class FakeAggregationAgent:
    name = "aggregation"
    policy_version = "policy-test-1"

    async def aggregate(self, request: AggregationRequest) -> AggregationResponse:
        return AggregationResponse(
            batch_id=request.batch_id,
            policy_version=self.policy_version,
            decisions=[
                AggregatedDecision(tx_id=t.tx_id, decision="pass", risk_score=0.05) for t in request.transactions
            ],
        )


class FakeActionAgent:
    name = "action"

    async def act(self, request: ActionRequest) -> ActionResponse:
        return ActionResponse(
            batch_id=request.batch_id,
            outcomes=[ActionOutcome(tx_id=d.tx_id, actions=["release"]) for d in request.decisions],
        )


StartServer = Callable[..., Awaitable[AgentServer]]


@pytest.fixture
async def start_server() -> AsyncIterator[StartServer]:
    """`await start_server(agent, kind)` ▶ a running AgentServer; all are stopped after the test."""
    servers: list[AgentServer] = []

    async def start(
        agent: Any, kind: str = "fraud", http_port: int | None = None, grpc_port: int | None = None
    ) -> AgentServer:
        server = AgentServer(
            agent,
            kind,
            host="127.0.0.1",
            http_port=http_port or free_port(),
            grpc_port=grpc_port or free_port(),
            token=TOKEN,
            version="9.9.9",
        )
        await server.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        await server.stop(grace_s=0.2)


@pytest.fixture
def fraud_agent() -> FakeAnalysisAgent:
    agent = FakeAnalysisAgent("fraud")
    yield agent
    agent.release.set()
