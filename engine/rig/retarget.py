"""ARKit-52 -> raw CTRL_expressions_* curves -> MetaHuman face-board values.

The baseline mapping is Epic's ARKit mapping pose (what a Live Link user gets in Unreal): each ARKit
shape adds weighted amounts to raw curves. Raw curves are then inverted to face-board keys attribute by
attribute (engine.rig.faceboard), because animators edit the face board, not raw curves.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from engine.rig.arkit import ARKIT_NAMES, mapping_pose
from engine.rig.faceboard import FaceBoard, load_faceboard


@dataclass
class RigCurves:
    rig: str
    faceboard_names: list[str]
    faceboard: np.ndarray     # (N, 174) clamped to every attribute's range
    raw_names: list[str]
    raw: np.ndarray           # (N, raw curves) 0..1


@lru_cache(maxsize=None)
def mapping_matrix(rig: str) -> tuple[np.ndarray, tuple[str, ...]]:
    """(52, raw curves) additive weights of the mapping pose, restricted to the rig's raw curves."""
    board = load_faceboard(rig)
    index = {c: i for i, c in enumerate(board.raw_curve_names)}
    matrix = np.zeros((len(ARKIT_NAMES), len(index)))
    for a, name in enumerate(ARKIT_NAMES):
        for curve, weight in mapping_pose().get(name, {}).items():
            if curve in index:
                matrix[a, index[curve]] += weight
    return matrix, tuple(board.raw_curve_names)


def arkit_to_raw(arkit: np.ndarray, rig: str) -> np.ndarray:
    matrix, _ = mapping_matrix(rig)
    return np.clip(np.asarray(arkit) @ matrix, 0.0, 1.0)


def retarget(arkit: np.ndarray, rig: str) -> RigCurves:
    """Face-board and raw curves for (N, 52) ARKit weights on the given rig generation."""
    board: FaceBoard = load_faceboard(rig)
    raw = arkit_to_raw(arkit, rig)
    faceboard = board.from_raw(raw)
    # What the face board can express is what the rig will show: report the raw curves it produces.
    return RigCurves(rig, list(board.names), faceboard, list(board.raw_curve_names), board.to_raw(faceboard))
