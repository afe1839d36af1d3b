"""Per-actor neutral calibration of the ARKit scores.

MediaPipe's scores carry a resting-face bias that differs per actor (a face at rest may read 0.2 of
browDown or eyeSquint). The solve subtracts the actor's neutral and re-maps every channel so that neutral
reads 0 and the full range is kept: calibrated = (score - neutral) / (1 - neutral), clipped to 0..1.

Where the neutral comes from (`choose_neutral`), first match wins:
1. an actor profile (`run --actor`, made by `calibrate` from a dedicated rest capture);
2. `--neutral-time T`: the frames within NEUTRAL_WINDOW_S of T;
3. the population resting model (engine.solve.resting), lowered per channel where the clip demonstrably
   holds rest reading lower. "Demonstrably holds rest": a stretch of at least REST_MIN_S in which no
   expression channel exceeds the model's `active` level (`rest_frames`). Such a clip only ever makes the
   subtraction smaller (neutral = min(population level, median of the rest frames)), never larger: an actor
   who rests lower than the population keeps subtle movement, while a clip without rest (a short emotional
   line) is never calibrated against its own expression. The same frames therefore give the same curves
   whatever else the clip holds, up to that lowering (bench/real_footage.py measures it).
The least-active-frames estimator (`estimate_neutral`) is kept only for the landmark network's training
data (tools/train_landmark_regressor.py), which was built with it.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from engine.errors import BadInput
from engine.rig.arkit import ARKIT_NAMES
from engine.solve.resting import EXPRESSION_CHANNELS, RestingModel, load_resting_model

NEUTRAL_WINDOW_S = 0.1     # frames within this of --neutral-time are averaged
MAX_NEUTRAL = 0.9          # a neutral this high would blow up the rescale; such a channel is stuck
REST_MIN_S = 0.4           # a clip holds rest where no expression channel is active for at least this long


@dataclass
class Neutral:
    """The resting scores the solve subtracts, and where they came from (recorded in take.json)."""
    scores: np.ndarray                    # (52,) raw MediaPipe scores of the actor's resting face
    source: str                           # "actor profile" | "neutral time" | "population"
    frames: np.ndarray = field(default_factory=lambda: np.zeros(0, int))   # clip frames at rest (may be none)
    lowered: list[str] = field(default_factory=list)   # channels lowered to the clip's rest level

    def to_json(self, times: np.ndarray) -> dict:
        return {"source": self.source, "rest_frames": int(len(self.frames)),
                "rest_times": [float(times[i]) for i in self.frames[:50]],
                "lowered_to_clip_rest": self.lowered,
                "scores": dict(zip(ARKIT_NAMES, np.round(self.scores, 4).tolist()))}


def rest_frames(arkit: np.ndarray, detected: np.ndarray, times: np.ndarray,
                model: RestingModel | None = None, min_s: float = REST_MIN_S) -> np.ndarray:
    """Indices of frames in stretches of at least `min_s` where the face is at rest by the population
    model (no expression channel above its `active` level): the clip's demonstrable rest."""
    model = model or load_resting_model()
    still = detected & model.at_rest(arkit)
    edges = np.flatnonzero(np.diff(np.concatenate([[0], still.astype(np.int8), [0]])))
    keep = [np.arange(a, b) for a, b in zip(edges[::2], edges[1::2])
            if b - a >= 2 and times[b - 1] - times[a] >= min_s - 1e-9]
    return np.concatenate(keep).astype(int) if keep else np.zeros(0, int)


def population_neutral(arkit: np.ndarray, detected: np.ndarray, times: np.ndarray) -> Neutral:
    """The population resting level, lowered per channel to the clip's rest frames where it has them."""
    model = load_resting_model()
    frames = rest_frames(arkit, detected, times, model)
    scores = model.level.copy()
    lowered: list[str] = []
    if len(frames):
        clip_rest = np.median(arkit[frames], axis=0)
        lowered = [n for n, pop, rest in zip(ARKIT_NAMES, scores, clip_rest) if rest < pop - 0.005]
        scores = np.minimum(scores, clip_rest)
    return Neutral(scores, "population", frames, lowered)


def activity(arkit: np.ndarray) -> np.ndarray:
    """How far each frame is from a resting face: the sum of its expression scores."""
    return np.nansum(arkit[:, EXPRESSION_CHANNELS], axis=1)


def choose_neutral(track, neutral_time: float | None, profile_scores: np.ndarray | None = None) -> Neutral:
    """The neutral a run subtracts: the actor profile's, else the frames at --neutral-time, else the
    population model (lowered where the clip holds rest). See the module docstring."""
    if profile_scores is not None:
        frames = rest_frames(track.arkit, track.detected, track.times)
        return Neutral(np.asarray(profile_scores, float), "actor profile", frames)
    if neutral_time is not None:
        scores, frames = neutral_at_time(track.arkit, track.detected, track.times, neutral_time)
        return Neutral(scores, "neutral time", frames)
    if not track.detected.any():
        raise BadInput("no face in any frame: cannot calibrate", "check the video shows the actor's face")
    return population_neutral(track.arkit, track.detected, track.times)


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
    0.6 at a full expression gets 1/0.6), then a soft dead zone of knee d: x -> x^2 (1 + d) / (x + d).

    Why soft: the noise a resting face shows (x << d) shrinks to about x^2/d, but a small real movement is
    kept, only reduced (x = d reads ~d/2), never zeroed: on degraded footage the tracker's scores may peak
    at 0.05-0.1 while still following the performance, and a hard dead zone or clamp swallowed exactly
    that. Monotonic, 0 stays 0 and 1 stays 1."""
    x = np.clip(np.asarray(values) * gain, 0.0, 1.0)
    d = np.clip(deadzone, 0.0, 0.5)
    return np.clip(x * x * (1.0 + d) / np.maximum(x + d, 1e-12), 0.0, 1.0)
