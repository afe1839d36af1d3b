"""bench/real_footage.py's measures and degradations on synthetic arrays and tiny videos (no tracking)."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

from engine.rig.arkit import ARKIT_NAMES
from engine.rig.faceboard import load_faceboard
from engine.rig.retarget import retarget

_spec = importlib.util.spec_from_file_location("bench_real_footage",
                                               Path(__file__).parents[1] / "bench" / "real_footage.py")
bench = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = bench          # its dataclasses look their module up
_spec.loader.exec_module(bench)


def _smooth_curves(n: int, channels: int, seed: int) -> np.ndarray:
    """Random slowly-varying 0..1 curves (N, C), each with its own shape."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0, 1, n)[:, None]
    freq, phase = rng.uniform(1, 4, channels), rng.uniform(0, 2 * np.pi, channels)
    return 0.5 + 0.4 * np.sin(2 * np.pi * freq * t + phase) * rng.uniform(0.3, 1.0, channels)


# ---------------------------------------------------------------------------- clip independence

def test_independence_of_a_faithful_middle_third_is_high():
    whole = _smooth_curves(60, 6, 0)
    names = [f"c{i}" for i in range(6)]
    middle = whole + np.random.default_rng(1).normal(0, 0.005, whole.shape)
    res = bench.independence(whole, middle, np.ones(60, bool), names)
    assert res.moving == 6 and res.frames == 60
    assert res.pooled_r > 0.99 and res.min_r > 0.95 and res.mad < 0.01


def test_independence_sees_offsets_and_restarted_state():
    whole = _smooth_curves(60, 4, 2)
    names = ["a", "b", "c", "d"]
    shifted = whole.copy()
    shifted[:, 1] += 0.2                          # a calibration that moved: correlation stays, MAD grows
    res = bench.independence(whole, shifted, np.ones(60, bool), names)
    assert res.pooled_r > 0.99 and res.mad == pytest.approx(0.05, abs=1e-9)
    broken = whole.copy()
    broken[:, 2] = whole[::-1, 2]                 # one control goes its own way
    res = bench.independence(whole, broken, np.ones(60, bool), names)
    assert res.min_control == "c" and res.min_r < 0.5 and res.pooled_r < 0.97


def test_independence_counts_only_moving_controls_and_valid_frames():
    whole = _smooth_curves(40, 3, 3)
    whole[:, 0] = 0.3 + 0.01 * whole[:, 0]        # range 0.008: does not move
    middle = whole.copy()
    middle[:, 0] = 0.9                            # ignored: the whole clip's control does not move
    valid = np.ones(40, bool)
    valid[5:10] = False
    middle[5:10] = 0.0                            # garbage on frames without a face: ignored
    res = bench.independence(whole, middle, valid, ["x", "y", "z"])
    assert res.moving == 2 and res.frames == 35
    assert res.pooled_r == pytest.approx(1.0) and res.mad == pytest.approx(0.0)


def test_a_flat_middle_third_counts_as_no_correlation():
    whole = _smooth_curves(30, 2, 4)
    middle = whole.copy()
    middle[:, 1] = 0.0                            # the engine zeroed a control that moves in the whole clip
    res = bench.independence(whole, middle, np.ones(30, bool), ["a", "b"])
    assert res.min_r == 0.0 and res.min_control == "b"


def test_pooled_correlation_removes_each_controls_mean():
    """Controls at different levels must not inflate the pooled r: flat-but-offset curves correlate only
    through their own movement."""
    rng = np.random.default_rng(5)
    whole = np.column_stack([0.1 + 0.1 * rng.random(50), 0.8 + 0.1 * rng.random(50)])
    middle = np.column_stack([0.1 + 0.1 * rng.random(50), 0.8 + 0.1 * rng.random(50)])   # unrelated noise
    res = bench.independence(whole, middle, np.ones(50, bool), ["lo", "hi"])
    assert abs(res.pooled_r) < 0.4                 # uncentred, the level difference alone would give ~0.95


# ---------------------------------------------------------------------------- zero share / agreement

def test_zero_share_counts_engine_zeros_where_the_tracker_sees_activity():
    raw = np.r_[np.full(80, 0.05), np.full(20, 0.6)]     # resting 0.05, active 0.6 on 20 frames
    engine = np.r_[np.zeros(80), np.zeros(5), np.full(15, 0.5)]
    share, frames = bench.zero_share(raw, engine)
    assert frames == 20 and share == pytest.approx(0.25)
    share, _ = bench.zero_share(raw, np.r_[np.zeros(80), np.full(20, 0.5)])
    assert share == 0.0


def test_zero_share_is_relative_to_the_resting_level_and_needs_enough_frames():
    raw = np.r_[np.full(90, 0.4), np.full(10, 0.45)]     # high resting level: nothing 0.1 above it
    share, frames = bench.zero_share(raw, np.zeros(100))
    assert frames == 0 and np.isnan(share)
    raw = np.r_[np.zeros(97), np.full(3, 0.8)]           # 3 active frames: too few to mean anything
    share, frames = bench.zero_share(raw, np.zeros(100))
    assert frames == 3 and np.isnan(share)


def test_agreement_reports_static_channels_as_not_moving():
    n = 100
    raw = np.zeros((n, len(ARKIT_NAMES)))
    blink = ARKIT_NAMES.index("eyeBlinkLeft")
    raw[:, blink] = _smooth_curves(n, 1, 6)[:, 0]
    engine = raw.copy()
    engine[:, ARKIT_NAMES.index("jawOpen")] = 0.3           # the raw jaw does not move: n/a, not a failure
    res = bench.agreement(raw, engine, np.ones(n, bool))
    assert res["eyeBlinkLeft"].r == pytest.approx(1.0)
    assert np.isnan(res["jawOpen"].r)
    engine[:, blink] = 0.0                                   # the engine drops a moving channel
    assert bench.agreement(raw, engine, np.ones(n, bool))["eyeBlinkLeft"].r == 0.0


# ---------------------------------------------------------------------------- mirror

def test_mirror_names_swap_sides_and_leave_the_centre():
    assert bench.mirror_name("eyeBlinkLeft") == "eyeBlinkRight"
    assert bench.mirror_name("mouthSmileRight") == "mouthSmileLeft"
    assert bench.mirror_name("jawLeft") == "jawRight"
    assert bench.mirror_name("jawOpen") == "jawOpen"
    assert bench.mirror_name("CTRL_L_eye_blink.ty") == "CTRL_R_eye_blink.ty"
    assert bench.mirror_name("CTRL_R_mouth_cornerPull.ty") == "CTRL_L_mouth_cornerPull.ty"
    assert bench.mirror_name("CTRL_C_jaw.ty") == "CTRL_C_jaw.ty"
    board = load_faceboard("mh4").names
    for names in (ARKIT_NAMES, board):
        assert sorted(bench.mirror_name(n) for n in names) == sorted(names)      # every partner exists
        assert all(bench.mirror_name(bench.mirror_name(n)) == n for n in names)


def test_mirror_rule_matches_the_rig_mapping():
    """Mirrored ARKit input through the mapping gives the mirrored face board: sides swapped, the lateral
    .tx controls (jaw, mouth, eyes) negated. Tolerance: the mapping pose itself is slightly lopsided."""
    rng = np.random.default_rng(7)
    arkit = rng.uniform(0, 0.6, (300, 52)) * (rng.random((300, 52)) < 0.25)
    swap = [ARKIT_NAMES.index(bench.mirror_name(n)) for n in ARKIT_NAMES]
    for mapping in ("pose", None):
        board = retarget(arkit, "mh4", None, mapping)
        mirrored = retarget(arkit[:, swap], "mh4", None, mapping)
        expected = bench.mirror_curves(board.faceboard, board.faceboard_names)
        assert np.abs(expected - mirrored.faceboard).max() < 0.1, mapping
        assert np.abs(board.faceboard[:, board.faceboard_names.index("CTRL_C_jaw.tx")]).max() > 0.1


def test_symmetry_is_high_for_a_true_mirror_and_low_for_a_wrong_swap():
    n = 120
    original = _smooth_curves(n, len(ARKIT_NAMES), 8)
    valid = np.ones(n, bool)
    mirror = bench.mirror_curves(original, ARKIT_NAMES) + np.random.default_rng(9).normal(0, 0.01, original.shape)
    good = bench.symmetry(original, mirror, ARKIT_NAMES, valid)
    assert good.pairs == sum(bench.mirror_name(c) != c for c in ARKIT_NAMES)
    assert good.min_r > 0.95 and good.mean_r > 0.98
    unswapped = bench.symmetry(original, original, ARKIT_NAMES, valid)     # sides not swapped: wrong
    assert unswapped.min_r < 0.5 and unswapped.mean_r < 0.5


def test_symmetry_skips_channels_still_on_both_sides():
    n = 50
    original = np.zeros((n, len(ARKIT_NAMES)))
    left, right = ARKIT_NAMES.index("eyeBlinkLeft"), ARKIT_NAMES.index("eyeBlinkRight")
    original[:, left] = _smooth_curves(n, 1, 10)[:, 0]
    mirror = np.zeros_like(original)
    mirror[:, right] = original[:, left]
    res = bench.symmetry(original, mirror, ARKIT_NAMES, np.ones(n, bool))
    assert res.pairs == 1 and set(res.per_channel) == {"eyeBlinkRight"} and res.min_r == pytest.approx(1.0)


def test_geometry_sides_swap_for_the_mirrored_clip():
    features = {"eye_R": np.ones(3), "eye_L": np.zeros(3), "lip_gap": np.full(3, 2.0)}
    swapped = bench.swap_geometry_sides(features)
    assert swapped["eye_L"][0] == 1 and swapped["eye_R"][0] == 0 and swapped["lip_gap"][0] == 2


def test_geometry_measures_the_named_landmarks():
    lm = np.zeros((2, 478, 3), np.float32)
    lm[:, 33, 0], lm[:, 133, 0] = 0.30, 0.40           # right eye corners, 0.1 apart (x)
    lm[:, 159, 1], lm[:, 145, 1] = 0.50, 0.52           # right eyelids 0.02 apart (y)
    lm[1, 145, 1] = 0.51                                # closing in frame 1
    lm[:, 263, 0] = 0.70                                # left eye's outer corner
    lm[:, 10, 1], lm[:, 152, 1] = 0.2, 0.8              # forehead, chin
    lm[:, 13, 1], lm[:, 14, 1] = 0.6, 0.65              # inner lips
    g = bench.geometry(lm, (1000, 500))                 # x scaled by the width, y by the height
    assert g["eye_R"][0] == pytest.approx(10 / 100) and g["eye_R"][1] == pytest.approx(5 / 100)
    assert g["lip_gap"][0] == pytest.approx(25 / 300)


def test_proxies_report_the_worse_side_and_flat_curves():
    n = 40
    opening = _smooth_curves(n, 1, 12)[:, 0]
    features = {"eye_R": opening, "eye_L": opening, "lip_gap": opening, "mouth_width": opening,
                "brow": opening, "brow_R": opening, "brow_L": opening}
    arkit = np.zeros((n, len(ARKIT_NAMES)))
    arkit[:, ARKIT_NAMES.index("eyeBlinkRight")] = 1 - opening       # follows the eyelid
    arkit[:, ARKIT_NAMES.index("eyeBlinkLeft")] = opening            # the wrong way round
    names = load_faceboard("mh4").names
    res = bench.proxy_correlations(features, arkit, np.zeros((n, len(names))), list(names), np.ones(n, bool))
    assert res["eye aperture ~ blink"] == (pytest.approx(1.0), pytest.approx(-1.0))    # the left eye's, worse
    r, signed = res["lip gap ~ jawOpen"]                                               # jawOpen never moves
    assert np.isnan(r) and signed == 0.0


# ---------------------------------------------------------------------------- degradations and files

def test_small_face_shrinks_the_picture_into_the_middle():
    image = np.full((20, 40, 3), 255, np.uint8)
    out = bench.small_face(image, scale=0.35, fill=64)
    assert out.shape == image.shape and out.dtype == np.uint8
    white = np.argwhere(out[..., 0] == 255)
    assert (white.min(axis=0) == [6, 13]).all() and (white.max(axis=0) == [12, 26]).all()    # 7 x 14 in the middle
    assert out[0, 0, 0] == 64 and out[-1, -1, 0] == 64


def test_gray_ir_takes_the_red_channel_and_lifts_it():
    image = np.zeros((8, 8, 3), np.uint8)
    image[:4, :, 0] = 100            # red half
    image[4:, :, 2] = 255            # blue half: dark in "infrared"
    out = bench.gray_ir(image, np.random.default_rng(0))
    assert (out[..., 0] == out[..., 1]).all() and (out[..., 1] == out[..., 2]).all()
    assert out[:4].mean() > 100 + 10 and out[4:].mean() < 30


def test_mirror_and_crop_degradations():
    image = np.zeros((10, 16, 3), np.uint8)
    image[:, :4] = 200
    assert (bench.mirrored(image)[:, -4:] == 200).all()
    np.testing.assert_array_equal(bench.crop_to_frame(image, (0, 0, 16, 10)), image)
    zoomed = bench.crop_to_frame(image, (0, 0, 8, 5))        # the top-left quarter, doubled
    assert (zoomed[:, :7] == 200).all() and (zoomed[:, 9:] == 0).all()


def test_hmc_boxes_follow_the_face_at_a_fixed_size():
    n = 20
    landmarks = np.zeros((n, 478, 3), np.float32)
    grid = np.linspace(-0.1, 0.1, 478)
    for i in range(n):
        landmarks[i, :, 0] = 0.4 + 0.005 * i + grid      # the face drifts right, 0.2 wide
        landmarks[i, :, 1] = 0.5 + grid[::-1]
    detected = np.ones(n, bool)
    detected[3] = False
    boxes = bench.hmc_boxes(landmarks, detected, np.arange(n) / 30, (200, 100))
    assert np.allclose(boxes[:, 2], boxes[0, 2]) and np.allclose(boxes[:, 3], boxes[0, 3])
    assert boxes[0, 2] / boxes[0, 3] == pytest.approx(2.0)                 # the frame's aspect
    assert boxes[0, 3] == pytest.approx(bench.HMC_MARGIN * 0.2 * 100, rel=0.01)
    assert boxes[-1, 0] > boxes[0, 0]                                      # follows the head


def test_middle_third_file_is_a_bit_exact_copy_with_times(tmp_path):
    from tests.videos import write_video
    from engine.media.video import iter_frames, probe
    rng = np.random.default_rng(11)
    frames = [rng.integers(0, 255, (32, 48, 3), dtype=np.uint8) for _ in range(10)]
    times = [0.0, 0.04, 0.08, 0.13, 0.17, 0.21, 0.25, 0.30, 0.34, 0.38]        # irregular steps
    whole = write_video(tmp_path / "whole.mp4", frames, 25.0, times)
    rotated = bench.write_degraded(whole, tmp_path / "rotated.mp4", lambda image, i: image, rotation=bench.ROTATION)
    for path in (whole, rotated):
        middle = bench.write_middle_third(path, tmp_path / f"{path.stem}.middle.mp4")
        a, b = list(iter_frames(path)), list(iter_frames(middle))
        start, end = bench.middle_range(len(a))
        assert (start, end, len(b)) == (3, 6, 3)
        assert probe(middle).rotation == probe(path).rotation
        for k, frame in enumerate(b):
            np.testing.assert_array_equal(frame.image, a[start + k].image)
            assert frame.time == pytest.approx(a[start + k].time - a[start].time, abs=1e-4)
    assert probe(rotated).rotation == bench.ROTATION % 360
    original, turned = next(iter_frames(whole)).image, next(iter_frames(rotated)).image
    assert turned.shape == original.shape and np.abs(turned.astype(int) - original).mean() < 20
