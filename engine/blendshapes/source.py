"""`run --flame-params`: a FLAME parameter sequence as the track source, in place of a video's tracking.

Needs the FLAME model the tracker used (--flame-model), an ARKit-style target head the conversion solves
on (--flame-target, e.g. the ICT-FaceKit head or the user's ARKit head), and either a correspondence file
(--flame-correspondence, from `blendshapes correspond`) or landmarks on both meshes to build one
(--flame-landmarks: FLAME's landmark_embedding.npy; ICT carries its own). The ARKit curves then go through
the same solve (neutral calibration, smoothing, --fps-out) -> rig -> export path as a video's
(engine.pipeline).
"""
from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import numpy as np

from engine.blendshapes.tools import convert_file, flame_shape, prepare
from engine.config.blendshapes import FlameRunOptions
from engine.errors import BadInput
from engine.hashing import file_sha256
from engine.protocol import Reporter
from engine.rig.arkit import ARKIT_NAMES
from engine.track.facetrack import FaceTrack, SourceTrack
from engine.track.head_pose import angles_to_matrices


def check_flame_options(flame: FlameRunOptions) -> None:
    """What --flame-params needs besides the sequence (checked before any work)."""
    missing = [flag for flag, value in (("--flame-model", flame.model), ("--flame-target", flame.target))
               if value is None]
    if missing:
        raise BadInput(f"--flame-params needs {' and '.join(missing)}",
                       "the FLAME model the tracker used (generic_model.pkl) and an ARKit head to solve on, "
                       "e.g. --flame-target ict:ict_facekit_light_expr.npz")


def flame_source(flame: FlameRunOptions, reporter: Reporter) -> SourceTrack:
    """Convert the FLAME sequence to ARKit-52 weights on the target head: a track with every frame found."""
    shape = flame_shape(flame.params, flame.convert.fps)
    setup = prepare(f"flame:{flame.model}", flame.target, source_landmarks=flame.source_landmarks,
                    target_landmarks=flame.target_landmarks, correspondence=flame.correspondence,
                    correspond_options=flame.correspond, convert_options=flame.convert, shape=shape,
                    reporter=reporter)
    result = convert_file(setup, flame.params, flame.convert, reporter)
    n = len(result.times)
    if n == 0:
        raise BadInput(f"{Path(flame.params).name} has no frames")
    track = FaceTrack(times=result.times, detected=np.ones(n, bool), arkit=result.arkit(),
                      head_pose=angles_to_matrices(result.head, n), confidence=np.ones(n))
    fps = 1.0 / float(np.median(np.diff(result.times))) if n > 1 else flame.convert.fps
    inputs = {"flame_params": {"path": str(Path(flame.params).absolute()), "sha256": file_sha256(Path(flame.params))},
              "flame_model": {"path": str(Path(flame.model).absolute())},
              "flame_target": flame.target}
    conversion = {"correspondence": _json(setup.correspondence.residuals),
                  "target_shapes": len(result.target_names), "unobserved": result.unobserved,
                  "missing_arkit": [a for a in ARKIT_NAMES if a not in result.target_names]}
    return SourceTrack("flame_params", track, fps, inputs, {"source": "flame_params", "conversion": conversion},
                       files_absent={"landmarks": "a FLAME sequence has no image landmarks"})


def _json(value):
    """Dataclass/dict/Path/numpy values as plain JSON."""
    if hasattr(value, "__dataclass_fields__"):
        value = asdict(value)
    if isinstance(value, dict):
        return {k: _json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    return value
