"""MediaPipe blendshape categories -> the 52 ARKit scores in Live Link order (ARKIT_NAMES).

MediaPipe's blendshape model emits 52 categories (face_blendshapes_graph.cc, kBlendshapeNames): `_neutral`
at index 0, then 51 ARKit names in alphabetical order. ARKit has 52 names: the same 51 plus `tongueOut`,
which MediaPipe does not estimate. The mapping drops `_neutral` and sets `tongueOut` to 0.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from engine.rig.arkit import ARKIT_INDEX, ARKIT_NAMES

# kBlendshapeNames in google-ai-edge/mediapipe mediapipe/tasks/cc/vision/face_landmarker/face_blendshapes_graph.cc
MEDIAPIPE_BLENDSHAPE_NAMES: tuple[str, ...] = (
    "_neutral",
    "browDownLeft", "browDownRight", "browInnerUp", "browOuterUpLeft", "browOuterUpRight",
    "cheekPuff", "cheekSquintLeft", "cheekSquintRight",
    "eyeBlinkLeft", "eyeBlinkRight", "eyeLookDownLeft", "eyeLookDownRight", "eyeLookInLeft",
    "eyeLookInRight", "eyeLookOutLeft", "eyeLookOutRight", "eyeLookUpLeft", "eyeLookUpRight",
    "eyeSquintLeft", "eyeSquintRight", "eyeWideLeft", "eyeWideRight",
    "jawForward", "jawLeft", "jawOpen", "jawRight",
    "mouthClose", "mouthDimpleLeft", "mouthDimpleRight", "mouthFrownLeft", "mouthFrownRight",
    "mouthFunnel", "mouthLeft", "mouthLowerDownLeft", "mouthLowerDownRight", "mouthPressLeft",
    "mouthPressRight", "mouthPucker", "mouthRight", "mouthRollLower", "mouthRollUpper",
    "mouthShrugLower", "mouthShrugUpper", "mouthSmileLeft", "mouthSmileRight", "mouthStretchLeft",
    "mouthStretchRight", "mouthUpperUpLeft", "mouthUpperUpRight", "noseSneerLeft", "noseSneerRight",
)
NEUTRAL = "_neutral"
UNESTIMATED = ("tongueOut",)  # ARKit names MediaPipe has no category for; always 0

_MP_SET = frozenset(MEDIAPIPE_BLENDSHAPE_NAMES)
# For each MediaPipe position except _neutral: the ARKit position it goes to.
_SRC = np.array([i for i, n in enumerate(MEDIAPIPE_BLENDSHAPE_NAMES) if n != NEUTRAL], dtype=np.intp)
_DST = np.array([ARKIT_INDEX[n] for n in MEDIAPIPE_BLENDSHAPE_NAMES if n != NEUTRAL], dtype=np.intp)
assert len(MEDIAPIPE_BLENDSHAPE_NAMES) == 52 and len(_DST) == 51
assert set(ARKIT_NAMES) == (_MP_SET - {NEUTRAL}) | set(UNESTIMATED)


def mediapipe_vector_to_arkit(scores: Any) -> np.ndarray:
    """52 scores in MediaPipe's category order (the model's raw output) -> 52 float32 in ARKIT_NAMES order."""
    raw = np.asarray(scores, dtype=np.float32).reshape(-1)
    if raw.shape != (len(MEDIAPIPE_BLENDSHAPE_NAMES),):
        raise ValueError(f"expected {len(MEDIAPIPE_BLENDSHAPE_NAMES)} MediaPipe blendshape scores, "
                         f"got shape {np.shape(scores)}")
    out = np.zeros(len(ARKIT_NAMES), dtype=np.float32)
    out[_DST] = raw[_SRC]
    return out


def _pairs(categories: Any) -> list[tuple[str, float]]:
    if isinstance(categories, Mapping):
        return [(str(k), float(v)) for k, v in categories.items()]
    if isinstance(categories, (str, bytes)) or not isinstance(categories, Iterable):
        raise TypeError("categories must be a {name: score} mapping or a sequence of (name, score) pairs "
                        f"or MediaPipe Category objects, not {type(categories).__name__}")
    pairs = []
    for item in categories:
        if hasattr(item, "category_name") and hasattr(item, "score"):  # mediapipe...containers.Category
            pairs.append((str(item.category_name), float(item.score)))
        else:
            try:
                name, score = item
            except (TypeError, ValueError):
                raise TypeError(f"expected a (name, score) pair or a MediaPipe Category, got {item!r}") from None
            pairs.append((str(name), float(score)))
    return pairs


def mediapipe_to_arkit(categories: Any) -> np.ndarray:
    """MediaPipe's 52 blendshape categories -> 52 float32 scores in ARKIT_NAMES (Live Link) order.

    `categories`: a {name: score} mapping, a sequence of (name, score) pairs, or MediaPipe `Category`
    objects (`result.face_blendshapes[i]`); any order. The names must be exactly MediaPipe's 52
    (`_neutral` included): anything else (unknown, missing or repeated names) raises ValueError.
    `_neutral` is dropped; `tongueOut` is 0.
    """
    pairs = _pairs(categories)
    names = [n for n, _ in pairs]
    seen = set(names)
    unknown = sorted(seen - _MP_SET)
    missing = [n for n in MEDIAPIPE_BLENDSHAPE_NAMES if n not in seen]
    repeated = sorted({n for n in names if names.count(n) > 1}) if len(seen) != len(names) else []
    if unknown or missing or repeated:
        problems = []
        if unknown:
            problems.append(f"unknown {unknown}")
        if missing:
            problems.append(f"missing {missing}")
        if repeated:
            problems.append(f"repeated {repeated}")
        raise ValueError("not MediaPipe's 52 face blendshape categories: " + "; ".join(problems))
    out = np.zeros(len(ARKIT_NAMES), dtype=np.float32)
    for name, score in pairs:
        if name != NEUTRAL:
            out[ARKIT_INDEX[name]] = score
    return out
