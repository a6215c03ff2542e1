"""`riskmesh bench assess`: synchronous assessments over A2A against the risk gateway, C callers for S seconds.

Each caller sends one transaction per request and waits for the Decision before sending the next (a closed
loop), over one long-lived client shared by all callers. Every request carries a fresh `tx_id`, so the
idempotent decision store never answers from a previous decision. A warm-up at the same concurrency runs
first and is not measured. Errors: a non-200 answer, a JSON-RPC / gRPC error, or a reply without a Decision.

The report also says where the CPU went during the measured window (seconds per stack process and for
this client), because on a 2-core machine the load generator competes with the stack it measures.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol
from urllib.parse import urlsplit

import orjson
import psutil
import uvloop

from riskmesh.contracts.settings import Settings
from riskmesh.orchestrator.demo import synthetic_messages
from riskmesh.orchestrator.stack import Stack, ensure_world
from riskmesh.orchestrator.streaming import percentile

__all__ = ["AssessBinding", "bench_assess"]

AssessBinding = Literal["jsonrpc", "http_json", "grpc"]
A2A_VERSION = {"A2A-Version": "1.0"}
POOL_MAX = 30_000
"""Distinct generated transactions; beyond that the pool is reused with new tx_ids (generation is ~4k/s)."""
REQUEST_TIMEOUT_S = 30.0


class _Caller(Protocol):
    async def assess(self, tx: dict[str, Any]) -> str | None:
        """None when a Decision came back, else what went wrong."""
        ...

    async def aclose(self) -> None: ...


def _decision_error(data: Any, tx_id: str) -> str | None:
    if isinstance(data, dict) and data.get("tx_id") == tx_id and data.get("decision"):
        return None
    return f"reply without a decision for {tx_id}: {str(data)[:200]}"


def _message(tx: dict[str, Any]) -> dict[str, Any]:
    return {"messageId": uuid.uuid4().hex, "role": "ROLE_USER", "parts": [{"data": tx}]}


class _HttpConnection:
    """One keep-alive HTTP/1.1 connection that carries one request at a time (the parser is httptools)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        import httptools

        self._reader, self._writer = reader, writer
        self._body: list[bytes] = []
        self._done = False
        self._parser = httptools.HttpResponseParser(self)
        self.reusable = True

    # httptools callbacks (keep-alive is only known while the headers complete)
    def on_headers_complete(self) -> None:
        self.reusable = self._parser.should_keep_alive()

    def on_body(self, chunk: bytes) -> None:
        self._body.append(chunk)

    def on_message_complete(self) -> None:
        self._done = True

    async def exchange(self, request: bytes) -> tuple[int, bytes]:
        self._body, self._done = [], False
        self._writer.write(request)
        while not self._done:
            data = await self._reader.read(65536)
            if not data:
                self.reusable = False
                raise ConnectionError("the gateway closed the connection mid-response")
            self._parser.feed_data(data)
        return self._parser.get_status_code(), b"".join(self._body)

    def close(self) -> None:
        self.reusable = False
        self._writer.close()


class _HttpCaller:
    """JSON-RPC (`POST /`, SendMessage) or HTTP+JSON (`POST /message:send`) with a data part.

    A plain keep-alive HTTP/1.1 client, one connection per caller in flight (a pool of idle ones), so that
    the load generator is not what is measured: httpx spent ~22 ms of CPU per request at 200 callers.
    """

    def __init__(self, base_url: str, token: str, concurrency: int, binding: AssessBinding) -> None:
        url = urlsplit(base_url)
        self._host, self._port = url.hostname or "127.0.0.1", url.port or 80
        self._jsonrpc = binding == "jsonrpc"
        path = "/" if self._jsonrpc else "/message:send"
        self._head = (f"POST {path} HTTP/1.1\r\nHost: {url.netloc}\r\nA2A-Version: 1.0\r\n"
                      f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n").encode()
        self._idle: list[_HttpConnection] = []
        self._open: set[_HttpConnection] = set()

    async def _post(self, body: bytes) -> tuple[int, bytes]:
        if self._idle:
            conn = self._idle.pop()
        else:
            reader, writer = await asyncio.open_connection(self._host, self._port)
            conn = _HttpConnection(reader, writer)
            self._open.add(conn)
        try:
            async with asyncio.timeout(REQUEST_TIMEOUT_S):
                answer = await conn.exchange(self._head + b"Content-Length: %d\r\n\r\n" % len(body) + body)
        except BaseException:
            conn.close()
            self._open.discard(conn)
            raise
        if conn.reusable:
            self._idle.append(conn)
        else:
            conn.close()
            self._open.discard(conn)
        return answer

    async def assess(self, tx: dict[str, Any]) -> str | None:
        if self._jsonrpc:
            body = {"jsonrpc": "2.0", "id": tx["tx_id"], "method": "SendMessage", "params": {"message": _message(tx)}}
        else:
            body = {"message": _message(tx)}
        status, content = await self._post(orjson.dumps(body))
        if status != 200:
            return f"HTTP {status}: {content[:200].decode(errors='replace')}"
        answer = orjson.loads(content)
        if self._jsonrpc:
            if "error" in answer:
                return f"JSON-RPC error {answer['error']}"[:300]
            answer = answer.get("result") or {}
        try:
            data = answer["message"]["parts"][0]["data"]
        except (KeyError, IndexError, TypeError):
            return f"reply without a message part: {str(answer)[:200]}"
        return _decision_error(data, tx["tx_id"])

    async def aclose(self) -> None:
        for conn in self._open:
            conn.close()
        self._open.clear()
        self._idle.clear()


class _GrpcCaller:
    """The gRPC binding with the raw-JSON part (the project's fast path, docs/decisions/0001)."""

    def __init__(self, target: str, token: str) -> None:
        import grpc
        from a2a.types import a2a_pb2_grpc

        self._channel = grpc.aio.insecure_channel(target)
        self._stub = a2a_pb2_grpc.A2AServiceStub(self._channel)
        self._metadata = (("authorization", f"Bearer {token}"), ("a2a-version", "1.0"))

    async def assess(self, tx: dict[str, Any]) -> str | None:
        import grpc
        from a2a.types import Message, Part, Role, SendMessageRequest
        from google.protobuf.json_format import MessageToDict

        request = SendMessageRequest(message=Message(
            message_id=uuid.uuid4().hex, role=Role.ROLE_USER,
            parts=[Part(raw=orjson.dumps(tx), media_type="application/json")]))
        try:
            reply = await self._stub.SendMessage(request, metadata=self._metadata, timeout=REQUEST_TIMEOUT_S)
        except grpc.aio.AioRpcError as exc:
            return f"gRPC {exc.code().name}: {exc.details()}"[:300]
        if not reply.HasField("message") or not reply.message.parts:
            return f"reply without a message: {str(reply)[:200]}"
        part = reply.message.parts[0]
        content = part.WhichOneof("content")
        data: Any = (orjson.loads(part.raw) if content == "raw" else orjson.loads(part.text) if content == "text"
                     else MessageToDict(part.data) if content == "data" else None)
        return _decision_error(data, tx["tx_id"])

    async def aclose(self) -> None:
        await self._channel.close()


@dataclass
class _Run:
    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)
    elapsed_s: float = 0.0


class _Transactions:
    """A pre-generated pool; request i gets pool[i % n] with the unique tx_id `{prefix}-r{i}`."""

    def __init__(self, pool: list[dict[str, Any]], prefix: str) -> None:
        self._pool = pool
        self._prefix = prefix
        self._i = 0

    def __call__(self) -> dict[str, Any]:
        i, self._i = self._i, self._i + 1
        tx = dict(self._pool[i % len(self._pool)])
        tx["tx_id"] = f"{self._prefix}-r{i:08d}"
        return tx


async def _drive(caller: _Caller, next_tx: Callable[[], dict[str, Any]], concurrency: int,
                 duration_s: float) -> _Run:
    run = _Run()
    started = time.perf_counter()
    end = started + duration_s

    async def one_caller() -> None:
        while time.perf_counter() < end:
            tx = next_tx()
            t0 = time.perf_counter()
            try:
                problem = await caller.assess(tx)
            except Exception as exc:  # top-level per request: a failure counts as an error, the caller goes on
                problem = f"{type(exc).__name__}: {exc}"
            if problem is None:
                run.latencies_ms.append((time.perf_counter() - t0) * 1000)
            else:
                run.errors += 1
                if len(run.error_samples) < 5:
                    run.error_samples.append(problem)

    await asyncio.gather(*(one_caller() for _ in range(concurrency)))
    run.elapsed_s = time.perf_counter() - started
    return run


def _cpu_seconds(stack: Stack) -> dict[str, float]:
    """CPU seconds (user + system) so far of each stack process and its descendants, and of this client."""
    out: dict[str, float] = {}
    for child in stack.children():
        if not child.pid:
            continue
        try:
            proc = psutil.Process(child.pid)
            total = sum(p.cpu_times().user + p.cpu_times().system for p in [proc, *proc.children(recursive=True)])
        except psutil.Error:
            continue
        out[child.name] = out.get(child.name, 0.0) + total
    me = psutil.Process().cpu_times()
    out["bench-client"] = me.user + me.system
    return out


async def _measure(stack: Stack, make_caller: Callable[[], _Caller], next_tx: Callable[[], dict[str, Any]],
                   concurrency: int, duration_s: float, warmup_s: float) -> tuple[_Run, dict[str, float]]:
    caller = make_caller()  # inside the running loop: a grpc.aio channel belongs to the loop it was made on
    try:
        if warmup_s > 0:
            await _drive(caller, next_tx, concurrency, warmup_s)
        before = _cpu_seconds(stack)
        run = await _drive(caller, next_tx, concurrency, duration_s)
        after = _cpu_seconds(stack)
    finally:
        await caller.aclose()
    cpu = {k: round(after[k] - v, 2) for k, v in before.items() if k in after and after[k] - v >= 0.05}
    return run, dict(sorted(cpu.items(), key=lambda kv: -kv[1]))


def _pool_size(concurrency: int, seconds: float) -> int:
    expected_rps = 300 if concurrency == 1 else 4000
    return max(1000, min(POOL_MAX, int(expected_rps * seconds)))


def bench_assess(settings: Settings, concurrency: int, duration_s: float, binding: AssessBinding = "jsonrpc",
                 warmup_s: float | None = None, token: str | None = None) -> dict[str, Any]:
    """Start the embedded stack (gateway and review service), drive assess-transaction, report one object."""
    if concurrency < 1 or duration_s <= 0:
        raise ValueError("concurrency must be >= 1 and duration > 0")
    warmup = min(5.0, max(1.0, duration_s / 5)) if warmup_s is None else warmup_s
    world_dir = str(ensure_world(settings))
    token = token or settings.gateway_dev_token.get_secret_value()
    prefix = f"BA{uuid.uuid4().hex[:8]}"
    pool = [orjson.loads(v) for _, v in synthetic_messages(world_dir, _pool_size(concurrency, duration_s + warmup),
                                                           0, settings.world_seed + 5, prefix)]
    stack = Stack(settings, workers=1, review=True, gateway=True, soc=False)
    info = stack.start()
    load_before = os.getloadavg()[0]
    try:
        assert info.gateway is not None
        gateway = info.gateway

        def make_caller() -> _Caller:
            return (_GrpcCaller(gateway.grpc, token) if binding == "grpc"
                    else _HttpCaller(gateway.url, token, concurrency, binding))

        transactions = _Transactions(pool, prefix)
        # uvloop: the client shares the 2 cores with the stack it measures, as the services do (docs/performance.md)
        run, cpu = uvloop.run(_measure(stack, make_caller, transactions, concurrency, duration_s, warmup))
    finally:
        stack.stop()
    ok = len(run.latencies_ms)
    report: dict[str, Any] = {
        "mode": "assess",
        "requests": ok + run.errors,
        "throughput_rps": round(ok / run.elapsed_s, 1) if run.elapsed_s > 0 else 0.0,
        "p50_ms": percentile(run.latencies_ms, 50),
        "p99_ms": percentile(run.latencies_ms, 99),
        "errors": run.errors,
        "concurrency": concurrency,
        "duration_s": round(run.elapsed_s, 2),
        "binding": binding,
        "warmup_s": warmup,
        "cpu_s": cpu,
        "load_1m": [round(load_before, 2), round(os.getloadavg()[0], 2)],  # other work on the machine skews it
    }
    if run.error_samples:
        report["error_samples"] = run.error_samples
    return report
