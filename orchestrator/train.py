"""`riskmesh train`: fit the fraud model on labelled history and register a new version with its card.

1. Replay the file in time order through the in-process MCP servers (riskmesh.orchestrator.replay):
   features exactly as the online fraud agent computes them, and the other agents' verdicts.
2. Hold out the last `holdout` share by time; fit LightGBM on the rest (deterministic for a seed).
3. Metrics on the holdout (AUPRC, recall at 1 % FPR), and a decision policy calibrated on it: the
   fraud score dominates, compliance hard rules stay, behaviour and credit carry a small weight;
   the review threshold keeps review + block within `review_budget` of the holdout's transactions.
4. Write `model.txt` + `card.json` as the next version of the registry and point CURRENT at it.

Analyst labels (`--labels FILE.jsonl`, exported from `riskmesh.labels` by `riskmesh labels export`) take
precedence: an analyst's disposition replaces the generator's label of the same tx_id, and gives a label to a
transaction of the file that had none. Among several analyst labels of one tx_id the latest `labelled_at` wins.
Labels of tx_ids that are not in the training file are counted and ignored (there are no features to learn from).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from riskmesh.agents.aggregation import Policy
from riskmesh.agents.features import CATEGORICAL_FEATURES, FEATURE_NAMES
from riskmesh.agents.model import ModelRegistry
from riskmesh.contracts import Transaction
from riskmesh.contracts.review import LabelRecord
from riskmesh.contracts.transaction import Label
from riskmesh.orchestrator.metrics import auprc, recall_at_fpr, threshold_for_rate
from riskmesh.orchestrator.replay import Replay, Replayer, load_labelled, usd_amounts

__all__ = ["DEFAULT_PARAMS", "LABELS", "calibrate_policy", "ensure_model", "fit", "labels_of", "quiet_logs", "train",
           "with_analyst_labels"]

log = logging.getLogger("riskmesh.train")

DEFAULT_PARAMS: dict[str, Any] = {
    "objective": "binary",
    "learning_rate": 0.05,
    "num_leaves": 31,
    "min_child_samples": 40,
    "feature_fraction": 0.8,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "lambda_l2": 1.0,
    "max_cat_to_onehot": 8,
    "num_threads": 2,
    "deterministic": True,
    "force_row_wise": True,
    "verbosity": -1,
}
ROUNDS = 300
LABELS: dict[str, str] = {
    "fraud": "label.is_fraud",
    "fraud_or_aml": "label.is_fraud or label.is_suspicious_aml",
}
POLICY_WEIGHTS: dict[str, float] = {"fraud": 1.0, "compliance": 0.1, "behaviour": 0.05, "credit": 0.05}
"""Fraud score dominates; compliance decides through its hard blocks (sanctions), its score only nudges.
Measured: with compliance at 1.0, the graph-aware compliance rules sent 97 % of eval traffic to review."""


def quiet_logs() -> None:
    """The in-process MCP servers log every call at INFO; a replay makes thousands of them."""
    for name in ("riskmesh.mcp", "mcp", "httpx", "lightgbm"):
        logging.getLogger(name).setLevel(logging.WARNING)


def labels_of(txs: list[Transaction], label: str = "fraud") -> np.ndarray:
    if label not in LABELS:
        raise ValueError(f"unknown label {label!r}; choose from {sorted(LABELS)}")
    return np.asarray([bool(t.label and (t.label.is_fraud or (label == "fraud_or_aml" and t.label.is_suspicious_aml)))
                       for t in txs], dtype=bool)


def with_analyst_labels(txs: list[Transaction], records: Sequence[LabelRecord]
                        ) -> tuple[list[Transaction], dict[str, int]]:
    """The transactions with analyst labels applied (analyst wins), and what changed.

    Every transaction must end up labelled: one without a label in the file nor an analyst label is an error.
    """
    from riskmesh.orchestrator.review.labels import latest_labels

    latest = latest_labels(records)
    known = {t.tx_id for t in txs}
    out: list[Transaction] = []
    applied = flipped = 0
    for tx in txs:
        record = latest.get(tx.tx_id)
        if record is not None:
            applied += 1
            flipped += int(tx.label is not None and tx.label.is_fraud != record.is_fraud)
            pattern = record.pattern or (tx.label.pattern if tx.label and tx.label.is_fraud == record.is_fraud
                                         else None)
            tx = tx.model_copy(update={"label": Label(is_fraud=record.is_fraud, pattern=pattern,
                                                      is_suspicious_aml=record.is_suspicious_aml)})
        elif tx.label is None:
            raise ValueError(f"transaction {tx.tx_id} has neither a label nor an analyst label")
        out.append(tx)
    return out, {"records": len(records), "tx_ids": len(latest), "applied": applied, "flipped": flipped,
                 "unmatched": sum(1 for tx_id in latest if tx_id not in known)}


def fit(x: np.ndarray, y: np.ndarray, seed: int, rounds: int = ROUNDS, params: dict[str, Any] | None = None,
        weight: np.ndarray | None = None) -> Any:
    """A LightGBM booster on (x, y), columns named FEATURE_NAMES; deterministic for `seed`."""
    import lightgbm as lgb

    merged = {**DEFAULT_PARAMS, **(params or {}), "seed": seed}
    data = lgb.Dataset(x, label=y.astype(np.float64), weight=weight, feature_name=list(FEATURE_NAMES),
                       categorical_feature=list(CATEGORICAL_FEATURES), free_raw_data=False)
    return lgb.train(merged, data, num_boost_round=rounds)


def combined_risk(fraud: np.ndarray, replay: Replay, weights: dict[str, float]) -> np.ndarray:
    """The aggregation agent's noisy-OR risk over the fraud score and the other agents' scores."""
    keep = 1.0 - weights.get("fraud", 0.0) * fraud
    for agent, scores in replay.scores.items():
        keep = keep * (1.0 - weights.get(agent, 0.0) * scores)
    return np.where(replay.hard_block, 1.0, 1.0 - keep)


def loss_weights(y: np.ndarray, amounts_usd: np.ndarray) -> np.ndarray:
    """Positives weigh more the more money they move (1 + log10(1 + amount/1,000)): a missed large APP
    scam costs more than a missed card test, and the model should learn that."""
    return np.where(y, 1.0 + np.log10(1.0 + np.maximum(amounts_usd, 0.0) / 1_000.0), 1.0)


HIGH_VALUE_USD = 10_000.0
"""Above this (≈USD) the calibrated review threshold shrinks with the amount (value-aware review)."""
HIGH_VALUE_POWER = 0.5


def value_factor(amounts_usd: np.ndarray | None, n: int) -> np.ndarray:
    """min(1, (HIGH_VALUE_USD / amount) ** power): the share of the review threshold a payment must reach."""
    if amounts_usd is None:
        return np.ones(n)
    safe = np.maximum(amounts_usd, 1e-9)
    return np.minimum(1.0, (HIGH_VALUE_USD / safe) ** HIGH_VALUE_POWER)


def calibrate_policy(
    risk: np.ndarray, version: str, review_budget: float, block_budget: float, block_precision_y: np.ndarray | None,
    amounts_usd: np.ndarray | None = None,
) -> Policy:
    """Thresholds on the holdout's combined risk: review+block ≤ `review_budget`, block ≤ `block_budget`.

    The block threshold is also kept where the holdout's precision among blocked is ≥ 0.9, when
    labels are given, so that outright blocks are rare and mostly right.
    """
    # review when risk >= threshold * value_factor, i.e. risk / value_factor >= threshold
    scaled = risk / value_factor(amounts_usd, len(risk))
    review = max(0.05, min(0.99, threshold_for_rate(scaled, review_budget)))
    block = max(review, min(0.999, threshold_for_rate(risk, block_budget)))
    if block_precision_y is not None:
        for t in np.linspace(block, 0.999, 60):
            hit = risk >= t
            if not hit.any() or block_precision_y[hit].mean() >= 0.9:
                block = float(t)
                break
    return Policy(version=f"policy-{version}", weights=POLICY_WEIGHTS, review_threshold=round(review, 6),
                  block_threshold=round(max(block, review), 6), fraud_model_version=version,
                  high_value_usd=HIGH_VALUE_USD if amounts_usd is not None else None,
                  high_value_power=HIGH_VALUE_POWER)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


async def _replay(txs: list[Transaction], world: Path | None, other_agents: bool = True) -> Replay:
    replayer = Replayer(world, other_agents=other_agents)
    try:
        return await replayer.run(txs)
    finally:
        await replayer.aclose()


def train(
    data: Path, out: Path | None = None, world: Path | None = None, *, seed: int = 7, holdout: float = 0.2,
    label: str = "fraud", review_budget: float = 0.025, block_budget: float = 0.003, rounds: int = ROUNDS,
    make_current: bool = True, other_agents: bool = True, labels: Sequence[Path] = (),
) -> dict[str, Any]:
    """Fit, evaluate on the time holdout, calibrate the policy, register. Returns the JSON summary.

    `other_agents=False` skips the credit, behaviour and compliance verdicts in the replay (faster):
    the policy is then calibrated on the fraud score alone. `labels`: analyst label files (JSONL of
    LabelRecord) whose labels take precedence over the file's.
    """
    quiet_logs()
    txs = load_labelled(data, require_label=not labels)
    analyst: dict[str, Any] | None = None
    if labels:
        from riskmesh.orchestrator.review.labels import read_label_files

        txs, counts = with_analyst_labels(txs, read_label_files(labels))
        analyst = {"files": [str(p) for p in labels], **counts}
    if len(txs) < 50:
        raise ValueError(f"{data}: {len(txs)} labelled transactions are too few to train on")
    y = labels_of(txs, label)
    replay = asyncio.run(_replay(txs, world, other_agents))
    cut = round(len(txs) * (1.0 - holdout))
    if not (y[:cut].any() and (~y[:cut]).any()):
        raise ValueError("the training part needs positive and negative labels")
    booster = fit(replay.x[:cut], y[:cut], seed, rounds, weight=loss_weights(y[:cut], usd_amounts(txs[:cut])))
    scores = np.asarray(booster.predict(replay.x[cut:], num_threads=1))
    y_hold = y[cut:]
    registry = ModelRegistry(out)
    version = registry.next_version()
    risk = combined_risk(scores, Replay(replay.x[cut:], {k: v[cut:] for k, v in replay.scores.items()},
                                        replay.hard_block[cut:]), POLICY_WEIGHTS)
    usd_hold = usd_amounts(txs[cut:])
    policy = calibrate_policy(risk, version, review_budget, block_budget, y_hold if y_hold.any() else None,
                              usd_hold)
    flagged = risk >= policy.review_threshold * value_factor(usd_hold, len(risk))
    metrics = {
        "auprc": _finite(auprc(y_hold, scores)),
        "recall_at_1pct_fpr": _finite(recall_at_fpr(y_hold, scores, 0.01)),
        "positive_rate": round(float(y_hold.mean()), 6),
        "policy_flag_rate": round(float(flagged.mean()), 6),
        "policy_recall": _finite(float(flagged[y_hold].mean()) if y_hold.any() else None),
    }
    card: dict[str, Any] = {
        "version": version,
        "kind": "lightgbm-binary",
        "created_at": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "training_data": {"path": str(data), "sha256": _sha256(data), "world": str(world) if world else None,
                          "analyst_labels": analyst},
        "rows": {"total": len(txs), "train": cut, "holdout": len(txs) - cut,
                 "train_positives": int(y[:cut].sum()), "holdout_positives": int(y_hold.sum())},
        "time_range": {"first": txs[0].ts.isoformat(), "holdout_from": txs[cut].ts.isoformat() if cut < len(txs)
                       else None, "last": txs[-1].ts.isoformat()},
        "label": {"name": label, "definition": LABELS[label]},
        "features": list(FEATURE_NAMES),
        "categorical_features": list(CATEGORICAL_FEATURES),
        "graph_features_available": replay.graph_available,
        "params": {**DEFAULT_PARAMS, "seed": seed, "num_boost_round": rounds},
        "metrics": {"holdout": metrics},
        "policy": policy.model_dump(mode="json"),
        "policy_calibration": {"review_budget": review_budget, "block_budget": block_budget,
                               "on": "holdout combined risk (noisy-OR of agent scores, hard blocks = 1)"
                               if other_agents else "holdout fraud score"},
    }
    path = registry.save(booster.model_to_string(), card, make_current=make_current)
    return {"version": version, "path": str(path), "rows": card["rows"], "metrics": metrics,
            "policy": {"review_threshold": policy.review_threshold, "block_threshold": policy.block_threshold},
            "graph_features_available": replay.graph_available, "analyst_labels": analyst}


def _finite(value: float | None) -> float | None:
    return None if value is None or not np.isfinite(value) else round(float(value), 6)


def ensure_model(model_dir: Path, world_dir: Path, *, seed: int = 7, transactions: int = 12_000) -> str | None:
    """Train a small bootstrap model from generated data when the registry has none; the version in service.

    For the launcher (`make run` on a fresh machine): seconds of work, so the fraud agent starts as a
    real model. A registry that already has a version is left alone. Needs the world in `world_dir`.
    """
    import tempfile

    from riskmesh.orchestrator.synth import TransactionStream, World

    registry = ModelRegistry(model_dir)
    current = registry.current_version()
    if current is not None:
        return current
    world = World.read(world_dir)
    with tempfile.TemporaryDirectory(prefix="riskmesh-bootstrap-") as tmp:
        data = Path(tmp) / "bootstrap.jsonl"
        data.write_bytes(b"\n".join(TransactionStream(world, seed=seed + 1000).take_json(transactions)) + b"\n")
        summary = train(data, model_dir, world_dir, seed=seed, rounds=150, other_agents=False)
    log.info("bootstrap fraud model %s trained on %d generated transactions", summary["version"], transactions)
    return str(summary["version"])
