"""`run --flame-params`: a FLAME parameter sequence in place of a video's tracking.

Needs the FLAME model the tracker used (--flame-model), an ARKit-style target head the conversion solves
on (--flame-target, e.g. the ICT-FaceKit head or the user's ARKit head), and either a correspondence file
(--flame-correspondence, from `blendshapes correspond`) or landmarks on both meshes to build one
(--flame-landmarks: FLAME's landmark_embedding.npy; ICT carries its own). The ARKit curves then go through
the same solve (neutral calibration, smoothing, --fps-out) -> rig -> export path as a video's.
"""
from __future__ import annotations

import platform
from pathlib import Path

import numpy as np

import engine
from engine.config import RunOptions
from engine.errors import BadInput
from engine.protocol import Reporter


def validate(options: RunOptions) -> None:
    from engine.rig.faceboard import RIG_GENERATIONS

    flame = options.flame
    if options.out is None:
        raise BadInput("--out is needed")
    if options.video is not None:
        raise BadInput("give either --video or --flame-params, not both")
    missing = [flag for flag, value in (("--flame-model", flame.model), ("--flame-target", flame.target))
               if value is None]
    if missing:
        raise BadInput(f"--flame-params needs {' and '.join(missing)}",
                       "the FLAME model the tracker used (generic_model.pkl) and an ARKit head to solve on, "
                       "e.g. --flame-target ict:ict_facekit_light_expr.npz")
    if options.rig not in RIG_GENERATIONS:
        raise BadInput(f"unknown rig {options.rig!r}", f"use one of: {', '.join(RIG_GENERATIONS)}")
    if options.fps_out is not None and not 1 <= options.fps_out <= 1000:
        raise BadInput(f"--fps-out {options.fps_out} is out of range", "use a rate such as 24, 30 or 60")


def head_matrices(head: np.ndarray | None, count: int) -> np.ndarray:
    """(N, 4, 4) head transforms from yaw/pitch/roll radians (identity when the sequence has no head pose)."""
    from scipy.spatial.transform import Rotation

    out = np.tile(np.eye(4), (count, 1, 1))
    if head is not None:
        out[:, :3, :3] = Rotation.from_euler("YXZ", head).as_matrix()
    return out


def run_flame(options: RunOptions, reporter: Reporter) -> Path:
    from engine.blendshapes.tools import convert_file, flame_shape, prepare
    from engine.export.take import TakeWriter, file_sha256
    from engine.pipeline import StageTimer, solve_and_retarget, take_summary, write_take_files
    from engine.rig.arkit import ARKIT_NAMES
    from engine.track.facetrack import FaceTrack

    validate(options)
    flame = options.flame
    audio = getattr(getattr(options, "audio", None), "audio", None)
    if audio is not None or getattr(options, "preview", False) or getattr(getattr(options, "learned", None), "active", False):
        reporter.warning("flame_input_only", "with --flame-params, --audio, --preview and the learned models are "
                         "not applied (they need the video)")
    timer = StageTimer()
    with TakeWriter(options.out, options.overwrite) as writer:
        with timer.stage("convert"):
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
                          head_pose=head_matrices(result.head, n), confidence=np.ones(n))
        _, solved, curves = solve_and_retarget(track, options, reporter, timer)
        with timer.stage("export"):
            fps = options.fps_out or (1.0 / float(np.median(np.diff(result.times))) if n > 1 else flame.convert.fps)
            write_take_files(writer.path, solved, curves, fps)
        reporter.progress("export", 1, 1)
        meta = {
            **take_summary(options, solved, n, fps, fps),
            "inputs": {"flame_params": {"path": str(Path(flame.params).absolute()),
                                        "sha256": file_sha256(Path(flame.params))},
                       "flame_model": {"path": str(Path(flame.model).absolute())},
                       "flame_target": flame.target},
            "options": _json(options),
            "engine": {"version": engine.__version__, "python": platform.python_version()},
            "conversion": {"correspondence": _json(setup.correspondence.residuals),
                           "target_shapes": len(result.target_names), "unobserved": result.unobserved,
                           "missing_arkit": [a for a in ARKIT_NAMES if a not in result.target_names]},
            "tracking": {"source": "flame_params",
                         "neutral_scores": dict(zip(ARKIT_NAMES, np.round(solved.neutral, 4).tolist()))},
            "timings": timer.timings,
            "warnings": reporter.warnings,
        }
        return writer.commit(meta)


def _json(value):
    """Dataclass/dict/Path values as plain JSON."""
    from dataclasses import asdict, is_dataclass

    if is_dataclass(value):
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
