"""Exporting the face-board curves of the scene (after an animator's edits) as a take folder
(`export_take`), so corrected animation can train the learned backends.

The take has the engine's format: take.json ("source": "maya-export") and faceboard.csv with the rig
generation's 174 attributes, one row per scene frame, time in seconds from the first frame, values in
rig units (cm). Attributes the rig lacks are written at their default and listed in the warnings.
"""
from __future__ import annotations

import os
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np
from maya import cmds

from . import defaults, faceboard, scene, takes


def export_take(rig: scene.RigSpec = None, frame_range: Optional[Tuple[float, float]] = None,
                out_dir: str = "", overwrite: bool = False) -> str:
    """Write the rig's face-board curves on `frame_range` (default: the playback range) as a take folder
    at `out_dir`; returns the folder."""
    if not out_dir:
        raise ValueError("export_take needs an output folder")
    target = scene.resolve_rig(rig)
    first, last = frame_range if frame_range is not None else scene.playback_range()
    frames = np.arange(float(round(first)), float(round(last)) + 1.0)
    if len(frames) == 0:
        raise ValueError("empty frame range %r" % (frame_range,))
    fps = scene.scene_fps()
    board = faceboard.load_board(target.generation)
    values, missing = sample_board(target, board, frames)
    table = takes.CurveTable(times=(frames - frames[0]) / fps, names=[a.attr for a in board], values=values)
    info = _take_info(target, frames, fps, missing)
    return takes.write_take(out_dir, info, table, overwrite=overwrite)


def sample_board(target: scene.SceneRig, board: Sequence[faceboard.BoardAttribute], frames: np.ndarray
                 ) -> Tuple[np.ndarray, List[str]]:
    """(frames x attributes) values in cm, and the attributes the rig lacks."""
    scale = scene.centimetres_per_scene_unit()
    values = np.empty((len(frames), len(board)))
    missing = []
    for column, attribute in enumerate(board):
        plug = target.plug(attribute.attr)
        if plug is None:
            values[:, column] = attribute.default
            missing.append(attribute.attr)
        else:
            values[:, column] = sample_plug(plug, frames) * scale
    return values, missing


def sample_plug(plug: str, frames: np.ndarray) -> np.ndarray:
    """A plug's value on every frame, in the scene's unit. Keys on every frame (what apply_take writes)
    are read in two queries; anything else (sparse keys an animator set, layers) is evaluated frame by
    frame so tangents and layer blending are exactly what Maya plays."""
    if not scene.is_layered(plug):
        key_times = _floats(cmds.keyframe(plug, query=True, timeChange=True))
        if not key_times:
            return np.full(len(frames), float(cmds.getAttr(plug)))
        key_values = _floats(cmds.keyframe(plug, query=True, valueChange=True))
        by_frame = dict(zip(key_times, key_values))
        if all(f in by_frame for f in frames.tolist()):
            return np.array([by_frame[f] for f in frames.tolist()])
    return np.array([float(cmds.getAttr(plug, time=int(f))) for f in frames.tolist()])


def _floats(result: Any) -> List[float]:
    # cmds.keyframe(query=True, ...) returns a list, or None when there are no keys.
    return [float(v) for v in result] if isinstance(result, (list, tuple)) else []


def _take_info(target: scene.SceneRig, frames: np.ndarray, fps: float, missing: List[str]) -> Dict[str, Any]:
    scene_file = str(cmds.file(query=True, sceneName=True) or "")
    warnings = []
    if missing:
        warnings.append({"code": "missing_controls", "attributes": missing,
                         "message": "The rig lacks %d attribute(s); written at their defaults." % len(missing)})
    return {
        "format": defaults.TAKE_FORMAT,
        "source": defaults.EXPORT_SOURCE,
        "rig": target.generation,
        "fps": fps,
        "frame_count": int(len(frames)),
        "duration": float((len(frames) - 1) / fps),
        "inputs": {"scene": {"path": scene_file, "namespace": target.namespace}},
        "scene": {"path": scene_file, "namespace": target.namespace, "frame_range": [float(frames[0]),
                  float(frames[-1])]},
        "options": {},
        "engine": {"version": None},
        "timings": {},
        "warnings": warnings,
        "files": {"faceboard": defaults.FACEBOARD_FILE},
        "created_by": "retarget_maya.export_take (%s)" % os.path.basename(scene_file or "untitled"),
    }
