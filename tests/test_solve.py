"""Calibration, gap handling and filters of the solve stage (pure logic, synthetic tracks)."""
import numpy as np
import pytest

from engine.config import SolveOptions
from engine.errors import BadInput
from engine.rig.arkit import ARKIT_INDEX
from engine.solve.calibration import apply_neutral, estimate_neutral, neutral_at_time
from engine.solve.filters import OneEuroFilter, zero_phase_lowpass
from engine.solve.gaps import fill_gaps
from engine.solve.solver import resample_take, solve
from engine.track.facetrack import FaceTrack

FPS = 30.0


def synthetic_track(n=300, bias=0.25, seed=0):
    """An actor whose resting face reads `bias` on every expression channel, with jaw openings."""
    rng = np.random.default_rng(seed)
    times = np.arange(n) / FPS
    arkit = np.full((n, 52), bias) + rng.normal(0, 0.01, (n, 52))
    jaw = np.clip(np.sin(2 * np.pi * 0.5 * times), 0, None)
    arkit[:, ARKIT_INDEX["jawOpen"]] = bias + (1 - bias) * jaw
    pose = np.tile(np.eye(4), (n, 1, 1))
    return FaceTrack(times, np.ones(n, bool), np.clip(arkit, 0, 1), pose, np.ones(n))


def test_neutral_is_estimated_from_the_least_active_frames():
    track = synthetic_track()
    neutral, frames = estimate_neutral(track.arkit, track.detected, 0.1)
    assert neutral[ARKIT_INDEX["jawOpen"]] == pytest.approx(0.25, abs=0.03)
    assert np.all(track.arkit[frames, ARKIT_INDEX["jawOpen"]] < 0.3)


def test_calibrated_neutral_reads_zero_and_full_range_is_kept():
    neutral = np.full(52, 0.3)
    out = apply_neutral(np.array([np.full(52, 0.3), np.full(52, 1.0), np.full(52, 0.1)]), neutral)
    assert np.allclose(out[0], 0) and np.allclose(out[1], 1) and np.allclose(out[2], 0)


def test_neutral_time_uses_the_named_moment_and_refuses_a_faceless_one():
    track = synthetic_track()
    neutral, frames = neutral_at_time(track.arkit, track.detected, track.times, 1.0)
    assert np.all(np.abs(track.times[frames] - 1.0) <= 0.1 + 1e-9)
    detected = track.detected.copy()
    detected[20:40] = False
    with pytest.raises(BadInput, match="no face found near"):
        neutral_at_time(track.arkit, detected, track.times, 1.0)


def test_solve_gives_near_zero_curves_on_resting_frames_whoever_the_actor():
    for bias in (0.05, 0.25, 0.4):
        solved = solve(synthetic_track(bias=bias), SolveOptions())
        rest = solved.arkit[np.abs(np.sin(2 * np.pi * 0.5 * solved.times)) < 1e-6 + 0.0]
        quiet = solved.arkit[(solved.times % 2.0) > 1.2]      # the jaw is shut in this half of each cycle
        assert quiet.max() < 0.05, bias
        assert solved.arkit[:, ARKIT_INDEX["jawOpen"]].max() > 0.9


def test_short_gap_is_interpolated_long_gap_eases_to_neutral():
    times = np.arange(200) / FPS
    values = np.ones((200, 2))
    detected = np.ones(200, bool)
    detected[10:15] = False              # 0.2 s
    detected[100:160] = False            # 2 s
    filled, gaps = fill_gaps(values, times, detected, np.zeros(2), max_bridged_s=0.5)
    assert [g.filled for g in gaps] == ["interpolated", "neutral"]
    assert np.allclose(filled[10:15], 1.0)
    assert np.allclose(filled[120:140], 0.0) and filled[100, 0] > 0.5
    assert gaps[1].frames == 60 and gaps[1].start == pytest.approx(100 / FPS)


def test_gap_at_the_start_holds_neutral():
    detected = np.ones(50, bool)
    detected[:10] = False
    filled, gaps = fill_gaps(np.ones((50, 1)), np.arange(50) / FPS, detected, np.zeros(1), 0.5)
    assert gaps[0].filled == "neutral" and filled[0, 0] == 0.0


def test_zero_phase_filter_adds_no_lag_and_removes_jitter():
    times = np.arange(600) / FPS
    clean = np.sin(2 * np.pi * 0.7 * times)
    noisy = clean + np.random.default_rng(0).normal(0, 0.1, times.size)
    smooth = zero_phase_lowpass(noisy[:, None], times, 3.0)[:, 0]
    assert np.std(smooth - clean) < 0.6 * np.std(noisy - clean)   # ~1/3 of the noise band passes
    lag = np.argmax(np.correlate(smooth, clean, "full")) - (times.size - 1)
    assert lag == 0


def test_zero_phase_filter_handles_variable_frame_times():
    times = np.cumsum(np.random.default_rng(2).uniform(0.025, 0.045, 400))
    values = np.sin(2 * np.pi * 0.5 * times)[:, None]
    smooth = zero_phase_lowpass(values, times, 5.0)
    assert np.max(np.abs(smooth - values)) < 0.05


def test_one_euro_smooths_rest_and_follows_motion():
    f = OneEuroFilter(min_cutoff=1.0, beta=0.5)
    rng = np.random.default_rng(3)
    rest = [f(np.array([0.5 + rng.normal(0, 0.02)]), i / FPS)[0] for i in range(60)]
    assert np.std(rest[20:]) < 0.01
    jump = [f(np.array([1.0]), (60 + i) / FPS)[0] for i in range(10)]
    assert jump[-1] > 0.9


def test_resample_to_uniform_rate():
    solved = solve(synthetic_track(), SolveOptions())
    at60 = resample_take(solved, 60.0)
    assert np.allclose(np.diff(at60.times), 1 / 60)
    assert len(at60.times) == pytest.approx(2 * len(solved.times), abs=2)
