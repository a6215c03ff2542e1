"""`riskmesh policy backtest`: decide a labelled file with the live policy and a candidate, side by side.

The four analysis agents run once, in process (InProcessPipeline, batches of 500 in time order, the
fraud model of the registry); every batch is then aggregated with the live policy and, in shadow, with
the candidate, against the same verdicts and the same customer and control look-ups. Nothing is acted
on: the action agent is replaced by one that does nothing.

Compared are the aggregation agent's decisions. Fraud is `label.is_fraud`; a false positive is a
review or block of a transaction labelled neither fraud nor suspicious AML; amounts are ≈USD.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from riskmesh.agents.aggregation import AggregationAgentImpl, Policy
from riskmesh.contracts import (
    ActionOutcome,
    ActionRequest,
    ActionResponse,
    AggregatedDecision,
    AggregationRequest,
    AggregationResponse,
    Transaction,
)
from riskmesh.orchestrator.replay import usd_amounts

__all__ = ["backtest", "compare", "decide_both", "render_table"]

OUTCOMES = ("pass", "review", "block")
MAX_EXAMPLES = 10


class _Recorder:
    """The aggregation agent, keeping every live and shadow (candidate) decision it makes."""

    name = "aggregation"

    def __init__(self, inner: AggregationAgentImpl) -> None:
        self.inner = inner
        self.live: dict[str, AggregatedDecision] = {}
        self.candidate: dict[str, AggregatedDecision] = {}

    @property
    def policy_version(self) -> str:
        return self.inner.policy_version

    async def aggregate(self, request: AggregationRequest) -> AggregationResponse:
        response = await self.inner.aggregate(request)
        self.live.update((d.tx_id, d) for d in response.decisions)
        self.candidate.update((d.tx_id, d) for d in response.shadow)
        return response


class _NoAction:
    """A backtest decides and never acts."""

    name = "action"

    async def act(self, request: ActionRequest) -> ActionResponse:
        return ActionResponse(batch_id=request.batch_id, outcomes=[ActionOutcome(tx_id=d.tx_id)
                                                                   for d in request.decisions])


async def decide_both(
    txs: Sequence[Transaction], live: Policy, candidate: Policy, world: Path | None = None, *,
    deadline_s: float = 60.0,
) -> tuple[dict[str, AggregatedDecision], dict[str, AggregatedDecision]]:
    """(live, candidate) aggregated decisions by tx_id, from one in-process run of the analysis agents
    (the fraud agent scores with the registry's current model, `RISKMESH_MODEL_DIR`, as in production)."""
    from riskmesh.orchestrator.decision_store import MemoryDecisionStore
    from riskmesh.orchestrator.evaluate import _feed
    from riskmesh.orchestrator.inprocess import InProcessPipeline, NullEmitter

    pipeline = InProcessPipeline(world, None, MemoryDecisionStore(), NullEmitter(), deadline_s=deadline_s,
                                 aggregation={"policy": live})
    recorder = _Recorder(AggregationAgentImpl(live, tools=pipeline.callers["aggregation"], shadow=candidate))
    pipeline.agents["aggregation"] = recorder
    pipeline.agents["action"] = _NoAction()
    try:
        await _feed(pipeline, txs, None)
    finally:
        await pipeline.aclose()
    return recorder.live, recorder.candidate


def _side(txs: Sequence[Transaction], decided: dict[str, AggregatedDecision], version: str) -> dict[str, Any]:
    outcomes: list[str] = [decided[t.tx_id].decision for t in txs]
    counts = Counter(outcomes)
    usd = usd_amounts(txs)
    fraud = [bool(t.label and t.label.is_fraud) for t in txs]
    legit = [not (t.label and (t.label.is_fraud or t.label.is_suspicious_aml)) for t in txs]
    flagged = [o != "pass" for o in outcomes]
    fraud_usd = float(sum(a for a, f in zip(usd, fraud, strict=True) if f))
    caught_usd = float(sum(a for a, f, x in zip(usd, fraud, flagged, strict=True) if f and x))
    n, n_legit = len(txs), sum(legit)
    return {
        "policy_version": version,
        "decisions": {o: counts.get(o, 0) for o in OUTCOMES},
        "review_rate": round(counts.get("review", 0) / n, 6) if n else None,
        "block_rate": round(counts.get("block", 0) / n, 6) if n else None,
        "fraud": {"labelled": sum(fraud), "caught": sum(f and x for f, x in zip(fraud, flagged, strict=True)),
                  "amount_share": round(caught_usd / fraud_usd, 6) if fraud_usd else None},
        "false_positive_rate": (round(sum(x and g for x, g in zip(flagged, legit, strict=True)) / n_legit, 6)
                                if n_legit else None),
    }


def compare(txs: Sequence[Transaction], live: dict[str, AggregatedDecision], candidate: dict[str, AggregatedDecision],
            live_version: str, candidate_version: str) -> dict[str, Any]:
    """The side-by-side report: per policy metrics and the decisions that changed."""
    missing = [t.tx_id for t in txs if t.tx_id not in live or t.tx_id not in candidate]
    if missing:
        raise ValueError(f"{len(missing)} transactions were not decided by both policies, e.g. {missing[:3]}")
    changed = [t.tx_id for t in txs if live[t.tx_id].decision != candidate[t.tx_id].decision]
    transitions = Counter(f"{live[t].decision}▶{candidate[t].decision}" for t in changed)
    examples = [{"tx_id": t,
                 "live": {"decision": live[t].decision, "risk_score": live[t].risk_score},
                 "candidate": {"decision": candidate[t].decision, "risk_score": candidate[t].risk_score}}
                for t in changed[:MAX_EXAMPLES]]
    return {
        "transactions": len(txs),
        "live": _side(txs, live, live_version),
        "candidate": _side(txs, candidate, candidate_version),
        "changed": {"count": len(changed), "by_transition": dict(sorted(transitions.items())), "examples": examples},
    }


def backtest(candidate_file: Path, data: Path, *, live_file: Path | None = None, world: Path | None = None,
             settings: Any = None) -> dict[str, Any]:
    """Load both policies (live: `live_file`, else the configured live policy) and the data; run; compare."""
    from riskmesh.agents.policy_file import configured_policies, load_policy_file, to_policy
    from riskmesh.contracts.settings import Settings
    from riskmesh.orchestrator.replay import load_labelled
    from riskmesh.orchestrator.train import quiet_logs

    quiet_logs()
    settings = settings or Settings()
    candidate = to_policy(load_policy_file(candidate_file))
    live = to_policy(load_policy_file(live_file)) if live_file else configured_policies(settings)[0]
    txs = load_labelled(data)
    decided_live, decided_candidate = asyncio.run(decide_both(txs, live, candidate, world))
    report = compare(txs, decided_live, decided_candidate, live.version, candidate.version)
    return {"data": str(data), "world": str(world) if world else None, **report}


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2%}"


def render_table(report: dict[str, Any]) -> Any:
    """The report as rich renderables: metrics side by side, then the changed decisions."""
    from rich.console import Group
    from rich.table import Table

    live, cand = report["live"], report["candidate"]
    table = Table(title=f"policy backtest: {report['transactions']} transactions")
    table.add_column("metric")
    table.add_column(f"live {live['policy_version']}", justify="right")
    table.add_column(f"candidate {cand['policy_version']}", justify="right")
    for outcome in OUTCOMES:
        table.add_row(outcome, str(live["decisions"][outcome]), str(cand["decisions"][outcome]))
    table.add_row("review rate", _pct(live["review_rate"]), _pct(cand["review_rate"]))
    table.add_row("block rate", _pct(live["block_rate"]), _pct(cand["block_rate"]))
    table.add_row("fraud caught", *(f"{s['fraud']['caught']} / {s['fraud']['labelled']}" for s in (live, cand)))
    table.add_row("fraud amount caught", _pct(live["fraud"]["amount_share"]), _pct(cand["fraud"]["amount_share"]))
    table.add_row("false positive rate", _pct(live["false_positive_rate"]), _pct(cand["false_positive_rate"]))
    changed = report["changed"]
    moves = Table(title=f"changed decisions: {changed['count']}")
    moves.add_column("tx_id")
    moves.add_column("live", justify="right")
    moves.add_column("candidate", justify="right")
    for ex in changed["examples"]:
        moves.add_row(ex["tx_id"], *(f"{ex[s]['decision']} ({ex[s]['risk_score']:.3f})" for s in ("live", "candidate")))
    summary = ", ".join(f"{k}: {v}" for k, v in changed["by_transition"].items()) or "none"
    return Group(table, f"by transition: {summary}", moves)
