"""The supervisor: one LangGraph run per micro-batch.

validate ▶ fan-out with Send to the four analysis agents (A2A) ▶ aggregation agent ▶ action agent ▶ emit.
An agent that fails or misses its deadline gets `timeout`/`error` verdicts; the decision lists it in
`degraded` and is never `pass`. A shadow (challenger) policy's decisions, when the aggregation agent
returns some, are emitted as ShadowDecision records beside the live decisions: never sent to the action agent.
"""

from __future__ import annotations

import asyncio
import logging
import operator
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any, TypedDict

from langgraph.graph import END, START, StateGraph
from langgraph.types import Send

from riskmesh.contracts import (
    ACTION_REQUEST_MEDIA_TYPE,
    AGGREGATION_REQUEST_MEDIA_TYPE,
    ANALYSIS_AGENTS,
    BATCH_MEDIA_TYPE,
    ActionOutcome,
    ActionResponse,
    AggregatedDecision,
    AggregationResponse,
    AssessBatchReply,
    ContractError,
    DeadLetter,
    ScoredVerdict,
    Transaction,
    action_request_json,
    aggregation_request_json,
    assess_request_json,
    parse_transaction,
)
from riskmesh.orchestrator.decision_store import DecisionStore
from riskmesh.orchestrator.pipeline import (
    AgentTransport,
    BatchResult,
    DecisionAudit,
    Emitter,
    InboundRecord,
    build_decision,
    fallback_decision,
    shadow_records,
)

__all__ = ["Supervisor"]

log = logging.getLogger("riskmesh.supervisor")

_RAW_LIMIT = 4096


def _merge(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    return {**a, **b}


class BatchState(TypedDict, total=False):
    batch_id: str
    records: list[InboundRecord]
    transactions: list[Transaction]
    raw: dict[str, bytes]
    ingest_ms: dict[str, float]
    dead_letters: list[tuple[InboundRecord, DeadLetter]]
    replays: list[tuple[str, bytes]]
    skipped: int
    verdicts: Annotated[dict[str, list[ScoredVerdict]], _merge]
    aggregation: AggregationResponse
    outcomes: dict[str, ActionOutcome]
    result: BatchResult
    calls: Annotated[list[str], operator.add]


class AnalyseTask(TypedDict):
    agent: str
    batch_id: str
    transactions: list[Transaction]
    payload: bytes


class Supervisor:
    """Builds the graph once per worker; `run(records)` decides one micro-batch."""

    def __init__(
        self,
        transport: AgentTransport,
        store: DecisionStore,
        emitter: Emitter,
        *,
        deadline_s: float,
        max_message_bytes: int = 64 * 1024,
        analysis_agents: tuple[str, ...] = ANALYSIS_AGENTS,
        clock: Callable[[], float] = time.time,
        audit: DecisionAudit | None = None,
    ) -> None:
        self.transport = transport
        self.store = store
        self.emitter = emitter
        self.deadline_s = deadline_s
        self.max_message_bytes = max_message_bytes
        self.analysis_agents = analysis_agents
        self.clock = clock
        self.audit = audit
        self.calls: dict[str, int] = {}
        self.graph = self._build()

    def _build(self) -> Any:
        g = StateGraph(BatchState)
        g.add_node("validate", self._validate)
        g.add_node("analyse", self._analyse)  # type: ignore[arg-type]  # receives Send payloads, not state
        g.add_node("aggregate", self._aggregate)
        g.add_node("act", self._act)
        g.add_node("emit", self._emit)
        g.add_edge(START, "validate")
        g.add_conditional_edges("validate", self._fan_out, ["analyse", "emit"])
        g.add_edge("analyse", "aggregate")
        g.add_edge("aggregate", "act")
        g.add_edge("act", "emit")
        g.add_edge("emit", END)
        return g.compile()

    async def run(self, records: list[InboundRecord]) -> BatchResult:
        state: BatchState = {"batch_id": uuid.uuid4().hex[:16], "records": records, "verdicts": {}, "calls": []}
        out = await self.graph.ainvoke(state)
        for name in out.get("calls", []):
            self.calls[name] = self.calls.get(name, 0) + 1
        result: BatchResult = out["result"]
        return result

    # -- nodes ---------------------------------------------------------------------------------------

    async def _validate(self, state: BatchState) -> dict[str, Any]:
        txs: dict[str, Transaction] = {}
        raw: dict[str, bytes] = {}
        ingest: dict[str, float] = {}
        dead: list[tuple[InboundRecord, DeadLetter]] = []
        skipped = 0
        for rec in state["records"]:
            try:
                if rec.value is None:
                    raise ContractError("invalid_json", "message has no value (tombstone)")
                tx = parse_transaction(rec.value, self.max_message_bytes)
            except ContractError as exc:
                dead.append((rec, self._dead_letter(rec, exc)))
                continue
            if tx.tx_id in txs:
                skipped += 1
                continue
            if tx.label is None:  # as it came: the analysis agents get these very bytes (a label is never sent)
                raw[tx.tx_id] = rec.value
            txs[tx.tx_id] = tx.without_label()
            ingest[tx.tx_id] = rec.ingest_ms
        known = await self.store.lookup(list(txs))
        replays = [(t, s.payload) for t, s in known.items() if not s.emitted]
        skipped += sum(1 for s in known.values() if s.emitted)
        fresh = [tx for t, tx in txs.items() if t not in known]
        return {"transactions": fresh, "raw": raw, "ingest_ms": ingest, "dead_letters": dead, "replays": replays,
                "skipped": skipped}

    def _dead_letter(self, rec: InboundRecord, exc: ContractError) -> DeadLetter:
        raw = rec.value or b""
        return DeadLetter(
            source_topic=rec.topic,
            partition=rec.partition,
            offset=rec.offset,
            key=rec.key,
            reason=exc.reason,
            error_type=exc.error_type,  # type: ignore[arg-type]
            fields=exc.fields,
            raw=raw[:_RAW_LIMIT].decode("utf-8", errors="replace"),
            raw_size=len(raw),
            received_at=datetime.now(UTC),
        )

    def _fan_out(self, state: BatchState) -> list[Send] | str:
        txs = state["transactions"]
        if not txs:
            return "emit"
        payload = assess_request_json(state["batch_id"], txs, state.get("raw"))
        return [
            Send("analyse", AnalyseTask(agent=a, batch_id=state["batch_id"], transactions=txs, payload=payload))
            for a in self.analysis_agents
        ]

    async def _analyse(self, task: AnalyseTask) -> dict[str, Any]:
        agent, txs = task["agent"], task["transactions"]
        status, detail = "error", ""
        try:
            raw = await self._call(agent, task["payload"], BATCH_MEDIA_TYPE)
            response = AssessBatchReply.model_validate_json(raw)
            verdicts: dict[str, ScoredVerdict] = {v.tx_id: v for v in response.verdicts}
            missing = [t.tx_id for t in txs if t.tx_id not in verdicts]
            if not missing:
                return {"verdicts": {agent: [verdicts[t.tx_id] for t in txs]}, "calls": [agent]}
            detail = f"{agent} returned no verdict for {len(missing)} transactions"
        except TimeoutError:
            status, detail = "timeout", f"{agent} missed its {self.deadline_s * 1000:.0f} ms deadline"
        except Exception as exc:
            detail = f"{agent} failed: {type(exc).__name__}: {exc}"
        log.warning("agent degraded: %s", detail)
        failed = [ScoredVerdict.failed(t.tx_id, agent, status, detail) for t in txs]  # type: ignore[arg-type]
        return {"verdicts": {agent: failed}, "calls": [agent]}

    async def _aggregate(self, state: BatchState) -> dict[str, Any]:
        txs, verdicts = state["transactions"], state["verdicts"]
        try:
            payload = aggregation_request_json(state["batch_id"], txs, verdicts)
            raw = await self._call("aggregation", payload, AGGREGATION_REQUEST_MEDIA_TYPE)
            response = AggregationResponse.model_validate_json(raw)
            got = {d.tx_id for d in response.decisions}
            if all(t.tx_id in got for t in txs):
                return {"aggregation": response, "calls": ["aggregation"]}
            detail = "aggregation agent left transactions undecided"
        except TimeoutError:
            detail = f"aggregation agent missed its {self.deadline_s * 1000:.0f} ms deadline"
        except Exception as exc:
            detail = f"aggregation agent failed: {type(exc).__name__}: {exc}"
        log.warning("aggregation degraded: %s", detail)
        per_tx = _verdicts_by_tx(verdicts)
        fallback = [fallback_decision(t.tx_id, per_tx.get(t.tx_id, {}), detail) for t in txs]
        return {"aggregation": AggregationResponse(batch_id=state["batch_id"], policy_version="fallback",
                                                   decisions=fallback), "calls": ["aggregation"]}

    async def _act(self, state: BatchState) -> dict[str, Any]:
        agg = state["aggregation"]
        try:
            payload = action_request_json(state["batch_id"], datetime.now(UTC), agg.policy_version,
                                          state["transactions"], agg.decisions)
            raw = await self._call("action", payload, ACTION_REQUEST_MEDIA_TYPE)
            response = ActionResponse.model_validate_json(raw)
            return {"outcomes": {o.tx_id: o for o in response.outcomes}, "calls": ["action"]}
        except TimeoutError:
            detail = f"action agent missed its {self.deadline_s * 1000:.0f} ms deadline"
        except Exception as exc:
            detail = f"action agent failed: {type(exc).__name__}: {exc}"
        log.warning("action degraded: %s", detail)
        return {"outcomes": {d.tx_id: ActionOutcome(tx_id=d.tx_id, status="error", detail=detail)
                             for d in agg.decisions}, "calls": ["action"]}

    async def _emit(self, state: BatchState) -> dict[str, Any]:
        result = BatchResult(skipped_duplicates=state.get("skipped", 0))
        fresh: dict[str, bytes] = {}
        if state.get("transactions"):
            now = datetime.now(UTC)
            now_ms = self.clock() * 1000
            per_tx = _verdicts_by_tx(state["verdicts"])
            agg = state["aggregation"]
            by_id: dict[str, AggregatedDecision] = {d.tx_id: d for d in agg.decisions}
            outcomes = state.get("outcomes", {})
            for tx in state["transactions"]:
                decision = build_decision(tx, by_id[tx.tx_id], per_tx.get(tx.tx_id, {}), outcomes.get(tx.tx_id),
                                          agg.policy_version, now, now_ms - state["ingest_ms"][tx.tx_id])
                result.decisions.append(decision)
                result.latencies_ms.append(decision.latency_ms)
                fresh[tx.tx_id] = decision.model_dump_json().encode()
        if self.audit is not None and result.decisions:
            # before recording: a failure here retries the batch and the decisions are made (and audited) again
            await self.audit.decisions_made(result.decisions, fresh, state["batch_id"])
        stored = await self.store.record(fresh)
        to_send = list(stored.items()) + list(state.get("replays", []))
        result.replayed = len(state.get("replays", [])) + sum(1 for t in fresh if stored[t] != fresh[t])
        dead = state.get("dead_letters", [])
        claims = await self.store.claim_dead_letters([f"{r.topic}:{r.partition}:{r.offset}" for r, _ in dead])
        dead_out = [(r.key or "", dl.model_dump_json().encode()) for (r, dl), fresh_dl in zip(dead, claims,
                                                                                              strict=True) if fresh_dl]
        result.dead_letters = [dl for (_, dl), fresh_dl in zip(dead, claims, strict=True) if fresh_dl]
        shadow = shadow_records(state.get("aggregation"), result.decisions, [t for t in fresh if stored[t] == fresh[t]])
        if shadow:
            await self.emitter.emit(to_send, dead_out, shadow=shadow)
        elif to_send or dead_out:
            await self.emitter.emit(to_send, dead_out)
        await self.store.mark_emitted([t for t, _ in to_send])
        result.emitted = len(to_send)
        return {"result": result}

    async def _call(self, agent: str, payload: bytes, media_type: str) -> bytes:
        async with asyncio.timeout(self.deadline_s):
            return await self.transport.call(agent, payload, media_type, self.deadline_s)


def _verdicts_by_tx(verdicts: dict[str, list[ScoredVerdict]]) -> dict[str, dict[str, ScoredVerdict]]:
    out: dict[str, dict[str, ScoredVerdict]] = {}
    for agent, items in verdicts.items():
        for v in items:
            out.setdefault(v.tx_id, {})[agent] = v
    return out
