"""Actor profiles (engine.solve.actor, `calibrate`, `run --actor`): the actor's neutral from a rest capture.

The resting model's numbers (engine/solve/data/resting_face.json) are being measured: these tests build
captures that are clearly at rest (every channel at the model's own resting level) or clearly active
(jawOpen 0.8), or stand in a RestingModel, so that they hold whatever the measured numbers are. Tracking
runs on short real clips only (the first 0.5 s of driving_d9, driving_d0's 78 frames, a still).
"""
from __future__ import annotations

import json
import signal
from dataclasses import replace
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

import engine.solve.actor as actor_module
from engine.cli import build_parser, main
from engine.errors import EXIT_BAD_INPUT, EXIT_NO_FACE, EXIT_OK, BadInput, NoFaceFound
from engine.export.take import file_sha256, read_curves_csv
from engine.rig.arkit import ARKIT_INDEX, ARKIT_NAMES
from engine.solve.actor import (PROFILE_FORMAT, ActorProfile, build_profile, load_profile, range_of_motion,
                                save_profile)
from engine.solve.resting import RestingModel, load_resting_model
from engine.track.facetrack import FaceTrack
from tests.videos import read_frames, write_video

REPO = Path(__file__).resolve().parents[1]
N = len(ARKIT_NAMES)


def synthetic_track(scores: np.ndarray, fps: float = 30.0, detected: np.ndarray | None = None) -> FaceTrack:
    """A FaceTrack of the given raw scores (N, 52), without landmarks."""
    scores = np.array(scores, float)
    n = len(scores)
    detected = np.ones(n, bool) if detected is None else np.asarray(detected, bool)
    scores[~detected] = np.nan
    return FaceTrack(np.arange(n) / fps, detected, scores, np.tile(np.eye(4), (n, 1, 1)),
                     detected.astype(float))


def resting_scores(frames: int, seed: int = 0) -> np.ndarray:
    """Frames of a face at rest by the resting model itself: its own level, with a little noise."""
    level = load_resting_model().level
    noise = np.random.default_rng(seed).normal(0.0, 0.005, (frames, N))
    return np.clip(level + noise, 0.0, 1.0)


def with_channels(scores: np.ndarray, frames, **values) -> np.ndarray:
    scores = scores.copy()
    for name, value in values.items():
        scores[frames, ARKIT_INDEX[name]] = value
    return scores


def permissive_model() -> RestingModel:
    """Every face is at rest: the success paths on real clips, whatever the measured model says of them."""
    return RestingModel(level=np.full(N, 0.05), spread=np.full(N, 0.03), active=np.full(N, 1.01))


def engine_main(*args, capsys=None) -> tuple[int, list[dict]]:
    """`faceretarget-engine ARGS --progress json` in this process: exit code and the JSON events."""
    previous = signal.getsignal(signal.SIGTERM)          # main() installs its own SIGTERM handler
    try:
        code = main([*map(str, args), "--progress", "json"])
    finally:
        signal.signal(signal.SIGTERM, previous)
    out = capsys.readouterr().out if capsys else ""
    return code, [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def error_of(events: list[dict]) -> dict:
    errors = [e for e in events if e["event"] == "error"]
    assert len(errors) == 1, events
    return errors[0]


# --- building a profile (no tracking) --------------------------------------------------------------------

def test_profile_round_trip_keeps_every_value_and_reads_as_channels(tmp_path):
    scores = with_channels(resting_scores(60), [10, 11, 12], eyeBlinkLeft=0.9, eyeBlinkRight=0.9)   # a blink
    rom = with_channels(resting_scores(50, seed=1), slice(0, 50), jawOpen=np.linspace(0.0, 0.85, 50))
    source = {"neutral": {"path": "/shoot/neutral.mp4", "sha256": "ab" * 32}}
    profile = build_profile(synthetic_track(scores), synthetic_track(rom), name="hero", rig="legacy",
                            source=source)
    rest = np.delete(scores, [10, 11, 12], axis=0)          # the blink is not rest
    assert np.allclose(profile.neutral, np.median(rest, axis=0))
    assert np.allclose(profile.rest_spread, 1.4826 * np.median(np.abs(rest - np.median(rest, axis=0)), axis=0))
    assert profile.ranges[ARKIT_INDEX["jawOpen"]] == pytest.approx(np.percentile(np.linspace(0, 0.85, 50), 98))
    assert profile.landmark_neutral is None                  # a track without landmarks
    assert profile.source["neutral"] == source["neutral"]
    assert profile.source["neutral_frames"]["count"] == 57
    assert profile.source["neutral_frames"]["time_ranges"] == [[0.0, 0.3], [0.4333, 1.9667]]

    path = save_profile(profile, tmp_path / "profiles" / "hero.json")
    assert [p.name for p in path.parent.iterdir()] == ["hero.json"]      # no temporary file left behind
    doc = json.loads(path.read_text())
    assert doc["format"] == PROFILE_FORMAT and (doc["name"], doc["rig"]) == ("hero", "legacy")
    assert list(doc["neutral"]) == ARKIT_NAMES and list(doc["ranges"]) == ARKIT_NAMES
    again = load_profile(path, "legacy")
    for field in ("neutral", "rest_spread", "ranges"):
        assert np.allclose(getattr(again, field), getattr(profile, field), atol=1e-6), field
    assert again.landmark_neutral is None and again.source == json.loads(json.dumps(profile.source))
    with pytest.raises(ValueError):
        again.neutral[0] = 1.0                               # a profile is read-only


def test_landmark_neutral_and_missing_ranges_round_trip(tmp_path):
    shape = np.random.default_rng(3).normal(0.0, 5.0, (478, 3))
    profile = ActorProfile("a", "mh4", np.full(N, 0.1), np.zeros(N), None, shape, {})
    path = save_profile(profile, tmp_path / "a.json")
    assert path.read_text().count("\n") < 700              # one landmark a line, not one number a line
    again = load_profile(path)
    assert again.ranges is None and np.allclose(again.landmark_neutral, shape, atol=1e-6)


def test_both_readings_round_trip_and_a_run_takes_the_one_it_tracked_as(tmp_path):
    single = ActorProfile("a", "mh4", np.full(N, 0.1), np.zeros(N), None,
                          np.random.default_rng(4).normal(0.0, 5.0, (478, 3)), {"tracking": "single"})
    both = replace(single, alternate=ActorProfile("a", "mh4", np.full(N, 0.2), np.full(N, 0.01), np.full(N, 0.9),
                                                  np.random.default_rng(5).normal(0.0, 5.0, (478, 3)),
                                                  {"tracking": "symmetric"}))
    path = save_profile(both, tmp_path / "a.json")
    assert path.read_text().count("\n") < 1300              # both shapes one landmark a line
    again = load_profile(path)
    assert again.tracking == "single" and again.alternate.tracking == "symmetric"
    assert again.read_as(False) is again and again.read_as(True) is again.alternate
    for field in ("neutral", "rest_spread", "ranges", "landmark_neutral"):
        assert np.allclose(getattr(again.alternate, field), getattr(both.alternate, field), atol=1e-6), field
    assert np.allclose(again.landmark_neutral, single.landmark_neutral, atol=1e-6)
    assert load_profile(save_profile(single, tmp_path / "b.json")).read_as(True) is None
    # An "alternate" read the same way as the profile itself is not the other reading: refused.
    doc = json.loads(path.read_text())
    doc["alternate"]["tracking"] = "single"
    path.write_text(json.dumps(doc))
    with pytest.raises(BadInput, match="must be the other tracking's reading"):
        load_profile(path)


def test_time_picks_the_frames_around_it():
    scores = with_channels(resting_scores(90), slice(0, 45), jawOpen=0.8, mouthSmileLeft=0.7)
    profile = build_profile(synthetic_track(scores), name="a", rig="mh4", time=2.0)
    assert profile.source["neutral_frames"]["time_ranges"] == [[1.9333, 2.0667]]      # within 0.1 s of 2.0
    assert profile.neutral[ARKIT_INDEX["jawOpen"]] < 0.1
    with pytest.raises(BadInput, match="not at rest: jawOpen 0.80, mouthSmileLeft 0.70"):
        build_profile(synthetic_track(scores), name="a", rig="mh4", time=0.5)


def test_no_face_near_the_time_or_anywhere():
    detected = np.arange(60) < 30
    with pytest.raises(BadInput, match="no face found near --time 1.800s") as info:
        build_profile(synthetic_track(resting_scores(60), detected=detected), name="a", rig="mh4", time=1.8)
    assert "visible" in info.value.hint
    with pytest.raises(BadInput, match=r"near --time 9.000s of the neutral capture \(it ends at 1.967s\)"):
        build_profile(synthetic_track(resting_scores(60)), name="a", rig="mh4", time=9.0)
    with pytest.raises(NoFaceFound, match="no face found in any of the 60 frames"):
        build_profile(synthetic_track(resting_scores(60), detected=np.zeros(60, bool)), name="a", rig="mh4")


def test_a_capture_that_is_not_at_rest_names_its_active_channels():
    scores = with_channels(resting_scores(30), slice(None), jawOpen=0.8, mouthSmileLeft=0.65)
    with pytest.raises(BadInput) as info:
        build_profile(synthetic_track(scores), name="a", rig="mh4")
    assert info.value.message == "the neutral capture is not at rest: jawOpen 0.80, mouthSmileLeft 0.65"
    assert "--time" in info.value.hint


def test_a_capture_that_does_not_rest_steadily_is_refused():
    scores = with_channels(resting_scores(100), slice(0, 40), jawOpen=0.9)       # 40 % of it talks
    with pytest.raises(BadInput, match="not a steady rest: 40% of its 100 frames show an expression "
                                       r"\(jawOpen in 40 frames\)"):
        build_profile(synthetic_track(scores), name="a", rig="mh4")
    fine = with_channels(resting_scores(100), slice(0, 20), jawOpen=0.9)          # 20 %: rest, minus those
    profile = build_profile(synthetic_track(fine), name="a", rig="mh4")
    assert profile.source["neutral_frames"]["count"] == 80


def test_the_resting_model_decides_what_is_active():
    """Refused only past the population's `expressive` level; a high resting bias below it is the actor's
    own (some faces read a pucker of 0.5 at rest) and is noted in the profile."""
    strict = RestingModel(level=np.zeros(N), spread=np.zeros(N), active=np.full(N, 0.3), expressive=np.full(N, 0.55))
    scores = with_channels(resting_scores(20), slice(None), browInnerUp=0.6)
    with pytest.raises(BadInput, match="not at rest: browInnerUp 0.60"):
        build_profile(synthetic_track(scores), name="a", rig="mh4", resting=strict)
    assert build_profile(synthetic_track(scores), name="a", rig="mh4", resting=permissive_model()).name == "a"
    biased = with_channels(resting_scores(20), slice(None), mouthPucker=0.45)
    profile = build_profile(synthetic_track(biased), name="a", rig="mh4", resting=strict)
    assert profile.source["unusual_resting_bias"] == {"mouthPucker": 0.45}


def test_range_of_motion_is_the_98th_percentile_of_detected_frames():
    rom = np.tile(np.linspace(0.0, 1.0, 101)[:, None], (1, N))
    detected = np.ones(101, bool)
    detected[-5:] = False                                    # the frames without a face do not count
    ranges = range_of_motion(synthetic_track(rom, detected=detected))
    assert ranges == pytest.approx(np.full(N, np.percentile(np.linspace(0, 0.95, 96), 98)))
    with pytest.raises(NoFaceFound, match="range-of-motion clip"):
        range_of_motion(synthetic_track(rom, detected=np.zeros(101, bool)))


# --- reading a profile -----------------------------------------------------------------------------------

@pytest.fixture
def good_profile(tmp_path) -> Path:
    return save_profile(ActorProfile("hero", "legacy", np.full(N, 0.1), np.full(N, 0.01), np.full(N, 0.8)),
                        tmp_path / "hero.json")


def edited(path: Path, change) -> Path:
    doc = json.loads(path.read_text())
    change(doc)
    path.write_text(json.dumps(doc))
    return path


@pytest.mark.parametrize("change,message", [
    (lambda d: d.pop("format"), "is not an actor profile this engine reads (format None"),
    (lambda d: d.update(format="faceretarget-take/1"), "format 'faceretarget-take/1'"),
    (lambda d: d["neutral"].pop("jawOpen"), "'neutral' is missing jawOpen"),
    (lambda d: d["ranges"].update(jawOpne=0.5), "'ranges' has unknown channels jawOpne"),
    (lambda d: d["rest_spread"].update(cheekPuff=float("nan")),
     "'rest_spread' holds 1 non-finite value(s) (cheekPuff)"),
    (lambda d: d["neutral"].update(jawOpen=None), "'neutral' holds 1 non-finite value(s) (jawOpen)"),
    (lambda d: d["neutral"].update(jawOpen="low"), "'neutral' holds values that are not numbers"),
    (lambda d: d.update(landmark_neutral=[[0.0, 0.0, 0.0]] * 10), "'landmark_neutral' has shape (10, 3)"),
    (lambda d: d.update(rig="mh5"), "unknown rig 'mh5'"),
])
def test_a_damaged_profile_says_what_is_wrong(good_profile, change, message):
    with pytest.raises(BadInput) as info:
        load_profile(edited(good_profile, change))
    assert message in info.value.message and info.value.hint


def test_missing_corrupt_and_other_rig_profiles(tmp_path, good_profile):
    with pytest.raises(BadInput, match="actor profile not found") as info:
        load_profile(tmp_path / "nobody.json")
    assert "calibrate" in info.value.hint
    with pytest.raises(BadInput, match="actor profile is a folder"):
        load_profile(tmp_path)
    broken = tmp_path / "broken.json"
    broken.write_text(good_profile.read_text()[:300])
    with pytest.raises(BadInput, match="is not valid JSON"):
        load_profile(broken)
    with pytest.raises(BadInput) as info:
        load_profile(good_profile, "mh4")
    assert info.value.message == "actor profile hero.json was made for the legacy rig; this run targets mh4"
    assert "--rig mh4" in info.value.hint
    assert load_profile(good_profile, "legacy").name == "hero"


# --- the command line ------------------------------------------------------------------------------------

def test_calibrate_and_actor_options_parse():
    args = build_parser().parse_args(["calibrate", "--video", "n.mp4", "--time", "1.5", "--range", "rom.mp4",
                                      "--rig", "legacy", "--name", "hero", "--out", "hero.json"])
    assert (args.video, args.time, args.rom, args.rig, args.name) == (Path("n.mp4"), 1.5, Path("rom.mp4"),
                                                                        "legacy", "hero")
    run = build_parser().parse_args(["run", "--video", "v.mp4", "--out", "t", "--actor", "hero.json"])
    from engine.pipeline.cli import options_from

    assert options_from(run).solve.actor == Path("hero.json")


def test_run_refuses_a_profile_for_the_other_rig_before_tracking(good_profile, tmp_path, capsys, shared_data):
    video = shared_data / "video" / "faces" / "driving_d0.mp4"
    code, events = engine_main("run", "--video", video, "--out", tmp_path / "take", "--actor", good_profile,
                               capsys=capsys)
    assert code == EXIT_BAD_INPUT
    error = error_of(events)
    assert error["message"] == "actor profile hero.json was made for the legacy rig; this run targets mh4"
    assert "--rig mh4" in error["hint"]
    assert not any(e["event"] == "progress" for e in events) and not (tmp_path / "take").exists()
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    code, events = engine_main("run", "--video", video, "--out", tmp_path / "take", "--actor", broken,
                               capsys=capsys)
    assert code == EXIT_BAD_INPUT and "not valid JSON" in error_of(events)["message"]


@pytest.mark.parametrize("made,alternate,symmetric,warned", [
    (None, None, False, False), (None, None, True, True), ("single", None, True, True),
    ("symmetric", None, True, False), ("symmetric", None, False, True),
    ("single", "symmetric", True, False), ("symmetric", "single", False, False)])
def test_a_profile_tracked_the_other_way_is_warned_about(good_profile, made, alternate, symmetric, warned):
    """Profiles from before `tracking` was recorded were single-pass; from session 11 on calibrate reads the
    capture both ways, and either run finds its reading."""
    from engine.config import RunOptions, SolveOptions
    from engine.pipeline.sources import check_profile_tracking
    from engine.protocol import Reporter
    if made is not None:
        edited(good_profile, lambda doc: doc["source"].update(tracking=made))
    if alternate is not None:
        edited(good_profile, lambda doc: doc.update(alternate={"tracking": alternate, **{
            key: doc[key] for key in ("neutral", "rest_spread", "ranges", "landmark_neutral")}}))
    reporter = Reporter()
    check_profile_tracking(RunOptions(symmetric=symmetric, solve=SolveOptions(actor=good_profile)), reporter)
    codes = [w["code"] for w in reporter.warnings]
    assert codes == (["actor_tracking_differs"] if warned else [])


def test_calibrate_refuses_to_overwrite_a_profile(good_profile, tmp_path, capsys):
    before = good_profile.read_text()
    code, events = engine_main("calibrate", "--video", tmp_path / "unused.mp4", "--out", good_profile,
                               capsys=capsys)
    assert code == EXIT_BAD_INPUT and "already exists" in error_of(events)["message"]
    assert "--overwrite" in error_of(events)["hint"] and good_profile.read_text() == before


def test_calibrate_a_still_without_a_face_exits_3(tmp_path):
    gray = tmp_path / "gray.png"
    cv2.imwrite(str(gray), np.full((360, 480, 3), 128, np.uint8))
    proc = subprocess.run([sys.executable, "-m", "engine", "calibrate", "--video", str(gray), "--out",
                           str(tmp_path / "a.json"), "--progress", "json"],
                          cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == EXIT_NO_FACE, proc.stderr
    events = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    assert "no face found in any of the 1 frames of the neutral capture" in error_of(events)["message"]
    assert not (tmp_path / "a.json").exists()


def test_calibrate_an_expressive_still_names_what_is_active(shared_data, tmp_path, capsys):
    # driving_d9.jpg is a wide-open smile (jawOpen ~0.8, mouthSmile ~0.8): active under any resting model.
    code, events = engine_main("calibrate", "--video", shared_data / "video" / "faces" / "driving_d9.jpg",
                               "--out", tmp_path / "a.json", capsys=capsys)
    assert code == EXIT_BAD_INPUT
    message = error_of(events)["message"]
    assert message.startswith("the neutral capture is not at rest: ")
    assert "jawOpen 0." in message and "mouthSmileRight 0." in message
    assert not (tmp_path / "a.json").exists()


# --- calibrate on a real clip, then run --actor ----------------------------------------------------------

@pytest.fixture(scope="module")
def calibrated(shared_data, tmp_path_factory):
    """calibrate on driving_d9's first 0.5 s (ROM: driving_d0), then `run` driving_d0 with and without it."""
    folder = tmp_path_factory.mktemp("actor")
    faces = shared_data / "video" / "faces"
    neutral = write_video(folder / "neutral.mp4", read_frames(faces / "driving_d9.mp4", 15))
    rom = faces / "driving_d0.mp4"
    with pytest.MonkeyPatch.context() as patch:
        # Whether these frames count as rest is the resting model's call (its numbers are being measured).
        patch.setattr(actor_module, "load_resting_model", permissive_model)
        code = main(["calibrate", "--video", str(neutral), "--range", str(rom), "--name", "d9", "--out",
                     str(folder / "d9.json")])
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    assert code == EXIT_OK
    profile = folder / "d9.json"
    takes = {}
    for name, extra in (("plain", []), ("actor", ["--actor", str(profile)]),
                        ("actor_symmetric", ["--actor", str(profile), "--symmetric"])):
        code = main(["run", "--video", str(rom), "--out", str(folder / name), *extra])
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        assert code == EXIT_OK, name
        takes[name] = folder / name
    return {"profile": profile, "neutral": neutral, "rom": rom, "takes": takes}


def test_calibrate_writes_a_profile_of_the_real_capture(calibrated):
    profile = load_profile(calibrated["profile"], "mh4")
    assert profile.name == "d9" and profile.rig == "mh4"
    # d9 blinks in its first half second: those frames are left out of the neutral, the rest is used.
    assert 3 <= profile.source["neutral_frames"]["count"] < 15
    assert profile.neutral[ARKIT_INDEX["eyeBlinkLeft"]] < 0.3
    assert profile.source["neutral"]["sha256"] == file_sha256(calibrated["neutral"])
    assert profile.source["range_of_motion"]["sha256"] == file_sha256(calibrated["rom"])
    assert profile.source["engine"] and profile.source["mediapipe"] and profile.source["created"]
    assert profile.source["tracking"] == "single"
    assert np.all((profile.neutral >= 0) & (profile.neutral <= 1)) and np.all(profile.rest_spread >= 0)
    # The capture is also read as `run --symmetric` reads it: near the single-pass reading, not the same.
    other = profile.alternate
    assert other.tracking == "symmetric" and other.ranges is not None and other.landmark_neutral.shape == (478, 3)
    assert 0 < np.abs(other.neutral - profile.neutral).max() < 0.2
    # The range-of-motion clip (a speaking face) opens the jaw well beyond the rest capture.
    assert profile.ranges is not None
    assert profile.ranges[ARKIT_INDEX["jawOpen"]] > profile.neutral[ARKIT_INDEX["jawOpen"]] + 0.1
    # The neutral landmark shape is in the head frame: outer eye corners 9.02 cm apart along x.
    shape = profile.landmark_neutral
    assert shape.shape == (478, 3) and np.allclose(shape[168], 0.0, atol=1e-6)
    assert shape[263] - shape[33] == pytest.approx([9.02, 0.0, 0.0], abs=1e-3)


def test_run_with_the_actor_records_it_and_differs_only_in_the_solve(calibrated):
    plain, with_actor = (json.loads((calibrated["takes"][k] / "take.json").read_text()) for k in ("plain", "actor"))
    profile = calibrated["profile"]
    assert plain["actor"] is None
    assert with_actor["actor"] == {"path": str(profile.absolute()), "sha256": file_sha256(profile),
                                   "name": "d9", "format": PROFILE_FORMAT, "reading": "single"}
    assert with_actor["options"]["solve"]["actor"] == str(profile)
    with_actor["options"]["solve"]["actor"] = None
    out_a, out_b = plain["options"].pop("out"), with_actor["options"].pop("out")
    assert out_a != out_b and plain["options"] == with_actor["options"]
    for key in ("rig", "fps", "frame_count", "source_frame_count", "duration", "inputs", "engine", "files"):
        assert plain[key] == with_actor[key], key
    assert plain["tracking"]["detected_share"] == with_actor["tracking"]["detected_share"]
    # Tracking is the same; only the solve may use the profile.
    folders = calibrated["takes"]
    assert (folders["plain"] / "landmarks.npy").read_bytes() == (folders["actor"] / "landmarks.npy").read_bytes()
    assert (folders["plain"] / "head_pose.csv").read_bytes() == (folders["actor"] / "head_pose.csv").read_bytes()


# Depends on the solver integration (engine/solve/solver.py: solve() subtracts load_profile(options.actor)'s
# neutral, and records it in take.json's tracking.neutral_scores).
def test_run_with_the_actor_solves_against_its_neutral(calibrated):
    takes = calibrated["takes"]
    profile = load_profile(calibrated["profile"])
    meta = json.loads((takes["actor"] / "take.json").read_text())
    recorded = np.array([meta["tracking"]["neutral_scores"][n] for n in ARKIT_NAMES])
    assert np.allclose(recorded, profile.neutral, atol=1e-4)
    _, _, plain = read_curves_csv(takes["plain"] / "faceboard.csv")
    _, _, with_actor = read_curves_csv(takes["actor"] / "faceboard.csv")
    assert plain.shape == with_actor.shape and not np.allclose(plain, with_actor)


def test_a_symmetric_run_solves_against_the_profiles_symmetric_reading(calibrated):
    profile = load_profile(calibrated["profile"])
    meta = json.loads((calibrated["takes"]["actor_symmetric"] / "take.json").read_text())
    recorded = np.array([meta["tracking"]["neutral_scores"][n] for n in ARKIT_NAMES])
    assert np.allclose(recorded, profile.alternate.neutral, atol=1e-4)
    assert not np.allclose(recorded, profile.neutral, atol=1e-4)
    assert meta["actor"]["reading"] == "symmetric"
    assert "actor_tracking_differs" not in [w["code"] for w in meta["warnings"]]
