"""The solve stage: calibrated, gap-filled, smoothed ARKit curves and head pose from a FaceTrack."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from engine.config import SolveOptions
from engine.solve.calibration import apply_neutral, estimate_neutral, neutral_at_time, rescale
from engine.solve.channels import load_channels
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
    sources: dict = field(default_factory=dict)   # what the curves were solved from (for take.json)


def solve(track: FaceTrack, options: SolveOptions) -> SolvedTake:
    if options.neutral_time is not None:
        neutral, used = neutral_at_time(track.arkit, track.detected, track.times, options.neutral_time)
    else:
        neutral, used = estimate_neutral(track.arkit, track.detected, options.neutral_quantile)
    calibrated = np.where(track.detected[:, None], solve_frames(track, neutral, used, options), 0.0)
    arkit, gaps = fill_gaps(calibrated, track.times, track.detected, np.zeros(calibrated.shape[1]),
                            options.max_bridged_gap_s)
    arkit = zero_phase_lowpass(arkit, track.times, options.smoothing_cutoff_hz)
    # The dead zone comes last, measured on the smoothed curves: what is left of the resting noise.
    arkit = rescale(arkit, 1.0, deadzone(arkit, used, load_channels().deadzone))

    pose = pose_to_components(track.head_pose)
    rest_pose = np.nanmedian(pose[track.detected], axis=0)
    pose, _ = fill_gaps(np.nan_to_num(pose), track.times, track.detected, rest_pose, options.max_bridged_gap_s)
    pose = zero_phase_lowpass(pose, track.times, options.smoothing_cutoff_hz)
    return SolvedTake(track.times, arkit, pose, track.detected.copy(), neutral, used, gaps,
                      {"landmarks": landmarks_usable(track, options)})


def landmarks_usable(track: FaceTrack, options: SolveOptions) -> bool:
    return bool(options.use_landmarks and track.landmarks_path is not None and track.image_size is not None)


def solve_frames(track: FaceTrack, neutral: np.ndarray, neutral_frames: np.ndarray,
                 options: SolveOptions) -> np.ndarray:
    """(N, 52) per-frame estimates before gap filling and smoothing (rows without a face are garbage).

    MediaPipe's scores are made neutral-relative (calibration) and range-normalised per channel; where
    the clip has landmarks, the landmark-space estimate relative to the actor's neutral is blended in
    per the channel table (engine/solve/data/channels.json). (`solve` then fills gaps, smooths, and takes
    the resting noise out with a dead zone.)"""
    table = load_channels()
    mp = apply_neutral(np.nan_to_num(track.arkit), neutral)
    landmark = landmark_estimate(track, mp, neutral_frames, options) if landmarks_usable(track, options) else None
    if landmark is None:
        return np.clip(mp * table.gain, 0.0, 1.0)
    return np.clip((1.0 - table.blend) * mp * table.gain + table.blend * landmark * table.fit_gain, 0.0, 1.0)


NOISE_SIGMAS = 2.5     # the actor's resting noise: this many (robust) standard deviations of the neutral frames
MAX_NOISE_DEADZONE = 0.1


def deadzone(values: np.ndarray, neutral_frames: np.ndarray, table_deadzone: np.ndarray) -> np.ndarray:
    """Per-channel dead zone: the table's, or the noise this actor's resting face shows, if larger. The
    noise is robust (median absolute deviation): a few lively frames among the neutral ones do not count."""
    rest = values[np.asarray(neutral_frames, int)]
    if len(rest) <= 2:
        return np.asarray(table_deadzone, float)
    median = np.median(rest, axis=0)
    spread = 1.4826 * np.median(np.abs(rest - median), axis=0)
    noise = np.maximum(median, 0.0) + NOISE_SIGMAS * spread
    return np.maximum(table_deadzone, np.minimum(noise, MAX_NOISE_DEADZONE))


def landmark_features(track: FaceTrack, mp: np.ndarray, neutral_frames: np.ndarray, landmarks: np.ndarray):
    """The clip's landmark space (engine.solve.landmark_space) restricted to `landmarks`, and their
    displacements. Only those landmarks are held in memory."""
    from engine.solve.calibration import activity
    from engine.solve.landmark_space import CALM_SHARE, build_space

    act = activity(np.where(track.detected[:, None], np.nan_to_num(track.arkit), np.inf))
    calm = np.flatnonzero(act <= np.quantile(act[track.detected], CALM_SHARE))
    space = build_space(track.landmarks(), track.image_size, neutral_frames, calm, keep=landmarks)
    return space, space.displacement


def landmark_estimate(track: FaceTrack, mp: np.ndarray, neutral_frames: np.ndarray,
                      options: SolveOptions) -> np.ndarray | None:
    """(N, 52) ARKit weights from the landmarks: the trained regressor, or a blendshape fit when the
    options name a basis (engine.solve.landmark_fit). None when neither is available."""
    if options.landmark_basis:
        from engine.solve.landmark_fit import fit_weights, load_basis

        basis = load_basis(str(options.landmark_basis))
        space, disp = landmark_features(track, mp, neutral_frames, basis.landmarks)
        return fit_weights(disp, basis, prior=np.clip(mp, 0, 1), prior_weight=load_channels().prior_weight,
                           noise=space.noise)
    from engine.solve.landmark_regressor import load_regressor

    regressor = load_regressor()
    if regressor is None:
        return None
    _, disp = landmark_features(track, mp, neutral_frames, regressor.landmarks)
    return regressor.predict(disp, mp, head_angles(track) if regressor.pose_inputs else None)


def head_angles(track: FaceTrack) -> np.ndarray:
    """(N, 3) yaw, pitch, roll in radians (NaN where no face): what the similarity alignment of the
    landmark space cannot fully undo (perspective, MediaPipe's depth) depends on them."""
    return np.deg2rad(pose_to_components(track.head_pose)[:, 3:6])


def resample(times: np.ndarray, values: np.ndarray, new_times: np.ndarray) -> np.ndarray:
    """Linear resampling of every column onto new sample times."""
    return np.stack([np.interp(new_times, times, values[:, c]) for c in range(values.shape[1])], axis=1)


def resample_take(take: SolvedTake, fps: float) -> SolvedTake:
    """The take on a uniform grid at `fps` (used by --fps-out); detection is taken from the nearest frame."""
    new_times = np.arange(0.0, take.times[-1] + 1e-9, 1.0 / fps)
    nearest = np.clip(np.searchsorted(take.times, new_times), 0, len(take.times) - 1)
    return SolvedTake(new_times, np.clip(resample(take.times, take.arkit, new_times), 0, 1),
                      resample(take.times, take.head_pose, new_times), take.detected[nearest],
                      take.neutral, take.neutral_frames, take.gaps, take.sources)
