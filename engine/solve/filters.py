"""Temporal filters: zero-phase low-pass for offline takes, One-Euro for live streams.

The low-pass is a 2nd-order Butterworth run forwards and backwards, as scipy.signal's butter(2, ...,
output="sos") + sosfiltfilt(..., padlen) compute it (odd extension at both ends, the filter started in its
steady state for the first sample). It is written out here because importing scipy.signal costs 0.6-1 s of
CPU, more than the rest of `run`'s imports together, for two functions; tests/test_filters.py holds it to
SciPy's result within 1e-10.
"""
from __future__ import annotations

import math

import numpy as np

FILTER_ORDER = 2          # one second-order section
BLOCK = 128               # samples per matrix step of the recursion (any size gives the same result)


def uniform_grid(times: np.ndarray) -> np.ndarray:
    """A uniform time grid over `times` at their median spacing (VFR videos are resampled onto it)."""
    if len(times) < 2:
        return times.copy()
    step = float(np.median(np.diff(times)))
    count = int(round((times[-1] - times[0]) / step)) + 1
    return times[0] + step * np.arange(count)


LOWPASS_COLUMNS = 8   # columns filtered at a time: a long clip's grid copies stay small


def zero_phase_lowpass(values: np.ndarray, times: np.ndarray, cutoff_hz: float) -> np.ndarray:
    """Low-pass every column of `values` (N x C) forwards and backwards, so no lag is added.

    Non-uniform times are handled by filtering on a uniform grid and interpolating back."""
    values = np.asarray(values, dtype=float)
    if values.ndim == 2 and values.shape[1] > LOWPASS_COLUMNS:   # columns are independent: a few at a time
        return np.concatenate([zero_phase_lowpass(values[:, c:c + LOWPASS_COLUMNS], times, cutoff_hz)
                               for c in range(0, values.shape[1], LOWPASS_COLUMNS)], axis=1)
    if cutoff_hz <= 0 or len(times) < 3 * (FILTER_ORDER + 1) + 2:
        return values.copy()
    grid = uniform_grid(times)
    rate = 1.0 / float(grid[1] - grid[0])
    if cutoff_hz >= 0.5 * rate:
        return values.copy()
    on_grid = np.stack([np.interp(grid, times, values[:, c]) for c in range(values.shape[1])], axis=1)
    section = butterworth_lowpass(cutoff_hz, rate)
    padlen = min(len(grid) - 1, 3 * (2 * 1 + 1))          # sosfiltfilt's default for one section
    smooth = filtfilt_section(section, on_grid, padlen)
    return np.stack([np.interp(times, grid, smooth[:, c]) for c in range(values.shape[1])], axis=1)


def butterworth_lowpass(cutoff_hz: float, rate: float) -> tuple[np.ndarray, np.ndarray]:
    """2nd-order Butterworth low-pass as one biquad: (b0, b1, b2), (1, a1, a2); the bilinear transform with
    the cutoff pre-warped, as scipy.signal.butter(2, cutoff_hz, fs=rate) designs it."""
    k = math.tan(math.pi * cutoff_hz / rate)
    norm = 1.0 / (1.0 + math.sqrt(2.0) * k + k * k)
    b0 = k * k * norm
    return (np.array([b0, 2.0 * b0, b0]),
            np.array([1.0, 2.0 * (k * k - 1.0) * norm, (1.0 - math.sqrt(2.0) * k + k * k) * norm]))


def filtfilt_section(section: tuple[np.ndarray, np.ndarray], values: np.ndarray, padlen: int) -> np.ndarray:
    """Zero-phase filtering of every column of `values` (N x C) by one biquad: odd extension by `padlen`
    samples at each end, forwards from the steady state of the first sample, backwards from that of the
    last result (scipy.signal.sosfiltfilt's recipe)."""
    x = np.asarray(values, dtype=float)
    if padlen > 0:
        x = np.concatenate([2.0 * x[:1] - x[padlen:0:-1], x, 2.0 * x[-1:] - x[-2:-padlen - 2:-1]])
    steady = _steady_state(section)
    forward = _run_section(section, x, steady[:, None] * x[0])
    backward = _run_section(section, forward[::-1], steady[:, None] * forward[-1])[::-1]
    return backward[padlen:len(backward) - padlen] if padlen > 0 else backward


def _state_space(section) -> tuple[np.ndarray, np.ndarray, float]:
    """The biquad in transposed direct form II as x(n+1) = A x(n) + B u(n), y(n) = x0(n) + b0 u(n)."""
    (b0, b1, b2), (_, a1, a2) = section
    return np.array([[-a1, 1.0], [-a2, 0.0]]), np.array([b1 - a1 * b0, b2 - a2 * b0]), b0


def _steady_state(section) -> np.ndarray:
    """The state the filter holds after a long run of 1.0 (scipy.signal.lfilter_zi)."""
    a, b, _ = _state_space(section)
    return np.linalg.solve(np.eye(2) - a, b)


def _run_section(section, u: np.ndarray, state: np.ndarray) -> np.ndarray:
    """The biquad over u (N x C) from `state` (2 x C). The recursion advances a block of samples per step:
    within a block, each output is the impulse response applied to the block's inputs plus the state's
    free response, so a Python loop runs N / BLOCK times, not N."""
    a, b, b0 = _state_space(section)
    powers = [np.eye(2)]
    for _ in range(BLOCK):
        powers.append(a @ powers[-1])
    free = np.array([p[0] for p in powers[:BLOCK]])                       # (BLOCK, 2): C A^k
    impulse = np.concatenate([[b0], [p[0] @ b for p in powers[:BLOCK - 1]]])
    lower = np.arange(BLOCK)[:, None] - np.arange(BLOCK)[None, :]
    toeplitz = np.where(lower >= 0, impulse[np.clip(lower, 0, None)], 0.0)  # (BLOCK, BLOCK)
    feed = np.array([powers[BLOCK - 1 - j] @ b for j in range(BLOCK)]).T   # (2, BLOCK): A^(L-1-j) B
    out = np.empty_like(u)
    for start in range(0, len(u), BLOCK):
        block = u[start:start + BLOCK]
        n = len(block)
        out[start:start + n] = toeplitz[:n, :n] @ block + free[:n] @ state
        state = powers[n] @ state + feed[:, BLOCK - n:] @ block
    return out


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
