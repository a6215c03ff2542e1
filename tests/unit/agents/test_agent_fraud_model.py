"""The fraud agent with a registry model: probabilities, reasons from pred_contrib, the rules fallback."""

from __future__ import annotations

import json

import numpy as np
import pytest
from agent_doubles import FakeTools, features_for, make_tx, reference
from agent_doubles import features as history_features

from riskmesh.agents.features import FEATURE_NAMES
from riskmesh.agents.fraud import MODEL_REASON_GROUPS, FraudAgent
from riskmesh.agents.model import MODEL_DIR_ENV, SCORING_MODE_ENV, ModelRegistry


def _toy_model_text(seed: int = 1) -> str:
    """A small model where a big amount relative to the account's mean means fraud."""
    import lightgbm as lgb

    rng = np.random.default_rng(seed)
    x = np.full((600, len(FEATURE_NAMES)), np.nan)
    ratio = rng.uniform(0.1, 20, 600)
    x[:, FEATURE_NAMES.index("amount_to_mean")] = ratio
    x[:, FEATURE_NAMES.index("n_history")] = rng.integers(0, 50, 600)
    y = (ratio > 8).astype(float)
    booster = lgb.train({"objective": "binary", "verbosity": -1, "min_child_samples": 5, "seed": seed},
                        lgb.Dataset(x, label=y, feature_name=list(FEATURE_NAMES)), num_boost_round=20)
    return booster.model_to_string()


@pytest.fixture
def registry(tmp_path) -> ModelRegistry:
    registry = ModelRegistry(tmp_path / "models")
    registry.save(_toy_model_text(), {"features": list(FEATURE_NAMES), "metrics": {"holdout": {"auprc": 1.0}}})
    return registry


def tools_for(feats: dict) -> FakeTools:
    return FakeTools({("customer-data", "get_customers_batch"): reference(),
                      ("transactions", "features_batch"): features_for(None, feats)})


def test_the_registry_keeps_versions_with_their_cards_and_a_current_pointer(registry):
    second = registry.save(_toy_model_text(2), {"features": list(FEATURE_NAMES)}, make_current=False)
    assert registry.versions() == ["fraud-lgbm-1", "fraud-lgbm-2"]
    assert registry.current_version() == "fraud-lgbm-1"
    assert second.name == "fraud-lgbm-2"
    assert json.loads((second / "card.json").read_text())["version"] == "fraud-lgbm-2"
    model = registry.load()
    assert model is not None and model.version == "fraud-lgbm-1"
    assert model.features == FEATURE_NAMES
    with pytest.raises(FileExistsError):
        registry.save("x", {"version": "fraud-lgbm-2", "features": []})


async def test_model_verdicts_carry_the_version_and_reasons_from_feature_contributions(registry):
    agent = FraudAgent(tools_for(history_features()), model=registry.load())
    [high, low] = await agent.assess([make_tx("T1", amount="1500.00"), make_tx("T2", amount="100.00")])
    assert high.model_version == low.model_version == "fraud-lgbm-1"
    assert high.score > 0.5 > low.score
    top = high.reasons[0]
    assert top.code == "FRAUD_MODEL_AMOUNT"
    assert top.detail.startswith("amount_to_mean=")
    assert high.evidence["contributions"]["amount_to_mean"] > 0
    assert sum(r.weight for r in high.reasons) <= high.score + 1e-6
    assert {r.code for r in high.reasons} <= {*MODEL_REASON_GROUPS, "FRAUD_MODEL_CONTEXT", "FRAUD_MODEL_NO_GRAPH",
                                              "FRAUD_NO_HISTORY", "FRAUD_UNKNOWN_CUSTOMER"}


async def test_graph_features_are_missing_and_said_so_when_the_risk_graph_does_not_answer(registry):
    agent = FraudAgent(tools_for(history_features()), model=registry.load())
    [verdict] = await agent.assess([make_tx()])
    assert "FRAUD_MODEL_NO_GRAPH" in {r.code for r in verdict.reasons}


async def test_without_a_model_the_agent_from_the_environment_uses_the_rules(tmp_path, monkeypatch):
    monkeypatch.setenv(MODEL_DIR_ENV, str(tmp_path / "empty"))
    agent = FraudAgent.from_environment(tools_for(history_features()))
    [verdict] = await agent.assess([make_tx()])
    assert agent.model is None
    assert verdict.model_version == "fraud-rules-1"


def test_the_environment_loads_the_current_model_unless_rules_are_forced(registry, monkeypatch):
    monkeypatch.setenv(MODEL_DIR_ENV, str(registry.root))
    assert FraudAgent.from_environment(FakeTools()).model_version == "fraud-lgbm-1"
    monkeypatch.setenv(SCORING_MODE_ENV, "rules")
    assert FraudAgent.from_environment(FakeTools()).model_version == "fraud-rules-1"


def test_a_broken_model_version_falls_back_to_the_rules(registry, monkeypatch):
    (registry.root / "fraud-lgbm-1" / "model.txt").write_text("not a model")
    monkeypatch.setenv(MODEL_DIR_ENV, str(registry.root))
    assert FraudAgent.from_environment(FakeTools()).model_version == "fraud-rules-1"
