"""Frames where no face was found: bridge short gaps, ease long ones to the neutral face, and say so.

Nothing is invented silently: every gap is returned as a record that goes into take.json."""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

EASE_S = 0.2   # long gaps ease to and from neutral over this long


@dataclass
class Gap:
    start: float         # time of the first frame without a face
    end: float           # time of the first frame with a face again (or the last frame)
    frames: int
    filled: str          # "interpolated" or "neutral"

    def to_json(self) -> dict:
        return asdict(self)


def _runs(missing: np.ndarray) -> list[tuple[int, int]]:
    padded = np.concatenate([[False], missing, [False]]).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2])]


def fill_gaps(values: np.ndarray, times: np.ndarray, detected: np.ndarray, neutral: np.ndarray,
              max_bridged_s: float) -> tuple[np.ndarray, list[Gap]]:
    """Return values with every gap filled, and the gap records.

    A gap between two tracked frames that is at most `max_bridged_s` long is interpolated linearly;
    longer gaps, and gaps at the clip's start or end, hold `neutral`, eased in and out over EASE_S."""
    out = np.array(values, dtype=float)
    gaps: list[Gap] = []
    n = len(times)
    for a, b in _runs(~detected):
        inner = a > 0 and b < n
        span = (times[b] if b < n else times[-1]) - (times[a - 1] if a > 0 else times[0])
        if inner and span <= max_bridged_s:
            for c in range(out.shape[1]):
                out[a:b, c] = np.interp(times[a:b], [times[a - 1], times[b]], [out[a - 1, c], out[b, c]])
            kind = "interpolated"
        else:
            out[a:b] = neutral
            _ease(out, times, a, b, neutral)
            kind = "neutral"
        gaps.append(Gap(float(times[a]), float(times[b] if b < n else times[-1]), b - a, kind))
    return out, gaps


def _ease(out: np.ndarray, times: np.ndarray, a: int, b: int, neutral: np.ndarray) -> None:
    """Cosine-ease from the last tracked value into neutral at the gap's start, and back out at its end."""
    n = len(times)
    if a > 0:
        last = out[a - 1].copy()
        ramp = np.flatnonzero((times >= times[a]) & (times < times[a] + EASE_S) & (np.arange(n) < b))
        w = 0.5 - 0.5 * np.cos(np.pi * (times[ramp] - times[a]) / EASE_S)
        out[ramp] = last + w[:, None] * (neutral - last)
    if b < n:
        first = out[b].copy()
        ramp = np.flatnonzero((times > times[b - 1] - EASE_S) & (times <= times[b - 1]) & (np.arange(n) >= a))
        w = 0.5 - 0.5 * np.cos(np.pi * (times[b - 1] - times[ramp]) / EASE_S)
        out[ramp] = first + w[:, None] * (neutral - first)
