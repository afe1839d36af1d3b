"""apply_take / export_take against the fake Maya: mapping, clamping, resampling, layers, undo."""
from __future__ import annotations

import json
import os

import numpy as np
import pytest

import fake_maya
import maya_take_factory
from maya import cmds

import retarget_maya
from retarget_maya import keying, scene, takes

JAW = "MH:CTRL_C_jaw.ty"


def keys(plug):
    curve = cmds.listConnections(plug, source=True, destination=False, type="animCurve")
    node = fake_maya.scene().nodes[curve[0]]
    return node.times, node.values


def expected_at_frames(take, frames, scene_fps, start):
    table = takes.read_curve_csv(os.path.join(take, "faceboard.csv"))
    return table, np.column_stack([np.interp((frames - start) / scene_fps, table.times, table.values[:, j])
                                   for j in range(table.values.shape[1])])


@pytest.mark.parametrize("rig", ["mh4", "legacy"])
def test_apply_export_round_trip(maya_scene, take_factory, tmp_path, rig):
    fake_maya.build_face_board(rig, namespace="Actor")
    take = take_factory(rig=rig, fps=24.0, seconds=2.0)         # already at the scene rate: exact frames
    report = retarget_maya.apply_take(take, start_frame=1)
    assert report.generation == rig and len(report.keyed) == 174 and not report.missing
    assert not report.clamped
    out = retarget_maya.export_take("Actor", (1, 49), str(tmp_path / "exported"))
    info = json.load(open(os.path.join(out, "take.json")))
    assert info["source"] == "maya-export" and info["rig"] == rig and info["frame_count"] == 49
    assert info["format"] == "faceretarget-take/1" and info["fps"] == 24.0
    original = takes.read_curve_csv(os.path.join(take, "faceboard.csv"))
    exported = takes.read_curve_csv(os.path.join(out, "faceboard.csv"))
    assert exported.names == original.names
    np.testing.assert_allclose(exported.times, original.times, atol=1e-6)
    np.testing.assert_allclose(exported.values, original.values, atol=1e-5)
    # and the exported take applies again
    assert len(retarget_maya.apply_take(out, "Actor").keyed) == 174


@pytest.mark.parametrize("time_unit, fps", [("film", 24.0), ("pal", 25.0), ("ntsc", 30.0)])
def test_resampling_60_fps_take_to_scene_rate_and_start_offset(mh4_rig, take_factory, time_unit, fps):
    cmds.currentUnit(time=time_unit)
    take = take_factory(fps=60.0, seconds=2.0)
    report = retarget_maya.apply_take(take, start_frame=101, import_audio=False)
    frames = 101 + np.arange(int(2 * fps) + 1, dtype=float)
    assert (report.start_frame, report.end_frame, report.scene_fps) == (101, frames[-1], fps)
    table, expected = expected_at_frames(take, frames, fps, 101)
    column = table.names.index("CTRL_C_jaw.ty")
    times, values = keys(JAW)
    np.testing.assert_array_equal(times, frames)
    np.testing.assert_allclose(values, expected[:, column], atol=1e-6)


def test_start_frame_defaults_to_playback_start(mh4_rig, take_factory):
    cmds.playbackOptions(minTime=50, maxTime=200)
    report = retarget_maya.apply_take(take_factory(fps=24.0, seconds=1.0))
    assert report.start_frame == 50 and keys(JAW)[0][0] == 50


def test_clamps_to_the_scenes_own_limits(maya_scene, take_factory):
    # The scene's jaw opens only to 0.5 and the brow limit is switched off: its values pass unclamped.
    fake_maya.build_face_board("mh4", namespace="MH", limit_overrides={"CTRL_C_jaw.ty": (0.0, 0.5)})
    brow = maya_scene.nodes["MH:CTRL_L_brow_down"].attrs["translateY"]
    brow.limits_enabled = (False, False)
    times = np.arange(25) / 24.0
    names = ["CTRL_C_jaw.ty", "CTRL_L_brow_down.ty"]
    values = np.column_stack([np.linspace(0, 1, 25), np.linspace(-0.5, 1.5, 25)])
    take = take_factory(fps=24.0, times=times, values=values, names=names)
    report = retarget_maya.apply_take(take, start_frame=1)
    assert report.clamped == {"CTRL_C_jaw.ty": 12}
    np.testing.assert_allclose(keys(JAW)[1], np.minimum(values[:, 0], 0.5), atol=1e-6)
    np.testing.assert_allclose(keys("MH:CTRL_L_brow_down.ty")[1], values[:, 1], atol=1e-5)
    unclamped = retarget_maya.apply_take(take, start_frame=1, clamp=False)
    assert unclamped.clamped == {} and keys(JAW)[1].max() == pytest.approx(1.0)


def test_missing_controls_are_reported_not_fatal(maya_scene, take_factory):
    fake_maya.build_face_board("mh4", namespace="MH", drop=("CTRL_L_brow_down", "CTRL_C_jaw"))
    report = retarget_maya.apply_take(take_factory(fps=24.0, seconds=0.5))
    assert sorted(report.missing) == ["CTRL_C_jaw.tx", "CTRL_C_jaw.ty", "CTRL_L_brow_down.ty"]
    assert len(report.keyed) == 171
    assert "lacks 3 attribute(s)" in report.summary()


def test_unknown_columns_and_generation_mismatch_warn(mh4_rig, take_factory):
    take = take_factory(rig="legacy", fps=24.0, seconds=0.5)
    report = retarget_maya.apply_take(take)
    assert any("solved for a legacy rig" in w for w in report.warnings)
    assert "CTRL_C_eye.tx" in report.missing            # legacy-only controls are not on an MH4 board


def test_replace_keeps_keys_outside_the_range(mh4_rig, take_factory):
    for frame, value in ((-10, 0.3), (1, 0.9), (500, 0.7)):
        cmds.setKeyframe(JAW, time=frame, value=value)
    retarget_maya.apply_take(take_factory(fps=24.0, seconds=1.0), start_frame=1, import_audio=False)
    times, values = keys(JAW)
    assert times[0] == -10 and times[-1] == 500 and len(times) == 25 + 2
    assert values[0] == pytest.approx(0.3) and values[-1] == pytest.approx(0.7)


def test_fast_path_writes_each_curve_in_one_call(mh4_rig, take_factory):
    before = dict(mh4_rig.calls)
    report = retarget_maya.apply_take(take_factory(fps=60.0, seconds=2.0), start_frame=1)
    calls = {k: v - before.get(k, 0) for k, v in mh4_rig.calls.items()}
    assert report.key_path == keying.FAST
    assert calls["MFnAnimCurve.addKeys"] == 174
    assert calls["setKeyframe"] == 174                  # the first key of each curve only
    assert calls["faceRetargetCommit"] == 1             # the API edits joined the undo chunk


def test_cmds_fallback_gives_the_same_keys(mh4_rig, take_factory):
    take = take_factory(fps=60.0, seconds=1.0)
    retarget_maya.apply_take(take, start_frame=1)
    fast = {p: keys(p) for p in (JAW, "MH:CTRL_R_mouth_corner.tx")}
    report = retarget_maya.apply_take(take, start_frame=1, fast=False)
    assert report.key_path == keying.FALLBACK
    for plug, (times, values) in fast.items():
        np.testing.assert_array_equal(keys(plug)[0], times)
        np.testing.assert_allclose(keys(plug)[1], values)


def test_without_openmayaanim_the_fallback_is_used(mh4_rig, take_factory):
    import importlib
    fake_maya.install(with_api=False)
    try:
        importlib.reload(keying)
        assert not keying.HAVE_API
        report = retarget_maya.apply_take(take_factory(fps=24.0, seconds=0.5))
        assert report.key_path == keying.FALLBACK and mh4_rig.calls["MFnAnimCurve.addKeys"] == 0
        assert len(keys(JAW)[0]) == 13
    finally:
        fake_maya.install()
        importlib.reload(keying)
    assert keying.HAVE_API


@pytest.mark.parametrize("fast", [True, False])
def test_one_undo_step_restores_the_scene(mh4_rig, take_factory, fast):
    cmds.setKeyframe(JAW, time=5, value=0.25)
    before_steps = len(mh4_rig.undo_steps)
    retarget_maya.apply_take(take_factory(fps=24.0, seconds=1.0), start_frame=1, fast=fast)
    assert mh4_rig.chunk_names[-1] == "FaceRetarget: apply take"
    assert len(mh4_rig.undo_steps) == before_steps + 1
    assert "FaceRetarget_audio" in mh4_rig.nodes
    cmds.undo()
    times, values = keys(JAW)
    assert times.tolist() == [5.0] and values.tolist() == [0.25]
    assert cmds.listConnections("MH:CTRL_L_brow_down.ty", source=True, destination=False, type="animCurve") is None
    assert "FaceRetarget_audio" not in mh4_rig.nodes
    cmds.redo()
    assert len(keys(JAW)[0]) == 25


@pytest.mark.parametrize("fast", [True, False])
def test_undo_chunk_closed_and_rolled_back_when_apply_fails_midway(mh4_rig, take_factory, fast):
    cmds.setKeyframe(JAW, time=5, value=0.25)
    steps = len(mh4_rig.undo_steps)
    mh4_rig.fail_on["setKeyframe"] = 1 + (80 if fast else 80 * 25)       # fails on the 80th curve
    with pytest.raises(scene.EditFailed, match="injected failure") as failure:
        retarget_maya.apply_take(take_factory(fps=24.0, seconds=1.0), start_frame=1, fast=fast)
    assert not mh4_rig.open_chunks
    assert failure.value.scene_restored and "the scene is as it was before" in str(failure.value)
    # the partial apply was undone already: the artist's own key is the next thing Edit > Undo undoes
    assert keys(JAW)[0].tolist() == [5.0] and len(mh4_rig.undo_steps) == steps
    curves = [n for n in mh4_rig.nodes.values() if n.type.startswith("animCurve")]
    assert len(curves) == 1


def test_layer_mode_keys_a_new_layer_and_leaves_the_base(mh4_rig, take_factory):
    cmds.setKeyframe(JAW, time=1, value=0.2)
    take = take_factory(fps=24.0, seconds=1.0)
    report = retarget_maya.apply_take(take, start_frame=1, mode="layer", layer_name="Mocap", import_audio=False)
    assert report.layer == "Mocap" and cmds.animLayer("Mocap", query=True, exists=True)
    jaw = mh4_rig.nodes["MH:CTRL_C_jaw"].attrs["translateY"]
    base = mh4_rig.nodes[jaw.curve]
    assert base.times.tolist() == [1.0]
    layer_curve = cmds.animLayer("Mocap", query=True, findCurveForPlug=JAW)[0]
    assert len(mh4_rig.nodes[layer_curve].times) == 25
    value = takes.read_curve_csv(os.path.join(take, "faceboard.csv")).column("CTRL_C_jaw.ty")[12]
    assert cmds.getAttr(JAW, time=13) == pytest.approx(0.2 + value)
    # replace mode on layered controls keys the base layer
    retarget_maya.apply_take(take, start_frame=1, import_audio=False)
    assert len(mh4_rig.nodes[jaw.curve].times) == 25
    assert len(mh4_rig.nodes[layer_curve].times) == 25
    # the exported take is what Maya plays: base + layer
    exported = retarget_maya.export_take("MH", (1, 25), os.path.join(os.path.dirname(take), "exp"))
    jaw = takes.read_curve_csv(os.path.join(exported, "faceboard.csv")).column("CTRL_C_jaw.ty")
    assert jaw[12] == pytest.approx(2 * value, abs=1e-5)


def test_audio_and_image_plane(mh4_rig, take_factory, tmp_path):
    video = tmp_path / "clip.mp4"
    video.write_bytes(b"not really a movie")
    report = retarget_maya.apply_take(take_factory(fps=24.0, seconds=0.5, video=str(video)), start_frame=10,
                                      image_plane=True)
    audio = mh4_rig.nodes[report.audio_node]
    assert audio.type == "audio" and audio.data["offset"] == 10 and audio.data["file"].endswith("audio.wav")
    plane = mh4_rig.nodes[report.image_plane]
    assert plane.attrs["type"].value == 2 and plane.attrs["frameOffset"].value == -9
    # applying again replaces them instead of piling up
    retarget_maya.apply_take(take_factory("again", fps=24.0, seconds=0.5, video=str(video)), image_plane=True)
    assert sum(1 for n in mh4_rig.nodes.values() if n.type == "audio") == 1


def test_take_without_audio_warns(mh4_rig, take_factory):
    report = retarget_maya.apply_take(take_factory(fps=24.0, seconds=0.5, audio=False))
    assert report.audio_node is None and "no audio" in " ".join(report.warnings)


def test_scene_linear_unit_is_respected(mh4_rig, take_factory):
    cmds.currentUnit(linear="m")
    take = take_factory(fps=24.0, seconds=0.5)
    retarget_maya.apply_take(take, start_frame=1, fast=False)
    value = takes.read_curve_csv(os.path.join(take, "faceboard.csv")).column("CTRL_C_jaw.ty")
    np.testing.assert_allclose(keys(JAW)[1], value, atol=1e-9)          # stored in cm, like the rig
    assert cmds.getAttr(JAW, time=1) == pytest.approx(value[0] / 100)


def test_rig_lookup_messages(maya_scene, take_factory):
    take = take_factory(fps=24.0, seconds=0.5)
    with pytest.raises(scene.RigNotFound, match="No MetaHuman face board found"):
        retarget_maya.apply_take(take)
    fake_maya.build_face_board("mh4", namespace="A")
    fake_maya.build_face_board("legacy", namespace="B")
    with pytest.raises(scene.RigNotFound, match="2 face boards"):
        retarget_maya.apply_take(take)
    assert retarget_maya.apply_take(take, "B:").generation == "legacy"
    assert retarget_maya.apply_take(take, "A:CTRL_C_jaw").generation == "mh4"
    with pytest.raises(scene.RigNotFound, match="No face board in namespace 'C'"):
        retarget_maya.apply_take(take, "C")


def test_root_namespace_rig(maya_scene, take_factory):
    fake_maya.build_face_board("mh4")
    rigs = retarget_maya.find_rigs()
    assert [r.namespace for r in rigs] == [""] and "root namespace" in rigs[0].label
    assert len(retarget_maya.apply_take(take_factory(fps=24.0, seconds=0.5)).keyed) == 174


def test_export_of_sparse_animator_keys_evaluates_each_frame(mh4_rig, tmp_path):
    cmds.setKeyframe(JAW, time=1, value=0.0)
    cmds.setKeyframe(JAW, time=11, value=1.0)
    out = retarget_maya.export_take(None, (1, 11), str(tmp_path / "sparse"))
    table = takes.read_curve_csv(os.path.join(out, "faceboard.csv"))
    np.testing.assert_allclose(table.column("CTRL_C_jaw.ty"), np.linspace(0, 1, 11), atol=1e-6)
    np.testing.assert_allclose(table.column("CTRL_L_brow_down.ty"), 0.0)     # unkeyed: its value


def test_export_lists_missing_controls_at_default(maya_scene, tmp_path):
    fake_maya.build_face_board("mh4", namespace="MH", drop=("CTRL_C_jaw",))
    out = retarget_maya.export_take("MH", (1, 3), str(tmp_path / "e"))
    info = json.load(open(os.path.join(out, "take.json")))
    assert info["warnings"][0]["attributes"] == ["CTRL_C_jaw.ty", "CTRL_C_jaw.tx"] or \
        sorted(info["warnings"][0]["attributes"]) == ["CTRL_C_jaw.tx", "CTRL_C_jaw.ty"]


def test_full_size_take_uses_the_fast_path(mh4_rig, tmp_path):
    """10 minutes at 60 fps x 174 attributes (bench/maya_apply.py times it)."""
    take = maya_take_factory.write_take(str(tmp_path / "long"), fps=60.0, seconds=600.0, arkit=False,
                                        audio=False)
    cmds.currentUnit(time="ntscf")
    report = retarget_maya.apply_take(take, start_frame=1)
    assert report.key_path == keying.FAST and len(report.keyed) == 174
    assert len(keys(JAW)[0]) == 36001
    assert mh4_rig.calls["MFnAnimCurve.addKeys"] == 174
