"""`run --arkit`: an iPhone Live Link Face recording (or any ARKit-52 CSV) onto the face board.

The acceptance test runs the engine on the shared recording and checks the face board against an
expectation computed here from the CSV's own columns (csv module, Live Link names -> ARKit order, Epic's
mapping pose). Malformed files are run as the Maya dialog runs the engine (a subprocess with --progress
json): exit code 2, one error event naming the problem, no traceback, nothing at --out.
"""
from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from engine.config import AudioOptions, RunOptions, SolveOptions
from engine.errors import EXIT_BAD_INPUT, BadInput
from engine.export.livelink import CSV_HEADER, read_livelink_csv, write_livelink_csv
from engine.export.take import TAKE_FILES, TAKE_KEYS, file_sha256, read_curves_csv
from engine.pipeline import run
from engine.protocol import Reporter
from engine.rig.arkit import ARKIT_INDEX, ARKIT_NAMES, livelink_names
from engine.rig.retarget import retarget
from engine.track.arkit_source import read_arkit_track
from tests.test_run_errors import assert_no_take, error_of

REPO = Path(__file__).resolve().parents[1]
RECORDING = ("arkit", "livelinkface_alex_rom_3.csv")
# The face-board attributes the acceptance test follows, and the r each must reach.
FOLLOWED = ("CTRL_C_jaw.ty", "CTRL_L_eye_blink.ty", "CTRL_R_eye_blink.ty",
            "CTRL_L_mouth_cornerPull.ty", "CTRL_R_mouth_cornerPull.ty")
MIN_R = 0.95
TAKE_CSV_TOL = 1e-5          # faceboard.csv holds %.6g values of 0..1 curves


def run_arkit(*args, timeout=300):
    """`python -m engine run --arkit ...` as the Maya dialog starts it; (exit code, events, stderr)."""
    proc = subprocess.run([sys.executable, "-m", "engine", "run", *map(str, args), "--progress", "json"],
                          cwd=REPO, capture_output=True, text=True, timeout=timeout)
    events = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    return proc.returncode, events, proc.stderr


def expected_faceboard(path: Path, mapping: str = "pose"):
    """The CSV's own ARKit columns through the mapping pose, read without the engine's reader."""
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    names = livelink_names()
    arkit = np.array([[float(row[names[a]]) for a in ARKIT_NAMES] for row in rows])
    return retarget(arkit, "mh4", None, mapping=mapping), arkit


def faceboard_of(take: Path) -> dict[str, np.ndarray]:
    times, names, values = read_curves_csv(take / TAKE_FILES["faceboard"])
    return {"time": times, **{name: values[:, i] for i, name in enumerate(names)}}


# --- the shared recording -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def recording(shared_data) -> Path:
    return shared_data.joinpath(*RECORDING)


@pytest.fixture(scope="module")
def rom_take(recording, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("arkit") / "take"
    code, events, stderr = run_arkit("--arkit", recording, "--out", out)
    assert code == 0, stderr
    result = events[-1]
    assert (result["event"], result["take"], result["warnings"]) == ("result", str(out), 0)
    assert 0 < result["startup_s"] < result["total_s"]
    return out


def test_the_recording_becomes_a_complete_take(rom_take, recording):
    meta = json.loads((rom_take / "take.json").read_text())
    written = {p.name for p in rom_take.iterdir()}
    assert written == {"take.json", *meta["files"].values()}
    assert set(meta["files"]) == {"faceboard", "raw_curves", "arkit", "head_pose", "rigmapper"}
    assert "landmarks" in meta["files_absent"] and not (rom_take / TAKE_FILES["landmarks"]).exists()
    assert meta["inputs"]["arkit"] == {
        "path": str(recording), "sha256": file_sha256(recording), "rows": 4030, "fps": 30.0,
        "time_column": "Timecode", "timecode_fps": 60.0, "timecode_start": "13:13:04:31.652",
        "start_s": pytest.approx(47584.527533), "head": True, "eyes": True}
    assert meta["frame_count"] == meta["source_frame_count"] == 4030 and meta["fps"] == 30.0
    assert meta["duration"] == pytest.approx(134.38, abs=0.01)
    assert meta["tracking"]["source"] == "arkit" and meta["actor"] is None
    assert tuple(meta) == TAKE_KEYS, set(meta) ^ set(TAKE_KEYS)   # every kind of take: the same take.json keys
    assert meta["options"]["arkit"] == str(recording) and meta["options"]["video"] is None
    board = faceboard_of(rom_take)
    assert len(board) == 1 + 174 and len(board["time"]) == 4030
    # arkit.csv is the recording again (smoothed at 8 Hz), its eye rotations included
    source, again = read_livelink_csv(recording), read_livelink_csv(rom_take / TAKE_FILES["arkit"])
    np.testing.assert_allclose(again.times, source.times, atol=1e-3)
    for block in ("arkit", "eyes"):
        a, b = getattr(source, block)(), getattr(again, block)()
        moving = a.std(axis=0) > 0.01
        r = [np.corrcoef(a[:, c], b[:, c])[0, 1] for c in np.flatnonzero(moving)]
        assert moving.sum() >= (20 if block == "arkit" else 4) and min(r) > 0.97, (block, min(r))


def test_the_face_board_follows_the_recording(rom_take, recording):
    expected, _ = expected_faceboard(recording)
    board = faceboard_of(rom_take)
    r = {name: np.corrcoef(expected.faceboard[:, expected.faceboard_names.index(name)], board[name])[0, 1]
         for name in FOLLOWED}
    assert min(r.values()) >= MIN_R, r
    # ... and every one of them moves in the recording (a flat curve would correlate with nothing)
    assert all(board[name].max() - board[name].min() > 0.5 for name in FOLLOWED)


def test_mapping_pose_without_smoothing_is_exactly_the_recordings_channels(recording, tmp_path):
    out = run(RunOptions(arkit=recording, out=tmp_path / "take", mapping="pose",
                         solve=SolveOptions(smoothing_cutoff_hz=0)), Reporter())
    expected, _ = expected_faceboard(recording)
    board = faceboard_of(out)
    values = np.column_stack([board[name] for name in expected.faceboard_names])
    np.testing.assert_allclose(values, expected.faceboard, atol=TAKE_CSV_TOL)


# --- small recordings made here -------------------------------------------------------------------------

def synthetic(tmp_path: Path, n: int = 120, fps: float = 60.0, name: str = "take.csv", **kwargs) -> Path:
    """A smooth Live Link Face recording: jaw, blinks and smiles moving, a head turn, eye rotations."""
    times = np.arange(n) / fps
    arkit = np.zeros((n, 52))
    arkit[:, ARKIT_INDEX["jawOpen"]] = 0.5 + 0.4 * np.sin(2 * np.pi * 0.7 * times)
    arkit[:, ARKIT_INDEX["eyeBlinkLeft"]] = arkit[:, ARKIT_INDEX["eyeBlinkRight"]] = 0.5 + 0.5 * np.cos(3 * times)
    arkit[:, ARKIT_INDEX["mouthSmileLeft"]] = np.linspace(0, 1, n)
    head = np.column_stack([0.3 * np.sin(times), np.zeros(n), np.zeros(n)])
    eyes = np.tile(np.linspace(-0.2, 0.2, n)[:, None], (1, 6))
    path = tmp_path / name
    write_livelink_csv(path, times, arkit, head=head, eyes=eyes, start_timecode_s=3600.0, **kwargs)
    return path


def table(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with open(path, "w", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows([header, *rows])
    return path


def edited(tmp_path: Path, edit, name: str = "edited.csv") -> Path:
    """The synthetic recording with `edit(header, rows)` applied to its fields."""
    with open(synthetic(tmp_path), newline="") as handle:
        header, *rows = list(csv.reader(handle))
    return table(tmp_path / name, *edit(header, rows))


def set_cell(line: int, column: str, text: str):
    """An edit: the field of `column` on file line `line` (the header is line 1) becomes `text`."""
    def edit(header, rows):
        rows[line - 2][header.index(column)] = text
        return header, rows
    return edit


def shuffled(header, rows):
    order = np.random.default_rng(1).permutation(len(header))
    return [header[i] for i in order], [[row[i] for i in order] for row in rows]


def swap_timecodes(header, rows):
    rows[4][0], rows[5][0] = rows[5][0], rows[4][0]
    return header, rows


def not_utf8(tmp_path: Path) -> Path:
    path = tmp_path / "binary.csv"
    path.write_bytes(b"\xff\xfe\x00\x01" * 200)
    return path


def one_row(tmp_path: Path) -> Path:
    return edited(tmp_path, lambda header, rows: (header, rows[:1]))


BAD_FILES = {
    "wrong header": (lambda t: table(t / "other.csv", ["frame", "x", "y"], [["1", "2", "3"], ["2", "3", "4"]]),
                     "no ARKit blendshape columns in the header (it holds frame, x, y): expected the 52 ARKit names"),
    "missing columns": (lambda t: edited(t, lambda h, rows: ([("x" if n in ("JawOpen", "MouthClose") else n) for n in h],
                                                             rows)),
                        "50 of the 52 ARKit columns found, missing: jawOpen, mouthClose"),
    "NaN": (lambda t: edited(t, set_cell(4, "MouthLeft", "nan")), "line 4: value nan in column MouthLeft is not a finite"),
    "inf": (lambda t: edited(t, set_cell(7, "HeadYaw", "-inf")), "line 7: value -inf in column HeadYaw is not a finite"),
    "one row": (one_row, "only 1 row of values: a take needs at least 2 frames"),
    "non-numeric": (lambda t: edited(t, set_cell(3, "JawOpen", "abc")), "line 3: non-numeric value 'abc' in column JawOpen"),
    "times not increasing": (lambda t: edited(t, swap_timecodes), "line 7: time 0.0666667 s does not come after"),
    "empty": (lambda t: table(t / "empty.csv", [], []), "empty file"),
    "not UTF-8": (not_utf8, "not a UTF-8 text file"),
    "no time column": (lambda t: edited(t, lambda h, rows: (h[1:], [r[1:] for r in rows])),
                       "no time column (Timecode, time, frame) and no frame rate given"),
}


@pytest.mark.parametrize("case", BAD_FILES)
def test_a_malformed_csv_is_a_clear_error_with_nothing_written(case, tmp_path):
    make, message = BAD_FILES[case]
    code, events, stderr = run_arkit("--arkit", make(tmp_path), "--out", tmp_path / "take")
    error = error_of(events)
    assert code == EXIT_BAD_INPUT and message in error["message"], error
    assert error["hint"] and "Traceback" not in stderr and "\n" not in error["message"]
    if case == "no time column":
        assert "--arkit-fps" in error["hint"]
    assert_no_take(tmp_path / "take")


@pytest.mark.parametrize("extra,message", [
    (["--video", "actor.mp4"], "--arkit cannot be combined with --video"),
    (["--flame-params", "seq.npz"], "--arkit cannot be combined with --flame-params"),
    (["--actor", "hero.json", "--neutral-time", "1"], "--arkit cannot be combined with --actor, --neutral-time"),
    (["--lip-correction", "auto"], "--lip-correction needs --audio with --arkit"),
    (["--symmetric"], "--arkit cannot be combined with --symmetric"),
])
def test_options_that_need_a_video_are_refused(extra, message, tmp_path):
    code, events, stderr = run_arkit("--arkit", synthetic(tmp_path), "--out", tmp_path / "take", *extra)
    assert code == EXIT_BAD_INPUT and message in error_of(events)["message"] and "Traceback" not in stderr
    assert_no_take(tmp_path / "take")


def test_a_missing_file_is_named(tmp_path):
    code, events, _ = run_arkit("--arkit", tmp_path / "nope.csv", "--out", tmp_path / "take")
    assert code == EXIT_BAD_INPUT and "file not found" in error_of(events)["message"]
    assert_no_take(tmp_path / "take")


def test_shuffled_columns_give_the_same_take(tmp_path):
    plain, mixed = synthetic(tmp_path), edited(tmp_path, shuffled, "shuffled.csv")
    assert next(csv.reader(open(mixed)))[:3] != list(CSV_HEADER[:3])
    takes = []
    for source in (plain, mixed):
        code, _, stderr = run_arkit("--arkit", source, "--out", tmp_path / source.stem)
        assert code == 0, stderr
        takes.append(tmp_path / source.stem)
    for key in ("faceboard", "arkit", "head_pose", "rigmapper"):
        assert (takes[0] / TAKE_FILES[key]).read_bytes() == (takes[1] / TAKE_FILES[key]).read_bytes(), key


def test_any_52_column_arkit_csv_with_a_time_column(tmp_path):
    """Apple's camelCase names, a `time` column in seconds, no head or eye columns, other columns ignored."""
    rng = np.random.default_rng(2)
    names = list(ARKIT_NAMES)[::-1]
    values = rng.uniform(0, 1, (50, 52))
    times = 0.5 + np.arange(50) / 24.0
    rows = [[f"{t:.6f}", "x", *(f"{v:.6f}" for v in row)] for t, row in zip(times, values)]
    path = table(tmp_path / "scores.csv", ["time", "note", *names], rows)
    track = read_arkit_track(path)
    np.testing.assert_allclose(track.times, times - 0.5, atol=1e-6)      # written with 6 decimals
    np.testing.assert_allclose(track.arkit[:, ARKIT_INDEX["jawOpen"]], values[:, names.index("jawOpen")], atol=1e-6)
    assert not track.head.any() and not track.eyes.any()
    assert track.record["fps"] == pytest.approx(24.0, abs=1e-3)
    assert (track.record["head"], track.record["eyes"], track.record["time_column"]) == (False, False, "time")
    out = run(RunOptions(arkit=path, out=tmp_path / "take", solve=SolveOptions(smoothing_cutoff_hz=0)), Reporter())
    meta = json.loads((out / "take.json").read_text())
    assert meta["fps"] == meta["rigmapper_fps"] == pytest.approx(24.0, abs=1e-3) and meta["frame_count"] == 50
    head = np.loadtxt(out / TAKE_FILES["head_pose"], delimiter=",", skiprows=1)
    assert (head[:, 1] == 1).all() and not head[:, 2:].any()


def test_frame_rates_and_timecode_forms(tmp_path):
    base = read_arkit_track(synthetic(tmp_path, n=90, fps=30.0, timecode_fps=30))
    assert base.record["timecode_fps"] == 30.0 and base.record["timecode_start"] == "01:00:00:00.000"
    np.testing.assert_allclose(base.times, np.arange(90) / 30.0, atol=1e-6)
    # frame-based timecodes without the sub-frame part
    whole = edited(tmp_path, lambda h, rows: (h, [[r[0][:-4], *r[1:]] for r in rows]), "whole.csv")
    assert read_arkit_track(whole).times[1] == pytest.approx(1 / 60)
    # a Timecode column of frame numbers, and a file without any time column, at a given rate
    numbered = edited(tmp_path, lambda h, rows: (h, [[str(100 + 2 * i), *r[1:]] for i, r in enumerate(rows)]),
                      "numbered.csv")
    np.testing.assert_allclose(read_arkit_track(numbered, fps=60).times, 2 * np.arange(120) / 60)
    with pytest.raises(BadInput, match="holds frame numbers"):
        read_arkit_track(numbered)
    bare = edited(tmp_path, lambda h, rows: (h[1:], [r[1:] for r in rows]), "bare.csv")
    track = read_arkit_track(bare, fps=25)
    assert track.record["time_column"] is None and track.record["fps"] == 25.0
    with pytest.raises(BadInput, match="--arkit-fps 0 is out of range"):
        run(RunOptions(arkit=bare, arkit_fps=0, out=tmp_path / "take"), Reporter())
    assert not (tmp_path / "take").exists()


def test_fps_out_resamples_scores_head_and_eyes(tmp_path):
    path = synthetic(tmp_path, n=61, fps=30.0, timecode_fps=30)
    out = run(RunOptions(arkit=path, out=tmp_path / "take", fps_out=60), Reporter())
    meta = json.loads((out / "take.json").read_text())
    assert meta["frame_count"] == 121 and meta["source_frame_count"] == 61 and meta["fps"] == 60
    again = read_livelink_csv(out / TAKE_FILES["arkit"], timecode_fps=60)
    source = read_arkit_track(path)
    np.testing.assert_allclose(again.eyes()[::2], source.eyes, atol=2e-3)
    np.testing.assert_allclose(again.head()[::2], source.head, atol=2e-3)


def test_speech_corrects_the_mouth_and_leaves_the_eyes(shared_data, tmp_path):
    folder = shared_data / "audio" / "librivox"
    speech, transcript = (folder / f"sense_and_sensibility_01_austen_64kb-0880{s}" for s in (".wav", ".txt"))
    path = synthetic(tmp_path, n=180, fps=60.0)
    plain = run(RunOptions(arkit=path, out=tmp_path / "plain"), Reporter())
    spoken = run(RunOptions(arkit=path, out=tmp_path / "spoken",
                            audio=AudioOptions(audio=speech, transcript=str(transcript))), Reporter())
    meta = json.loads((spoken / "take.json").read_text())
    assert meta["lipsync"]["lip_correction"] == "auto" and (spoken / meta["files"]["audio"]).is_file()
    a, b = faceboard_of(plain), faceboard_of(spoken)
    np.testing.assert_array_equal(a["CTRL_L_eye_blink.ty"], b["CTRL_L_eye_blink.ty"])
    assert not np.array_equal(a["CTRL_C_jaw.ty"], b["CTRL_C_jaw.ty"])
