"""The bench's HTTP client: keep-alive JSON-RPC / HTTP+JSON over one connection per caller in flight."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import orjson
import pytest

from riskmesh.orchestrator.bench_assess import _HttpCaller


class Gateway:
    """A tiny HTTP/1.1 server: answers every POST with a decision for the request's tx_id (JSON-RPC shape)."""

    def __init__(self, close_after: int | None = None, status: int = 200) -> None:
        self.close_after = close_after
        self.status = status
        self.connections = 0
        self.requests: list[tuple[bytes, dict]] = []

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        served = 0
        while True:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except asyncio.IncompleteReadError:
                break
            length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                          if line.lower().startswith(b"content-length"))
            body = orjson.loads(await reader.readexactly(length))
            self.requests.append((head, body))
            served += 1
            tx = (body.get("params") or body)["message"]["parts"][0]["data"]
            reply = {"message": {"parts": [{"data": {"tx_id": tx["tx_id"], "decision": "pass"}}]}}
            answer = orjson.dumps({"jsonrpc": "2.0", "id": body["id"], "result": reply} if "params" in body else reply)
            last = self.close_after is not None and served >= self.close_after
            writer.write(b"HTTP/1.1 %d X\r\nContent-Type: application/json\r\nContent-Length: %d\r\n%s\r\n"
                         % (self.status, len(answer), b"Connection: close\r\n" if last else b"") + answer)
            await writer.drain()
            if last:
                break
        writer.close()


@pytest.fixture
async def serve() -> AsyncIterator:  # type: ignore[type-arg]
    servers: list[asyncio.Server] = []

    async def start(gateway: Gateway) -> str:
        server = await asyncio.start_server(gateway.handle, "127.0.0.1", 0)
        servers.append(server)
        return f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/"

    yield start
    for server in servers:
        server.close()


async def test_callers_reuse_their_connection_and_send_jsonrpc_send_message(serve) -> None:  # type: ignore[no-untyped-def]
    gateway = Gateway()
    caller = _HttpCaller(await serve(gateway), "tok", 4, "jsonrpc")
    try:
        problems = await asyncio.gather(*(caller.assess({"tx_id": f"T{i}"}) for i in range(4)))
        problems += [await caller.assess({"tx_id": "T9"})]
    finally:
        await caller.aclose()
    assert problems == [None] * 5
    assert gateway.connections == 4  # four in flight at once, then the fifth reused one of them
    head, body = gateway.requests[-1]
    assert head.startswith(b"POST / HTTP/1.1") and b"Authorization: Bearer tok" in head
    assert body["method"] == "SendMessage" and body["params"]["message"]["parts"][0]["data"] == {"tx_id": "T9"}


async def test_a_connection_the_server_closes_is_replaced_and_errors_are_reported(serve) -> None:  # type: ignore[no-untyped-def]
    gateway = Gateway(close_after=1)
    caller = _HttpCaller(await serve(gateway), "tok", 1, "http_json")
    try:
        assert [await caller.assess({"tx_id": f"T{i}"}) for i in range(3)] == [None] * 3
    finally:
        await caller.aclose()
    assert gateway.connections == 3
    assert gateway.requests[0][0].startswith(b"POST /message:send HTTP/1.1")

    refusing = _HttpCaller(await serve(Gateway(status=429)), "tok", 1, "jsonrpc")
    try:
        assert (await refusing.assess({"tx_id": "T1"})or "").startswith("HTTP 429")
    finally:
        await refusing.aclose()
