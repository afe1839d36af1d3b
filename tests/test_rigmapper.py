"""Unreal RigMapper CSV (engine/export/rigmapper.py): the bytes Unreal's writer makes, read back the way
Unreal's reader does, and the `rigmapper.csv` every take carries."""
from __future__ import annotations

import json

import numpy as np
import pytest

from engine.config import RunOptions
from engine.export.rigmapper import HEADER, read_rigmapper_csv, rigmapper_rate, to_frame_grid, write_rigmapper_csv
from engine.export.take import read_curves_csv
from engine.pipeline import run
from engine.protocol import Reporter

NAMES = ["CTRL_expressions_browDownL", "CTRL_expressions_jawOpen", "CTRL_expressions_eyeBlinkR"]
VALUE_TOL = 0.5e-6 * 1.001          # "%f" keeps 6 decimals


def parse_like_unreal(path):
    """URigMapperEditorSubsystem::LoadCurveValuesFromCsv: drop line 1, remove spaces, split at commas into
    exactly 3 fields (others are skipped), Atoi the frame, Atof the value."""
    rows = []
    lines = path.read_text().splitlines()
    for line in lines[1:]:
        parts = [p for p in line.replace(" ", "").split(",") if p]   # ParseIntoArray culls empty fields
        if len(parts) != 3:
            continue
        rows.append((parts[0], int(parts[1]), float(parts[2])))
    return lines[0], rows


def test_writes_what_unreals_writer_writes(tmp_path):
    times = np.arange(3) / 30
    values = np.array([[0.25, 0.0, 1.0], [0.5, 0.125, 0.0], [1 / 3, 1.0, 0.75]])
    rate = write_rigmapper_csv(tmp_path / "r.csv", times, NAMES, values, 30)
    text = (tmp_path / "r.csv").read_text()
    assert rate == 30 and text.splitlines()[:4] == [
        HEADER, "CTRL_expressions_browDownL, 0, 0.250000", "CTRL_expressions_jawOpen, 0, 0.000000",
        "CTRL_expressions_eyeBlinkR, 0, 1.000000"]
    header, rows = parse_like_unreal(tmp_path / "r.csv")
    assert header == "curve_name, frame_number, value"
    assert len(rows) == 9 and [r[1] for r in rows] == [0, 0, 0, 1, 1, 1, 2, 2, 2]      # frame by frame
    assert [r[0] for r in rows[:3]] == NAMES
    np.testing.assert_allclose([r[2] for r in rows], values.reshape(-1), atol=VALUE_TOL)


def test_round_trip(tmp_path):
    rng = np.random.default_rng(1)
    times = np.arange(100) / 60
    values = rng.uniform(0, 1, (100, 3))
    write_rigmapper_csv(tmp_path / "r.csv", times, NAMES, values, 60)
    curves = read_rigmapper_csv(tmp_path / "r.csv")
    assert curves.names == NAMES and curves.frames.tolist() == list(range(100))
    np.testing.assert_allclose(curves.values, values, atol=VALUE_TOL)


def test_off_grid_samples_are_resampled_and_the_rate_defaults_to_the_spacing():
    times = np.array([0.0, 0.03, 0.07, 0.1])            # a variable-frame-rate clip around 30 fps
    values = np.array([[0.0], [0.3], [0.7], [1.0]])
    frames, grid = to_frame_grid(times, values, 30.0)
    assert frames.tolist() == [0, 1, 2, 3]
    np.testing.assert_allclose(grid[:, 0], np.interp(np.arange(4) / 30, times, values[:, 0]))
    assert rigmapper_rate(None, np.arange(10) / 24) == pytest.approx(24)
    assert rigmapper_rate(25.0, times) == 25.0


def test_names_unreal_would_split_are_refused(tmp_path):
    with pytest.raises(ValueError, match="commas, spaces"):
        write_rigmapper_csv(tmp_path / "r.csv", np.arange(2) / 30, ["a b", "c"], np.zeros((2, 2)), 30)


@pytest.mark.slow
def test_every_take_has_the_raw_curves_as_a_rigmapper_csv(shared_data, tmp_path):
    take = run(RunOptions(video=shared_data / "video" / "faces" / "driving_d0.mp4", out=tmp_path / "t",
                          fps_out=60), Reporter())
    meta = json.loads((take / "take.json").read_text())
    assert meta["files"]["rigmapper"] == "rigmapper.csv" and meta["rigmapper_fps"] == 60
    times, names, raw = read_curves_csv(take / "raw_curves.csv")
    curves = read_rigmapper_csv(take / "rigmapper.csv")
    assert curves.names == names and len(names) == 251                  # every MH4 raw curve
    np.testing.assert_array_equal(curves.frames, np.round(times * 60).astype(int))
    np.testing.assert_allclose(curves.values, raw, atol=1e-5)          # raw_curves.csv keeps 6 digits
