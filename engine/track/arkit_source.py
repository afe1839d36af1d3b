"""`run --arkit`: an ARKit-52 recording as the track source, in place of a video's tracking.

The iPhone's Live Link Face app records its own face tracking as a CSV (spec README, "Live Link Face
CSV"); any other CSV whose header names the 52 ARKit blendshapes works too (engine.export.livelink
read_arkit_csv: header-driven, any column order, timecode / time / frame column or a given rate). A
source yields what the rest of the engine needs from a track: sample times, the 52 scores and the head
angles (plus the eyes' for arkit.csv). Apple's scores are already calibrated per face, so there is no
neutral to subtract and no gap to fill; the engine's optional smoothing is all the solve does
(`smoothed`), and the scores then go through the same retarget and take writer as a video's
(engine.pipeline.run_arkit).
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from engine.errors import BadInput
from engine.export.livelink import EYE_NAMES, HEAD_NAMES, read_arkit_csv
from engine.hashing import file_sha256
from engine.rig.arkit import ARKIT_NAMES
from engine.solve.filters import zero_phase_lowpass
from engine.solve.head_pose import HEAD_POSE_COLUMNS
from engine.solve.solver import SolvedTake

MIN_FRAMES = 2
CSV_HINT = ("give the iPhone's Live Link Face CSV, or a CSV whose header names the 52 ARKit blendshapes "
            "(eyeBlinkLeft, jawOpen, ...) with a Timecode or time column")
RATE_HINT = "pass --arkit-fps with the recording's frame rate (e.g. 60)"


@dataclass
class ArkitTrack:
    """What a non-video track source yields: per-sample times, scores and angles."""

    times: np.ndarray            # (N,) seconds from the first row
    arkit: np.ndarray            # (N, 52) weights in ARKIT_NAMES order, 0..1
    head: np.ndarray             # (N, 3) head yaw, pitch, roll in radians (0 where the file has none)
    eyes: np.ndarray             # (N, 6) left then right eye yaw, pitch, roll in radians (0 where none)
    record: dict = field(default_factory=dict)   # take.json inputs.arkit


def read_arkit_track(path: str | Path, fps: float | None = None) -> ArkitTrack:
    """Read an ARKit recording; BadInput (exit 2) names the line and column of what is wrong."""
    path = Path(path)
    if not path.is_file():
        raise BadInput(f"--arkit {path}: file not found", CSV_HINT)
    try:
        take = read_arkit_csv(path, fps)
    except ValueError as exc:
        raise BadInput(str(exc), RATE_HINT if "frame rate" in str(exc) else CSV_HINT) from None
    if len(take.times) < MIN_FRAMES:
        raise BadInput(f"{path}: only {len(take.times)} row of values: a take needs at least {MIN_FRAMES} frames",
                       "export the whole recording from the Live Link Face app")
    rate = 1.0 / float(np.median(np.diff(take.times)))
    record = {"path": str(path.absolute()), "sha256": file_sha256(path), "rows": len(take.times),
              "fps": round(rate, 4), "time_column": take.time_column,
              "timecode_fps": take.fps if take.timecodes else None,
              "timecode_start": take.timecodes[0] if take.timecodes else None, "start_s": round(take.start_s, 6),
              "head": all(name in take.columns for name in HEAD_NAMES),
              "eyes": all(name in take.columns for name in EYE_NAMES)}
    return ArkitTrack(take.times, take.arkit().astype(float), take.head().astype(float), take.eyes().astype(float),
                      record)


def smoothed(track: ArkitTrack, cutoff_hz: float) -> ArkitTrack:
    """The engine's optional smoothing (SolveOptions.smoothing_cutoff_hz, 0 = off) over scores and angles;
    nothing else: the device has calibrated the scores already."""
    return replace(track, arkit=np.clip(zero_phase_lowpass(track.arkit, track.times, cutoff_hz), 0.0, 1.0),
                   head=zero_phase_lowpass(track.head, track.times, cutoff_hz),
                   eyes=zero_phase_lowpass(track.eyes, track.times, cutoff_hz))


def as_solved(track: ArkitTrack) -> SolvedTake:
    """The track in the solve stage's form: every frame 'detected', no neutral, no gaps, no translation."""
    n = len(track.times)
    pose = np.zeros((n, len(HEAD_POSE_COLUMNS)))
    pose[:, 3:6] = np.rad2deg(track.head)
    return SolvedTake(track.times, track.arkit, pose, np.ones(n, bool), np.zeros(len(ARKIT_NAMES)),
                      np.zeros(0, int), [], {"neutral": {"source": "none: ARKit scores are calibrated by the device"}})
