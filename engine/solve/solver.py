"""The solve stage: calibrated, gap-filled, smoothed ARKit curves and head pose from a FaceTrack."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from engine.config import SolveOptions
from engine.solve.calibration import apply_neutral, estimate_neutral, neutral_at_time
from engine.solve.filters import zero_phase_lowpass
from engine.solve.gaps import Gap, fill_gaps
from engine.solve.head_pose import pose_to_components
from engine.track.facetrack import FaceTrack


@dataclass
class SolvedTake:
    times: np.ndarray            # (N,) seconds
    arkit: np.ndarray            # (N, 52) calibrated, 0..1
    head_pose: np.ndarray        # (N, 6) see HEAD_POSE_COLUMNS
    detected: np.ndarray         # (N,) bool: False where the values were filled
    neutral: np.ndarray          # (52,) raw MediaPipe scores of the actor's resting face
    neutral_frames: np.ndarray   # indices of the frames the neutral came from
    gaps: list[Gap] = field(default_factory=list)


def solve(track: FaceTrack, options: SolveOptions) -> SolvedTake:
    if options.neutral_time is not None:
        neutral, used = neutral_at_time(track.arkit, track.detected, track.times, options.neutral_time)
    else:
        neutral, used = estimate_neutral(track.arkit, track.detected, options.neutral_quantile)
    calibrated = np.where(track.detected[:, None], apply_neutral(np.nan_to_num(track.arkit), neutral), 0.0)
    arkit, gaps = fill_gaps(calibrated, track.times, track.detected, np.zeros(calibrated.shape[1]),
                            options.max_bridged_gap_s)
    arkit = np.clip(zero_phase_lowpass(arkit, track.times, options.smoothing_cutoff_hz), 0.0, 1.0)

    pose = pose_to_components(track.head_pose)
    rest_pose = np.nanmedian(pose[track.detected], axis=0)
    pose, _ = fill_gaps(np.nan_to_num(pose), track.times, track.detected, rest_pose, options.max_bridged_gap_s)
    pose = zero_phase_lowpass(pose, track.times, options.smoothing_cutoff_hz)
    return SolvedTake(track.times, arkit, pose, track.detected.copy(), neutral, used, gaps)


def resample(times: np.ndarray, values: np.ndarray, new_times: np.ndarray) -> np.ndarray:
    """Linear resampling of every column onto new sample times."""
    return np.stack([np.interp(new_times, times, values[:, c]) for c in range(values.shape[1])], axis=1)


def resample_take(take: SolvedTake, fps: float) -> SolvedTake:
    """The take on a uniform grid at `fps` (used by --fps-out); detection is taken from the nearest frame."""
    new_times = np.arange(0.0, take.times[-1] + 1e-9, 1.0 / fps)
    nearest = np.clip(np.searchsorted(take.times, new_times), 0, len(take.times) - 1)
    return SolvedTake(new_times, np.clip(resample(take.times, take.arkit, new_times), 0, 1),
                      resample(take.times, take.head_pose, new_times), take.detected[nearest],
                      take.neutral, take.neutral_frames, take.gaps)
