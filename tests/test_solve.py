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


def profile_file(tmp_path, bias: float):
    """An actor profile whose resting face reads `bias` on every channel."""
    from engine.solve.actor import ActorProfile, save_profile

    path = tmp_path / f"actor_{bias}.json"
    save_profile(ActorProfile("synthetic", "mh4", np.full(52, bias), np.full(52, 0.01)), path)
    return path


def test_an_actor_profile_gives_near_zero_curves_at_rest_whatever_the_bias(tmp_path):
    for bias in (0.05, 0.25, 0.4):
        solved = solve(synthetic_track(bias=bias), SolveOptions(actor=profile_file(tmp_path, bias)))
        quiet = solved.arkit[(solved.times % 2.0) > 1.2]      # the jaw is shut in this half of each cycle
        assert quiet.max() < 0.05, bias
        assert solved.arkit[:, ARKIT_INDEX["jawOpen"]].max() > 0.9
        assert solved.sources["neutral"]["source"] == "actor profile"


def test_without_a_profile_the_same_frames_give_the_same_curves_whatever_the_clip_holds():
    """A take must not change because the clip around it changed: the middle of a clip solved alone
    equals the same frames solved inside the whole clip, although only the whole clip holds rest."""
    track = synthetic_track(n=600, bias=0.02)
    smile = ARKIT_INDEX["mouthSmileLeft"]
    track.arkit[200:400, smile] = 0.6 + 0.2 * np.sin(np.arange(200) / 7.0)   # a smile held through the middle
    whole = solve(track, SolveOptions())
    middle = FaceTrack(track.times[200:400], track.detected[200:400], track.arkit[200:400],
                       track.head_pose[200:400], track.confidence[200:400])
    alone = solve(middle, SolveOptions())
    inner = slice(20, 180)     # away from the cut, where the zero-phase filter sees other frames
    difference = np.abs(alone.arkit[inner] - whole.arkit[200:400][inner])
    # Only the whole clip holds rest, so only it may lower the population level to its rest (bounded by
    # the resting model's low level); the smile itself is identical.
    assert difference.mean() < 0.005 and difference.max() < 0.03
    assert difference[:, smile].max() < 0.005
    assert whole.sources["neutral"]["rest_frames"] > 0 and alone.sources["neutral"]["rest_frames"] == 0


def test_small_movements_above_rest_are_kept_not_swallowed():
    """Degraded footage: the tracker's mouth scores peak at 0.08 above the actor's rest. The curve must
    follow them, not read 0 (no dead zone or clamp that eats them)."""
    track = synthetic_track(n=300, bias=0.0)
    pucker = ARKIT_INDEX["mouthPucker"]
    wave = 0.04 + 0.04 * np.sin(2 * np.pi * 0.7 * track.times)
    track.arkit[:, pucker] = wave
    out = solve(track, SolveOptions()).arkit[:, pucker]
    high = wave > 0.06
    assert np.all(out[high] > 0.01)
    assert np.corrcoef(out, wave)[0, 1] > 0.95


def test_a_clip_that_rests_lower_than_the_population_is_not_over_subtracted():
    from engine.solve.resting import load_resting_model

    squint = ARKIT_INDEX["eyeSquintLeft"]
    model = load_resting_model()
    track = synthetic_track(n=300, bias=0.0)
    squinting = model.active[squint] + 0.1
    track.arkit[150:, squint] = squinting      # rests at 0 for five seconds, then squints
    solved = solve(track, SolveOptions())
    assert solved.sources["neutral"]["rest_frames"] > 0
    assert "eyeSquintLeft" in solved.sources["neutral"]["lowered_to_clip_rest"]
    from_population = (squinting - model.level[squint]) / (1 - model.level[squint])
    held = solved.arkit[200:280, squint].mean()
    assert held == pytest.approx(squinting, abs=0.02)
    assert abs(held - squinting) < 0.5 * abs(from_population - squinting)   # nearer its own rest than the model's


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


def test_head_pose_leaves_the_solve_filtered_like_the_curves():
    """head_pose.csv is zero-phase filtered at the curves' cutoff by the solve, so the Maya side keys it as
    it is (docs/maya.md, "Head motion") and never filters it a second time."""
    from scipy.spatial.transform import Rotation

    track = synthetic_track()
    rng = np.random.default_rng(3)
    slow = 10.0 * np.sin(2 * np.pi * 0.3 * track.times)
    yaw = slow + rng.normal(0.0, 1.5, len(track.times))
    track.head_pose[:, :3, :3] = Rotation.from_euler("YXZ", np.column_stack([yaw, 0 * yaw, 0 * yaw]),
                                                     degrees=True).as_matrix()
    solved = solve(track, SolveOptions())
    filtered = zero_phase_lowpass(yaw[:, None], track.times, SolveOptions().smoothing_cutoff_hz)[:, 0]
    np.testing.assert_allclose(solved.head_pose[:, 3], filtered, atol=1e-6)
    # 8 Hz of the 15 Hz a 30 fps track holds pass: the jitter drops to about sqrt(8 / 15) of itself.
    assert np.std(solved.head_pose[:, 3] - slow) < 0.8 * np.std(yaw - slow)


def test_the_landmark_estimate_is_measured_only_from_a_neutral_the_user_gave():
    """Rest frames found in the clip itself are no reference for the landmark estimate: whether a clip holds
    rest would then change the curves of the same frames. A profile's neutral shape or --neutral-time is."""
    from types import SimpleNamespace

    from engine.solve.calibration import Neutral
    from engine.solve.solver import landmark_reference
    frames = np.arange(30)
    assert landmark_reference(Neutral(np.zeros(52), "population", frames), None) is None
    named, reference = landmark_reference(Neutral(np.zeros(52), "neutral time", frames[:6]), None)
    assert named.tolist() == list(range(6)) and reference is None
    assert landmark_reference(Neutral(np.zeros(52), "neutral time", frames[:2]), None) is None
    shape = np.ones((478, 3))
    profile = SimpleNamespace(landmark_neutral=shape.tolist())
    _, reference = landmark_reference(Neutral(np.zeros(52), "actor profile", frames), profile)
    assert np.array_equal(reference, shape)
    no_shape = SimpleNamespace(landmark_neutral=None)
    assert landmark_reference(Neutral(np.zeros(52), "actor profile", frames), no_shape) is None
