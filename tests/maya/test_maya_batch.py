"""mayapy batch: engine -> apply -> playblast -> save, one clip or a manifest, real exit codes."""
from __future__ import annotations

import json
import os
import sys

import pytest

import fake_maya
from maya import cmds

from retarget_maya import batch

FAKE_ENGINE = [os.path.join(os.path.dirname(os.path.abspath(__file__)), "maya_fake_engine.py")]


@pytest.fixture
def template_scene(maya_scene, tmp_path):
    fake_maya.build_face_board("mh4", namespace="MH")
    path = str(tmp_path / "template.ma")
    cmds.file(rename=path)
    cmds.file(save=True, type="mayaAscii")
    fake_maya.reset().platform = "windows"      # QuickTime H.264 and AVI are offered (see test_maya_strict)
    return path


def behaviour(tmp_path, name, **options):
    path = tmp_path / name
    path.write_text(json.dumps(options))
    return str(path)


def test_one_clip(template_scene, tmp_path, capsys):
    video = behaviour(tmp_path, "clip.mp4", mode="ok", seconds=1.0)
    audio = tmp_path / "clip.wav"
    audio.write_bytes(b"RIFF")
    out = str(tmp_path / "clip_take")
    code = batch.main(["--scene", template_scene, "--video", video, "--audio", str(audio), "--out", out,
                       "--playblast", os.path.join(out, "preview.mov"), "--engine-python", sys.executable],
                      entry=FAKE_ENGINE)
    printed = capsys.readouterr().out
    assert code == 0, printed
    assert "1 clip(s): 1 ok, 0 failed" in printed
    assert os.path.isfile(os.path.join(out, "take.json"))
    assert open(os.path.join(out, "preview.mov")).read().startswith("fake playblast 1-25")
    saved = os.path.join(out, "template.ma")
    fake_maya.reset()
    cmds.file(saved, open=True, force=True)
    assert cmds.keyframe("MH:CTRL_C_jaw.ty", query=True, keyframeCount=True) == 25
    assert cmds.playbackOptions(query=True, maxTime=True) == 25
    fake_maya.reset()                                            # the template was not overwritten
    cmds.file(template_scene, open=True, force=True)
    assert cmds.keyframe("MH:CTRL_C_jaw.ty", query=True, keyframeCount=True) == 0


def test_manifest_goes_on_past_a_bad_clip(template_scene, tmp_path, capsys):
    clips = [
        {"video": behaviour(tmp_path, "a.mp4", mode="ok"), "out": "a_take"},
        {"video": behaviour(tmp_path, "b.mp4", mode="error"), "out": "b_take"},
        {"video": behaviour(tmp_path, "c.mp4", mode="ok"), "out": "c_take", "playblast": "c.avi"},
        {"video": behaviour(tmp_path, "d.mp4", mode="silent-fail"), "out": "d_take"},
    ]
    manifest = tmp_path / "clips.json"
    manifest.write_text(json.dumps({"defaults": {"scene": template_scene, "engine_python": sys.executable},
                                    "clips": clips}))
    code = batch.main(["--manifest", str(manifest)], entry=FAKE_ENGINE)
    printed = capsys.readouterr().out
    assert code == 1
    assert "4 clip(s): 2 ok, 2 failed" in printed
    assert "FAILED b_take: engine failed: no face found in the video (hint: check that the face is visible)" in printed
    assert "FAILED d_take: engine failed: the engine exited with code 1" in printed
    assert os.path.isfile(tmp_path / "c_take" / "template.ma") and os.path.isfile(tmp_path / "c.avi")
    assert not os.path.exists(tmp_path / "b_take")


def test_actor_profile_goes_to_the_engine(template_scene, tmp_path, capsys):
    (tmp_path / "actors").mkdir()
    (tmp_path / "actors" / "hero.json").write_text("{}")
    clips = [{"video": behaviour(tmp_path, "a.mp4", mode="ok"), "out": "a_take", "actor": "actors/hero.json"},
             {"video": behaviour(tmp_path, "b.mp4", mode="ok"), "out": "b_take"}]
    manifest = tmp_path / "clips.json"
    manifest.write_text(json.dumps({"defaults": {"scene": template_scene, "engine_python": sys.executable},
                                    "clips": clips}))
    assert batch.main(["--manifest", str(manifest)], entry=FAKE_ENGINE) == 0, capsys.readouterr().out
    recorded = [json.load(open(tmp_path / name / "take.json"))["actor"] for name in ("a_take", "b_take")]
    assert recorded == [{"path": str(tmp_path / "actors" / "hero.json")}, None]
    video = behaviour(tmp_path, "c.mp4", mode="ok")
    code = batch.main(["--scene", template_scene, "--video", video, "--out", str(tmp_path / "c_take"),
                       "--actor", str(tmp_path / "nobody.json"), "--engine-python", sys.executable],
                      entry=FAKE_ENGINE)
    assert code == 1 and "actor profile not found" in capsys.readouterr().out


def test_the_face_is_read_both_ways_unless_the_clip_asks_for_a_single_pass(template_scene, tmp_path, capsys):
    clips = [{"video": behaviour(tmp_path, "a.mp4", mode="ok"), "out": "a_take"},
             {"video": behaviour(tmp_path, "b.mp4", mode="ok"), "out": "b_take", "single_pass": True}]
    manifest = tmp_path / "clips.json"
    manifest.write_text(json.dumps({"defaults": {"scene": template_scene, "engine_python": sys.executable},
                                    "clips": clips}))
    assert batch.main(["--manifest", str(manifest)], entry=FAKE_ENGINE) == 0, capsys.readouterr().out
    symmetric = [json.load(open(tmp_path / name / "take.json"))["tracking"]["symmetric"] for name in ("a_take", "b_take")]
    assert symmetric == [True, False]
    out = str(tmp_path / "c_take")
    assert batch.main(["--scene", template_scene, "--video", behaviour(tmp_path, "c.mp4", mode="ok"), "--out", out,
                       "--single-pass", "--engine-python", sys.executable], entry=FAKE_ENGINE) == 0
    assert json.load(open(os.path.join(out, "take.json")))["tracking"]["symmetric"] is False


def test_the_speech_language_goes_to_the_engine(template_scene, tmp_path, capsys):
    audio = tmp_path / "line.wav"
    audio.write_bytes(b"RIFF")
    clips = [{"video": behaviour(tmp_path, "a.mp4", mode="ok"), "out": "a_take", "audio": str(audio),
              "language": "zh"},
             {"video": behaviour(tmp_path, "b.mp4", mode="ok"), "out": "b_take", "audio": str(audio)}]
    manifest = tmp_path / "clips.json"
    manifest.write_text(json.dumps({"defaults": {"scene": template_scene, "engine_python": sys.executable},
                                    "clips": clips}))
    assert batch.main(["--manifest", str(manifest)], entry=FAKE_ENGINE) == 0, capsys.readouterr().out
    languages = [json.load(open(tmp_path / name / "take.json"))["options"]["audio"]["language"]
                 for name in ("a_take", "b_take")]
    assert languages == ["zh", "en"]
    with pytest.raises(SystemExit):
        batch.parse_args(["--scene", template_scene, "--language", "klingon"])


def test_a_scene_without_a_face_board_fails_that_clip_before_the_engine(maya_scene, tmp_path, capsys):
    empty = str(tmp_path / "empty.ma")
    cmds.file(rename=empty)
    cmds.file(save=True)
    video = behaviour(tmp_path, "v.mp4", mode="ok")
    code = batch.main(["--scene", empty, "--video", video, "--out", str(tmp_path / "v_take"),
                       "--engine-python", sys.executable], entry=FAKE_ENGINE)
    assert code == 1
    assert "FAILED v_take: No MetaHuman face board found in the scene" in capsys.readouterr().out
    assert not os.path.exists(tmp_path / "v_take")


def test_apply_an_existing_take_without_the_engine(template_scene, take_factory, tmp_path, capsys):
    take = take_factory(fps=24.0, seconds=0.5)
    save_as = str(tmp_path / "out" / "shot.ma")
    os.makedirs(os.path.dirname(save_as))
    assert batch.main(["--scene", template_scene, "--take", take, "--save-as", save_as]) == 0
    assert os.path.isfile(save_as)


def test_usage_errors_exit_2(capsys, tmp_path):
    assert batch.main(["--scene", "s.ma"]) == 2
    assert "missing" in capsys.readouterr().out
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"clips": [{"scene": "s.ma", "out": "o", "video": "v", "colour": "red"}]}))
    assert batch.main(["--manifest", str(bad)]) == 2
    assert "unknown key(s): colour" in capsys.readouterr().out


def test_exit_code_goes_through_cmds_quit(template_scene, tmp_path):
    video = behaviour(tmp_path, "x.mp4", mode="error")
    argv = ["--scene", template_scene, "--video", video, "--out", str(tmp_path / "x_take"),
            "--engine-python", sys.executable]
    with pytest.raises(SystemExit) as exit_info:
        batch.run_as_script(argv, entry=FAKE_ENGINE)
    assert exit_info.value.code == 1 and fake_maya.scene().quit_code == 1


def test_usage_error_exits_without_starting_maya(maya_scene, monkeypatch):
    monkeypatch.setattr(batch, "_maya_started", False)
    with pytest.raises(SystemExit) as exit_info:
        batch.run_as_script(["--video", "v.mp4"])
    assert exit_info.value.code == 2 and maya_scene.quit_code is None
