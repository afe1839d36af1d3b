"""ARKit weights from landmark displacements: a per-frame bounded least-squares blendshape fit.

The basis gives, for each ARKit channel, how a set of MediaPipe landmarks moves (cm, head frame of
engine.solve.landmark_space) when the channel goes to 1.0. For every frame we solve

    min_w  sum_i |d_i - sum_k w_k B_ki|^2  +  sum_k lambda_k (w_k - p_k)^2     with 0 <= w_k <= 1,

where d is the frame's displacement from the actor's neutral and p an optional prior (the calibrated
MediaPipe scores), trusted per channel by lambda. The box-constrained problem is solved for all frames at
once by projected coordinate descent (exact per coordinate), well under a millisecond per frame.

The default basis (engine/solve/data/landmark_basis.json) is derived from the ICT-FaceKit mean face; a
user may supply another ARKit-topology basis sampled at MediaPipe's landmarks (an npz laid out like
ICT's `ict_mediapipe468_landmark_model.npz`) with `SolveOptions.landmark_basis`.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from engine.errors import BadInput
from engine.rig.arkit import ARKIT_INDEX, ARKIT_NAMES
from engine.rig.ict import ict_names
from engine.solve.landmark_space import RIGID, head_frame

DEFAULT_BASIS = Path(__file__).resolve().parent / "data" / "landmark_basis.json"
NOISE_FLOOR_CM = 0.02        # no coordinate is trusted more than this noise level


@dataclass(frozen=True)
class LandmarkBasis:
    landmarks: np.ndarray        # (L,) MediaPipe landmark indices
    neutral: np.ndarray          # (L, 3) cm, head frame
    deltas: np.ndarray           # (52, L, 3) cm per unit weight, ARKIT_NAMES order (zeros: not in the basis)

    @property
    def present(self) -> np.ndarray:
        return np.abs(self.deltas).reshape(len(ARKIT_NAMES), -1).max(axis=1) > 0


@lru_cache(maxsize=4)
def load_basis(path: str | None = None) -> LandmarkBasis:
    """The default basis, a JSON basis like it, or an ICT-style landmark-model npz (converted)."""
    p = Path(path) if path else DEFAULT_BASIS
    if not p.is_file():
        raise BadInput(f"landmark basis not found: {p}", "give an existing .json or .npz basis file")
    if p.suffix == ".npz":
        return basis_from_landmark_model(p)
    doc = json.loads(p.read_text())
    landmarks = np.array(doc["landmarks"], int)
    deltas = np.zeros((len(ARKIT_NAMES), len(landmarks), 3))
    for name, d in doc["channels"].items():
        deltas[ARKIT_INDEX[name]] = d
    return LandmarkBasis(landmarks, np.array(doc["neutral"], float), deltas)


def basis_from_landmark_model(path: Path) -> LandmarkBasis:
    """An npz with `neutral` (468, 3), `expression_names`, `expression_deltas` (K, 468, 3), names in ARKit
    style with `_L`/`_R` sides (ICT-FaceKit's convention; browInnerUp/cheekPuff may be split)."""
    d = np.load(path)
    names = [str(n) for n in d["expression_names"]]
    neutral = np.asarray(d["neutral"], float)
    deltas_in = np.asarray(d["expression_deltas"], float)
    count = neutral.shape[0]
    if neutral.shape != (count, 3) or count < 468:
        raise BadInput(f"{path.name}: expected a (468, 3) neutral", "use a basis sampled at MediaPipe's landmarks")
    full = np.zeros((478, 3))
    full[:count] = neutral[:478]
    framed = head_frame(full)
    rot_scale = np.linalg.lstsq(full[:468] - full[:468].mean(0), framed[:468] - framed[:468].mean(0), rcond=None)[0]
    deltas = np.zeros((len(ARKIT_NAMES), 468, 3))
    index = {n: i for i, n in enumerate(names)}
    for a, name in enumerate(ARKIT_NAMES):
        for shape in ict_names(name):
            if shape in index:
                deltas[a] += deltas_in[index[shape], :468] @ rot_scale
            elif name in index:
                deltas[a] += deltas_in[index[name], :468] @ rot_scale
    keep = np.array([i for i in range(468) if i not in set(RIGID)])
    return LandmarkBasis(keep, framed[keep], deltas[:, keep])


def fit_weights(displacement: np.ndarray, basis: LandmarkBasis, prior: np.ndarray | None = None,
                prior_weight: np.ndarray | None = None, noise: np.ndarray | None = None,
                ridge: float = 1e-3, iterations: int = 60) -> np.ndarray:
    """(N, L, 3) displacements at basis.landmarks -> (N, 52) weights in 0..1 (NaN frames -> 0).

    `noise` (L, 3): per-coordinate standard deviation on calm frames; noisy coordinates count less."""
    n = displacement.shape[0]
    k = len(ARKIT_NAMES)
    a = basis.deltas.reshape(k, -1)                      # (52, 3L)
    d = np.nan_to_num(displacement.reshape(n, -1))
    if noise is not None:
        sigma = np.maximum(np.asarray(noise, float).reshape(-1), NOISE_FLOOR_CM)
        a = a / sigma
        d = d / sigma
        a = a * NOISE_FLOOR_CM          # keep the scale of the unweighted problem (cm at the floor)
        d = d * NOISE_FLOOR_CM
    m = a @ a.T
    lam = np.full(k, ridge * max(np.trace(m) / k, 1e-9))
    p = np.zeros((n, k)) if prior is None else np.nan_to_num(prior)
    if prior_weight is not None:
        lam = lam + prior_weight * max(np.trace(m) / k, 1e-9)
    lam[~basis.present] += 1.0                           # channels the basis cannot see stay at the prior
    m = m + np.diag(lam)
    b = d @ a.T + p * lam
    w = np.clip(p, 0.0, 1.0).copy()
    diag = np.diag(m)
    for _ in range(iterations):
        for j in range(k):
            r = b[:, j] - w @ m[:, j] + w[:, j] * diag[j]
            w[:, j] = np.clip(r / diag[j], 0.0, 1.0)
    jaw, close = ARKIT_INDEX["jawOpen"], ARKIT_INDEX["mouthClose"]
    w[:, close] = np.minimum(w[:, close], w[:, jaw])
    return w
