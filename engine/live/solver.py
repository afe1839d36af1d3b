"""The solve stage, online: one tracked frame in, the 61 Live Link values out, without seeing the future.

It follows `engine.solve.solver.solve` step by step, each step replaced by its causal counterpart:

| offline (`run`)                                            | online (here)                                    |
|------------------------------------------------------------|--------------------------------------------------|
| neutral = the actor profile's (`--actor`)                 | the same, from the first frame                   |
| else the population level, lowered to the clip's rest      | the same rule over the frames seen in the last   |
|                                                            | `neutral_window_s` (re-estimated per frame)      |
| `--neutral-time T`: frames within 0.1 s of T               | running estimate until T + 0.1 s, then fixed     |
| gaps <= 0.5 s interpolated, longer ones eased to neutral   | last values held for up to 0.5 s, then eased to  |
|                                                            | neutral (head: to its running median) over 0.2 s |
| zero-phase Butterworth low-pass (no lag)                   | One-Euro filter (little lag, little jitter)      |

So online values converge to the offline ones once the running neutral has seen what the whole clip
shows, and differ by the One-Euro filter's lag in fast motion (tests/test_live.py states the tolerance).
Without a profile the running neutral starts at the population level and only ever lowers it to rest it
sees, so an actor who talks through the first seconds is no longer calibrated against their own talking
(the old least-active estimator read such channels low until a resting face was seen). Pass --actor for
the actor's own neutral from the first frame.

Head yaw/pitch/roll are the take's (`engine.track.head_pose`: YXZ Euler angles of MediaPipe's facial
transformation matrix, camera frame), in radians. Eye rotations are not measured by the tracker; they are
approximated from the eyeLook* scores with gains fitted on a real Live Link Face recording (see
`eye_rotations`).
"""
from __future__ import annotations

from collections import deque

import numpy as np

from engine.config import SolveOptions
from engine.export.livelink import EYE_NAMES, HEAD_NAMES, N_VALUES, VALUE_NAMES
from engine.rig.arkit import ARKIT_INDEX, ARKIT_NAMES, livelink_names
from engine.solve.calibration import NEUTRAL_WINDOW_S, apply_neutral, population_neutral, rescale
from engine.solve.channels import load_channels
from engine.solve.filters import OneEuroFilter
from engine.solve.gaps import EASE_S
from engine.track.head_pose import pose_to_components
from engine.track.landmarker import FrameResult
from engine.solve.actor import load_profile

_COLUMN = {name: i for i, name in enumerate(VALUE_NAMES)}
ARKIT_COLUMNS = np.array([_COLUMN[livelink_names()[name]] for name in ARKIT_NAMES])
HEAD_COLUMNS = np.array([_COLUMN[name] for name in HEAD_NAMES])
EYE_COLUMNS = np.array([_COLUMN[name] for name in EYE_NAMES])

# Eye yaw/pitch (radians) per unit of eyeLook* score. ARKit derives its eyeLook* shapes from the eye
# rotations it measures, and the app sends both; a least-squares fit over the 4,030 frames of the shared
# real recording (../shared/data/arkit/livelinkface_alex_rom_3.csv), per direction and averaged over the
# two eyes, gives these gains, with residuals of 0.002-0.003 rad once a constant is allowed: that constant
# (+-0.065 rad of yaw, eyes turned inwards) is the actor's vergence on the phone ~50 cm away, which a
# stream should not invent, so it is left out. Sign convention of that recording: yaw > 0 looks to the
# actor's right, pitch > 0 looks down. MediaPipe's eyeLook* scores come from a different model than
# ARKit's, so on our input this is an approximation of the gaze (a few degrees); eye roll is always 0.
EYE_GAIN_OUT = 0.580     # eyeLookOut: the eye turns away from the nose
EYE_GAIN_IN = 0.627      # eyeLookIn: towards the nose
EYE_GAIN_UP = 0.450
EYE_GAIN_DOWN = 0.617


def _scores(side: str) -> tuple[int, int, int, int]:
    return tuple(ARKIT_INDEX[f"eyeLook{d}{side}"] for d in ("Out", "In", "Up", "Down"))  # type: ignore


_LEFT, _RIGHT = _scores("Left"), _scores("Right")


def eye_rotations(arkit: np.ndarray) -> np.ndarray:
    """(..., 52) calibrated ARKit scores -> (..., 6) left yaw, pitch, roll, right yaw, pitch, roll (rad)."""
    arkit = np.asarray(arkit, float)
    out = np.zeros(arkit.shape[:-1] + (6,))
    for offset, (look_out, look_in, up, down), outward in ((0, _LEFT, -1.0), (3, _RIGHT, 1.0)):
        # The left eye looking out turns to the actor's left (negative yaw), the right eye to the right.
        out[..., offset] = outward * (EYE_GAIN_OUT * arkit[..., look_out] - EYE_GAIN_IN * arkit[..., look_in])
        out[..., offset + 1] = EYE_GAIN_DOWN * arkit[..., down] - EYE_GAIN_UP * arkit[..., up]
    return out


class RunningNeutral:
    """The actor's resting face from the frames seen so far, by `run`'s rule (the population resting model,
    lowered where the frames seen hold rest: engine.solve.calibration.population_neutral), over a sliding
    window so a long session follows changes of light and pose."""

    def __init__(self, window_s: float, neutral_time: float | None = None, fixed: np.ndarray | None = None):
        self.window_s, self.neutral_time = window_s, neutral_time
        self._times: deque[float] = deque()
        self._scores: deque[np.ndarray] = deque()
        self._near: list[np.ndarray] = []
        self._fixed: np.ndarray | None = None if fixed is None else np.asarray(fixed, float)   # an actor profile's
        self.value: np.ndarray | None = self._fixed

    def update(self, t: float, scores: np.ndarray) -> np.ndarray:
        if self._fixed is not None:
            return self._fixed
        if self.neutral_time is not None and abs(t - self.neutral_time) <= NEUTRAL_WINDOW_S:
            self._near.append(scores)
        elif self.neutral_time is not None and t > self.neutral_time + NEUTRAL_WINDOW_S and self._near:
            self._fixed = self.value = np.median(np.array(self._near), axis=0)
            return self._fixed
        self._times.append(t)
        self._scores.append(scores)
        while self._times and self._times[0] < t - self.window_s:
            self._times.popleft()
            self._scores.popleft()
        history = np.array(self._scores)
        self.value = population_neutral(history, np.ones(len(history), bool), np.array(self._times)).scores
        return self.value


def profile_neutral(solve: SolveOptions) -> np.ndarray | None:
    """The actor profile's resting scores (`live --actor`), or None."""
    if solve.actor is None:
        return None

    return load_profile(solve.actor).neutral


class OnlineSolver:
    """Per frame: calibrate against the running neutral, bridge lost faces, One-Euro filter, and lay out
    the 61 Live Link values (VALUE_NAMES order)."""

    def __init__(self, solve: SolveOptions, neutral_window_s: float):
        self.options = solve
        self.neutral = RunningNeutral(neutral_window_s, solve.neutral_time, profile_neutral(solve))
        self.filter = OneEuroFilter(solve.one_euro_min_cutoff, solve.one_euro_beta)
        self.channels = load_channels()
        self._last: np.ndarray | None = None         # last tracked (arkit 52 + head 3), before filtering
        self._last_t: float | None = None
        self._lost_since: float | None = None
        self._head_history: deque[tuple[float, np.ndarray]] = deque()
        self._window_s = neutral_window_s

    def update(self, t: float, result: FrameResult) -> np.ndarray:
        """The 61 values for the frame at source time `t`."""
        if result.detected:
            raw = np.nan_to_num(np.asarray(result.arkit, float))
            # The offline solve's MediaPipe path: neutral-relative, then each channel's range gain
            # (engine/solve/data/channels.json). The landmark blend needs whole-clip statistics: not live.
            arkit = np.clip(apply_neutral(raw, self.neutral.update(t, raw)) * self.channels.gain, 0.0, 1.0)
            head = np.deg2rad(pose_to_components(np.asarray(result.head_pose, float)[None])[0, 3:6])
            self._remember_head(t, head)
            state = np.concatenate([arkit, head])
            self._last, self._last_t, self._lost_since = state, t, None
        else:
            state = self._bridge(t)
        smooth = self.filter(state, t)
        values = np.zeros(N_VALUES)
        arkit = rescale(smooth[:52], 1.0, self.channels.deadzone)   # the table's dead zone, after filtering
        values[ARKIT_COLUMNS] = arkit
        values[HEAD_COLUMNS] = smooth[52:55]
        values[EYE_COLUMNS] = eye_rotations(arkit)
        return values

    def _remember_head(self, t: float, head: np.ndarray) -> None:
        self._head_history.append((t, head))
        while self._head_history and self._head_history[0][0] < t - self._window_s:
            self._head_history.popleft()

    def _rest(self) -> np.ndarray:
        """Neutral face (all zeros after calibration) and the running median head pose."""
        head = np.median(np.array([h for _, h in self._head_history]), axis=0) if self._head_history \
            else np.zeros(3)
        return np.concatenate([np.zeros(52), head])

    def _bridge(self, t: float) -> np.ndarray:
        """No face: hold the last values for max_bridged_gap_s, then cosine-ease to rest over EASE_S."""
        rest = self._rest()
        if self._last is None:
            return rest
        if self._lost_since is None:
            self._lost_since = self._last_t if self._last_t is not None else t
        held = t - self._lost_since
        hold = self.options.max_bridged_gap_s
        if held <= hold:
            return self._last
        w = min(1.0, (held - hold) / EASE_S)
        w = 0.5 - 0.5 * np.cos(np.pi * w)
        return self._last + w * (rest - self._last)
