"""transactions MCP server: per-account behaviour and velocity features, built online from the stream.

`features_batch` describes each account's history strictly before each transaction. Fraud calls
it with `observe=False` and behaviour with `observe=True`, concurrently, for the same batch; a
redelivered batch is observed twice. Both are safe: features merge the batch's own earlier
transactions in memory and exclude the transaction itself, and observing is idempotent.

Because both agents ask about the same batch, the features of a batch are computed once and
shared (`SharedFeatures`): a call for a batch identical to one being answered, or answered less
than `share_s` seconds ago, gets that answer instead of loading and computing it again. Observing
is not shared: every `observe=true` call records its batch.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.types import CallToolResult
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, TypeAdapter

from riskmesh.mcp_servers.features import compute_batch_features
from riskmesh.mcp_servers.history import DEFAULT_MAX_ENTRIES, AccountHistory, HistoryEntry, HistoryStore
from riskmesh.mcp_servers.policy import AccessPolicy
from riskmesh.mcp_servers.toolkit import BATCH_JSON_DESCRIPTION, ToolGuard, batch_items, batch_result

__all__ = ["SERVER_NAME", "SharedFeatures", "TxEvent", "build_transactions_server", "to_entry"]

SERVER_NAME = "transactions"
VERSION = "0.1.0"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)

Batch = tuple[tuple[str, HistoryEntry], ...]
Features = dict[str, dict[str, Any]]
Answer = tuple[Features, dict[str, AccountHistory]]
"""A batch's features and the histories they were computed from (an observing call merges into those)."""


class TxEvent(BaseModel):
    """The slice of a transaction the features need (extra keys are ignored)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    tx_id: str = Field(min_length=1, max_length=256)
    ts: AwareDatetime = Field(description="RFC 3339 time with an offset")
    account_id: str = Field(min_length=1, max_length=256, description="the debtor account")
    amount: float = Field(ge=0, allow_inf_nan=False, description="decimal string or number")
    currency: str = Field(min_length=1, max_length=8)
    device_id: str | None = None
    ip: str | None = None
    country: str | None = None
    creditor_account_id: str | None = None
    channel: str | None = None


_EVENTS = TypeAdapter(list[TxEvent])


def to_entry(event: TxEvent) -> HistoryEntry:
    return HistoryEntry(
        ts_ms=(event.ts - _EPOCH) // _MS,
        tx_id=event.tx_id,
        amount=event.amount,
        device_id=event.device_id,
        ip=event.ip,
        country=event.country,
        payee=event.creditor_account_id,
        channel=event.channel,
    )


class SharedFeatures:
    """The features of recent batches, by batch content, while computed and for `ttl_s` after.

    Keyed by every field the features read, so only an identical batch shares an answer. A failed
    computation is not kept: the next call for that batch computes it again.
    """

    def __init__(self, ttl_s: float = 5.0, size: int = 4) -> None:
        self.ttl_s = ttl_s
        self.size = size
        self._answers: OrderedDict[Batch, tuple[float, asyncio.Future[Answer]]] = OrderedDict()

    async def get(self, batch: Batch, compute: Callable[[], Awaitable[Answer]]) -> Answer:
        self._forget_expired(time.monotonic())
        known = self._answers.get(batch)
        if known is None:
            answer = asyncio.ensure_future(compute())
            answer.add_done_callback(lambda done: self._forget_failed(batch, done))
            self._answers[batch] = (time.monotonic() + self.ttl_s, answer)
            while len(self._answers) > self.size:
                self._answers.popitem(last=False)
            known = self._answers[batch]
        # shield: a caller that gives up (timeout) must not cancel the answer others are waiting for
        return await asyncio.shield(known[1])

    def _forget_expired(self, now: float) -> None:
        while self._answers:
            expires, answer = next(iter(self._answers.values()))
            if expires > now or not answer.done():
                return
            self._answers.popitem(last=False)

    def _forget_failed(self, batch: Batch, answer: asyncio.Future[Answer]) -> None:
        if answer.cancelled() or answer.exception() is not None:
            known = self._answers.get(batch)
            if known is not None and known[1] is answer:
                del self._answers[batch]


def build_transactions_server(
    history: HistoryStore,
    *,
    token: str | None = None,
    policy: AccessPolicy | None = None,
    max_entries: int = DEFAULT_MAX_ENTRIES,
    shared: SharedFeatures | None = None,
) -> MCPServer:
    """An MCPServer computing features from `history` (in memory or Redis), each batch's once (`shared`)."""
    server = MCPServer(
        SERVER_NAME,
        version=VERSION,
        instructions="Account behaviour profiles and velocity features. One call per micro-batch.",
    )
    guard = ToolGuard(SERVER_NAME, token, policy)
    shared = shared if shared is not None else SharedFeatures()

    async def compute(batch: Batch) -> Answer:
        stored = await history.load([account_id for account_id, _ in batch])
        return compute_batch_features(batch, stored, max_entries), stored

    @server.tool(
        description=(
            "Velocity and behaviour features of many transactions in one call, from each account's "
            "history strictly before the transaction (the transaction itself excluded). Returns "
            '{"features": {tx_id: {"n_history", "count_1h", "count_24h", "sum_24h", "amount_mean", '
            '"amount_std", "amount_max", "known_device", "known_ip", "known_country", "known_payee", '
            '"seconds_since_last", "last_country", "distinct_devices_24h", "distinct_payees_24h", "sum_1h", '
            '"count_7d", "sum_7d" (7d within the last 64 transactions kept), "known_channel", '
            '"hour_typical" (UTC hour within ±1 h of an hour seen ≥ 2 times; null under 5 transactions), '
            '"hour_share" (share of history within ±1 h)}}}. '
            "No history: n_history 0 and nulls. observe=true also records the batch into the history "
            "(idempotent per tx_id); the answer is the same either way and for any call order."
        ),
        structured_output=False,
    )
    async def features_batch(
        ctx: Context,
        transactions: Annotated[
            list[TxEvent] | None,
            Field(
                description=(
                    "items {tx_id, ts, account_id, amount, currency, device_id?, ip?, country?, "
                    "creditor_account_id?, channel?}"
                )
            ),
        ] = None,
        transactions_json: Annotated[str, Field(description=BATCH_JSON_DESCRIPTION)] = "",
        observe: Annotated[bool, Field(description="record this batch into the account histories")] = True,
    ) -> CallToolResult:
        with guard.call(ctx, "features_batch", 0) as call:
            events = batch_items(call, "transactions", transactions, transactions_json, _EVENTS)
            batch = tuple((t.account_id, to_entry(t)) for t in events)
            features, stored = await shared.get(batch, lambda: compute(batch))
            if observe:
                grouped: dict[str, list[HistoryEntry]] = {}
                for account_id, entry in batch:
                    grouped.setdefault(account_id, []).append(entry)
                await history.observe(grouped, stored)
            return batch_result({"features": features})

    @server.tool(
        description=(
            "The kept history of one account, newest first, for the analyst console (read only). Returns "
            '{"account_id", "transactions": [{"tx_id", "ts", "amount", "device_id", "ip", "country", "payee", '
            '"channel"}]} (ts in RFC 3339, UTC).'
        ),
        structured_output=False,
    )
    async def recent_history(
        ctx: Context,
        account_id: Annotated[str, Field(min_length=1, max_length=256, description="the account")],
        limit: Annotated[int, Field(ge=1, le=DEFAULT_MAX_ENTRIES, description="at most this many")] = 20,
    ) -> CallToolResult:
        with guard.call(ctx, "recent_history", 1):
            entries = (await history.load([account_id]))[account_id].entries()
            rows = [_entry_json(e) for e in reversed(entries[-limit:])]
            return batch_result({"account_id": account_id, "transactions": rows})

    return server


def _entry_json(entry: HistoryEntry) -> dict[str, object]:
    row: dict[str, object] = entry._asdict()
    ts = _EPOCH + entry.ts_ms * _MS
    row["ts"] = ts.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    del row["ts_ms"]
    return row
