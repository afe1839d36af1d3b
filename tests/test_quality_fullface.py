"""The full-face mapping (engine/rig/data/fullface_mapping.json): a readable data file whose every rule
says what it does and why; on the shared face clips each family's secondary controls move only when
their driving expression is there; every value stays in range on both rig generations."""
import json

import numpy as np
import pytest

from engine.config import SolveOptions
from engine.protocol import Reporter
from engine.rig.arkit import ARKIT_INDEX
from engine.rig.faceboard import RIG_GENERATIONS, load_faceboard
from engine.rig.fullface import DEFAULT_MAPPING, load_mapping, rule_strengths
from engine.rig.retarget import POSE_ONLY, retarget
from engine.solve.solver import solve

CLIPS = ("driving_d0.mp4", "driving_d3.mp4", "driving_d6.mp4")   # d6: extreme expressions
STILL = 1e-6      # "does not move": the rule adds nothing to what the mapping pose gives


@pytest.fixture(scope="module")
def solved_clips(shared_data, tmp_path_factory):
    """ARKit curves the engine solves from a few shared face clips (tracked once for the module)."""
    from engine.media.video import probe
    from engine.track.run_tracker import track_video

    out = []
    for name in CLIPS:
        info = probe(shared_data / "video" / "faces" / name)
        track = track_video(info, tmp_path_factory.mktemp("lm") / "landmarks.npy", Reporter())
        take = solve(track, SolveOptions())
        out.append((name, take.times, take.arkit))
    return out


def test_every_rule_says_what_and_why_and_names_real_controls():
    doc = json.loads(DEFAULT_MAPPING.read_text())
    assert doc["about"] and doc["how_to_read"]
    for rule in doc["rules"]:
        assert len(rule["what"]) > 20 and len(rule["why"]) > 15, rule["name"]
    mapping = load_mapping()       # validates inputs and that every output exists on both rigs
    assert {"lips_together", "sticky_lips", "lip_press", "nasolabial", "face_scrunch", "chin_compress",
            "cheek_raise"} <= set(mapping.families())


def family_outputs(mapping, rig, family):
    """Raw curves a family drives on `rig`, and the rules of that family."""
    board = load_faceboard(rig)
    rules = [r for r in mapping.rules if r.family == family]
    curves = set()
    for r in rules:
        for target in r.outputs:
            curves |= set(board[target].raw_curves) if target in board else {target}
    return rules, sorted(curves)


def check_family(arkit, times, rig, family):
    """Returns how many frames the family fired on; asserts its curves are still when it does not fire."""
    mapping = load_mapping()
    rules, curves = family_outputs(mapping, rig, family)
    full = retarget(arkit, rig, times)
    pose = retarget(arkit, rig, times, POSE_ONLY)
    strengths = rule_strengths(arkit, times, mapping)
    # Other rules that share a curve with this family are accounted for: only frames where none fires count.
    sharing = [r for r in mapping.rules if r.family != family and set(family_outputs(mapping, rig, r.family)[1]) & set(curves)]
    fired = np.max([strengths[r.name] for r in rules], axis=0) > 0
    quiet = ~fired
    for r in sharing:
        quiet &= strengths[r.name] == 0
    col = {c: i for i, c in enumerate(full.raw_names)}
    for c in curves:
        moved = np.abs(full.raw[:, col[c]] - pose.raw[:, col[c]])
        assert moved[quiet].max(initial=0.0) < STILL, (family, c)
    if fired.any():
        moved_any = max(np.abs(full.raw[fired, col[c]] - pose.raw[fired, col[c]]).max() for c in curves)
        strongest = max(strengths[r.name].max() for r in rules)
        assert moved_any > 0.1 * strongest, (family, moved_any, strongest)
    return int(fired.sum())


@pytest.mark.shared
@pytest.mark.parametrize("family", [f for f in load_mapping().families()])
def test_family_moves_only_with_its_driving_expression_on_the_shared_clips(solved_clips, family):
    for rig in RIG_GENERATIONS:
        for name, times, arkit in solved_clips:
            check_family(arkit, times, rig, family)


@pytest.mark.shared
def test_values_stay_in_range_on_the_shared_clips(solved_clips):
    for rig in RIG_GENERATIONS:
        board = load_faceboard(rig)
        for name, times, arkit in solved_clips:
            curves = retarget(arkit, rig, times)
            assert np.all(curves.faceboard >= board.mins) and np.all(curves.faceboard <= board.maxs), name
            assert np.all((curves.raw >= 0) & (curves.raw <= 1)), name


def ramp(times, channels, start=0.5, length=0.6, level=0.8):
    arkit = np.zeros((len(times), 52))
    shape = np.clip(1 - np.abs(times - start - length / 2) / (length / 2), 0, 1) * level
    for c, w in channels.items():
        arkit[:, ARKIT_INDEX[c]] = shape * w
    return arkit


SYNTHETIC = {   # an expression that drives each family, for the families the shared clips may not show
    "lips_together": {"jawOpen": 0.5, "mouthClose": 0.45},
    "sticky_lips": None,
    "lip_press": {"mouthPressLeft": 1.0, "mouthPressRight": 1.0},
    "lip_thickness": {"mouthRollLower": 1.0, "mouthRollUpper": 1.0},
    "cheek_raise": {"mouthSmileLeft": 1.0, "mouthSmileRight": 0.6},
    "nasolabial": {"mouthSmileLeft": 1.0, "noseSneerRight": 1.0},
    "face_scrunch": {"noseSneerLeft": 1.0, "noseSneerRight": 1.0, "eyeSquintLeft": 1.0, "cheekSquintRight": 1.0},
    "chin_compress": {"mouthShrugLower": 1.0},
    "lid_press": {"eyeBlinkLeft": 1.0, "eyeBlinkRight": 1.0, "eyeSquintLeft": 1.0, "eyeSquintRight": 1.0},
    "jaw_clench": {"mouthPressLeft": 1.0, "mouthPressRight": 0.5},
    "tongue": {"jawOpen": 1.0},
}


@pytest.mark.parametrize("family", list(SYNTHETIC))
def test_family_fires_on_its_expression_and_not_on_others(family):
    times = np.arange(0, 2, 1 / 30)
    if family == "sticky_lips":     # lips shut on an open jaw, then parting
        arkit = np.zeros((len(times), 52))
        jaw = np.clip((times - 0.3) / 0.6, 0, 1) * 0.4
        arkit[:, ARKIT_INDEX["jawOpen"]] = jaw
        arkit[:, ARKIT_INDEX["mouthClose"]] = np.where(times < 0.9, jaw, np.clip(jaw - (times - 0.9) * 1.2, 0, None))
    else:
        arkit = ramp(times, SYNTHETIC[family], level=1.0)
    for rig in RIG_GENERATIONS:
        assert check_family(arkit, times, rig, family) > 0
        # an unrelated expression (a brow raise) leaves the family's curves alone
        assert check_family(ramp(times, {"browInnerUp": 1.0, "browOuterUpLeft": 1.0}), times, rig, family) == 0
