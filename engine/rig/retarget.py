"""ARKit-52 -> raw CTRL_expressions_* curves -> MetaHuman face-board values.

The baseline mapping is Epic's ARKit mapping pose (what a Live Link user gets in Unreal): each ARKit
shape adds weighted amounts to raw curves. On top of it, the full-face mapping's rules
(engine/rig/data/fullface_mapping.json, engine.rig.fullface) drive the secondary controls the pose never
reaches. Raw curves are then inverted to face-board keys attribute by attribute (engine.rig.faceboard),
because animators edit the face board, not raw curves. A mapping fitted from paired recordings
(`fit-mapping`, engine.rig.fit_mapping) goes straight to face-board values instead.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from engine.rig.arkit import ARKIT_NAMES, mapping_pose
from engine.errors import BadInput
from engine.media.files import reading_input
from engine.rig.faceboard import FaceBoard, load_faceboard
from engine.rig.fit_mapping import is_fitted_mapping, load_fitted_mapping
from engine.rig.fullface import apply_rules, load_mapping


@dataclass
class RigCurves:
    rig: str
    faceboard_names: list[str]
    faceboard: np.ndarray     # (N, 174) clamped to every attribute's range
    raw_names: list[str]
    raw: np.ndarray           # (N, raw curves) 0..1

    def rows(self, rows: slice) -> "RigCurves":
        return RigCurves(self.rig, self.faceboard_names, self.faceboard[rows], self.raw_names, self.raw[rows])


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


POSE_ONLY = "pose"          # `mapping` value: Epic's mapping pose alone (what Live Link gives)


def check_mapping(mapping: str | Path | None, rig: str) -> None:
    """Read a --mapping file once before any work: a damaged or foreign one is refused in one line."""
    if mapping is None or str(mapping) == POSE_ONLY:
        return
    if not Path(mapping).is_file():
        raise BadInput(f"--mapping {mapping}: file not found", "give a fit-mapping JSON, a full-face rules JSON, or 'pose'")
    with reading_input(mapping, "mapping (a fit-mapping JSON or a full-face rules JSON)",
                       "give a file written by `fit-mapping`, a full-face rules JSON, or 'pose'"):
        if is_fitted_mapping(mapping):
            load_fitted_mapping(mapping).apply(np.zeros((1, len(ARKIT_NAMES))), np.zeros(1), rig)
        else:
            load_mapping(str(mapping))


def retarget(arkit: np.ndarray, rig: str, times: np.ndarray | None = None,
             mapping: str | Path | None = None) -> RigCurves:
    """Face-board and raw curves for (N, 52) ARKit weights on the given rig generation.

    mapping: None = the mapping pose plus the project's full-face rules; "pose" = the mapping pose only;
    a path = a full-face rules file like engine/rig/data/fullface_mapping.json, or a mapping fitted by
    `fit-mapping`. `times` (seconds) matter to rules that look back in time (sticky lips)."""
    board: FaceBoard = load_faceboard(rig)
    arkit = np.asarray(arkit, dtype=float)
    if mapping is not None and str(mapping) != POSE_ONLY:
        if is_fitted_mapping(mapping):
            faceboard = load_fitted_mapping(mapping).apply(arkit, times, rig)
            return RigCurves(rig, list(board.names), faceboard, list(board.raw_curve_names), board.to_raw(faceboard))
    raw = arkit_to_raw(arkit, rig)
    if str(mapping) != POSE_ONLY:
        raw = apply_rules(raw, arkit, times, rig, load_mapping(str(mapping) if mapping is not None else None))
    faceboard = board.from_raw(raw)
    # What the face board can express is what the rig will show: report the raw curves it produces.
    return RigCurves(rig, list(board.names), faceboard, list(board.raw_curve_names), board.to_raw(faceboard))


RETARGET_BLOCK_FRAMES = 1024   # frames retargeted at a time by retarget_blocks


def lookback_s(mapping: str | Path | None) -> float | None:
    """How far back in time `mapping`'s rules look (s); None for a fitted mapping, retargeted whole."""
    if mapping is not None and str(mapping) == POSE_ONLY:
        return 0.0
    if mapping is not None and is_fitted_mapping(mapping):
        return None
    return load_mapping(str(mapping) if mapping is not None else None).lookback_s()


def retarget_blocks(arkit: np.ndarray, rig: str, times: np.ndarray, mapping: str | Path | None = None,
                    block_frames: int | None = None) -> Iterator[tuple[slice, RigCurves]]:
    """`retarget` a block of frames at a time, as (rows, their curves): memory stays flat in a long clip's
    length. Each block is retargeted together with the frames before it that the rules look back over
    (sticky lips' recent_max), so the blocks joined are the whole clip's curves, value for value."""
    reach = lookback_s(mapping)
    n = len(arkit)
    block_frames = block_frames or RETARGET_BLOCK_FRAMES
    if reach is None or n <= block_frames:
        yield slice(0, n), retarget(arkit, rig, times, mapping)
        return
    for start in range(0, n, block_frames):
        stop = min(start + block_frames, n)
        first = max(int(np.searchsorted(times, times[start] - reach, side="left")) - 1, 0)
        curves = retarget(arkit[first:stop], rig, times[first:stop], mapping)
        yield slice(start, stop), curves.rows(slice(start - first, None))
