"""The Retarget dialog: pick the source (a face video or an iPhone Live Link Face CSV), audio, transcript
and the face board, run the engine without blocking Maya, follow its stages, then apply the take.

With a Live Link CSV the audio, transcript and lip correction stay available (the speech corrects the
iPhone's mouth as it does a video's, and the take carries the audio for the time slider); the actor
profile and the image plane are for video only (the iPhone calibrates its scores itself, and there is no
video to show)."""
from __future__ import annotations

import os
from typing import Any, Dict, List, Optional, Sequence

from . import defaults, protocol
from .engine_process import EngineProcess
from .engine_subprocess import EngineOutcome
from .qt import QtCore, QtGui, QtWidgets, maya_main_window
from .settings import DialogSettings

VIDEO_FILTER = "Video (*.mp4 *.mov *.avi *.mkv *.m4v *.webm);;All files (*)"
ARKIT_FILTER = "Live Link Face CSV (*.csv);;All files (*)"
SOURCE_VIDEO = "video"
SOURCE_ARKIT = "arkit"
# source kind -> (choice shown, file filter, what the validation messages call the file)
SOURCES = {SOURCE_VIDEO: ("Face video", VIDEO_FILTER, "video"),
           SOURCE_ARKIT: ("iPhone Live Link CSV", ARKIT_FILTER, "Live Link CSV")}
AUDIO_FILTER = "Audio (*.wav *.mp3 *.m4a *.flac *.aac *.ogg);;All files (*)"
TEXT_FILTER = "Text (*.txt);;All files (*)"
ACTOR_FILTER = "Actor profile (*.json);;All files (*)"
OBJECT_NAME = "FaceRetargetDialog"


def suggest_take_folder(video: str) -> str:
    """"/shots/actor01.mp4" -> "/shots/actor01_take" (then _take2, _take3 ... if taken)."""
    if not video:
        return ""
    base = os.path.splitext(os.path.abspath(video))[0] + "_take"
    candidate, number = base, 2
    while os.path.exists(candidate):
        candidate, number = "%s%d" % (base, number), number + 1
    return candidate



def ask_path(parent: QtWidgets.QWidget, label: str, start: str, file_filter: Optional[str], folder: bool) -> str:
    """The file browser (one place, so tests replace it: PySide2 ignores a patched QFileDialog static)."""
    if folder:
        return QtWidgets.QFileDialog.getExistingDirectory(parent, label, start)
    return QtWidgets.QFileDialog.getOpenFileName(parent, label, start, file_filter or "")[0]

class SceneBackend:
    """What the dialog needs from Maya; the tests give it another."""

    def rigs(self) -> List[Any]:
        from . import scene
        return scene.find_rigs()

    def playback_start(self) -> float:
        from . import scene
        return scene.playback_start()

    def apply(self, take: str, rig: Any, **options: Any) -> str:
        from . import apply
        return apply.apply_take(take, rig, **options).summary()

    def head_target(self, rig: Any, target: Optional[str]) -> Any:
        """The neck and head joints the head's turn would be keyed on (head_motion.HeadTarget)."""
        from . import head_motion
        return head_motion.find_target(rig, target)

    def selected_transform(self) -> str:
        from . import scene
        selected = scene.selected_transforms()
        return selected[0] if selected else ""


class RetargetDialog(QtWidgets.QDialog):
    """Parented to Maya's main window; one instance at a time (see ui.show_dialog)."""

    applied = QtCore.Signal(str)        # the apply report's summary
    failed = QtCore.Signal(str)         # the error text shown

    def __init__(self, parent: Optional[QtWidgets.QWidget] = None, settings: Optional[DialogSettings] = None,
                 backend: Optional[SceneBackend] = None, engine_entry: Sequence[str] = protocol.DEFAULT_ENTRY) -> None:
        super().__init__(parent if parent is not None else maya_main_window())
        self.setObjectName(OBJECT_NAME)
        self.setWindowTitle("FaceRetarget")
        self.setAttribute(QtCore.Qt.WidgetAttribute.WA_DeleteOnClose, False)
        self.settings = settings or DialogSettings()
        self.backend = backend or SceneBackend()
        self.engine_entry = list(engine_entry)
        self.engine: Optional[EngineProcess] = None
        self._browse_buttons: Dict[QtWidgets.QLineEdit, QtWidgets.QPushButton] = {}
        self._source_paths = {kind: "" for kind in SOURCES}     # each source kind's file, kept when switching
        self._source_kind = SOURCE_VIDEO
        self._head_wanted = defaults.DEFAULT_HEAD       # the artist's choice, kept while no head is found
        self._build()
        self.restore_settings()
        self.refresh_rigs()

    # --- layout -----------------------------------------------------------------------------------
    def _build(self) -> None:
        form = QtWidgets.QFormLayout()
        self.source_combo = QtWidgets.QComboBox()
        for kind, (label, _, _) in SOURCES.items():
            self.source_combo.addItem(label, kind)
        self.source_combo.setToolTip("A face video to track, or the CSV the iPhone's Live Link Face app recorded.")
        # video_edit holds the source file: the video, or the Live Link CSV
        self.video_edit = self._path_row(form, "Source", None, lead=self.source_combo)
        self.audio_edit = self._path_row(form, "Audio", AUDIO_FILTER)
        self.transcript_edit = self._path_row(form, "Transcript (optional)", TEXT_FILTER)
        self.actor_edit = self._path_row(form, "Actor profile (optional)", ACTOR_FILTER)
        self.take_edit = self._path_row(form, "Take folder", None, folder=True)
        self.video_edit.editingFinished.connect(self._video_changed)
        self.source_combo.currentIndexChanged.connect(self._source_changed)

        self.rig_combo = QtWidgets.QComboBox()
        self.rig_combo.currentIndexChanged.connect(lambda _index: self.refresh_head())
        refresh = QtWidgets.QPushButton("Refresh")
        refresh.clicked.connect(self.refresh_rigs)
        rig_row = QtWidgets.QHBoxLayout()
        rig_row.addWidget(self.rig_combo, 1)
        rig_row.addWidget(refresh)
        form.addRow("Target rig", rig_row)
        self.rig_message = QtWidgets.QLabel()
        self.rig_message.setWordWrap(True)
        form.addRow("", self.rig_message)

        self.start_spin = QtWidgets.QSpinBox()
        self.start_spin.setRange(-1000000, 1000000)
        form.addRow("Start frame", self.start_spin)

        self.smoothing_check = QtWidgets.QCheckBox("Override the engine's smoothing")
        self.smoothing_spin = QtWidgets.QDoubleSpinBox()
        self.smoothing_spin.setRange(*defaults.SMOOTHING_RANGE_HZ)
        self.smoothing_spin.setSuffix(" Hz")
        self.smoothing_spin.setValue(8.0)
        self.smoothing_spin.setEnabled(False)
        self.smoothing_check.toggled.connect(self.smoothing_spin.setEnabled)
        smoothing_row = QtWidgets.QHBoxLayout()
        smoothing_row.addWidget(self.smoothing_check)
        smoothing_row.addWidget(self.smoothing_spin)
        form.addRow("Smoothing", smoothing_row)
        self.symmetric_check = QtWidgets.QCheckBox("Also read the face flipped (about 1.3x the time)")
        self.symmetric_check.setToolTip("Removes the tracker's left/right bias: an expression on the actor's left "
                                        "reads as strongly as the same one on the right (run --symmetric).")
        form.addRow("Tracking", self.symmetric_check)

        self.language_combo = QtWidgets.QComboBox()
        for code, label in defaults.LANGUAGES:
            self.language_combo.addItem(label, code)
        self.language_combo.setToolTip("The language of the speech: English and Mandarin are aligned to the "
                                       "transcript; any other language moves the mouth from the loudness.")
        form.addRow("Speech language", self.language_combo)
        self.lip_combo = QtWidgets.QComboBox()
        self.lip_combo.addItem("(engine default)", "")
        for choice in defaults.LIP_CORRECTION_CHOICES:
            self.lip_combo.addItem(choice, choice)
        form.addRow("Lip correction", self.lip_combo)

        self.mode_combo = QtWidgets.QComboBox()
        self.mode_combo.addItem("Replace keys in the range", "replace")
        self.mode_combo.addItem("New animation layer", "layer")
        form.addRow("Keys", self.mode_combo)
        self._build_head_rows(form)
        self.audio_check = QtWidgets.QCheckBox("Import the audio for the time slider")
        self.image_plane_check = QtWidgets.QCheckBox("Image plane with the source video")
        form.addRow("", self.audio_check)
        form.addRow("", self.image_plane_check)

        self.python_edit = self._path_row(form, "Engine Python", "All files (*)")

        self.stage_label = QtWidgets.QLabel("")
        self.progress_bar = QtWidgets.QProgressBar()
        self.progress_bar.setRange(0, 1000)
        self.message_label = QtWidgets.QLabel("")
        self.message_label.setWordWrap(True)
        self.message_label.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        self.log_view = QtWidgets.QPlainTextEdit()
        self.log_view.setReadOnly(True)
        self.log_view.setMaximumBlockCount(2000)

        self.run_button = QtWidgets.QPushButton("Run")
        self.run_button.setDefault(True)
        self.cancel_button = QtWidgets.QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        close_button = QtWidgets.QPushButton("Close")
        self.run_button.clicked.connect(self.run)
        self.cancel_button.clicked.connect(self.cancel)
        close_button.clicked.connect(self.close)
        buttons = QtWidgets.QHBoxLayout()
        buttons.addStretch(1)
        for button in (self.run_button, self.cancel_button, close_button):
            buttons.addWidget(button)

        layout = QtWidgets.QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.stage_label)
        layout.addWidget(self.progress_bar)
        layout.addWidget(self.message_label)
        layout.addWidget(self.log_view, 1)
        layout.addLayout(buttons)
        self.resize(640, 620)

    def _build_head_rows(self, form: QtWidgets.QFormLayout) -> None:
        """Head motion: on when a head joint is found, with the share of the actor's turn and, optionally,
        another transform to key it on."""
        self.head_check = QtWidgets.QCheckBox("Key the head's turn")
        self.head_strength_spin = QtWidgets.QDoubleSpinBox()
        self.head_strength_spin.setRange(0.0, 1.0)
        self.head_strength_spin.setSingleStep(0.05)
        self.head_strength_spin.setPrefix("strength ")
        self.head_check.toggled.connect(self.head_strength_spin.setEnabled)
        self.head_check.clicked.connect(self._head_chosen)          # the artist's own click, not refresh_head's
        head_row = QtWidgets.QHBoxLayout()
        head_row.addWidget(self.head_check)
        head_row.addWidget(self.head_strength_spin)
        form.addRow("Head", head_row)
        self.head_target_edit = QtWidgets.QLineEdit()
        self.head_target_edit.setPlaceholderText("automatic: the joint named %s (and the neck)" % defaults.HEAD_JOINT)
        self.head_target_edit.editingFinished.connect(self.refresh_head)
        self.head_pick_button = QtWidgets.QPushButton("Selected")
        self.head_pick_button.setToolTip("Key the head's turn on the transform selected in the scene.")
        self.head_pick_button.clicked.connect(self._pick_head_target)
        target_row = QtWidgets.QHBoxLayout()
        target_row.addWidget(self.head_target_edit, 1)
        target_row.addWidget(self.head_pick_button)
        form.addRow("Head target", target_row)
        self.head_message = QtWidgets.QLabel()
        self.head_message.setWordWrap(True)
        form.addRow("", self.head_message)

    def _path_row(self, form: QtWidgets.QFormLayout, label: str, file_filter: Optional[str],
                  folder: bool = False, lead: Optional[QtWidgets.QWidget] = None) -> QtWidgets.QLineEdit:
        """A path field with its browse button; `file_filter` None on the source row: the source's."""
        edit = QtWidgets.QLineEdit()
        browse = QtWidgets.QPushButton("...")
        browse.setFixedWidth(32)
        browse.clicked.connect(lambda: self._browse(edit, label, file_filter or self.source_filter(), folder))
        self._browse_buttons[edit] = browse
        row = QtWidgets.QHBoxLayout()
        if lead is not None:
            row.addWidget(lead)
        row.addWidget(edit, 1)
        row.addWidget(browse)
        form.addRow(label, row)
        return edit

    def _browse(self, edit: QtWidgets.QLineEdit, label: str, file_filter: Optional[str], folder: bool) -> None:
        start = edit.text() or self.settings.text("last_dir")
        chosen = ask_path(self, label, start, file_filter, folder)
        if chosen:
            edit.setText(chosen)
            self.settings.set("last_dir", os.path.dirname(chosen))
            if edit is self.video_edit:
                self._video_changed()

    def _video_changed(self) -> None:
        self._suggest_take()
        if self.source_kind() == SOURCE_VIDEO:
            self._prefill_actor()

    # --- source: video or Live Link CSV -----------------------------------------------------------
    def source_kind(self) -> str:
        return str(self.source_combo.currentData() or SOURCE_VIDEO)

    def source_filter(self) -> str:
        return SOURCES[self.source_kind()][1]

    def _source_changed(self) -> None:
        """Each kind keeps its own file: switching shows the one last chosen for the new kind."""
        self._source_paths[self._source_kind] = self.video_edit.text()
        self._source_kind = self.source_kind()
        self.video_edit.setText(self._source_paths[self._source_kind])
        self._update_source_fields()

    def _update_source_fields(self) -> None:
        video = self.source_kind() == SOURCE_VIDEO
        self.actor_edit.setEnabled(video)
        self._browse_buttons[self.actor_edit].setEnabled(video)
        self.image_plane_check.setEnabled(video)
        self.actor_edit.setToolTip(
            "The actor's neutral, made once per actor with `faceretarget-engine calibrate`. Remembered for each "
            "video folder." if video else "Not used with a Live Link CSV: the iPhone calibrates its values itself.")

    def _suggest_take(self) -> None:
        if self.video_edit.text() and not self.take_edit.text():
            self.take_edit.setText(suggest_take_folder(self.video_edit.text()))

    def _prefill_actor(self) -> None:
        """The profile remembered for the video's folder; a profile remembered for another folder (another
        actor's footage) is cleared rather than applied to this one."""
        video = self.video_edit.text().strip()
        remembered = self.settings.actor_for_video(video)
        if remembered is not None:
            self.actor_edit.setText(remembered)
        elif video and self.actor_edit.text().strip() in self.settings.actor_profiles().values():
            self.actor_edit.setText("")

    # --- scene ------------------------------------------------------------------------------------
    def refresh_rigs(self) -> None:
        self.rig_combo.clear()
        try:
            rigs = self.backend.rigs()
        except Exception as exc:  # the scene query must not keep the dialog from opening
            rigs = []
            self.rig_message.setText("Could not look for face boards: %s" % exc)
        for rig in rigs:
            self.rig_combo.addItem(rig.label, rig)
        if not rigs:
            self.rig_message.setText(
                "No MetaHuman face board found in the scene (no CTRL_* face-board controls in any "
                "namespace). Import or reference the MetaHuman, then press Refresh.")
        else:
            self.rig_message.setText("")
        try:
            self.start_spin.setValue(int(round(self.backend.playback_start())))
        except Exception:
            pass
        self.refresh_head()

    def refresh_head(self) -> None:
        """The head checkbox is on (as last chosen) when there is a head to key, off and greyed out when not,
        and the line below says which joints turn, or why none."""
        rig = self.selected_rig()
        found = None
        if rig is not None:
            try:
                found = self.backend.head_target(rig, self.head_target_edit.text().strip() or None)
            except Exception as exc:  # the scene query must not keep the dialog from opening
                self.head_message.setText("Could not look for the head: %s" % exc)
        if found is not None:
            self.head_message.setText(found.problem or "Turns %s." % ", ".join(
                node.rsplit("|", 1)[-1] for node in found.chain))
        usable = bool(found is not None and found.chain)
        self.head_check.setEnabled(usable)
        self.head_check.setChecked(usable and self._head_wanted)
        self.head_strength_spin.setEnabled(self.head_check.isChecked())

    def _head_chosen(self, checked: bool) -> None:
        self._head_wanted = checked

    def _pick_head_target(self) -> None:
        selected = self.backend.selected_transform()
        if selected:
            self.head_target_edit.setText(selected)
        else:
            self.head_message.setText("Select the transform to key the head's turn on, then press Selected.")
        self.refresh_head()

    def selected_rig(self) -> Any:
        return self.rig_combo.currentData() if self.rig_combo.count() else None

    # --- settings ---------------------------------------------------------------------------------
    def restore_settings(self) -> None:
        s = self.settings
        self._source_paths = {kind: s.text(kind) for kind in SOURCES}
        self._source_kind = self.source_kind()
        self.video_edit.setText(self._source_paths[self._source_kind])
        self._select_data(self.source_combo, s.text("source", SOURCE_VIDEO))   # shows that kind's file
        self.audio_edit.setText(s.text("audio"))
        self.transcript_edit.setText(s.text("transcript"))
        self.actor_edit.setText(s.text("actor"))
        smoothing = s.number("smoothing_hz", defaults.DEFAULT_SMOOTHING_HZ)
        self.smoothing_check.setChecked(smoothing is not None)
        if smoothing is not None:
            self.smoothing_spin.setValue(smoothing)
        self.symmetric_check.setChecked(s.flag("symmetric", defaults.DEFAULT_SYMMETRIC))
        self._select_data(self.lip_combo, s.text("lip_correction", defaults.DEFAULT_LIP_CORRECTION or ""))
        self._select_data(self.language_combo, s.text("language", defaults.DEFAULT_LANGUAGE))
        self._select_data(self.mode_combo, s.text("mode", defaults.DEFAULT_APPLY_MODE))
        self.audio_check.setChecked(s.flag("import_audio", defaults.DEFAULT_IMPORT_AUDIO))
        self.image_plane_check.setChecked(s.flag("image_plane", defaults.DEFAULT_IMAGE_PLANE))
        self._head_wanted = s.flag("head", defaults.DEFAULT_HEAD)
        self.head_strength_spin.setValue(s.number("head_strength", defaults.DEFAULT_HEAD_STRENGTH) or 0.0)
        self.python_edit.setText(s.engine_python())
        if s.engine_python_overridden():
            self.python_edit.setEnabled(False)
            self.python_edit.setToolTip("Set by the %s environment variable." % defaults.ENGINE_PYTHON_ENV)
        self._update_source_fields()

    @staticmethod
    def _select_data(combo: QtWidgets.QComboBox, value: str) -> None:
        index = combo.findData(value)
        if index >= 0:
            combo.setCurrentIndex(index)

    def save_settings(self) -> None:
        s = self.settings
        self._source_paths[self.source_kind()] = self.video_edit.text()
        s.set("source", self.source_kind())
        for kind, path in self._source_paths.items():
            s.set(kind, path)
        s.set("audio", self.audio_edit.text())
        s.set("transcript", self.transcript_edit.text())
        if self.source_kind() == SOURCE_VIDEO:
            s.remember_actor(self.video_edit.text().strip(), self.actor_edit.text().strip())
        s.set("smoothing_hz", self.smoothing_spin.value() if self.smoothing_check.isChecked() else None)
        s.set("symmetric", self.symmetric_check.isChecked())
        s.set("lip_correction", self.lip_combo.currentData())
        s.set("language", self.language_combo.currentData())
        s.set("mode", self.mode_combo.currentData())
        s.set("import_audio", self.audio_check.isChecked())
        s.set("image_plane", self.image_plane_check.isChecked())
        s.set("head", self._head_wanted)
        s.set("head_strength", self.head_strength_spin.value())
        if not s.engine_python_overridden():
            s.set("engine_python", self.python_edit.text())
        s.sync()

    # --- validation -------------------------------------------------------------------------------
    def validate(self) -> List[str]:
        """What keeps the run from starting, one message per problem (empty: ready)."""
        problems = []
        source, audio, transcript = (e.text().strip() for e in (self.video_edit, self.audio_edit,
                                                                  self.transcript_edit))
        video = self.source_kind() == SOURCE_VIDEO
        if not source:
            problems.append("Choose the video of the face." if video else "Choose the iPhone's Live Link CSV.")
        elif not os.path.isfile(source):
            problems.append("The %s does not exist: %s" % (SOURCES[self.source_kind()][2], source))
        if audio and not os.path.isfile(audio):
            problems.append("The audio does not exist: %s" % audio)
        if transcript and not os.path.isfile(transcript):
            problems.append("The transcript does not exist: %s" % transcript)
        actor = self.actor_edit.text().strip()
        if video and actor and not os.path.isfile(actor):
            problems.append("The actor profile does not exist: %s" % actor)
        take = self.take_edit.text().strip()
        if not take:
            problems.append("Choose the take folder the engine writes.")
        elif os.path.exists(take):
            problems.append("The take folder already exists: %s (choose a new one)" % take)
        elif not os.path.isdir(os.path.dirname(os.path.abspath(take))):
            problems.append("The folder for the take does not exist: %s" % os.path.dirname(take))
        if self.selected_rig() is None:
            problems.append("No target rig: the scene has no MetaHuman face board.")
        python_problem = protocol.check_engine_python(self.python_edit.text().strip())
        if python_problem:
            problems.append(python_problem)
        return problems

    def request(self) -> protocol.EngineRequest:
        """The engine request; a Live Link CSV goes as `--arkit`, without the video-only options (the actor
        profile; lip correction when there is no audio: a CSV has no sound track)."""
        rig = self.selected_rig()
        source = self.video_edit.text().strip()
        audio = self.audio_edit.text().strip() or None
        video = self.source_kind() == SOURCE_VIDEO
        return protocol.EngineRequest(
            video=source if video else "", arkit=None if video else source, out=self.take_edit.text().strip(),
            audio=audio, transcript=self.transcript_edit.text().strip() or None,
            language=self.language_combo.currentData() or None,
            rig=getattr(rig, "generation", None),
            lip_correction=(self.lip_combo.currentData() or None) if video or audio else None,
            smoothing_hz=self.smoothing_spin.value() if self.smoothing_check.isChecked() else None,
            actor=(self.actor_edit.text().strip() or None) if video else None,
            symmetric=self.symmetric_check.isChecked() and video)

    # --- running ----------------------------------------------------------------------------------
    def run(self) -> bool:
        """Start the engine; False (with the reasons shown) when the inputs are not ready."""
        if self.engine is not None and self.engine.is_running():
            return False
        self._suggest_take()
        problems = self.validate()
        if problems:
            self.show_error("\n".join(problems))
            return False
        self.save_settings()
        self.message_label.setText("")
        self.message_label.setStyleSheet("")
        self.log_view.clear()
        self.progress_bar.setValue(0)
        self.stage_label.setText("Starting the engine...")
        self.engine = EngineProcess(self)
        self.engine.progress.connect(self._on_progress)
        self.engine.warning.connect(self._on_warning)
        self.engine.log.connect(self.log_view.appendPlainText)
        self.engine.finished.connect(self._on_finished)
        self._set_running(True)
        self.engine.start(self.python_edit.text().strip(), self.request(), self.engine_entry)
        return True

    def cancel(self) -> None:
        if self.engine is not None and self.engine.is_running():
            self.stage_label.setText("Cancelling...")
            self.engine.cancel()

    def _set_running(self, running: bool) -> None:
        self.run_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)

    def _on_progress(self, event: protocol.EngineEvent) -> None:
        fraction = event.fraction
        if fraction is None:
            self.progress_bar.setRange(0, 0)            # busy indicator: the engine has no total
            self.stage_label.setText("%s: %d" % (event.stage, event.done))
        else:
            self.progress_bar.setRange(0, 1000)
            self.progress_bar.setValue(int(round(fraction * 1000)))
            self.stage_label.setText("%s: %d / %d" % (event.stage, event.done, event.total or 0))

    def _on_warning(self, event: protocol.EngineEvent) -> None:
        self.log_view.appendPlainText("warning: %s" % event.message)

    def _on_finished(self, outcome: EngineOutcome) -> None:
        self._set_running(False)
        self.progress_bar.setRange(0, 1000)
        if outcome.cancelled:
            self.stage_label.setText("Cancelled.")
            self.progress_bar.setValue(0)
            return
        if not outcome.ok:
            self.stage_label.setText("The engine failed.")
            self.show_error(_failure_text(outcome))
            return
        self.progress_bar.setValue(1000)
        self.stage_label.setText("Applying the take...")
        self.apply_take(outcome.take)

    def apply_take(self, take: str) -> None:
        try:
            summary = self.backend.apply(
                take, self.selected_rig(), start_frame=self.start_spin.value(), mode=self.mode_combo.currentData(),
                import_audio=self.audio_check.isChecked(), image_plane=self.image_plane_check.isChecked(),
                head=self.head_check.isChecked(), head_target=self.head_target_edit.text().strip() or None,
                head_strength=self.head_strength_spin.value())
        except Exception as exc:  # shown to the artist; the scene is unchanged (one undo chunk)
            self.stage_label.setText("Applying the take failed.")
            self.show_error("Could not apply the take %s:\n%s" % (take, exc))
            return
        self.stage_label.setText("Done.")
        self.message_label.setStyleSheet("")
        self.message_label.setText(summary)
        self.applied.emit(summary)

    def show_error(self, text: str) -> None:
        self.message_label.setStyleSheet("color: #e06060;")
        self.message_label.setText(text)
        self.failed.emit(text)

    def closeEvent(self, event: QtGui.QCloseEvent) -> None:
        # Closing the dialog must not leave an engine running behind Maya's back.
        if self.engine is not None and self.engine.is_running():
            self.engine.cancel()
        self.save_settings()
        super().closeEvent(event)


def _failure_text(outcome: EngineOutcome) -> str:
    text = outcome.error or ("The engine stopped with exit code %d." % outcome.exit_code)
    if outcome.exit_code == 0 and not outcome.take and not outcome.error:
        text = "The engine finished without reporting a take."
    if outcome.hint:
        text += "\nHint: %s" % outcome.hint
    elif not outcome.error and outcome.stderr_tail:
        text += "\n" + outcome.stderr_tail.splitlines()[-1]
    return text


