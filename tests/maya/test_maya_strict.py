"""The Maya side as real Maya behaves (issue 19): the fake is strict where Maya is (flags, Python plug-in
names, undo chunks that never roll back by themselves, MTime units, playblast formats per platform), and
the code copes: the plug-in is loaded by its .py name, a failed apply is rolled back and says so, the
batch saves before it playblasts in a format this Maya offers through a chosen camera, and the installer
keeps its backups out of the modules folder."""
from __future__ import annotations

import json
import os
import sys
import time

import numpy as np
import pytest

import fake_maya
from maya import cmds, mel
from maya.api import OpenMaya as om

import retarget_maya
from retarget_maya import batch, install, keying, paths, scene

JAW = "MH:CTRL_C_jaw.ty"
FAKE_ENGINE = [os.path.join(os.path.dirname(os.path.abspath(__file__)), "maya_fake_engine.py")]


def curves(maya_scene):
    return sorted(n.name for n in maya_scene.nodes.values() if n.type.startswith("animCurve"))


def snapshot(maya_scene):
    """Everything an apply can change: nodes, attribute values and connections, keys, layers, range."""
    nodes = {}
    for node in maya_scene.nodes.values():
        attrs = {name: (a.value, a.curve, dict(a.layers), a.blend) for name, a in node.attrs.items()}
        keys = None if node.times is None else (node.times.tolist(), node.values.tolist())
        nodes[node.name] = (node.type, node.parent, attrs, keys)
    return nodes, list(maya_scene.layers), (maya_scene.min_time, maya_scene.max_time)


# --- the fake is strict where Maya is ------------------------------------------------------------------

def test_a_flag_maya_does_not_have_is_a_type_error(mh4_rig):
    assert "inTangentType" in fake_maya.stub_flags()["setKeyframe"]      # the flags come from maya-stubs
    with pytest.raises(TypeError, match="Invalid flag 'tangent'"):
        cmds.setKeyframe(JAW, time=1, value=0.5, tangent="linear")
    with pytest.raises(TypeError, match="Invalid flag 'query'"):
        cmds.playblast(query=True, format=True)     # playblast is not queryable as a command: mel is
    assert "image" in mel.eval("playblast -query -format")


def test_a_python_plugin_loads_by_its_py_name_or_path_only(maya_scene):
    with pytest.raises(RuntimeError, match="was not found"):
        cmds.loadPlugin("faceretarget")             # a bare name means faceretarget.so/.mll/.bundle
    assert cmds.loadPlugin("faceretarget.py") == ["faceretarget"]
    assert cmds.loadPlugin("faceretarget") == ["faceretarget"]        # loaded: the registry name is fine
    cmds.unloadPlugin("faceretarget")
    maya_scene.plugin_path = []
    with pytest.raises(RuntimeError):
        cmds.loadPlugin("faceretarget.py")
    assert cmds.loadPlugin(paths.plugin_file()) == ["faceretarget"]
    cmds.unloadPlugin("faceretarget")


def test_an_undo_chunk_keeps_what_ran_before_an_exception(mh4_rig):
    with pytest.raises(ValueError):
        with scene.undo_chunk("no roll back"):
            cmds.setKeyframe(JAW, time=1, value=0.5)
            raise ValueError("half way")
    assert cmds.keyframe(JAW, query=True, keyframeCount=True) == 1      # Maya does not roll back
    assert cmds.undoInfo(query=True, undoName=True) == "no roll back"
    cmds.undo()
    assert curves(mh4_rig) == []


def test_mtime_is_in_its_own_unit(mh4_rig):
    cmds.currentUnit(time="ntsc")
    assert om.MTime.uiUnit() == om.MTime.kNTSCFrame
    assert om.MTime(10).unit == om.MTime.kFilm                          # the API's default, not the scene's
    times = fake_maya.MTimeArray([om.MTime(24, om.MTime.kFilm), om.MTime(15, om.MTime.uiUnit())])
    assert times.values.tolist() == [30.0, 15.0]                        # one second = 30 ntsc frames


@pytest.mark.parametrize("platform, movie", [("windows", "qt"), ("mac", "avfoundation"), ("linux", None)])
def test_playblast_offers_the_platforms_formats_only(maya_scene, tmp_path, platform, movie):
    maya_scene.platform = platform
    formats = mel.eval("playblast -query -format")
    assert "image" in formats and (movie in formats if movie else True)
    assert ("avi" in formats) == (platform == "windows")
    with pytest.raises(RuntimeError, match="not available"):
        cmds.playblast(filename=str(tmp_path / "x"), format="avi" if platform != "windows" else "movie",
                       compression="none")
    maya_scene.playblast_error = "no OpenGL context"
    with pytest.raises(RuntimeError, match="no OpenGL context"):
        cmds.playblast(filename=str(tmp_path / "x"), format="image", compression="png")


# --- 1. the plug-in is loaded by its file name ----------------------------------------------------------

def test_apply_loads_the_plugin_by_its_py_file_name_and_is_undoable(mh4_rig, take_factory):
    assert "faceretarget" not in mh4_rig.plugins and not mh4_rig.batch
    report = retarget_maya.apply_take(take_factory(fps=24.0, seconds=1.0), start_frame=1)
    assert report.key_path == keying.FAST and "faceretarget" in mh4_rig.plugins
    assert mh4_rig.calls["faceRetargetCommit"] == 1 and not any("plug-in" in w for w in report.warnings)
    cmds.undo()
    assert curves(mh4_rig) == []


def test_the_plugin_is_loaded_by_path_when_it_is_not_on_the_plugin_path(mh4_rig, take_factory):
    mh4_rig.plugin_path = []                         # the module was added by hand, without plug-ins/
    report = retarget_maya.apply_take(take_factory(fps=24.0, seconds=1.0), start_frame=1)
    assert report.key_path == keying.FAST and mh4_rig.plugins["faceretarget"]["path"] == paths.plugin_file()


def test_a_plugin_that_cannot_be_loaded_is_reported(mh4_rig, take_factory, monkeypatch, tmp_path):
    mh4_rig.plugin_path = []
    monkeypatch.setattr(paths, "plugin_file", lambda: str(tmp_path / "faceretarget.py"))
    take = take_factory(fps=24.0, seconds=0.5)
    report = retarget_maya.apply_take(take, start_frame=1)
    assert report.key_path == keying.FALLBACK
    assert "could not be loaded" in report.summary() and "undo works" in report.summary()
    forced = retarget_maya.apply_take(take, start_frame=1, fast=True)
    assert forced.key_path == keying.FAST and "will NOT remove them" in forced.summary()


# --- 2. the batch: save first, formats this Maya offers, a chosen camera ------------------------------

def offers(platform):
    table = fake_maya.PLAYBLAST_FORMATS[platform]
    return sorted(table), lambda name: table.get(name, [])


@pytest.mark.parametrize("platform, path, expected", [
    ("windows", "/o/preview.mov", ("qt", "H.264", "/o/preview")),
    ("mac", "/o/preview.mov", ("avfoundation", "H.264", "/o/preview")),
    ("linux", "/o/preview.mov", ("image", "png", "/o/preview")),
    ("windows", "/o/preview.avi", ("avi", "none", "/o/preview")),
    ("mac", "/o/preview.avi", ("image", "png", "/o/preview")),
    ("linux", "/o/frames.jpg", ("image", "jpg", "/o/frames")),
    ("windows", "/o/frames", ("image", "png", "/o/frames")),
])
def test_playblast_format_follows_what_this_maya_offers(platform, path, expected):
    plan = batch.choose_playblast_format(path, *offers(platform))
    assert (plan.format, plan.compression, plan.filename) == expected
    fell_back = path.endswith((".mov", ".avi")) and plan.format == "image"
    assert bool(plan.note) == fell_back
    if fell_back:
        assert "writing an image sequence instead: /o/preview.####.png" in plan.note


def test_playblast_format_spellings_and_no_image_format():
    plan = batch.choose_playblast_format("p.mov", ["qt"], lambda name: ["Animation", "h264"])
    assert (plan.format, plan.compression) == ("qt", "h264")
    with pytest.raises(RuntimeError, match="offers no playblast format for p.mov"):
        batch.choose_playblast_format("p.mov", ["qt"], lambda name: ["Animation"])


@pytest.fixture
def template(maya_scene, tmp_path):
    fake_maya.build_face_board("mh4", namespace="MH")
    shot = maya_scene.add_node("shotCam", "transform")
    maya_scene.add_node("shotCamShape", "camera", parent=shot.name).attrs["renderable"] = fake_maya.Attr(0.0)
    path = str(tmp_path / "template.ma")
    cmds.file(rename=path)
    cmds.file(save=True, type="mayaAscii")
    fake_maya.reset()
    return path


def run_batch(tmp_path, template, *extra, name="clip"):
    video = tmp_path / (name + ".mp4")
    video.write_text(json.dumps({"mode": "ok", "seconds": 1.0}))
    out = str(tmp_path / (name + "_take"))
    code = batch.main(["--scene", template, "--video", str(video), "--out", out,
                       "--engine-python", sys.executable] + list(extra), entry=FAKE_ENGINE)
    return code, out


def saved_keys(path):
    fake_maya.reset()
    cmds.file(path, open=True, force=True)
    return cmds.keyframe(JAW, query=True, keyframeCount=True)


def test_a_mov_on_linux_becomes_an_image_sequence_and_says_so(template, tmp_path, capsys):
    fake_maya.scene().platform = "linux"
    code, out = run_batch(tmp_path, template, "--playblast", str(tmp_path / "preview.mov"))
    printed = capsys.readouterr().out
    assert code == 0, printed
    assert "offers no QuickTime H.264 or AVFoundation H.264 for .mov" in printed
    frames = sorted(n for n in os.listdir(tmp_path) if n.startswith("preview"))
    assert frames == ["preview.%04d.png" % f for f in range(1, 26)]


def test_a_failing_playblast_leaves_the_keyed_scene_saved(template, tmp_path, capsys):
    fake_maya.scene().platform = "windows"
    fake_maya.scene().playblast_error = "playblast: no OpenGL context on this render node"
    code, out = run_batch(tmp_path, template, "--playblast", str(tmp_path / "preview.mov"))
    printed = capsys.readouterr().out
    assert code == 1
    saved = os.path.join(out, "template.ma")
    assert ("FAILED clip_take: playblast failed: playblast: no OpenGL context on this render node (the take "
            "was applied; the keyed scene is saved: %s)" % saved) in printed
    assert saved_keys(saved) == 25


def test_mayapy_playblasts_through_the_chosen_camera(template, tmp_path, capsys):
    fake_maya.scene().platform = "windows"
    code, out = run_batch(tmp_path, template, "--playblast", str(tmp_path / "p.mov"), "--camera", "shotCam")
    assert code == 0, capsys.readouterr().out
    maya_scene = fake_maya.scene()
    assert maya_scene.batch                                      # mayapy: no model panel
    assert maya_scene.playblasts[-1]["cameras"] == ["shotCam"]
    assert maya_scene.playblasts[-1]["filename"] == str(tmp_path / "p")      # Maya adds the extension
    assert [n.attrs["renderable"].value for n in (maya_scene.nodes["perspShape"], maya_scene.nodes["shotCamShape"])] \
        == [1.0, 0.0]                                            # restored afterwards
    code, out = run_batch(tmp_path, template, "--playblast", str(tmp_path / "q.mov"), "--camera", "nobody",
                          name="other")
    assert code == 1 and "No camera named nobody" in capsys.readouterr().out
    assert saved_keys(os.path.join(out, "template.ma")) == 25


def test_with_ui_the_model_panel_looks_through_the_camera(template, tmp_path):
    cmds.file(template, open=True, force=True)
    maya_scene = fake_maya.scene()
    maya_scene.platform = "windows"
    written = batch.playblast(str(tmp_path / "ui.avi"), 1, 3, None, "shotCam")
    assert written == str(tmp_path / "ui.avi") and maya_scene.playblasts[-1]["cameras"] == ["shotCam"]
    assert maya_scene.panels["modelPanel4"] == "persp"


# --- 3. installer backups stay out of the modules folder -------------------------------------------------

def test_install_backups_go_outside_the_modules_folder(tmp_path):
    modules = tmp_path / "modules"
    modules.mkdir()
    old_backup = "FaceRetarget.mod.backup-20200101-000000"          # left there by an earlier installer
    (modules / old_backup).write_text("+ FaceRetarget 0.0 /old\n")
    first = install.install_module(modules_dir=str(modules), now=0)
    second = install.install_module(modules_dir=str(modules), now=0)
    assert os.listdir(modules) == ["FaceRetarget.mod"]          # Maya reads every file in this folder
    backups = tmp_path / "FaceRetarget_backups"
    assert first.moved_backups == [str(backups / old_backup)] and first.backup is None
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(0))
    assert second.backup == str(backups / ("FaceRetarget.mod.backup-" + stamp)) and second.backup_dir == str(backups)
    assert sorted(os.listdir(backups)) == sorted([old_backup, "FaceRetarget.mod.backup-" + stamp])
    assert open(second.backup).read() == open(modules / "FaceRetarget.mod").read()


# --- 4. a failed apply is rolled back, and says so -------------------------------------------------------

def test_a_failing_image_plane_rolls_back_every_key(mh4_rig, take_factory, tmp_path):
    video = tmp_path / "clip.mp4"
    video.write_bytes(b"movie")
    cmds.setKeyframe(JAW, time=5, value=0.25)
    before, steps = snapshot(mh4_rig), len(mh4_rig.undo_steps)
    mh4_rig.fail_on["imagePlane"] = 1
    with pytest.raises(RuntimeError) as failure:
        retarget_maya.apply_take(take_factory(fps=24.0, seconds=1.0, video=str(video)), start_frame=1,
                                 image_plane=True, fit_playback_range=True)
    assert curves(mh4_rig) == [mh4_rig.nodes["MH:CTRL_C_jaw"].attrs["translateY"].curve]    # not 174
    assert snapshot(mh4_rig) == before and len(mh4_rig.undo_steps) == steps
    message = str(failure.value)
    assert "injected failure in imagePlane" in message and "the scene is as it was before" in message
    assert isinstance(failure.value, scene.EditFailed) and failure.value.scene_restored


def test_in_batch_the_api_keys_are_reverted_too(mh4_rig, take_factory, tmp_path):
    """mayapy: API edits never reach the undo queue; on a failure they are reverted before the undo."""
    mh4_rig.batch = True
    for frame, value in ((-10, 0.3), (500, 0.7)):
        cmds.setKeyframe(JAW, time=frame, value=value)
    before = snapshot(mh4_rig)
    video = tmp_path / "clip.mp4"
    video.write_bytes(b"movie")
    mh4_rig.fail_on["imagePlane"] = 1
    with pytest.raises(RuntimeError) as failure:
        retarget_maya.apply_take(take_factory(fps=24.0, seconds=1.0, video=str(video)), start_frame=1,
                                 image_plane=True)
    assert mh4_rig.calls["MFnAnimCurve.addKeys"] == 174 and mh4_rig.calls.get("faceRetargetCommit", 0) == 0
    assert snapshot(mh4_rig) == before
    assert "the scene is as it was before" in str(failure.value)


def test_with_undo_off_the_message_says_the_scene_may_hold_part_of_it(mh4_rig, take_factory, tmp_path):
    video = tmp_path / "clip.mp4"
    video.write_bytes(b"movie")
    cmds.undoInfo(state=False)
    mh4_rig.fail_on["imagePlane"] = 1
    with pytest.raises(RuntimeError) as failure:
        retarget_maya.apply_take(take_factory(fps=24.0, seconds=1.0, video=str(video)), start_frame=1,
                                 image_plane=True)
    assert "Undo is off" in str(failure.value) and not failure.value.scene_restored


def test_a_failure_before_any_change_says_the_scene_is_unchanged(mh4_rig, take_factory):
    cmds.setKeyframe(JAW, time=5, value=0.25)
    mh4_rig.fail_on["setKeyframe"] = 2                   # the apply's first key
    with pytest.raises(RuntimeError, match="It failed before changing the scene") as failure:
        retarget_maya.apply_take(take_factory(fps=24.0, seconds=1.0), start_frame=1)
    assert failure.value.scene_restored
    assert cmds.keyframe(JAW, query=True, keyframeCount=True) == 1
    np.testing.assert_allclose(cmds.keyframe(JAW, query=True, valueChange=True), [0.25])
