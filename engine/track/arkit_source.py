"""`run --arkit`: an ARKit-52 recording as the track source, in place of a video's tracking.

The iPhone's Live Link Face app records its own face tracking as a CSV (spec README, "Live Link Face
CSV"); any other CSV whose header names the 52 ARKit blendshapes works too (engine.export.livelink
read_arkit_csv: header-driven, any column order, timecode / time / frame column or a given rate). A
source yields what the rest of the engine needs from a track: sample times, the 52 scores and the head
angles (plus the eyes' for arkit.csv). Apple's scores are already calibrated per face, so there is no
neutral to subtract and no gap to fill; the engine's optional smoothing is all the solve does
(engine.solve.solver.solve_calibrated), and the scores then go through the same retarget and take writer
as a video's (engine.pipeline).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from engine.errors import BadInput
from engine.export.livelink import EYE_NAMES, HEAD_NAMES, read_arkit_csv
from engine.hashing import file_sha256
from engine.track.facetrack import FaceTrack, SourceTrack
from engine.track.head_pose import angles_to_matrices

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


def arkit_source(path: str | Path, fps: float | None = None) -> SourceTrack:
    """The recording as a track source: every sample 'detected', the head's angles as transforms (no
    translation), the eyes' angles carried for arkit.csv, no landmarks."""
    take = read_arkit_track(path, fps)
    n = len(take.times)
    track = FaceTrack(times=take.times, detected=np.ones(n, bool), arkit=take.arkit,
                      head_pose=angles_to_matrices(take.head, n), confidence=np.ones(n), eyes=take.eyes)
    return SourceTrack("arkit", track, take.record["fps"], {"arkit": take.record},
                       {"source": "arkit", "head": take.record["head"], "eyes": take.record["eyes"]},
                       calibrated=True, files_absent={"landmarks": "an ARKit recording has no image landmarks"})
