"""The Retarget dialog offscreen (PySide6): fields, validation, remembered settings, a fake engine's
progress, cancel, errors, and applying the take."""
from __future__ import annotations

import json
import os
import sys
import time

import psutil
import pytest

import fake_maya
from maya import cmds

from retarget_maya import dialog as dialog_module
from retarget_maya import protocol
from retarget_maya.dialog import (
    ARKIT_FILTER, SOURCE_ARKIT, SOURCE_VIDEO, VIDEO_FILTER, RetargetDialog, suggest_take_folder,
)
from retarget_maya.qt import QT_BINDING, QtCore, QtWidgets
from retarget_maya.settings import DialogSettings

FAKE_ENGINE = [os.path.join(os.path.dirname(os.path.abspath(__file__)), "maya_fake_engine.py")]


def wait_until(app, condition, timeout=20.0):
    deadline = time.time() + timeout
    while not condition():
        if time.time() > deadline:
            raise AssertionError("timed out")
        app.processEvents(QtCore.QEventLoop.ProcessEventsFlag.AllEvents, 50)
        time.sleep(0.005)


@pytest.fixture
def settings(tmp_path):
    return DialogSettings(QtCore.QSettings(str(tmp_path / "settings.ini"), QtCore.QSettings.Format.IniFormat))


@pytest.fixture
def make_dialog(qt_app, settings, monkeypatch):
    monkeypatch.delenv("FACERETARGET_ENGINE_PYTHON", raising=False)
    dialogs = []

    def make(**kwargs):
        dialog = RetargetDialog(settings=kwargs.pop("settings", settings), engine_entry=FAKE_ENGINE, **kwargs)
        dialogs.append(dialog)
        return dialog
    yield make
    for dialog in dialogs:
        if dialog.engine is not None and dialog.engine.is_running():
            dialog.engine.cancel()
            dialog.engine.wait(5000)
        dialog.deleteLater()


def fill(dialog, tmp_path, mode="ok", **behaviour):
    video = tmp_path / ("clip_%s.mp4" % mode)
    video.write_text(json.dumps(dict(mode=mode, **behaviour)))
    dialog.video_edit.setText(str(video))
    dialog.take_edit.setText(str(tmp_path / ("take_%s" % mode)))
    dialog.python_edit.setText(sys.executable)
    return video


def test_runs_under_the_expected_qt_binding():
    """PySide6 in the main environment; .ci/run also runs tests/maya in one with only PySide2 (Maya
    2022-2024) and says so with FACERETARGET_EXPECT_QT."""
    assert QT_BINDING == os.environ.get("FACERETARGET_EXPECT_QT", "PySide6")


def test_validation_messages_without_a_rig(maya_scene, make_dialog, tmp_path):
    dialog = make_dialog()
    assert "No MetaHuman face board found" in dialog.rig_message.text()
    assert dialog.run() is False
    text = dialog.message_label.text()
    for expected in ("Choose the video", "Choose the take folder", "No target rig", "Set the engine's Python"):
        assert expected in text
    dialog.video_edit.setText(str(tmp_path / "missing.mp4"))
    dialog.audio_edit.setText(str(tmp_path / "missing.wav"))
    dialog.take_edit.setText(str(tmp_path))                      # exists already
    problems = "\n".join(dialog.validate())
    assert "The video does not exist" in problems and "The audio does not exist" in problems
    assert "The take folder already exists" in problems


def test_rig_and_start_frame_come_from_the_scene(maya_scene, make_dialog):
    fake_maya.build_face_board("legacy", namespace="Hero")
    cmds.playbackOptions(minTime=1001, maxTime=1100)
    dialog = make_dialog()
    assert dialog.rig_combo.count() == 1 and "legacy" in dialog.rig_combo.currentText()
    assert dialog.rig_message.text() == "" and dialog.start_spin.value() == 1001
    assert dialog.request().rig == "legacy"


def test_settings_are_remembered(mh4_rig, make_dialog, settings, tmp_path):
    dialog = make_dialog()
    fill(dialog, tmp_path)
    dialog.audio_edit.setText("/a/b.wav")
    dialog.smoothing_check.setChecked(True)
    dialog.smoothing_spin.setValue(6.5)
    dialog.lip_combo.setCurrentText("blend")
    dialog.mode_combo.setCurrentIndex(1)
    dialog.image_plane_check.setChecked(True)
    dialog.save_settings()
    again = make_dialog()
    assert again.audio_edit.text() == "/a/b.wav" and again.python_edit.text() == sys.executable
    assert again.smoothing_check.isChecked() and again.smoothing_spin.value() == pytest.approx(6.5)
    assert again.lip_combo.currentText() == "blend" and again.mode_combo.currentData() == "layer"
    assert again.image_plane_check.isChecked()
    assert again.request().smoothing_hz == pytest.approx(6.5)


def test_environment_variable_overrides_the_engine_python(mh4_rig, make_dialog, monkeypatch, settings):
    settings.set("engine_python", "/remembered/python")
    monkeypatch.setenv("FACERETARGET_ENGINE_PYTHON", "/studio/python")
    dialog = make_dialog()
    assert dialog.python_edit.text() == "/studio/python" and not dialog.python_edit.isEnabled()
    dialog.save_settings()
    assert settings.text("engine_python") == "/remembered/python"


def test_run_shows_progress_then_applies_the_take(mh4_rig, make_dialog, qt_app, tmp_path):
    dialog = make_dialog()
    fill(dialog, tmp_path, seconds=1.0)
    stages, applied = [], []
    dialog.applied.connect(applied.append)
    assert dialog.run() is True
    assert not dialog.run_button.isEnabled() and dialog.cancel_button.isEnabled()
    dialog.engine.progress.connect(lambda e: stages.append((e.stage, e.done, e.total)))
    wait_until(qt_app, lambda: applied or dialog.message_label.text())
    assert applied, dialog.message_label.text()
    assert [s for s, d, t in stages if d == t] == ["decode", "track", "solve", "export"]
    assert dialog.stage_label.text() == "Done." and dialog.progress_bar.value() == 1000
    assert "174 attributes keyed" in dialog.message_label.text()
    assert "warning: cheekPuff stays near 0" in dialog.log_view.toPlainText()
    assert '"pythonpath": null' in dialog.log_view.toPlainText()      # Maya's PYTHONPATH did not leak
    assert cmds.keyframe("MH:CTRL_C_jaw.ty", query=True, keyframeCount=True) == 25
    assert dialog.run_button.isEnabled() and not dialog.cancel_button.isEnabled()


def test_cancel_ends_the_engine(mh4_rig, make_dialog, qt_app, tmp_path):
    dialog = make_dialog()
    fill(dialog, tmp_path, mode="slow", delay=0.02)
    assert dialog.run()
    progress = []
    dialog.engine.progress.connect(progress.append)
    wait_until(qt_app, lambda: len(progress) >= 3)
    pid = dialog.engine.process_id()
    assert psutil.pid_exists(pid)
    dialog.cancel()
    wait_until(qt_app, lambda: dialog.stage_label.text() == "Cancelled.")
    assert not dialog.engine.is_running()
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    leftovers = [n for n in os.listdir(tmp_path) if n.startswith(".take_slow")]
    assert leftovers == [] and not os.path.exists(tmp_path / "take_slow")
    assert cmds.keyframe("MH:CTRL_C_jaw.ty", query=True, keyframeCount=True) == 0
    assert dialog.run_button.isEnabled()


def test_engine_error_is_shown_with_its_hint(mh4_rig, make_dialog, qt_app, tmp_path):
    dialog = make_dialog()
    fill(dialog, tmp_path, mode="error")
    failures = []
    dialog.failed.connect(failures.append)
    assert dialog.run()
    wait_until(qt_app, lambda: failures)
    assert failures[0] == "no face found in the video\nHint: check that the face is visible"
    assert dialog.stage_label.text() == "The engine failed."
    assert "color" in dialog.message_label.styleSheet()


def test_crash_without_an_error_event_shows_the_exit_code_and_stderr(mh4_rig, make_dialog, qt_app, tmp_path):
    dialog = make_dialog()
    fill(dialog, tmp_path, mode="silent-fail")
    failures = []
    dialog.failed.connect(failures.append)
    assert dialog.run()
    wait_until(qt_app, lambda: failures)
    assert "exit code 1" in failures[0] and "Traceback: something broke" in failures[0]


def test_closing_a_running_dialog_cancels_the_engine(mh4_rig, make_dialog, qt_app, tmp_path):
    dialog = make_dialog()
    fill(dialog, tmp_path, mode="slow", delay=0.02)
    assert dialog.run()
    wait_until(qt_app, lambda: dialog.engine.process_id() and "decode" in dialog.stage_label.text())
    dialog.close()
    assert dialog.engine.wait(5000)


def pick_video(dialog, path, monkeypatch):
    """The artist picks `path` in the video row's file browser."""
    monkeypatch.setattr(dialog_module, "ask_path", lambda *args, **kwargs: str(path))
    dialog._browse(dialog.video_edit, "Video", VIDEO_FILTER, False)


def test_actor_profile_is_remembered_for_each_video_folder(mh4_rig, make_dialog, tmp_path, monkeypatch):
    clips, profiles = {}, {}
    (tmp_path / "profiles").mkdir()
    for actor in ("anna", "ben"):
        (tmp_path / actor).mkdir()
        clips[actor] = [tmp_path / actor / ("line%d.mp4" % i) for i in (1, 2)]
        for clip in clips[actor]:
            clip.write_text("{}")
        profiles[actor] = str(tmp_path / "profiles" / (actor + ".json"))
        open(profiles[actor], "w").write("{}")

    dialog = make_dialog()
    assert dialog.actor_edit.text() == "" and dialog.request().actor is None
    dialog.video_edit.setText(str(clips["anna"][0]))
    dialog.video_edit.editingFinished.emit()
    dialog.actor_edit.setText(profiles["anna"])
    args = protocol.engine_arguments(dialog.request())
    assert args[args.index("--actor") + 1] == profiles["anna"]
    dialog.save_settings()
    # Ben's footage: Anna's profile is not carried over to his clips; his own is remembered for his folder.
    pick_video(dialog, clips["ben"][0], monkeypatch)
    assert dialog.actor_edit.text() == ""
    dialog.actor_edit.setText(profiles["ben"])
    dialog.save_settings()

    again = make_dialog()
    assert again.actor_edit.text() == profiles["ben"]          # the last profile used
    pick_video(again, clips["anna"][1], monkeypatch)
    assert again.actor_edit.text() == profiles["anna"]
    again.video_edit.setText(str(clips["ben"][1]))
    again.video_edit.editingFinished.emit()
    assert again.actor_edit.text() == profiles["ben"]
    # A clip from a folder with no profile yet keeps a profile typed by hand, and is remembered without one
    # when the field is left empty.
    (tmp_path / "carl").mkdir()
    again.actor_edit.setText(str(tmp_path / "carl.json"))
    pick_video(again, tmp_path / "carl" / "line1.mp4", monkeypatch)
    assert again.actor_edit.text() == str(tmp_path / "carl.json")
    assert "The actor profile does not exist: %s" % (tmp_path / "carl.json") in "\n".join(again.validate())
    again.actor_edit.setText("")
    again.save_settings()
    again.actor_edit.setText(profiles["ben"])
    pick_video(again, tmp_path / "carl" / "line2.mp4", monkeypatch)
    assert again.actor_edit.text() == ""


def test_run_passes_the_actor_profile_to_the_engine(mh4_rig, make_dialog, qt_app, tmp_path):
    dialog = make_dialog()
    fill(dialog, tmp_path)
    profile = tmp_path / "hero.json"
    profile.write_text("{}")
    dialog.actor_edit.setText(str(profile))
    assert run_to_take(dialog, qt_app, tmp_path / "take_ok")["actor"] == {"path": str(profile)}


def run_to_take(dialog, qt_app, take):
    """Run the (fake) engine from the dialog until the take is applied; the take's take.json."""
    applied = []
    dialog.applied.connect(applied.append)
    assert dialog.run()
    wait_until(qt_app, lambda: applied or dialog.message_label.text())
    assert applied, dialog.message_label.text()
    with open(take / "take.json") as handle:
        return json.load(handle)


def test_suggested_take_folder(tmp_path):
    video = tmp_path / "actor01.mp4"
    assert suggest_take_folder(str(video)) == str(tmp_path / "actor01_take")
    (tmp_path / "actor01_take").mkdir()
    assert suggest_take_folder(str(video)) == str(tmp_path / "actor01_take2")
    assert suggest_take_folder("") == ""


def choose_source(dialog, kind):
    dialog.source_combo.setCurrentIndex(dialog.source_combo.findData(kind))


def test_live_link_csv_source_switches_the_file_filter_and_the_video_only_fields(mh4_rig, make_dialog, tmp_path,
                                                                                  monkeypatch):
    dialog = make_dialog()
    assert [dialog.source_combo.itemText(i) for i in range(dialog.source_combo.count())] == \
        ["Face video", "iPhone Live Link CSV"]
    asked = []
    monkeypatch.setattr(dialog_module, "ask_path",
                        lambda parent, title, start, file_filter, folder: asked.append(file_filter) or "")
    browse = dialog._browse_buttons[dialog.video_edit]
    browse.click()
    dialog.video_edit.setText(str(tmp_path / "clip.mp4"))
    dialog.actor_edit.setText(str(tmp_path / "hero.json"))
    choose_source(dialog, SOURCE_ARKIT)
    browse.click()
    assert asked == [VIDEO_FILTER, ARKIT_FILTER]
    assert dialog.video_edit.text() == ""                      # the CSV field starts empty, the video is kept
    assert not dialog.actor_edit.isEnabled() and not dialog._browse_buttons[dialog.actor_edit].isEnabled()
    assert not dialog.image_plane_check.isEnabled() and dialog.audio_edit.isEnabled()
    assert "Choose the iPhone's Live Link CSV." in dialog.validate()
    dialog.video_edit.setText(str(tmp_path / "missing.csv"))
    assert "The Live Link CSV does not exist: %s" % (tmp_path / "missing.csv") in dialog.validate()
    assert not any("actor profile" in p for p in dialog.validate())   # not used, so not checked

    dialog.lip_combo.setCurrentText("blend")
    request = dialog.request()
    assert (request.arkit, request.video, request.actor) == (str(tmp_path / "missing.csv"), "", None)
    assert request.lip_correction is None                      # no audio: a CSV has no sound track
    args = protocol.engine_arguments(request)
    assert args[args.index("--arkit") + 1] == str(tmp_path / "missing.csv") and "--video" not in args
    dialog.audio_edit.setText("/a/line.wav")
    assert dialog.request().lip_correction == "blend"

    choose_source(dialog, SOURCE_VIDEO)
    assert dialog.video_edit.text() == str(tmp_path / "clip.mp4") and dialog.actor_edit.isEnabled()
    assert dialog.request().actor == str(tmp_path / "hero.json") and dialog.request().arkit is None


def test_the_source_and_both_files_are_remembered(mh4_rig, make_dialog, tmp_path):
    dialog = make_dialog()
    dialog.video_edit.setText("/shots/clip.mp4")
    choose_source(dialog, SOURCE_ARKIT)
    dialog.video_edit.setText("/phone/take.csv")
    dialog.save_settings()
    again = make_dialog()
    assert again.source_kind() == SOURCE_ARKIT and again.video_edit.text() == "/phone/take.csv"
    assert not again.actor_edit.isEnabled()
    choose_source(again, SOURCE_VIDEO)
    assert again.video_edit.text() == "/shots/clip.mp4"


def test_run_with_a_live_link_csv(mh4_rig, make_dialog, qt_app, tmp_path):
    dialog = make_dialog()
    choose_source(dialog, SOURCE_ARKIT)
    recording = fill(dialog, tmp_path)
    meta = run_to_take(dialog, qt_app, tmp_path / "take_ok")
    assert meta["inputs"]["arkit"] == {"path": str(recording)} and meta["actor"] is None


def test_the_head_is_keyed_when_the_scene_has_one(mh4_rig, make_dialog, qt_app, tmp_path, settings):
    """On, and saying which joints turn, when a head joint is found; greyed out with the reason when not;
    the artist's choice and strength reach apply_take and are remembered."""
    dialog = make_dialog()
    assert not dialog.head_check.isEnabled() and not dialog.head_check.isChecked()
    assert "No head joint found" in dialog.head_message.text()
    nodes = fake_maya.build_metahuman_neck("MH")
    dialog.refresh_rigs()
    assert dialog.head_check.isEnabled() and dialog.head_check.isChecked()
    assert dialog.head_message.text() == "Turns MH:neck_01, MH:neck_02, MH:head."
    dialog.head_strength_spin.setValue(0.5)
    fill(dialog, tmp_path, seconds=1.0)
    take = run_to_take(dialog, qt_app, tmp_path / "take_ok")
    assert "Head rotation keyed on MH:neck_01 (20%), MH:neck_02 (30%), MH:head (50%) at strength 0.5" in \
        dialog.message_label.text()
    assert cmds.keyframe(nodes["head"] + ".rotateY", query=True, keyframeCount=True) == 25
    assert take["files"]["head_pose"] == "head_pose.csv"
    dialog.head_check.click()                       # the artist turns it off: remembered
    assert not dialog.head_check.isChecked()
    dialog.save_settings()
    again = make_dialog()
    assert again.head_check.isEnabled() and not again.head_check.isChecked()
    assert again.head_strength_spin.value() == 0.5


def test_the_head_target_can_be_the_selected_transform(mh4_rig, make_dialog):
    dialog = make_dialog()
    control = fake_maya.add_transform("headCtrl")
    fake_maya.scene().selection = [control]
    dialog.head_pick_button.click()
    assert dialog.head_target_edit.text() == "|headCtrl"
    assert dialog.head_check.isEnabled() and dialog.head_message.text() == "Turns headCtrl."


def test_the_speech_language_is_chosen_remembered_and_sent(make_dialog, tmp_path):
    dialog = make_dialog()
    assert dialog.language_combo.currentData() == "en"
    dialog.language_combo.setCurrentIndex(dialog.language_combo.findData("zh"))
    dialog.audio_edit.setText(str(tmp_path / "line.wav"))
    args = protocol.engine_arguments(dialog.request())
    assert args[args.index("--language") + 1] == "zh"
    dialog.save_settings()
    assert make_dialog().language_combo.currentData() == "zh"



def test_symmetric_tracking_is_on_by_default_remembered_and_sent(make_dialog):
    dialog = make_dialog()
    assert dialog.symmetric_check.isChecked()
    assert "--symmetric" in protocol.engine_arguments(dialog.request())
    dialog.symmetric_check.setChecked(False)
    assert "--symmetric" not in protocol.engine_arguments(dialog.request())
    dialog.save_settings()
    assert not make_dialog().symmetric_check.isChecked()
