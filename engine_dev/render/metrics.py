"""Per-channel error and correlation of ARKit curves against rendered weights, grouped by face region."""
from __future__ import annotations

import numpy as np

from engine.rig.arkit import ARKIT_NAMES

GROUPS = ("brows", "eyes", "cheeks", "nose", "jaw", "mouth")
WEAK_CHANNELS = ("cheekPuff", "cheekSquintLeft", "cheekSquintRight", "noseSneerLeft", "noseSneerRight",
                 "jawForward", "mouthClose", "eyeWideLeft", "eyeWideRight", "mouthRollLower", "mouthRollUpper",
                 "mouthFunnel", "mouthPucker")


def group_of(name: str) -> str:
    for prefix, group in (("brow", "brows"), ("eye", "eyes"), ("cheek", "cheeks"), ("nose", "nose"),
                          ("jaw", "jaw"), ("mouth", "mouth"), ("tongue", "tongue")):
        if name.startswith(prefix):
            return group
    raise ValueError(name)


def correlation(a: np.ndarray, b: np.ndarray) -> float:
    a = a - a.mean()
    b = b - b.mean()
    d = np.sqrt((a * a).sum() * (b * b).sum())
    return float((a * b).sum() / d) if d > 1e-12 else 0.0


def channel_scores(truth: np.ndarray, estimate: np.ndarray) -> dict[str, tuple[float, float]]:
    """{channel: (mean absolute error, Pearson correlation)} over all frames."""
    est = np.nan_to_num(estimate)
    return {n: (float(np.abs(est[:, i] - truth[:, i]).mean()), correlation(truth[:, i], est[:, i]))
            for i, n in enumerate(ARKIT_NAMES)}


def rest_frames(truth: np.ndarray, margin: int = 4) -> np.ndarray:
    """Frames whose rendered weights are all 0 and stay 0 for `margin` frames either side."""
    still = np.abs(truth).max(axis=1) < 1e-6
    out = still.copy()
    for k in range(1, margin + 1):
        out[k:] &= still[:-k]
        out[:-k] &= still[k:]
    return out
