"""The whole video path on every shared face clip: complete takes, values in range, curves that follow
the actor. "Follows" is judged against the face's own geometry (landmark distances), which is
independent of the blendshape scores the curves come from."""
import json
from pathlib import Path

import numpy as np
import pytest

from engine.config import RunOptions
from engine.export.livelink import read_livelink_csv
from engine.export.take import read_curves_csv
from engine.pipeline import run
from engine.protocol import Reporter
from engine.rig.faceboard import load_faceboard

pytestmark = pytest.mark.slow
CLIPS = ["driving_d0", "driving_d3", "driving_d6", "driving_d9", "driving_d11", "driving_d12", "driving_d13"]
TAKE_FILES = ["take.json", "faceboard.csv", "raw_curves.csv", "arkit.csv", "head_pose.csv", "landmarks.npy",
              "rigmapper.csv"]


@pytest.fixture(scope="session")
def takes(shared_data, tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("takes")
    return {name: run(RunOptions(video=shared_data / "video" / "faces" / f"{name}.mp4", out=root / name),
                      Reporter())
            for name in CLIPS}


def test_every_clip_gives_a_complete_take(takes):
    for name, take in takes.items():
        assert sorted(p.name for p in take.iterdir()) == sorted(TAKE_FILES), name
        meta = json.loads((take / "take.json").read_text())
        assert meta["format"] == "faceretarget-take/1" and meta["rig"] == "mh4"
        assert len(meta["inputs"]["video"]["sha256"]) == 64
        assert set(meta["timings"]) >= {"model_load", "track", "solve", "rig", "export"}
        times, names, values = read_curves_csv(take / "faceboard.csv")
        assert len(names) == 174 and len(times) == meta["frame_count"]
        assert np.all(np.diff(times) > 0)


def test_every_value_lies_in_its_attribute_range(takes):
    board = load_faceboard("mh4")
    for name, take in takes.items():
        _, names, values = read_curves_csv(take / "faceboard.csv")
        assert names == board.names
        assert np.all(values >= board.mins - 1e-9) and np.all(values <= board.maxs + 1e-9), name
        _, _, raw = read_curves_csv(take / "raw_curves.csv")
        assert raw.min() >= 0 and raw.max() <= 1


def geometry(take: Path) -> dict[str, np.ndarray]:
    """Per-frame mouth opening, eye opening and mouth width from the landmarks, in pixels / face size."""
    meta = json.loads((take / "take.json").read_text())
    lm = np.load(take / "landmarks.npy") * [meta["inputs"]["video"]["width"], meta["inputs"]["video"]["height"], 1]
    dist = lambda a, b: np.linalg.norm(lm[:, a, :2] - lm[:, b, :2], axis=1)
    face = dist(10, 152)                                   # forehead to chin
    return {
        "mouth_open": dist(13, 14) / face,
        "eye_open_L": dist(386, 374) / dist(362, 263),     # subject's left eye (image right)
        "eye_open_R": dist(159, 145) / dist(33, 133),
        "mouth_width": dist(61, 291) / dist(33, 263),
    }


def column(take: Path, attr: str) -> np.ndarray:
    _, names, values = read_curves_csv(take / "faceboard.csv")
    return values[:, names.index(attr)]


def test_jaw_follows_the_mouth_opening(takes):
    for name, take in takes.items():
        opening = geometry(take)["mouth_open"]
        jaw = column(take, "CTRL_C_jaw.ty")
        assert np.corrcoef(opening, jaw)[0, 1] > 0.6, name
        p50, p90 = np.percentile(opening, [50, 90])
        if p90 > 1.5 * p50 + 0.02:        # the clip has clearly wide-open moments (d0 talks throughout)
            wide = opening > p90
            assert np.median(jaw[wide]) > np.median(jaw) + 0.15, name


def test_blinks_follow_the_eyelids(takes):
    for name, take in takes.items():
        g = geometry(take)
        for side in ("L", "R"):
            opening = g[f"eye_open_{side}"]
            blink = column(take, f"CTRL_{side}_eye_blink.ty")
            assert np.corrcoef(opening, blink)[0, 1] < -0.7, (name, side)
            closed = opening < 0.3 * np.median(opening)
            if closed.any():
                assert np.median(blink[closed]) > np.median(blink) + 0.25, (name, side)


def test_smile_follows_the_mouth_width(takes):
    for name, take in takes.items():
        smile = column(take, "CTRL_L_mouth_cornerPull.ty") + column(take, "CTRL_R_mouth_cornerPull.ty")
        assert np.corrcoef(geometry(take)["mouth_width"], smile)[0, 1] > 0.35, name


def test_legacy_rig_writes_the_legacy_attributes(shared_data, tmp_path):
    take = run(RunOptions(video=shared_data / "video" / "faces" / "driving_d0.mp4", out=tmp_path / "t",
                          rig="legacy", fps_out=60), Reporter())
    times, names, values = read_curves_csv(take / "faceboard.csv")
    assert names == load_faceboard("legacy").names and "CTRL_C_eye.tx" in names
    assert np.allclose(np.diff(times), 1 / 60, atol=1e-5)
    assert json.loads((take / "take.json").read_text())["rig"] == "legacy"


def test_arkit_csv_is_a_live_link_recording_of_the_take(takes):
    take = takes["driving_d9"]
    live = read_livelink_csv(take / "arkit.csv")
    times, _, _ = read_curves_csv(take / "faceboard.csv")
    assert len(live.times) == len(times)
    np.testing.assert_allclose(live.times, times, atol=1 / 60 / 1000 + 1e-3)   # timecode resolution
    assert live.arkit().max() <= 1 and live.arkit()[:, -1].max() == 0          # no tongueOut from video
