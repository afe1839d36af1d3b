"""The face board as data: both rig generations, ranges, and face board <-> raw curves."""
import numpy as np
import pytest

from engine.rig.arkit import ARKIT_INDEX, ARKIT_NAMES, livelink_csv_order, livelink_udp_order
from engine.rig.faceboard import RIG_GENERATIONS, load_faceboard
from engine.rig.retarget import arkit_to_raw, retarget

# Legacy attributes with no raw curve: the neck corrective multipliers (they scale other correctives)
# and CTRL_C_eye (the legacy two-eye aim widget, which drives the eye controls, not raw curves).
LEGACY_WITHOUT_RAW_CURVES = {
    "CTRL_C_eye.tx", "CTRL_C_eye.ty", "CTRL_neckCorrectivesMultiplyerD.ty",
    "CTRL_neckCorrectivesMultiplyerM.ty", "CTRL_neckCorrectivesMultiplyerU.ty",
}


@pytest.mark.parametrize("rig", RIG_GENERATIONS)
def test_each_generation_has_174_attributes(rig):
    board = load_faceboard(rig)
    assert len(board.names) == 174 and len(set(board.names)) == 174
    assert all(a.min < a.max and a.min <= a.default <= a.max for a in board.attributes)


def test_generations_differ_where_the_spec_says():
    mh4, legacy = set(load_faceboard("mh4").names), set(load_faceboard("legacy").names)
    assert "CTRL_C_tongue_move.tx" in mh4 - legacy
    assert "CTRL_L_mouth_thicknessInwardU.ty" in mh4 - legacy
    assert "CTRL_C_eye.tx" in legacy - mh4
    assert load_faceboard("legacy")["CTRL_C_tongue_roll.ty"].min == -1.0
    assert load_faceboard("mh4")["CTRL_C_tongue_roll.ty"].min == 0.0


@pytest.mark.parametrize("rig", RIG_GENERATIONS)
def test_faceboard_raw_faceboard_round_trip_for_every_attribute(rig):
    board = load_faceboard(rig)
    rng = np.random.default_rng(7)
    # random values, plus every segment's break points (the hard cases of the inversion)
    values = rng.uniform(board.mins, board.maxs, size=(400, len(board.names)))
    for j, attr in enumerate(board.attributes):
        breaks = sorted({b for s in attr.segments for b in (s.in_from, s.in_to)} | {attr.min, attr.max})
        values[: len(breaks), j] = breaks
    raw = board.to_raw(values)
    back = board.from_raw(raw)
    # The rig shows the same face after the round trip, for every attribute...
    np.testing.assert_allclose(board.to_raw(back), raw, atol=1e-9)
    # ...and the value itself comes back, except where the rig cannot tell: the swallow's phases all
    # return to 0 at the end of its cycle (1.0), which reads as rest (0.0).
    ambiguous = values[:, board.names.index("CTRL_C_neck_swallow.ty")] == 1.0
    values[ambiguous, board.names.index("CTRL_C_neck_swallow.ty")] = 0.0
    skipped = LEGACY_WITHOUT_RAW_CURVES if rig == "legacy" else set()
    for j, name in enumerate(board.names):
        if name in skipped:
            assert not board[name].segments
            assert np.all(back[:, j] == board[name].default)
        else:
            np.testing.assert_allclose(back[:, j], values[:, j], atol=1e-9, err_msg=name)


def test_two_sided_attribute_drives_two_curves():
    blink = load_faceboard("mh4")["CTRL_L_eye_blink.ty"]
    raw = blink.to_raw(np.array([0.5, -0.25]))
    assert raw["CTRL_expressions_eyeBlinkL"].tolist() == [0.5, 0.0]
    assert raw["CTRL_expressions_eyeWidenL"].tolist() == [0.0, 0.25]


def test_sticky_lips_phases_are_inverted_by_phase():
    sticky = load_faceboard("mh4")["CTRL_L_mouth_lipSticky.ty"]
    for x in (0.1, 0.33, 0.5, 0.66, 0.9, 1.0):
        raw = sticky.to_raw(np.array([x]))
        assert sticky.from_raw(raw, 1)[0] == pytest.approx(x, abs=1e-6)


def test_arkit_orders():
    assert len(ARKIT_NAMES) == 52 and ARKIT_NAMES[0] == "eyeBlinkLeft" and ARKIT_NAMES[-1] == "tongueOut"
    csv, udp = livelink_csv_order(), livelink_udp_order()
    assert len(csv) == len(udp) == 61 and sorted(csv) == sorted(udp)
    assert csv.index("JawRight") < csv.index("JawLeft") and udp.index("JawLeft") < udp.index("JawRight")


@pytest.mark.parametrize("rig", RIG_GENERATIONS)
def test_retarget_single_shapes(rig):
    arkit = np.zeros((4, 52))
    arkit[1, ARKIT_INDEX["jawOpen"]] = 0.7
    arkit[2, ARKIT_INDEX["eyeBlinkLeft"]] = 1.0
    arkit[3, ARKIT_INDEX["mouthSmileLeft"]] = 0.5
    curves = retarget(arkit, rig)
    col = {n: i for i, n in enumerate(curves.faceboard_names)}
    assert np.all(curves.faceboard[0] == load_faceboard(rig).defaults) or np.allclose(curves.faceboard[0], 0)
    assert curves.faceboard[1, col["CTRL_C_jaw.ty"]] == pytest.approx(0.7)
    assert curves.faceboard[2, col["CTRL_L_eye_blink.ty"]] == pytest.approx(1.0)
    assert curves.faceboard[3, col["CTRL_L_mouth_cornerPull.ty"]] == pytest.approx(0.5)
    assert curves.faceboard[3, col["CTRL_R_mouth_cornerPull.ty"]] == 0.0


@pytest.mark.parametrize("rig", RIG_GENERATIONS)
def test_retarget_stays_in_range_for_any_input(rig):
    board = load_faceboard(rig)
    arkit = np.random.default_rng(1).uniform(0, 1, size=(300, 52))
    curves = retarget(arkit, rig)
    assert np.all(curves.faceboard >= board.mins) and np.all(curves.faceboard <= board.maxs)
    assert np.all((curves.raw >= 0) & (curves.raw <= 1))
    assert np.all(arkit_to_raw(arkit, rig) <= 1.0)
