"""Doubles for the risk-gateway tests: a fake supervisor, a webhook, and a real GatewayServer on free ports."""

from __future__ import annotations

import asyncio
import inspect
import socket
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import uvicorn
from a2a.server.tasks import BasePushNotificationSender, InMemoryPushNotificationConfigStore
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from riskmesh.contracts import Decision, Reason, parse_transaction
from riskmesh.contracts.gateway import ReviewOutcome
from riskmesh.orchestrator.audit import MemoryAuditLog
from riskmesh.orchestrator.decision_store import MemoryDecisionStore
from riskmesh.orchestrator.gateway.card import build_gateway_card
from riskmesh.orchestrator.gateway.clients import Authenticator, ClientConfig, ClientsFile, Credential, hash_secret
from riskmesh.orchestrator.gateway.coalescer import Coalescer, SupervisorRunner
from riskmesh.orchestrator.gateway.executor import GatewayExecutor, GatewayRequestHandler
from riskmesh.orchestrator.gateway.outcomes import MemoryReviewLedger, OutcomeRouter
from riskmesh.orchestrator.gateway.server import GatewayServer
from riskmesh.orchestrator.gateway.tasks import ExpiringTaskStore
from riskmesh.orchestrator.gateway.usecases import Explainer, FeedbackDesk
from riskmesh.orchestrator.pipeline import BatchResult, InboundRecord
from riskmesh.orchestrator.review.labels import MemoryLabelSink

BANK_TOKEN = "bank-token-0123456789"
BANK_KEY = "bank-key-0123456789"
READER_TOKEN = "reader-token-0123456789"
SLOW_TOKEN = "slow-token-0123456789"
A2A = {"A2A-Version": "1.0"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def clients() -> ClientsFile:
    return ClientsFile(clients=[
        ClientConfig(id="bank", scopes=["assess", "assess:task", "explain", "feedback"], rate_per_s=10000,
                     burst=10000, credentials=[Credential(type="bearer", sha256=hash_secret(BANK_TOKEN)),
                                               Credential(type="api_key", sha256=hash_secret(BANK_KEY))]),
        ClientConfig(id="reader", scopes=["explain", "assess"], rate_per_s=10000, burst=10000,
                     credentials=[Credential(type="bearer", sha256=hash_secret(READER_TOKEN))]),
        ClientConfig(id="slow", scopes=["assess"], rate_per_s=0.01, burst=2,
                     credentials=[Credential(type="bearer", sha256=hash_secret(SLOW_TOKEN))]),
    ])


class FakeSupervisor:
    """Decides by amount: > 10000 ▶ review (alert AL-<tx_id>), tx ids starting with B ▶ block, else pass.

    Records every decision in the decision store (SET NX semantics), as the real supervisor does.
    """

    def __init__(self, store: MemoryDecisionStore) -> None:
        self.store = store
        self.batches: list[list[str]] = []
        self.fail = False
        self.gate: asyncio.Event | None = None

    async def run(self, records: list[InboundRecord]) -> BatchResult:
        if self.gate is not None:
            await self.gate.wait()
        if self.fail:
            raise RuntimeError("the aggregation agent is down")
        txs = [parse_transaction(r.value or b"") for r in records]
        self.batches.append([t.tx_id for t in txs])
        known = await self.store.lookup([t.tx_id for t in txs])
        result = BatchResult()
        fresh: dict[str, bytes] = {}
        for tx in txs:
            if tx.tx_id in known or tx.tx_id in fresh:
                result.skipped_duplicates += 1
                continue
            review = tx.amount > 10000
            decision = Decision(
                tx_id=tx.tx_id, decision="review" if review else "block" if tx.tx_id.startswith("B") else "pass",
                risk_score=0.71 if review else 0.1, decided_at=datetime.now(UTC), latency_ms=1.0,
                reasons=[Reason(code="FAKE", agent="fraud", weight=0.3, detail="amount")], policy_version="policy-t",
                actions=["hold_transaction"] if review else [], alert_id=f"AL-{tx.tx_id}" if review else None)
            result.decisions.append(decision)
            fresh[tx.tx_id] = decision.model_dump_json().encode()
        await self.store.record(fresh)
        return result


class FakeActionLog:
    async def actions_for(self, tx_id: str) -> list[dict[str, Any]]:
        return [{"action": "hold_transaction", "at": "2026-11-21T09:15:02.200Z", "actor": "agent:action",
                 "source": "decision", "alert_id": f"AL-{tx_id}", "account_id": "A1"}]


@dataclass
class Webhook:
    url: str
    received: list[tuple[dict[str, Any], dict[str, str]]] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)


@asynccontextmanager
async def webhook() -> AsyncIterator[Webhook]:
    """A caller's webhook on 127.0.0.1: keeps every notification body and its headers."""
    port = free_port()
    hook = Webhook(url=f"http://127.0.0.1:{port}/hook")

    async def receive(request: Request) -> Response:
        hook.received.append((await request.json(), dict(request.headers)))
        hook.arrived.set()
        return Response(status_code=204)

    server = uvicorn.Server(uvicorn.Config(Starlette(routes=[Route("/hook", receive, methods=["POST"])]),
                                           host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve())
    await eventually(lambda: server.started)
    try:
        yield hook
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)


@dataclass
class Gateway:
    server: GatewayServer
    supervisor: FakeSupervisor
    decisions: MemoryDecisionStore
    coalescer: Coalescer
    router: OutcomeRouter
    ledger: MemoryReviewLedger
    task_store: ExpiringTaskStore
    labels: MemoryLabelSink
    audit: MemoryAuditLog
    http: httpx.AsyncClient

    @property
    def url(self) -> str:
        return self.server.base_url

    @property
    def grpc_target(self) -> str:
        return f"127.0.0.1:{self.server.grpc_port}"


@asynccontextmanager
async def running_gateway(*, max_size: int = 64, max_wait_s: float = 0.02, review_wait_s: float = 30.0,
                          task_ttl_s: float = 3600) -> AsyncIterator[Gateway]:
    decisions = MemoryDecisionStore()
    supervisor = FakeSupervisor(decisions)
    coalescer = Coalescer(SupervisorRunner(supervisor, decisions), max_size=max_size, max_wait_s=max_wait_s)
    task_store = ExpiringTaskStore(task_ttl_s)
    push_store = InMemoryPushNotificationConfigStore()
    push_http = httpx.AsyncClient(timeout=5)
    sender = BasePushNotificationSender(push_http, push_store)
    ledger = MemoryReviewLedger()
    router = OutcomeRouter(ledger, task_store, sender)
    audit = MemoryAuditLog()
    labels = MemoryLabelSink()
    executor = GatewayExecutor(coalescer, router, Explainer(decisions, ledger, audit, FakeActionLog()),
                               FeedbackDesk(labels, audit), review_wait_s=review_wait_s)
    port, grpc_port = free_port(), free_port()
    card = build_gateway_card(f"http://127.0.0.1:{port}/", f"127.0.0.1:{grpc_port}", "0.0.0-test")
    handler = GatewayRequestHandler(agent_executor=executor, task_store=task_store, agent_card=card,
                                    push_config_store=push_store, push_sender=sender, interrupted_task_timeout=5)
    server = GatewayServer(handler, card, Authenticator(clients()), host="127.0.0.1", http_port=port,
                           grpc_port=grpc_port, health=lambda: {"batches": coalescer.batches})
    await coalescer.start()
    await server.start()
    http = httpx.AsyncClient(base_url=server.base_url, timeout=10, headers=A2A)
    try:
        yield Gateway(server, supervisor, decisions, coalescer, router, ledger, task_store, labels, audit, http)
    finally:
        await http.aclose()
        await server.stop()
        await coalescer.aclose()
        await push_http.aclose()


def tx(tx_id: str, amount: str = "120.00") -> dict[str, Any]:
    return {"schema_version": "1", "tx_id": tx_id, "ts": "2026-11-21T09:15:02.123Z", "type": "transfer",
            "channel": "mobile", "amount": amount, "currency": "EUR",
            "debtor": {"customer_id": "C1", "account_id": "A1", "country": "DE"},
            "creditor": {"account_id": "A2", "country": "FR"}}


def message(payload: Any, *, media_type: str | None = None, metadata: dict[str, Any] | None = None) -> dict[str, Any]:
    part: dict[str, Any] = {"data": payload}
    if media_type:
        part["mediaType"] = media_type
    out: dict[str, Any] = {"messageId": uuid.uuid4().hex, "role": "ROLE_USER", "parts": [part]}
    if metadata:
        out["metadata"] = metadata
    return out


def rpc(method: str, params: dict[str, Any], rpc_id: int = 1) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": rpc_id, "method": method, "params": params}


def bearer(token: str = BANK_TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def outcome(tx_id: str, disposition: str = "block") -> ReviewOutcome:
    return ReviewOutcome(alert_id=f"AL-{tx_id}", tx_id=tx_id, disposition=disposition,  # type: ignore[arg-type]
                         final_decision="pass" if disposition == "release" else "block", decided_by="ana",
                         actions=[f"{disposition}_transaction"], decided_at=datetime.now(UTC))


async def send(gw: Gateway, payload: Any, *, token: str = BANK_TOKEN, configuration: dict[str, Any] | None = None,
               metadata: dict[str, Any] | None = None, media_type: str | None = None) -> dict[str, Any]:
    params: dict[str, Any] = {"message": message(payload, media_type=media_type, metadata=metadata)}
    if configuration:
        params["configuration"] = configuration
    response = await gw.http.post("/", json=rpc("SendMessage", params), headers=bearer(token))
    assert response.status_code == 200, response.text
    body = response.json()
    assert "error" not in body, body
    return body["result"]


async def eventually(check: Callable[[], Any], timeout_s: float = 10) -> None:
    """Poll `check` (sync or async) until it is truthy, for at most `timeout_s`."""
    async with asyncio.timeout(timeout_s):
        while True:
            result = check()
            if inspect.isawaitable(result):
                result = await result
            if result:
                return
            await asyncio.sleep(0.02)


async def poll_task(gw: Gateway, task_id: str, state: str, timeout_s: float = 10) -> dict[str, Any]:
    """GetTask until the task is in `state` (bounded)."""
    async with asyncio.timeout(timeout_s):
        while True:
            response = await gw.http.post("/", json=rpc("GetTask", {"id": task_id}), headers=bearer())
            task = response.json()["result"]
            if task["status"]["state"] == state:
                return task
            await asyncio.sleep(0.02)
