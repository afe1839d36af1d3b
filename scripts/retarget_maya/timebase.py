"""Scene units (time, length, angle) and resampling: from the take's sample times (seconds) to the scene's frames.

Time in a take is seconds, never frames; this module is the one place that turns seconds into the
scene's frames (at its time unit and start frame). Pure: numpy only, never imports maya. numpy ships
with recent Maya versions' Python; docs/maya.md says how to add it where it does not.
"""
from __future__ import annotations

import math
import re
from typing import Sequence, Tuple

import numpy as np

# Maya's named time units (cmds.currentUnit(query=True, time=True)) and their frames per second.
NAMED_TIME_UNITS = {
    "hour": 1.0 / 3600.0, "min": 1.0 / 60.0, "sec": 1.0, "millisec": 1000.0,
    "game": 15.0, "film": 24.0, "pal": 25.0, "ntsc": 30.0, "show": 48.0, "palf": 50.0, "ntscf": 60.0,
}
_NTSC_RATES = {"23.976": 24000.0 / 1001.0, "29.97": 30000.0 / 1001.0, "47.952": 48000.0 / 1001.0,
               "59.94": 60000.0 / 1001.0, "119.88": 120000.0 / 1001.0}
SNAP_SECONDS = 1e-5
_FPS_UNIT = re.compile(r"^(\d+(?:\.\d+)?)(fps|df)$")

# Maya's linear units in centimetres: the face board's values are rig units (cm, Maya's internal unit),
# while cmds reads and writes in the UI unit.
LINEAR_UNIT_CM = {"mm": 0.1, "millimeter": 0.1, "cm": 1.0, "centimeter": 1.0, "m": 100.0, "meter": 100.0,
                  "km": 100000.0, "kilometer": 100000.0, "in": 2.54, "inch": 2.54, "ft": 30.48,
                  "foot": 30.48, "yd": 91.44, "yard": 91.44, "mi": 160934.4, "mile": 160934.4}


# Maya's angular units in radians (the internal unit of angles; cmds reads and writes the UI unit).
ANGLE_UNIT_RADIANS = {"deg": math.pi / 180.0, "degree": math.pi / 180.0, "rad": 1.0, "radian": 1.0}


def fps_from_time_unit(unit: str) -> float:
    """Frames per second of a Maya time unit: "film" -> 24, "29.97df" -> 29.97..., "120fps" -> 120."""
    if unit in NAMED_TIME_UNITS:
        return NAMED_TIME_UNITS[unit]
    match = _FPS_UNIT.match(unit)
    if not match:
        raise ValueError("unknown Maya time unit %r" % unit)
    number = match.group(1)
    return _NTSC_RATES.get(number, float(number))


def centimetres_per_unit(unit: str) -> float:
    try:
        return LINEAR_UNIT_CM[unit]
    except KeyError:
        raise ValueError("unknown Maya linear unit %r" % unit) from None


def radians_per_unit(unit: str) -> float:
    try:
        return ANGLE_UNIT_RADIANS[unit]
    except KeyError:
        raise ValueError("unknown Maya angular unit %r" % unit) from None


def clean_times(times: np.ndarray, values: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Samples sorted by time with repeated times dropped (the last sample of a repeated time wins)."""
    times = np.asarray(times, dtype=float)
    order = np.argsort(times, kind="stable")
    times, values = times[order], values[order]
    keep = np.ones(len(times), dtype=bool)
    keep[:-1] = times[1:] != times[:-1]
    return times[keep], values[keep]


def scene_frames(duration: float, fps: float, start_frame: float) -> np.ndarray:
    """The scene frames a take of `duration` seconds covers when its time 0 lands on `start_frame`:
    every whole frame from the start up to the last one the take still reaches."""
    count = int(math.floor(duration * fps + 1e-6)) + 1
    return start_frame + np.arange(count, dtype=float)


def resample(times: np.ndarray, values: np.ndarray, new_times: np.ndarray) -> np.ndarray:
    """Linear interpolation of every column of `values` (samples x channels) at `new_times`; samples
    outside the take hold the first/last value. Vectorised over channels: the bracketing samples are
    found once for all of them."""
    times = np.asarray(times, dtype=float)
    values = np.asarray(values, dtype=float)
    if values.ndim == 1:
        values = values[:, None]
    if len(times) == 1:
        return np.repeat(values[:1], len(new_times), axis=0)
    t = np.clip(np.asarray(new_times, dtype=float), times[0], times[-1])
    right = np.clip(np.searchsorted(times, t, side="right"), 1, len(times) - 1)
    left = right - 1
    span = times[right] - times[left]
    weight = (t - times[left]) / span
    # Take times are written with 6 decimals: a scene frame that falls on a sample up to that rounding
    # takes the sample itself, so a take at the scene's rate keys (and round-trips) exactly.
    weight[np.abs(t - times[left]) < SNAP_SECONDS] = 0.0
    weight[np.abs(times[right] - t) < SNAP_SECONDS] = 1.0
    weight = weight[:, None]
    return values[left] * (1.0 - weight) + values[right] * weight


def take_to_scene(times: np.ndarray, values: np.ndarray, scene_fps: float, start_frame: float
                  ) -> Tuple[np.ndarray, np.ndarray]:
    """(frames, values at those frames) for curves sampled at `times` seconds.

    Time 0 of the take (the start of the video and of its audio) lands on `start_frame`, so the keys
    stay in sync with the audio imported at the same frame, even when the first sample is later."""
    times, values = clean_times(times, values)
    if len(times) == 0:
        raise ValueError("the take has no samples")
    frames = scene_frames(max(float(times[-1]), 0.0), scene_fps, start_frame)
    return frames, resample(times, values, (frames - start_frame) / scene_fps)


def clamp_columns(values: np.ndarray, lows: Sequence[float], highs: Sequence[float]
                  ) -> Tuple[np.ndarray, np.ndarray]:
    """Clamp each column to [low, high] (use -inf/inf where there is no limit).
    Returns the clamped values and, per column, how many samples were moved."""
    lo = np.asarray(lows, dtype=float)
    hi = np.asarray(highs, dtype=float)
    clamped = np.clip(values, lo, hi)
    moved = np.count_nonzero(clamped != values, axis=0)
    return clamped, moved
