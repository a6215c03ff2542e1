"""`riskmesh eval`: replay labelled transactions in time order through the full pipeline and score it.

Two ways through the pipeline, the same metrics:
- protocol (default): the embedded stack as `riskmesh demo` starts it; transactions are produced to
  Kafka in time order keyed by debtor account, labels stripped; decisions are read back.
- in-process (`--inprocess`): InProcessPipeline, batches of 500 in time order.
`--history FILE` is replayed first, unscored (profiles and graph warm up). The rules-only baseline
(the fraud agent forced to its rules, the default policy) always runs in-process on the same input.

Positives for decisions are `label.is_fraud or label.is_suspicious_aml`; amounts are approximate USD.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from riskmesh.contracts import ANALYSIS_AGENTS, Transaction
from riskmesh.contracts.settings import Settings
from riskmesh.orchestrator.metrics import auprc, decision_metrics, recall_at_fpr
from riskmesh.orchestrator.replay import BATCH, load_labelled, usd_amounts
from riskmesh.orchestrator.train import quiet_logs

__all__ = ["RunResult", "evaluate", "run_inprocess", "run_protocol", "score_run"]

LABEL_SETS = ("any", "fraud", "aml")


@dataclass
class RunResult:
    """Decisions (public JSON shape) by tx_id, for one pass through a pipeline."""

    decisions: dict[str, dict[str, Any]] = field(default_factory=dict)
    elapsed_s: float = 0.0
    mode: str = "inprocess"


def _payload(tx: Transaction) -> bytes:
    return orjson.dumps(tx.without_label().model_dump(mode="json", exclude_none=True))


async def _feed(pipeline: Any, txs: Sequence[Transaction], keep: RunResult | None) -> None:
    from riskmesh.orchestrator.pipeline import InboundRecord

    for start in range(0, len(txs), BATCH):
        chunk = txs[start:start + BATCH]
        records = [InboundRecord(value=_payload(t), key=t.debtor.account_id, topic="eval", offset=start + i)
                   for i, t in enumerate(chunk)]
        result = await pipeline.supervisor.run(records)
        if keep is not None:
            for d in result.decisions:
                keep.decisions[d.tx_id] = d.model_dump(mode="json")


async def run_inprocess(
    txs: Sequence[Transaction], history: Sequence[Transaction] = (), world: Path | None = None, *,
    rules_only: bool = False, model_dir: Path | None = None, deadline_s: float = 30.0,
) -> RunResult:
    """The pipeline in this process; `rules_only` forces the fraud rules and the default policy."""
    from riskmesh.agents.aggregation import AggregationAgentImpl, Policy, deployed_policy
    from riskmesh.agents.fraud import FraudAgent
    from riskmesh.orchestrator.decision_store import MemoryDecisionStore
    from riskmesh.orchestrator.inprocess import InProcessPipeline, NullEmitter

    pipeline = InProcessPipeline(world, None, MemoryDecisionStore(), NullEmitter(), deadline_s=deadline_s)
    fraud_tools = pipeline.callers["fraud"]
    if rules_only:
        pipeline.agents["fraud"] = FraudAgent(fraud_tools)
        pipeline.agents["aggregation"] = AggregationAgentImpl(Policy())
    else:
        pipeline.agents["fraud"] = FraudAgent.from_environment(fraud_tools, model_dir)
        pipeline.agents["aggregation"] = AggregationAgentImpl(deployed_policy(model_dir))
    out = RunResult(mode="inprocess")
    try:
        await _feed(pipeline, history, None)
        pipeline.supervisor.store = MemoryDecisionStore()  # history tx_ids must not shadow eval ones
        started = time.monotonic()
        await _feed(pipeline, txs, out)
        out.elapsed_s = time.monotonic() - started
    finally:
        await pipeline.aclose()
    return out


def run_protocol(settings: Settings, txs: Sequence[Transaction], history: Sequence[Transaction] = (),
                 timeout_s: float = 1800) -> RunResult:
    """Through the embedded stack over Kafka, A2A and MCP, as `riskmesh demo` runs it."""
    from riskmesh.orchestrator.stack import Stack
    from riskmesh.orchestrator.streaming import DecisionTap, produce

    stack = Stack(settings, review=False, gateway=False, soc=False)
    info = stack.start()
    tap = DecisionTap(info.kafka, settings.topic_decisions, settings.topic_dlq, keep_decisions=True).start()
    try:
        started = time.monotonic()
        everything = [*history, *txs]
        produce(info.kafka, settings.topic_transactions,
                ((t.debtor.account_id.encode(), _payload(t)) for t in everything))
        if not tap.wait_for(len(everything), 0, timeout_s):
            raise TimeoutError(f"only {tap.stats.decisions} of {len(everything)} decisions within {timeout_s}s")
        wanted = {t.tx_id for t in txs}
        return RunResult({d["tx_id"]: d for d in tap.decisions if d["tx_id"] in wanted},
                         time.monotonic() - started, "stream")
    finally:
        tap.stop()
        stack.stop()


def _labels(txs: Sequence[Transaction]) -> dict[str, np.ndarray]:
    fraud = np.asarray([bool(t.label and t.label.is_fraud) for t in txs])
    aml = np.asarray([bool(t.label and t.label.is_suspicious_aml) for t in txs])
    return {"any": fraud | aml, "fraud": fraud, "aml": aml}


def _rank_metrics(y: np.ndarray, s: np.ndarray) -> dict[str, float | None]:
    def clean(v: float) -> float | None:
        return None if not np.isfinite(v) else round(float(v), 6)

    return {"auprc": clean(auprc(y, s)), "recall_at_1pct_fpr": clean(recall_at_fpr(y, s, 0.01))}


def score_run(run: RunResult, txs: Sequence[Transaction]) -> dict[str, Any]:
    """Per agent ranking metrics (and the decision's risk score as `decision`), per decision outcomes."""
    missing = [t.tx_id for t in txs if t.tx_id not in run.decisions]
    if missing:
        raise ValueError(f"{len(missing)} transactions were not decided, e.g. {missing[:3]}")
    decided = [run.decisions[t.tx_id] for t in txs]
    labels = _labels(txs)
    agents: dict[str, Any] = {}
    for agent in (*ANALYSIS_AGENTS, "decision"):
        if agent == "decision":
            s = np.asarray([float(d["risk_score"]) for d in decided])
        else:
            s = np.asarray([float((d["verdicts"].get(agent) or {}).get("score", 1.0)) for d in decided])
        entry: dict[str, Any] = _rank_metrics(labels["any"], s)
        entry["by_label"] = {name: _rank_metrics(labels[name], s) for name in ("fraud", "aml")}
        agents[agent] = entry
    outcome = decision_metrics(labels["any"], [d["decision"] for d in decided], usd_amounts(txs))
    versions = sorted({(a, v.get("model_version")) for d in decided[:1000] for a, v in d["verdicts"].items()})
    return {"agents": agents, "decision": outcome, "model_versions": dict(versions),
            "policy_version": decided[0]["policy_version"] if decided else None,
            "degraded": int(sum(1 for d in decided if d.get("degraded")))}


def evaluate(
    data: Path, *, inprocess: bool = False, world: Path | None = None, history: Path | None = None,
    settings: Settings | None = None, model_dir: Path | None = None, baseline: bool = True,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The JSON report, and the raw material of the HTML report (scores and labels per run)."""
    quiet_logs()
    txs = load_labelled(data)
    past = load_labelled(history) if history else []
    if inprocess:
        run = asyncio.run(run_inprocess(txs, past, world, model_dir=model_dir))
    else:
        run = run_protocol(settings or Settings(), txs, past)
    report: dict[str, Any] = {"data": str(data), "mode": run.mode, "transactions": len(txs),
                              "history": len(past), "world": str(world) if world else None}
    labels = _labels(txs)
    report["positives"] = {k: int(v.sum()) for k, v in labels.items()}
    report.update(score_run(run, txs))
    report["throughput_tps"] = round(len(txs) / max(run.elapsed_s, 1e-6), 1)
    runs = {"system": run}
    if baseline:
        base = asyncio.run(run_inprocess(txs, past, world, rules_only=True))
        report["baseline"] = {"mode": "inprocess", **score_run(base, txs)}
        report["beats_baseline_auprc"] = _beats(report, report["baseline"])
        runs["baseline"] = base
    return report, {"txs": txs, "labels": labels, "runs": runs}


def _beats(system: dict[str, Any], base: dict[str, Any]) -> bool | None:
    a, b = system["agents"]["decision"]["auprc"], base["agents"]["decision"]["auprc"]
    return None if a is None or b is None else a > b


def write_dump(path: Path, material: dict[str, Any]) -> Path:
    """One line per evaluated transaction: label, amount, decision, risk score and each agent's score."""
    system = material["runs"]["system"]
    with open(path, "wb") as fh:
        for tx in material["txs"]:
            d = system.decisions[tx.tx_id]
            label = tx.label
            fh.write(orjson.dumps({
                "tx_id": tx.tx_id, "amount": str(tx.amount), "currency": tx.currency, "type": tx.type,
                "is_fraud": bool(label and label.is_fraud), "is_aml": bool(label and label.is_suspicious_aml),
                "pattern": label.pattern if label else None, "decision": d["decision"],
                "risk_score": d["risk_score"],
                "scores": {a: v.get("score") for a, v in d.get("verdicts", {}).items()},
            }) + b"\n")
    return path
