"""Temporal filters: zero-phase low-pass for offline takes, One-Euro for live streams."""
from __future__ import annotations

import math

import numpy as np
from scipy.signal import butter, sosfiltfilt

FILTER_ORDER = 2


def uniform_grid(times: np.ndarray) -> np.ndarray:
    """A uniform time grid over `times` at their median spacing (VFR videos are resampled onto it)."""
    if len(times) < 2:
        return times.copy()
    step = float(np.median(np.diff(times)))
    count = int(round((times[-1] - times[0]) / step)) + 1
    return times[0] + step * np.arange(count)


def zero_phase_lowpass(values: np.ndarray, times: np.ndarray, cutoff_hz: float) -> np.ndarray:
    """Low-pass every column of `values` (N x C) forwards and backwards, so no lag is added.

    Non-uniform times are handled by filtering on a uniform grid and interpolating back."""
    values = np.asarray(values, dtype=float)
    if cutoff_hz <= 0 or len(times) < 3 * (FILTER_ORDER + 1) + 2:
        return values.copy()
    grid = uniform_grid(times)
    rate = 1.0 / float(grid[1] - grid[0])
    if cutoff_hz >= 0.5 * rate:
        return values.copy()
    on_grid = np.stack([np.interp(grid, times, values[:, c]) for c in range(values.shape[1])], axis=1)
    sos = butter(FILTER_ORDER, cutoff_hz, btype="low", fs=rate, output="sos")
    padlen = min(len(grid) - 1, 3 * (2 * len(sos) + 1))
    smooth = sosfiltfilt(sos, on_grid, axis=0, padlen=padlen)
    return np.stack([np.interp(times, grid, smooth[:, c]) for c in range(values.shape[1])], axis=1)


class OneEuroFilter:
    """Casiez et al.'s One-Euro filter over a vector: little jitter at rest, little lag in fast motion."""

    def __init__(self, min_cutoff: float = 1.5, beta: float = 0.3, d_cutoff: float = 1.0):
        self.min_cutoff, self.beta, self.d_cutoff = min_cutoff, beta, d_cutoff
        self._x: np.ndarray | None = None
        self._dx: np.ndarray | None = None
        self._t: float | None = None

    @staticmethod
    def _alpha(cutoff: np.ndarray | float, dt: float) -> np.ndarray | float:
        tau = 1.0 / (2.0 * math.pi * cutoff)
        return 1.0 / (1.0 + tau / dt)

    def reset(self) -> None:
        self._x = self._dx = self._t = None

    def __call__(self, x: np.ndarray, t: float) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        if self._x is None or self._t is None or t <= self._t:
            self._x, self._dx, self._t = x.copy(), np.zeros_like(x), t
            return x.copy()
        dt = t - self._t
        dx = (x - self._x) / dt
        self._dx = self._dx + self._alpha(self.d_cutoff, dt) * (dx - self._dx)
        cutoff = self.min_cutoff + self.beta * np.abs(self._dx)
        self._x = self._x + self._alpha(cutoff, dt) * (x - self._x)
        self._t = t
        return self._x.copy()
