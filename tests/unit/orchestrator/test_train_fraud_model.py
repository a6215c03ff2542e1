"""`riskmesh train`: the replay computes the serving features, the model beats random, the card is complete."""

from __future__ import annotations

import json

import numpy as np
import pytest

from riskmesh.agents.features import FEATURE_NAMES
from riskmesh.agents.model import FraudModel, ModelRegistry
from riskmesh.orchestrator.evaluate import run_inprocess
from riskmesh.orchestrator.replay import Replayer, load_labelled
from riskmesh.orchestrator.train import labels_of, train
from tests.unit.orchestrator.fraud_data import write_dataset


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("train")
    world, train_file, eval_file = write_dataset(root)
    summary = train(train_file, root / "models", world, seed=3, rounds=80)
    return root, world, train_file, eval_file, summary


def test_training_registers_a_version_whose_card_describes_it(trained):
    root, _, _, _, summary = trained
    registry = ModelRegistry(root / "models")
    assert registry.current_version() == summary["version"] == "fraud-lgbm-1"
    card = registry.card()
    assert card is not None
    assert card["features"] == list(FEATURE_NAMES)
    assert card["label"]["definition"] == "label.is_fraud"
    assert len(card["training_data"]["sha256"]) == 64
    assert card["rows"]["train"] + card["rows"]["holdout"] == card["rows"]["total"]
    assert {"auprc", "recall_at_1pct_fpr"} <= set(card["metrics"]["holdout"])
    assert card["policy"]["fraud_model_version"] == "fraud-lgbm-1"
    assert 0 < card["policy"]["review_threshold"] <= card["policy"]["block_threshold"] <= 1
    assert card["params"]["seed"] == 3
    assert json.loads((root / "models" / "fraud-lgbm-1" / "card.json").read_text()) == card


def test_a_model_trained_on_a_small_history_ranks_fraud_far_better_than_random(trained):
    _, _, _, _, summary = trained
    holdout = summary["metrics"]
    assert holdout["auprc"] > 5 * holdout["positive_rate"]


def test_training_twice_with_one_seed_gives_the_same_model(trained, tmp_path):
    root, world, train_file, _, summary = trained
    again = train(train_file, tmp_path / "models", world, seed=3, rounds=80)
    assert again["metrics"] == summary["metrics"]
    first = (root / "models" / "fraud-lgbm-1" / "model.txt").read_text()
    assert (tmp_path / "models" / "fraud-lgbm-1" / "model.txt").read_text() == first


class RecordingModel(FraudModel):
    """Records the feature matrix the serving fraud agent computed, before selecting columns."""

    seen: list[np.ndarray]

    def select(self, matrix, names):
        self.seen.append(matrix.copy())
        return super().select(matrix, names)


async def test_serving_features_equal_the_training_replay_features_for_the_same_transactions(trained):
    root, world, _, eval_file, _ = trained
    txs = load_labelled(eval_file)[:1200]
    replayer = Replayer(world)
    try:
        replay = await replayer.run(txs)
    finally:
        await replayer.aclose()

    base = ModelRegistry(root / "models").load()
    assert base is not None
    recorder = RecordingModel(base.booster, base.card)
    recorder.seen = []
    from riskmesh.agents import fraud as fraud_module

    original = fraud_module.FraudAgent.from_environment
    fraud_module.FraudAgent.from_environment = classmethod(lambda cls, tools, _dir=None: cls(tools, model=recorder))
    try:
        run = await run_inprocess(txs, [], world, model_dir=root / "models")
    finally:
        fraud_module.FraudAgent.from_environment = original
    served = np.vstack(recorder.seen)
    assert len(run.decisions) == len(txs)
    assert served.shape == replay.x.shape
    np.testing.assert_array_equal(served, replay.x)


def test_labels_can_include_aml_but_default_to_fraud_only(trained):
    _, _, train_file, _, _ = trained
    txs = load_labelled(train_file)
    assert labels_of(txs).sum() <= labels_of(txs, "fraud_or_aml").sum()
    with pytest.raises(ValueError, match="unknown label"):
        labels_of(txs, "chargeback")
