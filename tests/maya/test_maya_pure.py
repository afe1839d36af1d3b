"""The Maya side's pure logic: no maya, no Qt."""
from __future__ import annotations

import json
import os

import numpy as np
import pytest

from retarget_maya import arkit, faceboard, install, protocol, takes, timebase


# --- the face-board table and rig detection -----------------------------------------------------------

@pytest.mark.parametrize("rig", ["mh4", "legacy"])
def test_board_has_174_attributes_with_maya_spelling(rig):
    board = faceboard.load_board(rig)
    assert len(board) == 174
    assert {a.maya_attribute for a in board} == {"translateX", "translateY"}
    assert all(a.min <= a.default <= a.max for a in board)


def test_split_attribute():
    assert faceboard.split_attribute("CTRL_L_brow_down.ty") == ("CTRL_L_brow_down", "translateY")
    assert faceboard.split_attribute("CTRL_C_jaw.tx") == ("CTRL_C_jaw", "translateX")
    with pytest.raises(ValueError):
        faceboard.split_attribute("CTRL_C_jaw.rz")
    with pytest.raises(ValueError):
        faceboard.split_attribute("time")


def test_generation_from_control_names():
    assert faceboard.classify_generation(faceboard.board_controls("mh4")) == "mh4"
    assert faceboard.classify_generation(faceboard.board_controls("legacy")) == "legacy"
    # the markers decide even on a partial board
    assert faceboard.classify_generation(["CTRL_C_eye", "CTRL_C_jaw"]) == "legacy"
    assert faceboard.classify_generation(["CTRL_C_tongue_move", "CTRL_C_jaw"]) == "mh4"
    assert faceboard.classify_generation(["CTRL_C_jaw"]) is None
    assert not faceboard.is_face_board(["CTRL_C_jaw", "CTRL_L_brow_down"])


def test_controls_grouped_by_namespace():
    nodes = ["|grp|A:CTRL_C_jaw", "|B:x|B:sub:CTRL_C_jaw", "|CTRL_C_jaw", "|A:CTRL_notAControl"]
    groups = faceboard.group_controls_by_namespace(nodes)
    assert list(groups) == ["A", "B:sub", ""]
    assert groups["A"] == {"CTRL_C_jaw": "|grp|A:CTRL_C_jaw"}


# --- time units, resampling, clamping -------------------------------------------------------------------

@pytest.mark.parametrize("unit, fps", [("film", 24), ("pal", 25), ("ntsc", 30), ("ntscf", 60), ("game", 15),
                                       ("120fps", 120), ("23.976fps", 24000 / 1001), ("29.97df", 30000 / 1001)])
def test_time_units(unit, fps):
    assert timebase.fps_from_time_unit(unit) == pytest.approx(fps)


def test_unknown_time_unit():
    with pytest.raises(ValueError):
        timebase.fps_from_time_unit("fortnight")


@pytest.mark.parametrize("scene_fps", [24.0, 25.0, 30.0])
def test_resample_60_to_scene_rate(scene_fps):
    times = np.arange(121) / 60.0                     # 2 s at 60 fps
    values = np.column_stack([np.sin(times), times * 2])
    frames, out = timebase.take_to_scene(times, values, scene_fps, start_frame=10)
    assert frames[0] == 10 and frames[-1] == 10 + 2 * scene_fps
    assert len(frames) == int(2 * scene_fps) + 1
    scene_times = (frames - 10) / scene_fps
    np.testing.assert_allclose(out[:, 0], np.interp(scene_times, times, values[:, 0]))
    np.testing.assert_allclose(out[:, 1], scene_times * 2, atol=1e-12)


def test_resample_non_uniform_and_repeated_times():
    times = np.array([0.0, 0.01, 0.05, 0.05, 0.2, 0.1])       # unsorted, one time twice
    values = np.array([0.0, 1.0, 2.0, 3.0, 6.0, 4.0])[:, None]
    frames, out = timebase.take_to_scene(times, values, 10.0, start_frame=0)
    np.testing.assert_array_equal(frames, [0, 1, 2])
    np.testing.assert_allclose(out[:, 0], [0.0, 4.0, 6.0])   # t=0, 0.1, 0.2


def test_first_sample_after_time_zero_holds_and_stays_in_sync():
    times = np.array([0.1, 0.2])
    frames, out = timebase.take_to_scene(times, np.array([[1.0], [2.0]]), 10.0, start_frame=1)
    np.testing.assert_array_equal(frames, [1, 2, 3])          # time 0 is still the start frame
    np.testing.assert_allclose(out[:, 0], [1.0, 1.0, 2.0])


def test_clamp_counts_moved_samples():
    values = np.array([[-2.0, 0.5], [0.3, 2.0], [1.5, 0.1]])
    clamped, moved = timebase.clamp_columns(values, [-1.0, -np.inf], [1.0, 1.0])
    np.testing.assert_allclose(clamped, [[-1.0, 0.5], [0.3, 1.0], [1.0, 0.1]])
    assert moved.tolist() == [2, 1]


# --- take folders -----------------------------------------------------------------------------------------

def test_take_info_and_curves(take_factory):
    folder = take_factory(seconds=1.0)
    info = takes.read_take_info(folder)
    assert info.rig == "mh4" and info.fps == 60.0
    assert info.file("faceboard") and info.audio_path().endswith("audio.wav")
    table = takes.read_curve_csv(info.file("faceboard"))
    assert table.values.shape == (61, 174) and table.names[0] == "CTRL_C_eye_parallelLook.ty"


def test_not_a_take(tmp_path):
    with pytest.raises(takes.TakeError, match="no take.json"):
        takes.read_take_info(str(tmp_path))
    (tmp_path / "take.json").write_text(json.dumps({"format": "something-else/2"}))
    with pytest.raises(takes.TakeError, match="unknown take format"):
        takes.read_take_info(str(tmp_path))


def test_bad_csv_says_where(tmp_path):
    path = tmp_path / "faceboard.csv"
    path.write_text("time,CTRL_C_jaw.ty\n0,0.1\n0.1,oops\n")
    with pytest.raises(takes.TakeError, match="line 3: 'oops'"):
        takes.read_curve_csv(str(path))
    path.write_text("time,CTRL_C_jaw.ty\n0,0.1\n0.1\n")
    with pytest.raises(takes.TakeError, match="line 3 has 1 fields"):
        takes.read_curve_csv(str(path))


def test_arkit_csv_by_header_name(tmp_path):
    header = "Timecode,BlendShapeCount,JawOpen,EyeBlinkLeft\n"
    rows = "23:59:59:58.000,61,0.1,0.2\n23:59:59:59.000,61,0.3,0.4\n00:00:00:00.500,61,0.5,0.6\n"
    path = tmp_path / "arkit.csv"
    path.write_text(header + rows)
    table = takes.read_arkit_csv(str(path))
    assert table.names == ["jawOpen", "eyeBlinkLeft"]
    np.testing.assert_allclose(table.times, [0.0, 1 / 60, 2.5 / 60])     # across midnight
    np.testing.assert_allclose(table.column("eyeBlinkLeft"), [0.2, 0.4, 0.6])


def test_timecode():
    assert takes.parse_timecode("00:01:02:30.500") == pytest.approx(62 + 30.5 / 60)
    with pytest.raises(ValueError):
        takes.parse_timecode("1:2:3")


def test_write_take_is_atomic(tmp_path):
    table = takes.CurveTable(np.array([0.0, 0.5]), ["CTRL_C_jaw.ty"], np.array([[0.0], [1.0]]))
    out = takes.write_take(str(tmp_path / "exp"), {"rig": "mh4", "source": "maya-export"}, table)
    assert sorted(os.listdir(out)) == ["faceboard.csv", "take.json"]
    assert sorted(os.listdir(tmp_path)) == ["exp"]                       # no temporary left behind
    with pytest.raises(takes.TakeError, match="already exists"):
        takes.write_take(out, {}, table)
    takes.write_take(out, {"rig": "legacy"}, table, overwrite=True)
    assert takes.read_take_info(out).rig == "legacy"
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "keep.txt").write_text("x")
    with pytest.raises(takes.TakeError, match="not a take folder"):
        takes.write_take(str(tmp_path / "other"), {}, table, overwrite=True)


def test_failed_write_leaves_nothing(tmp_path, monkeypatch):
    table = takes.CurveTable(np.array([0.0]), ["CTRL_C_jaw.ty"], np.array([[0.0]]))
    monkeypatch.setattr(takes, "write_curve_csv", lambda *a: (_ for _ in ()).throw(OSError("disk full")))
    with pytest.raises(OSError):
        takes.write_take(str(tmp_path / "exp"), {}, table)
    assert os.listdir(tmp_path) == []


# --- the engine protocol --------------------------------------------------------------------------------

def test_parse_events():
    event = protocol.parse_event_line('{"event":"progress","stage":"track","done":120,"total":900}\n')
    assert (event.kind, event.stage, event.done, event.total) == ("progress", "track", 120, 900)
    assert event.fraction == pytest.approx(120 / 900)
    error = protocol.parse_event_line('{"event":"error","message":"no face","hint":"light"}')
    assert (error.kind, error.message, error.hint) == ("error", "no face", "light")
    assert protocol.parse_event_line('{"event":"result","take":"/t"}').take == "/t"
    assert protocol.parse_event_line("a library printed this").kind == "log"
    assert protocol.parse_event_line('{"event":"other"}').kind == "log"
    assert protocol.parse_event_line("   ") is None
    assert protocol.parse_event_line('{"event":"progress","stage":"x","done":3,"total":null}').fraction is None


def test_line_buffer_joins_split_lines():
    buffer = protocol.LineBuffer()
    assert buffer.feed(b'{"event": "pro') == []
    assert buffer.feed(b'gress"}\r\n{"a"') == ['{"event": "progress"}']
    assert buffer.flush() == ['{"a"']


def test_engine_arguments():
    request = protocol.EngineRequest(video="v.mp4", out="/o", audio="a.wav", transcript=None, rig="legacy",
                                     lip_correction="blend", smoothing_hz=6.0)
    assert protocol.engine_arguments(request) == [
        "-m", "engine", "run", "--video", "v.mp4", "--out", "/o", "--audio", "a.wav", "--rig", "legacy",
        "--lip-correction", "blend", "--smoothing", "6", "--symmetric", "--progress", "json"]
    plain = protocol.engine_arguments(protocol.EngineRequest(video="v", out="o", rig="auto", lip_correction=None,
                                                             symmetric=False), entry=["fake.py"])
    assert plain == ["fake.py", "run", "--video", "v", "--out", "o", "--progress", "json"]
    # the speech's language goes with the audio (a run without audio has no speech to read)
    mandarin = protocol.EngineRequest(video="v", out="o", audio="a.wav", language="zh", lip_correction=None)
    args = protocol.engine_arguments(mandarin)
    assert args[args.index("--language") + 1] == "zh"
    mandarin.audio = None
    assert "--language" not in protocol.engine_arguments(mandarin)
    # symmetric tracking is the Maya side's default, asked for a video only (an ARKit CSV is not tracked)
    assert "--symmetric" in protocol.engine_arguments(protocol.EngineRequest(video="v", out="o", symmetric=True))
    assert "--symmetric" not in protocol.engine_arguments(
        protocol.EngineRequest(video="", arkit="take.csv", out="o", symmetric=True))


def test_scrubbed_environment():
    maya = os.path.join(os.sep, "opt", "maya2025")
    environ = {"PYTHONPATH": "x", "PYTHONHOME": "y", "MAYA_LOCATION": maya, "MAYA_SCRIPT_PATH": "z",
               "QT_PLUGIN_PATH": "q", "HOME": "/home/a", "FACERETARGET_MODEL": "m",
               "PATH": os.pathsep.join([os.path.join(maya, "bin"), "/usr/bin"]),
               "LD_LIBRARY_PATH": os.path.join(maya, "lib")}
    env = protocol.scrubbed_environment(environ)
    assert env["PATH"] == "/usr/bin" and "LD_LIBRARY_PATH" not in env
    assert not [k for k in env if k.startswith(("PYTHONPATH", "PYTHONHOME", "MAYA_", "QT_"))]
    assert env["HOME"] == "/home/a" and env["FACERETARGET_MODEL"] == "m"
    assert env["PYTHONUNBUFFERED"] == "1"


def test_engine_python_resolution(tmp_path):
    assert protocol.resolve_engine_python("/remembered", {}) == "/remembered"
    assert protocol.resolve_engine_python("/remembered", {"FACERETARGET_ENGINE_PYTHON": "/env"}) == "/env"
    assert "Set the engine's Python" in protocol.check_engine_python("")
    assert "does not exist" in protocol.check_engine_python(str(tmp_path / "nope"))


# --- ARKit names, installing -----------------------------------------------------------------------------

def test_arkit_name_matching():
    assert len(arkit.arkit_names()) == 52
    assert arkit.match_arkit_name("ns:ARKit_EyeBlinkLeft") == "eyeBlinkLeft"
    assert arkit.match_arkit_name("|grp|jawOpen") == "jawOpen"
    assert arkit.match_arkit_name("mouthSmile") is None
    found = arkit.match_arkit_targets(["a:jawOpen", "b:jawOpen", "x"])
    assert found == {"jawOpen": "a:jawOpen"}


def test_install_writes_absolute_module_and_backs_up(tmp_path):
    modules = tmp_path / "modules"
    first = install.install_module(modules_dir=str(modules), now=0)
    assert first.backup is None
    text = open(first.mod_file).read()
    plus = [line for line in text.splitlines() if line.startswith("+")]
    assert len(plus) == 15 and all(line.endswith(install.paths.MODULE_ROOT.replace("\\", "/")) for line in plus)
    second = install.install_module(modules_dir=str(modules), now=0)
    assert second.backup and open(second.backup).read() == text
    assert install.user_modules_dir({"MAYA_APP_DIR": "/m"}) == os.path.join("/m", "modules")
