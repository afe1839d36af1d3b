"""Per-actor neutral calibration of the ARKit scores.

MediaPipe's scores carry a resting-face bias that differs per actor (a face at rest may read 0.2 of
browDown or mouthSmile). We estimate the actor's neutral face and re-map every channel so that neutral
reads 0 and the full range is kept: calibrated = (score - neutral) / (1 - neutral), clipped to 0..1.
"""
from __future__ import annotations

import numpy as np

from engine.errors import BadInput
from engine.rig.arkit import ARKIT_NAMES

# Gaze is not an expression: where the actor looks does not make a frame "active".
EXPRESSION_CHANNELS = np.array([not n.startswith("eyeLook") for n in ARKIT_NAMES])
NEUTRAL_WINDOW_S = 0.1     # frames within this of --neutral-time are averaged
MAX_NEUTRAL = 0.9          # a neutral this high would blow up the rescale; such a channel is stuck


def activity(arkit: np.ndarray) -> np.ndarray:
    """How far each frame is from a resting face: the sum of its expression scores."""
    return np.nansum(arkit[:, EXPRESSION_CHANNELS], axis=1)


def estimate_neutral(arkit: np.ndarray, detected: np.ndarray, quantile: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """The actor's resting face: the per-channel median of the least-active share of detected frames.

    Returns (neutral scores (52,), indices of the frames used)."""
    frames = np.flatnonzero(detected)
    if frames.size == 0:
        raise BadInput("no face in any frame: cannot calibrate", "check the video shows the actor's face")
    act = activity(arkit[frames])
    count = max(1, int(round(quantile * frames.size)))
    chosen = frames[np.argsort(act, kind="stable")[:count]]
    return np.median(arkit[chosen], axis=0), chosen


def neutral_at_time(arkit: np.ndarray, detected: np.ndarray, times: np.ndarray, neutral_time: float) -> tuple[np.ndarray, np.ndarray]:
    """The actor's resting face taken from the frames around the time the user names."""
    near = np.flatnonzero((np.abs(times - neutral_time) <= NEUTRAL_WINDOW_S) & detected)
    if near.size == 0:
        nearest = float(times[np.argmin(np.abs(times - neutral_time))]) if len(times) else float("nan")
        raise BadInput(f"no face found near --neutral-time {neutral_time:.3f}s (nearest frame {nearest:.3f}s)",
                       "pick a time where the actor's face is visible and at rest")
    return np.median(arkit[near], axis=0), near


def apply_neutral(arkit: np.ndarray, neutral: np.ndarray) -> np.ndarray:
    """Re-map scores so that the neutral face reads 0 and a full expression still reads 1."""
    neutral = np.clip(neutral, 0.0, MAX_NEUTRAL)
    return np.clip((arkit - neutral) / (1.0 - neutral), 0.0, 1.0)


def rescale(values: np.ndarray, gain: np.ndarray, deadzone: np.ndarray) -> np.ndarray:
    """Per-channel range normalisation of neutral-relative values: scale by `gain` (a channel that reads
    0.6 at a full expression gets 1/0.6), then drop a dead zone (the noise a resting face shows) while
    keeping 1 at 1."""
    x = np.asarray(values) * gain
    deadzone = np.clip(deadzone, 0.0, 0.5)
    return np.clip((x - deadzone) / (1.0 - deadzone), 0.0, 1.0)
