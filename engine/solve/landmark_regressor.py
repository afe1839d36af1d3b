"""ARKit weights from landmarks in head-pose-normalised metric space: a linear regressor.

Inputs per frame: the displacement (cm, head frame) of the landmarks in the landmark basis from the
actor's calibrated neutral, pose effects removed (engine.solve.landmark_space), and MediaPipe's 52
neutral-relative scores. Output: the 52 ARKit weights. The regressor is a ridge regression on
standardised inputs, trained on rendered ICT heads of the benchmark's dev identities
(tools/train_landmark_regressor.py; bench/rendered_truth.py measures it on other identities). Which
channels take it instead of MediaPipe's score is decided per channel in engine/solve/data/channels.json.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from engine.rig.arkit import ARKIT_NAMES

DEFAULT_REGRESSOR = Path(__file__).resolve().parent / "data" / "landmark_regressor.npz"


@dataclass(frozen=True)
class LandmarkRegressor:
    landmarks: np.ndarray     # (L,) MediaPipe landmark indices whose displacement is used
    mean: np.ndarray          # (F,) input standardisation, F = 3L + 52
    scale: np.ndarray         # (F,)
    weights: np.ndarray       # (F, 52)
    bias: np.ndarray          # (52,)
    about: str = ""

    def predict(self, displacement: np.ndarray, scores: np.ndarray) -> np.ndarray:
        """(N, L, 3) displacements (NaN rows -> 0) and (N, 52) scores -> (N, 52) weights in 0..1."""
        x = inputs(displacement, scores)
        return np.clip(((x - self.mean) / self.scale) @ self.weights + self.bias, 0.0, 1.0)

    def save(self, path: Path) -> None:
        np.savez_compressed(path, landmarks=self.landmarks, mean=self.mean, scale=self.scale, weights=self.weights,
                            bias=self.bias, about=np.array(self.about), channels=np.array(ARKIT_NAMES))


def inputs(displacement: np.ndarray, scores: np.ndarray) -> np.ndarray:
    n = len(scores)
    return np.column_stack([np.nan_to_num(displacement.reshape(n, -1)), np.nan_to_num(scores)])


def train(displacement: np.ndarray, scores: np.ndarray, truth: np.ndarray, landmarks: np.ndarray,
          ridge, about: str = "") -> LandmarkRegressor:
    """Ridge regression on standardised inputs; `ridge` is one strength or one per output channel."""
    x = inputs(displacement, scores)
    mean = x.mean(axis=0)
    scale = x.std(axis=0) + 1e-6
    z = (x - mean) / scale
    bias = truth.mean(axis=0)
    ridge = np.broadcast_to(np.asarray(ridge, float), (truth.shape[1],))
    gram = z.T @ z
    rhs = z.T @ (truth - bias)
    weights = np.zeros((z.shape[1], truth.shape[1]))
    for value in np.unique(ridge):
        cols = ridge == value
        weights[:, cols] = np.linalg.solve(gram + value * len(z) / 1000.0 * np.eye(z.shape[1]), rhs[:, cols])
    return LandmarkRegressor(np.asarray(landmarks), mean, scale, weights, bias, about)


@lru_cache(maxsize=2)
def load_regressor(path: str | None = None) -> LandmarkRegressor | None:
    p = Path(path) if path else DEFAULT_REGRESSOR
    if not p.is_file():
        return None
    d = np.load(p)
    if [str(n) for n in d["channels"]] != list(ARKIT_NAMES):
        raise ValueError(f"{p}: channels are not ARKit-52 in Live Link order")
    return LandmarkRegressor(d["landmarks"], d["mean"], d["scale"], d["weights"], d["bias"], str(d["about"]))
