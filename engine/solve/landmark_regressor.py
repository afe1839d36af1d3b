"""ARKit weights from landmarks in head-pose-normalised metric space: a small neural network.

Inputs per frame: the displacement (cm, head frame) of the landmarks in the landmark basis from the
actor's calibrated neutral, pose effects removed (engine.solve.landmark_space), and MediaPipe's 52
neutral-relative scores. Output: the 52 ARKit weights. The network is a multilayer perceptron (two GELU
hidden layers, sigmoid outputs) on standardised inputs, trained with torch on rendered ICT heads of the
benchmark's dev identities (tools/train_landmark_regressor.py; bench/rendered_truth.py measures it on other
identities), several of them with different seeds averaged (an ensemble: steadier on faces it never saw).
It runs here in numpy (a few matrix products per clip, no torch needed; erf and the sigmoid are written out
below rather than imported from scipy.special, ~0.2 s of CPU at `run`'s start). It replaced a ridge
regression because the weak channels are not linear in the landmarks (a cheek puff moves the contour only
once the lips are sealed; jawForward shows as a chin shift that depends on jawOpen). Which channels take it
instead of MediaPipe's score is decided per channel in engine/solve/data/channels.json.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from engine.rig.arkit import ARKIT_NAMES

PREDICT_BLOCK_FRAMES = 1024   # frames per pass through the network (memory flat in the clip's length)
DEFAULT_REGRESSOR = Path(__file__).resolve().parent / "data" / "landmark_regressor.npz"


@dataclass(frozen=True)
class LandmarkRegressor:
    landmarks: np.ndarray                          # (L,) MediaPipe landmark indices whose displacement is used
    mean: np.ndarray                               # (F,) input standardisation, F = 3L + 52
    scale: np.ndarray                              # (F,)
    members: tuple[tuple[tuple[np.ndarray, np.ndarray], ...], ...]   # per network: (weights (in, out), bias) per layer
    about: str = ""
    pose_inputs: bool = False                      # the head's yaw, pitch, roll (radians) are inputs too

    @property
    def n_inputs(self) -> int:
        return len(self.mean)

    def predict(self, displacement: np.ndarray, scores: np.ndarray, pose: np.ndarray | None = None) -> np.ndarray:
        """(N, L, 3) displacements (NaN rows -> 0; an array, or the landmark space's FrameDisplacements,
        which computes each block when it is read), (N, 52) scores and, for a network that takes it, (N, 3)
        head yaw, pitch, roll in radians -> (N, 52) weights in 0..1."""
        if self.pose_inputs and pose is None:
            raise ValueError("this landmark network takes the head's angles as inputs: pass `pose`")
        # In blocks of frames: the inputs and the hidden layers' activations (with erf's temporaries) of a
        # whole 10-minute clip at once would make memory grow with its length; each row is its own anyway.
        # `scores` may be any object that gives its rows when sliced (the solve's are computed per block).
        out = None
        for start in range(0, max(len(scores), 1), PREDICT_BLOCK_FRAMES):
            rows = slice(start, start + PREDICT_BLOCK_FRAMES)
            z = (inputs(displacement[rows], scores[rows], pose[rows] if self.pose_inputs else None) - self.mean) / self.scale
            block = np.mean([run_network(layers, z) for layers in self.members], axis=0)
            if out is None:
                out = np.empty((len(scores),) + block.shape[1:], block.dtype)
            out[rows] = block
        return out

    def save(self, path: Path) -> None:
        arrays = {f"m{m}_{kind}{i}": array for m, layers in enumerate(self.members)
                  for i, (w, b) in enumerate(layers) for kind, array in (("w", w), ("b", b))}
        np.savez_compressed(path, landmarks=self.landmarks, mean=self.mean, scale=self.scale,
                            n_members=np.array(len(self.members)), n_layers=np.array(len(self.members[0])),
                            pose_inputs=np.array(self.pose_inputs),
                            about=np.array(self.about), channels=np.array(ARKIT_NAMES), **arrays)


def run_network(layers, z: np.ndarray) -> np.ndarray:
    h = z
    for i, (w, b) in enumerate(layers):
        h = h @ w + b
        if i < len(layers) - 1:
            h = gelu(h)
    return sigmoid(h)


def sigmoid(x: np.ndarray) -> np.ndarray:
    """1 / (1 + e^-x), in the tanh form that cannot overflow."""
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def gelu(x: np.ndarray) -> np.ndarray:
    """torch.nn.GELU's exact (erf) form, so that the trained network computes the same here."""
    return 0.5 * x * (1.0 + erf(x / np.sqrt(2.0)))


# Abramowitz & Stegun 7.1.26: |error| <= 1.5e-7, below float32's resolution of the network's activations.
_ERF_P = 0.3275911
_ERF_A = (0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429)


def erf(x: np.ndarray) -> np.ndarray:
    """The error function to within 1.5e-7 (tests/test_landmark_regressor.py checks it against SciPy's)."""
    x = np.asarray(x)
    a = np.abs(x).astype(np.float64)
    t = 1.0 / (1.0 + _ERF_P * a)
    poly = t * (_ERF_A[0] + t * (_ERF_A[1] + t * (_ERF_A[2] + t * (_ERF_A[3] + t * _ERF_A[4]))))
    return (np.sign(x) * (1.0 - poly * np.exp(-a * a))).astype(x.dtype if x.dtype.kind == "f" else np.float64)


def inputs(displacement: np.ndarray, scores: np.ndarray, pose: np.ndarray | None = None) -> np.ndarray:
    n = len(scores)
    columns = [np.nan_to_num(displacement.reshape(n, -1)), np.nan_to_num(scores)]
    if pose is not None:
        columns.append(np.nan_to_num(pose))
    return np.column_stack(columns).astype(np.float32)


@lru_cache(maxsize=2)
def load_regressor(path: str | None = None) -> LandmarkRegressor | None:
    p = Path(path) if path else DEFAULT_REGRESSOR
    if not p.is_file():
        return None
    d = np.load(p)
    if [str(n) for n in d["channels"]] != list(ARKIT_NAMES):
        raise ValueError(f"{p}: channels are not ARKit-52 in Live Link order")
    if "n_layers" not in d:
        raise ValueError(f"{p}: not a landmark network (retrain with tools/train_landmark_regressor.py)")
    members = tuple(tuple((d[f"m{m}_w{i}"], d[f"m{m}_b{i}"]) for i in range(int(d["n_layers"])))
                    for m in range(int(d["n_members"])))
    return LandmarkRegressor(d["landmarks"], d["mean"], d["scale"], members, str(d["about"]),
                             bool(d["pose_inputs"]) if "pose_inputs" in d else False)
