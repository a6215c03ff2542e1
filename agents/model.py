"""The fraud model registry: versioned LightGBM models with their cards, and a loaded model's scoring.

Layout of a registry directory (default `$RISKMESH_MODEL_DIR`, else `$RISKMESH_DATA_DIR/models`,
else `.riskmesh/models`):

    models/
      CURRENT                  one line: the version in service, e.g. `fraud-lgbm-3`
      fraud-lgbm-3/model.txt   LightGBM text format
      fraud-lgbm-3/card.json   version, created_at, training data sha256, row counts, label
                               definition, features, params, holdout metrics, decision policy

Versions are never overwritten: `save` writes the next number into a temporary folder, renames
it into place and only then moves `CURRENT`, so a reader sees a complete version or the old one.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "MODEL_DIR_ENV",
    "SCORING_MODE_ENV",
    "Contribution",
    "FraudModel",
    "ModelRegistry",
    "default_model_dir",
]

MODEL_DIR_ENV = "RISKMESH_MODEL_DIR"
SCORING_MODE_ENV = "RISKMESH_FRAUD_MODE"
"""`rules` forces the fraud agent to its transparent rules (the baseline); anything else: the model if present."""
PREFIX = "fraud-lgbm-"
_VERSION = re.compile(rf"^{PREFIX}(\d+)$")


def default_model_dir(environ: dict[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    if env.get(MODEL_DIR_ENV):
        return Path(env[MODEL_DIR_ENV])
    return Path(env.get("RISKMESH_DATA_DIR") or ".riskmesh") / "models"


@dataclass(frozen=True)
class Contribution:
    feature: str
    value: float
    """The feature's value for this transaction (NaN = missing)."""
    contribution: float
    """Its SHAP-style contribution to the raw score (log-odds), from LightGBM `pred_contrib`."""


class FraudModel:
    """A loaded model version: probabilities and per-feature contributions for a feature matrix."""

    def __init__(self, booster: Any, card: dict[str, Any]) -> None:
        self.booster = booster
        self.card = card
        self.version: str = card["version"]
        self.features: tuple[str, ...] = tuple(card["features"])

    @classmethod
    def load(cls, directory: Path) -> FraudModel:
        import lightgbm as lgb

        card = json.loads((directory / "card.json").read_text())
        try:
            booster = lgb.Booster(model_file=str(directory / "model.txt"))
        except lgb.basic.LightGBMError as exc:
            raise ValueError(f"{directory / 'model.txt'}: not a LightGBM model ({exc})") from exc
        if tuple(booster.feature_name()) != tuple(card["features"]):
            raise ValueError(f"{directory}: model features differ from the card's feature list")
        return cls(booster, card)

    def select(self, matrix: np.ndarray, names: tuple[str, ...]) -> np.ndarray:
        """Columns of `matrix` (named `names`) in this model's feature order; unknown features NaN."""
        index = {n: i for i, n in enumerate(names)}
        out = np.full((matrix.shape[0], len(self.features)), np.nan)
        for j, name in enumerate(self.features):
            if name in index:
                out[:, j] = matrix[:, index[name]]
        return out

    def predict(self, x: np.ndarray) -> np.ndarray:
        if x.shape[0] == 0:
            return np.zeros(0)
        return np.asarray(self.booster.predict(x, num_threads=1), dtype=np.float64)

    def explain(self, x: np.ndarray, top: int = 3) -> list[list[Contribution]]:
        """Per row, the `top` features pushing the score up most (positive contributions only)."""
        if x.shape[0] == 0:
            return []
        contrib = np.asarray(self.booster.predict(x, pred_contrib=True, num_threads=1))[:, :-1]
        out: list[list[Contribution]] = []
        for i in range(x.shape[0]):
            order = np.argsort(-contrib[i], kind="stable")[:top]
            out.append([Contribution(self.features[j], float(x[i, j]), float(contrib[i, j]))
                        for j in order if contrib[i, j] > 0])
        return out


class ModelRegistry:
    """A directory of model versions with a CURRENT pointer."""

    def __init__(self, root: Path | str | None = None) -> None:
        self.root = Path(root) if root is not None else default_model_dir()

    def versions(self) -> list[str]:
        if not self.root.is_dir():
            return []
        found = [(int(m.group(1)), p.name) for p in self.root.iterdir()
                 if p.is_dir() and (m := _VERSION.match(p.name)) and (p / "card.json").exists()]
        return [name for _, name in sorted(found)]

    def current_version(self) -> str | None:
        pointer = self.root / "CURRENT"
        if pointer.exists():
            name = pointer.read_text().strip()
            if (self.root / name / "model.txt").exists():
                return name
        versions = self.versions()
        return versions[-1] if versions else None

    def load(self, version: str | None = None) -> FraudModel | None:
        name = version or self.current_version()
        return FraudModel.load(self.root / name) if name else None

    def card(self, version: str | None = None) -> dict[str, Any] | None:
        name = version or self.current_version()
        path = self.root / name / "card.json" if name else None
        return json.loads(path.read_text()) if path and path.exists() else None

    def next_version(self) -> str:
        versions = self.versions()
        last = int(_VERSION.match(versions[-1]).group(1)) if versions else 0  # type: ignore[union-attr]
        return f"{PREFIX}{last + 1}"

    def save(self, model_text: str, card: dict[str, Any], *, make_current: bool = True) -> Path:
        """Write a new version (its name is `card['version']`, default the next number) and point CURRENT at it."""
        self.root.mkdir(parents=True, exist_ok=True)
        version = card.get("version") or self.next_version()
        target = self.root / version
        if target.exists():
            raise FileExistsError(f"model version {version} already exists in {self.root}")
        card = {**card, "version": version}
        staging = Path(tempfile.mkdtemp(prefix=f".{version}-", dir=self.root))
        try:
            (staging / "model.txt").write_text(model_text)
            (staging / "card.json").write_text(json.dumps(card, indent=2, sort_keys=True) + "\n")
            staging.rename(target)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        if make_current:
            tmp = self.root / ".CURRENT.tmp"
            tmp.write_text(version + "\n")
            tmp.replace(self.root / "CURRENT")
        return target
