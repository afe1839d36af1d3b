"""The solve stage: calibrated, gap-filled, smoothed ARKit curves and head pose from a FaceTrack."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from engine.config import SolveOptions
from engine.solve.calibration import Neutral, apply_neutral, choose_neutral, estimate_neutral, rescale
from engine.solve.channels import load_channels
from engine.solve.filters import LOWPASS_COLUMNS, zero_phase_lowpass
from engine.solve.gaps import Gap, fill_gaps
from engine.track.head_pose import pose_to_components
from engine.track.facetrack import FaceTrack
from engine.solve.actor import load_profile
from engine.solve.calibration import activity
from engine.solve.landmark_space import CALM_SHARE, build_space
from engine.solve.landmark_regressor import load_regressor
from engine.solve.landmark_fit import fit_weights, load_basis


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
    eyes: np.ndarray | None = None   # (N, 6) eye angles (radians) where the source measures them


def solve(track: FaceTrack, options: SolveOptions, symmetric: bool = False) -> SolvedTake:
    """The calibrated, smoothed ARKit curves of a tracked clip; `symmetric`: the track was read both ways
    (`run --symmetric`), so the actor profile's symmetric reading is the one that fits it."""
    profile = load_actor(options, symmetric)
    neutral = choose_neutral(track, options.neutral_time, profile.neutral if profile else None)
    landmark = landmark_estimate(track, neutral, options, profile) if landmarks_usable(track, options) else None
    gain = profile_gain(profile, neutral.scores, load_channels().gain)
    arkit = np.empty(track.arkit.shape)
    gaps: list[Gap] = []
    # Every step below is per channel: a group of channels at a time, so that a long clip's transient
    # copies are of a group's columns, not of all 52 (the values are the same, see SOLVE_COLUMNS).
    for columns in channel_groups(arkit.shape[1]):
        arkit[:, columns], gaps = solve_channels(track, columns, neutral, gain, landmark, options)
    return SolvedTake(track.times, arkit, solve_head_pose(track, options), track.detected.copy(), neutral.scores,
                      neutral.frames, gaps, {"landmarks": landmark is not None, "neutral": neutral.to_json(track.times)})


# Channels solved at a time: the low-pass filter's own groups (zero_phase_lowpass), so that every channel
# is filtered exactly as in a solve of all channels at once; any multiple of it gives the same values.
SOLVE_COLUMNS = LOWPASS_COLUMNS


def channel_groups(count: int) -> list[slice]:
    return [slice(start, start + SOLVE_COLUMNS) for start in range(0, count, SOLVE_COLUMNS)]


def solve_channels(track: FaceTrack, columns: slice, neutral: Neutral, gain: np.ndarray,
                   landmark: np.ndarray | None, options: SolveOptions) -> tuple[np.ndarray, list[Gap]]:
    """(N, len(columns)) solved curves of those channels, and the gaps filled (the same for every group)."""
    values = frame_estimates(track, columns, neutral, gain, landmark)
    values = np.where(track.detected[:, None], values, 0.0)
    values, gaps = fill_gaps(values, track.times, track.detected, np.zeros(values.shape[1]), options.max_bridged_gap_s)
    values = zero_phase_lowpass(values, track.times, options.smoothing_cutoff_hz)
    # The dead zone comes last, on the smoothed curves: the table's, the same for every clip (a dead zone
    # measured on the clip's own frames would make a take depend on what else the clip holds).
    return rescale(values, 1.0, load_channels().deadzone[columns]), gaps


def solve_head_pose(track: FaceTrack, options: SolveOptions) -> np.ndarray:
    """(N, 6) head pose (HEAD_POSE_COLUMNS): gaps filled from the clip's median pose, smoothed."""
    pose = pose_to_components(track.head_pose)
    rest_pose = np.nanmedian(pose[track.detected], axis=0)
    pose, _ = fill_gaps(np.nan_to_num(pose), track.times, track.detected, rest_pose, options.max_bridged_gap_s)
    return zero_phase_lowpass(pose, track.times, options.smoothing_cutoff_hz)


def solve_calibrated(track: FaceTrack, options: SolveOptions) -> SolvedTake:
    """A track whose scores are already the actor's own (an iPhone's ARKit): nothing subtracted, no gap to
    fill (every sample is measured), no dead zone; the optional smoothing over scores and angles is all."""
    cutoff = options.smoothing_cutoff_hz
    arkit = np.clip(zero_phase_lowpass(track.arkit, track.times, cutoff), 0.0, 1.0)
    pose = zero_phase_lowpass(pose_to_components(track.head_pose), track.times, cutoff)
    eyes = zero_phase_lowpass(track.eyes, track.times, cutoff) if track.eyes is not None else None
    return SolvedTake(track.times, arkit, pose, track.detected.copy(), np.zeros(arkit.shape[1]), np.zeros(0, int),
                      [], {"neutral": {"source": "none: the scores are calibrated by the device"}}, eyes)


def load_actor(options: SolveOptions, symmetric: bool = False):
    """The actor profile named by the options (engine.solve.actor), read the way the track was (its
    `for_run`); None without a profile."""
    if options.actor is None:
        return None
    return load_profile(options.actor).for_run(symmetric)


def landmarks_usable(track: FaceTrack, options: SolveOptions) -> bool:
    return bool(options.use_landmarks and track.landmarks_path is not None and track.image_size is not None)


def calibrated_scores(track: FaceTrack, neutral: Neutral, columns: slice = slice(None), rows=slice(None)) -> np.ndarray:
    """MediaPipe's scores of those frames and channels made neutral-relative (engine.solve.calibration); rows
    without a face read as if they were 0."""
    return apply_neutral(np.nan_to_num(track.arkit[rows, columns]), neutral.scores[columns])


def frame_estimates(track: FaceTrack, columns: slice, neutral: Neutral, gain: np.ndarray,
                    landmark: np.ndarray | None) -> np.ndarray:
    """(N, len(columns)) per-frame estimates of those channels before gap filling and smoothing (rows
    without a face are garbage).

    MediaPipe's scores are made neutral-relative (calibration) and range-normalised per channel by `gain`
    (the table's, or the actor profile's own range where it has one: profile_gain); where the clip has a
    landmark estimate (N, 52), it is blended in per the channel table (engine/solve/data/channels.json)."""
    table = load_channels()
    mp = calibrated_scores(track, neutral, columns)
    if landmark is None:
        return np.clip(mp * gain[columns], 0.0, 1.0)
    blend = table.blend[columns]
    return np.clip((1.0 - blend) * mp * gain[columns] + blend * landmark[:, columns] * table.fit_gain[columns],
                   0.0, 1.0)


MIN_PROFILE_RANGE = 0.1   # a range-of-motion peak closer than this to the neutral says nothing about the range


def profile_gain(profile, neutral: np.ndarray, table_gain: np.ndarray) -> np.ndarray:
    """Per-channel gain: the actor's range-of-motion peak reads 1 where the profile has ranges (and the
    peak is clearly above rest); the table's gain elsewhere."""
    if profile is None or profile.ranges is None:
        return table_gain
    reach = (np.asarray(profile.ranges, float) - neutral) / np.maximum(1.0 - neutral, 1e-6)
    return np.where(reach >= MIN_PROFILE_RANGE, 1.0 / np.maximum(reach, MIN_PROFILE_RANGE), table_gain)


MIN_REFERENCE_FRAMES = 5   # frames at --neutral-time needed to take the landmark neutral from them


def landmark_features(track: FaceTrack, neutral_frames: np.ndarray, landmarks: np.ndarray,
                      reference: np.ndarray | None = None):
    """The clip's landmark space (engine.solve.landmark_space) restricted to `landmarks`, and their
    displacements, relative to `reference` (an actor profile's neutral shape) or to the shape of the
    `neutral_frames`. The displacements are computed a block of frames at a time when indexed
    (engine.solve.landmark_space.FrameDisplacements), of those landmarks only."""
    act = activity(np.where(track.detected[:, None], np.nan_to_num(track.arkit), np.inf))
    calm = np.flatnonzero(act <= np.quantile(act[track.detected], CALM_SHARE))
    space = build_space(track.landmarks(), track.image_size, neutral_frames, calm, keep=landmarks,
                        reference=reference)
    return space, space.displacement


def landmark_reference(neutral: Neutral, profile) -> tuple[np.ndarray, np.ndarray | None] | None:
    """(frames, shape) the landmark space is measured from: the actor profile's neutral shape, else the
    frames the user named as rest (`--neutral-time`). None otherwise, and the clip is solved from MediaPipe's
    scores alone: a neutral shape taken from the clip's own rest frames makes the landmark estimate depend on
    whether the clip holds rest, so the same frames change with the clip around them (bench/real_footage.py,
    d13's compressed copy under --symmetric: middle third vs whole clip pooled r 0.935 with it, 0.993
    without; the least-active-frames fallback before that: 0.90-0.97)."""
    if profile is not None and profile.landmark_neutral is not None:
        return neutral.frames, np.asarray(profile.landmark_neutral, float)
    if neutral.source == "neutral time" and len(neutral.frames) >= MIN_REFERENCE_FRAMES:
        return neutral.frames, None
    return None


def landmark_estimate(track: FaceTrack, neutral: Neutral, options: SolveOptions, profile=None) -> np.ndarray | None:
    """(N, 52) ARKit weights from the landmarks: the trained regressor, or a blendshape fit when the
    options name a basis (engine.solve.landmark_fit). None when neither is available, or the clip has no
    neutral to measure the landmarks from (landmark_reference)."""
    chosen = landmark_reference(neutral, profile)
    if chosen is None:
        return None
    frames, reference = chosen
    if options.landmark_basis:
        mp = calibrated_scores(track, neutral)   # every channel's: the fit's prior
        basis = load_basis(str(options.landmark_basis))
        space, disp = landmark_features(track, frames, basis.landmarks, reference)
        return fit_weights(np.asarray(disp), basis, prior=np.clip(mp, 0, 1), prior_weight=load_channels().prior_weight,
                           noise=space.noise)

    regressor = load_regressor()
    if regressor is None:
        return None
    _, disp = landmark_features(track, frames, regressor.landmarks, reference)
    return regressor.predict(disp, CalibratedRows(track, neutral), head_angles(track) if regressor.pose_inputs else None)


class CalibratedRows:
    """calibrated_scores of every channel, computed for the rows asked for (the network reads a block of
    frames at a time; a 10-minute clip's whole array is 7.5 MB, and its temporaries three times that)."""

    def __init__(self, track: FaceTrack, neutral: Neutral):
        self.track, self.neutral = track, neutral

    def __len__(self) -> int:
        return len(self.track)

    def __getitem__(self, rows) -> np.ndarray:
        return calibrated_scores(self.track, self.neutral, rows=rows)


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
    eyes = resample(take.times, take.eyes, new_times) if take.eyes is not None else None
    return SolvedTake(new_times, np.clip(resample(take.times, take.arkit, new_times), 0, 1),
                      resample(take.times, take.head_pose, new_times), take.detected[nearest],
                      take.neutral, take.neutral_frames, take.gaps, take.sources, eyes)
