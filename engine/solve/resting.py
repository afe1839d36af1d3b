"""The tracker's resting face, over many faces: what MediaPipe's 52 scores read when nobody moves.

MediaPipe's scores carry a resting bias (a face at rest may read 0.2 of browDown or eyeSquint), which the
solve subtracts. Without an actor profile (engine.solve.actor) the bias is not estimated from the clip's
own "least active" frames, because a short emotional line may hold no rest at all and the same frames
would then give different curves depending on what else the clip holds. It comes from this population
model instead: per channel, the level of the scores on resting faces over many identities and conditions
(rendered ICT neutrals across identities and lightings, and real rest frames of the shared clips;
tools/build_resting_model.py writes engine/solve/data/resting_face.json and says how).

`level` is what is subtracted; `active` is the raw score above which a channel is not at rest (strict: used
to find rest frames in a clip, where a false "rest" costs more than a missed one); `expressive` the raw
score above which a neutral capture is refused (tolerant: faces rest with biases up to ~0.5 on some
channels, and a real resting actor must not be refused).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from engine.rig.arkit import ARKIT_NAMES

MODEL_FILE = Path(__file__).resolve().parent / "data" / "resting_face.json"
# Gaze is not an expression: where the actor looks does not make a frame "active".
EXPRESSION_CHANNELS = np.array([not n.startswith("eyeLook") for n in ARKIT_NAMES])
CAPTURE_MARGIN = 0.25      # `expressive` is at least this far above `active` (tools/build_resting_model.py)


@dataclass(frozen=True)
class RestingModel:
    level: np.ndarray      # (52,) raw score subtracted for a resting face (a low quantile of the population)
    spread: np.ndarray     # (52,) how much resting faces differ (robust standard deviation)
    active: np.ndarray     # (52,) raw score above which the channel is not at rest (rest detection)
    expressive: np.ndarray | None = None   # (52,) above this a neutral capture is refused; None: active + margin

    def active_channels(self, scores: np.ndarray) -> list[str]:
        """Names of the channels whose raw scores (52,) are above rest (gaze excluded)."""
        return _above(scores, self.active)

    def expressive_channels(self, scores: np.ndarray) -> list[str]:
        """Names of the channels whose raw scores (52,) show an expression no resting face shows."""
        return _above(scores, self.active + CAPTURE_MARGIN if self.expressive is None else self.expressive)

    def at_rest(self, arkit: np.ndarray) -> np.ndarray:
        """(N,) True for frames (N, 52) where no expression channel is clearly active."""
        expression = np.nan_to_num(arkit, nan=np.inf)[:, EXPRESSION_CHANNELS]
        return np.all(expression <= self.active[EXPRESSION_CHANNELS], axis=1)


def _above(scores: np.ndarray, limits: np.ndarray) -> list[str]:
    above = EXPRESSION_CHANNELS & (np.asarray(scores, float) > limits)
    return [name for name, hit in zip(ARKIT_NAMES, above) if hit]


@lru_cache(maxsize=2)
def load_resting_model(path: str | None = None) -> RestingModel:
    doc = json.loads(Path(path or MODEL_FILE).read_text())
    rows = doc["channels"]
    unknown = set(rows) - set(ARKIT_NAMES)
    if unknown:
        raise ValueError(f"resting model: unknown channels {sorted(unknown)}")
    get = lambda field: np.array([float(rows[n][field]) if n in rows else 0.0 for n in ARKIT_NAMES])
    return RestingModel(level=get("level"), spread=get("spread"), active=get("active"),
                        expressive=get("expressive"))
