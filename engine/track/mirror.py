"""The face seen in a mirror: landmarks and ARKit scores of a flipped picture brought back to the original's sides.

MediaPipe reads a face and its mirror image differently (left/right correlation 0.88-0.98 on the shared real
clips: the tracker's own bias, not the actor's). `run --symmetric` tracks every frame twice, as it is and
flipped left-right, and averages the two readings once the flipped one is mirrored back; the average reads a
flipped clip exactly as the original with its sides swapped. docs/quality.md, "Mirror symmetry".
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from engine.rig.arkit import ARKIT_INDEX, ARKIT_NAMES

LANDMARK_PARTNER = np.array(json.loads((Path(__file__).resolve().parent / "data" / "landmark_mirror.json")
                                       .read_text())["partner"], dtype=np.intp)


def _other_side(name: str) -> str:
    for side, other in (("Left", "Right"), ("Right", "Left")):
        if name.endswith(side):
            return name[: -len(side)] + other
    return name


# ARKit channel k of the mirrored face is channel SCORE_PARTNER[k] of the original (jawLeft <-> jawRight,
# eyeLookInLeft <-> eyeLookInRight, ...); unsided channels (jawOpen, cheekPuff) are their own partner.
SCORE_PARTNER = np.array([ARKIT_INDEX[_other_side(name)] for name in ARKIT_NAMES], dtype=np.intp)


def mirror_landmarks(landmarks: np.ndarray) -> np.ndarray:
    """(..., 478, 3) landmarks of a picture (x, y in 0..1) -> those of the same picture flipped left-right."""
    flipped = np.array(np.asarray(landmarks)[..., LANDMARK_PARTNER, :], copy=True)
    flipped[..., 0] = 1.0 - flipped[..., 0]
    return flipped


def mirror_scores(scores: np.ndarray) -> np.ndarray:
    """(..., 52) ARKit scores of a face -> those of its mirror image (left and right channels swapped)."""
    return np.asarray(scores)[..., SCORE_PARTNER]
