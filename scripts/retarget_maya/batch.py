"""mayapy entry point: run the engine on clips, apply each take to a scene, playblast, save.

    mayapy -m retarget_maya.batch --scene S.ma --video V.mp4 --audio A.wav --out O [--playblast O/preview.mov]
    mayapy -m retarget_maya.batch --manifest clips.json

`--out` is the take folder the engine writes. The scene is saved (by default) next to the take as
O/<scene name>, never over the input scene, so one template scene serves many clips. A manifest is a JSON
file {"defaults": {...}, "clips": [{"scene", "video", "audio", "out", ...}, ...]} whose clips take the
same keys as the command line (relative paths are relative to the manifest). One bad clip does not stop
the others; the summary lists it, and the exit code is non-zero when any clip failed.

The scene is saved before the playblast: a playblast that fails (no codec, no graphics context on a
render node) leaves the keyed scene saved, and is reported as that clip's failure. The playblast format
is chosen from what this Maya offers (`playblast -query -format`): `.mov` is QuickTime or AVFoundation
H.264, `.avi` uncompressed AVI; when the extension's format is not offered, an image sequence is written
instead and the log says so. In mayapy there is no model panel: the playblast draws through the
renderable camera, so the chosen camera (`--camera`, default persp) is made the only renderable one
for the playblast.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import sys
import time
import traceback
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple

from . import defaults, engine_subprocess, protocol, takes

CLIP_KEYS = ("scene", "video", "audio", "transcript", "language", "actor", "out", "take", "playblast", "camera", "save_as",
             "rig", "start_frame", "lip_correction", "smoothing_hz", "engine_python", "mode", "no_save",
             "no_head", "head_target", "head_strength", "head_translation", "single_pass")
PATH_KEYS = ("scene", "video", "audio", "transcript", "actor", "out", "take", "playblast", "save_as")


@dataclass
class Clip:
    scene: str
    out: str
    video: str = ""
    audio: str = ""
    transcript: str = ""
    language: str = defaults.DEFAULT_LANGUAGE   # the speech's: en, zh or other (run --language)
    actor: str = ""                 # actor profile from the engine's `calibrate`; empty: none
    take: str = ""                  # apply this existing take instead of running the engine
    playblast: str = ""
    camera: str = defaults.BATCH_PLAYBLAST_CAMERA
    save_as: str = ""
    rig: str = ""                   # namespace of the face board; empty: the only one in the scene
    start_frame: Optional[float] = None
    lip_correction: Optional[str] = defaults.DEFAULT_LIP_CORRECTION
    smoothing_hz: Optional[float] = defaults.DEFAULT_SMOOTHING_HZ
    engine_python: str = ""
    mode: str = defaults.DEFAULT_APPLY_MODE
    no_save: bool = False
    no_head: bool = not defaults.DEFAULT_HEAD      # leave the rig's head still (face board only)
    head_target: str = ""           # the transform to key the head's turn on; empty: the joint named "head"
    head_strength: float = defaults.DEFAULT_HEAD_STRENGTH
    head_translation: bool = defaults.DEFAULT_HEAD_TRANSLATION
    single_pass: bool = not defaults.DEFAULT_SYMMETRIC   # track the face once, not also flipped (faster)

    @property
    def name(self) -> str:
        return os.path.basename(os.path.normpath(self.out or self.take or self.video))

    def saved_scene_path(self) -> str:
        return self.save_as or os.path.join(self.take or self.out, os.path.basename(self.scene))


@dataclass
class ClipResult:
    clip: Clip
    ok: bool
    message: str = ""
    seconds: float = 0.0
    outputs: Dict[str, str] = field(default_factory=dict)


class ClipFailed(Exception):
    pass


# --- command line and manifest ------------------------------------------------------------------------

def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="mayapy -m retarget_maya.batch", description=__doc__.split("\n\n")[0])
    parser.add_argument("--manifest", help="JSON manifest of many clips")
    parser.add_argument("--scene", help="the Maya scene with the MetaHuman")
    parser.add_argument("--video")
    parser.add_argument("--audio")
    parser.add_argument("--transcript")
    parser.add_argument("--language", choices=[code for code, _ in defaults.LANGUAGES],
                        help="the speech's language (default: %s)" % defaults.DEFAULT_LANGUAGE)
    parser.add_argument("--actor", help="actor profile (faceretarget-engine calibrate)")
    parser.add_argument("--out", help="the take folder the engine writes")
    parser.add_argument("--take", help="apply this existing take folder (no engine run)")
    parser.add_argument("--playblast", help="movie to playblast to (.mov, .avi; anything else: images)")
    parser.add_argument("--camera", help="camera to playblast through (default: %s)" %
                        defaults.BATCH_PLAYBLAST_CAMERA)
    parser.add_argument("--save-as", dest="save_as", help="where to save the scene (default: OUT/<scene name>)")
    parser.add_argument("--no-save", dest="no_save", action="store_true")
    parser.add_argument("--rig", help="namespace of the face board (default: the only one in the scene)")
    parser.add_argument("--start-frame", dest="start_frame", type=float)
    parser.add_argument("--mode", choices=defaults.APPLY_MODES, default=defaults.DEFAULT_APPLY_MODE)
    parser.add_argument("--lip-correction", dest="lip_correction", choices=defaults.LIP_CORRECTION_CHOICES,
                        default=defaults.DEFAULT_LIP_CORRECTION)
    parser.add_argument("--smoothing", dest="smoothing_hz", type=float, default=defaults.DEFAULT_SMOOTHING_HZ)
    parser.add_argument("--engine-python", dest="engine_python",
                        help="the engine's python (default: $%s)" % defaults.ENGINE_PYTHON_ENV)
    parser.add_argument("--no-head", dest="no_head", action="store_true",
                        help="key the face board only, not the head's turn on the neck and head joints")
    parser.add_argument("--head-target", dest="head_target",
                        help="transform to key the head's turn on (default: the joint named %r)" % defaults.HEAD_JOINT)
    parser.add_argument("--head-strength", dest="head_strength", type=float,
                        help="share of the actor's head turn, 0-1 (default: %g)" % defaults.DEFAULT_HEAD_STRENGTH)
    parser.add_argument("--head-translation", dest="head_translation", action="store_true",
                        help="key the head's position too (on the top-most neck joint)")
    parser.add_argument("--single-pass", dest="single_pass", action="store_true",
                        help="read the face once, not also flipped: faster, keeps the tracker's left/right bias")
    return parser.parse_args(list(argv))


def clips_from_args(args: argparse.Namespace) -> List[Clip]:
    if args.manifest:
        return load_manifest(args.manifest, overrides=_given(args, exclude=("manifest",)))
    missing = [flag for flag, value in (("--scene", args.scene), ("--out or --take", args.out or args.take))
               if not value]
    if not args.take and not args.video:
        missing.append("--video")
    if missing:
        raise ValueError("missing %s (or use --manifest)" % ", ".join(missing))
    return [make_clip(_given(args, exclude=("manifest",)))]


def _given(args: argparse.Namespace, exclude: Sequence[str]) -> Dict[str, Any]:
    return {k: v for k, v in vars(args).items() if k not in exclude and v not in (None, False, "")}


def load_manifest(path: str, overrides: Optional[Dict[str, Any]] = None) -> List[Clip]:
    with open(path, "r", encoding="utf-8") as handle:
        doc = json.load(handle)
    base = os.path.dirname(os.path.abspath(path))
    shared = dict(doc.get("defaults") or {})
    clips = []
    for index, entry in enumerate(doc.get("clips") or []):
        merged = dict(shared)
        merged.update(entry)
        for key in PATH_KEYS:
            if merged.get(key):
                merged[key] = os.path.join(base, os.path.expanduser(str(merged[key])))
        try:
            clips.append(make_clip(merged))
        except ValueError as exc:
            raise ValueError("%s: clip %d: %s" % (path, index + 1, exc)) from exc
    if not clips:
        raise ValueError("%s: no clips" % path)
    return clips


def make_clip(values: Dict[str, Any]) -> Clip:
    unknown = sorted(set(values) - set(CLIP_KEYS))
    if unknown:
        raise ValueError("unknown key(s): %s" % ", ".join(unknown))
    if not values.get("scene"):
        raise ValueError("no scene")
    if not values.get("out") and not values.get("take"):
        raise ValueError("no out (take folder) and no take")
    if not values.get("take") and not values.get("video"):
        raise ValueError("no video")
    values = dict(values)
    values.setdefault("out", values.get("take", ""))
    strength = values.get("head_strength", defaults.DEFAULT_HEAD_STRENGTH)
    if not isinstance(strength, (int, float)) or not 0.0 <= strength <= 1.0:
        raise ValueError("head_strength must be a number from 0 to 1, not %r" % (strength,))
    return Clip(**values)


# --- one clip -----------------------------------------------------------------------------------------

def run_clip(clip: Clip, entry: Sequence[str] = protocol.DEFAULT_ENTRY) -> ClipResult:
    began = time.time()
    try:
        outputs, problem = _process_clip(clip, entry)
        return ClipResult(clip, not problem, problem or "ok", time.time() - began, outputs)
    except (ClipFailed, takes.TakeError) as exc:
        return ClipResult(clip, False, str(exc), time.time() - began)
    except Exception as exc:  # one bad clip must not stop the batch; the summary shows what broke
        from .scene import EditFailed, RigNotFound
        if isinstance(exc, (RigNotFound, EditFailed)):
            return ClipResult(clip, False, str(exc), time.time() - began)
        log("  " + traceback.format_exc().rstrip().replace("\n", "\n  "))
        return ClipResult(clip, False, "%s: %s" % (type(exc).__name__, exc), time.time() - began)


def _process_clip(clip: Clip, entry: Sequence[str]) -> Tuple[Dict[str, str], str]:
    """The clip's outputs, and what went wrong after the take was applied (empty: nothing)."""
    from maya import cmds

    from . import apply, scene

    # The scene first: a bad scene fails before a long engine run, and the engine solves for the
    # generation of the face board it holds.
    log("  opening %s" % clip.scene)
    cmds.file(clip.scene, open=True, force=True)
    rig = scene.resolve_rig(clip.rig or None)
    take = clip.take or _run_engine(clip, entry, rig.generation)
    report = apply.apply_take(take, rig=rig, start_frame=clip.start_frame, mode=clip.mode,
                              fit_playback_range=True, head=not clip.no_head, head_target=clip.head_target or None,
                              head_strength=clip.head_strength, head_translation=clip.head_translation)
    log("  " + report.summary().replace("\n", "\n  "))
    outputs = {"take": take}
    # Saved before the playblast, which is the step most likely to fail on a render node.
    if not clip.no_save:
        outputs["scene"] = save_scene(clip.saved_scene_path())
    if not clip.playblast:
        return outputs, ""
    try:
        outputs["playblast"] = playblast(clip.playblast, report.start_frame, report.end_frame, report.audio_node,
                                         clip.camera)
    except Exception as exc:  # the keys are saved; the playblast's failure is reported on its own
        kept = ("the keyed scene is saved: %s" % outputs["scene"]) if "scene" in outputs else \
            "the keyed scene was not saved (no_save)"
        log("  playblast failed: %s" % exc)
        return outputs, "playblast failed: %s (the take was applied; %s)" % (str(exc).strip(), kept)
    return outputs, ""


def _run_engine(clip: Clip, entry: Sequence[str], generation: str) -> str:
    python = protocol.resolve_engine_python(clip.engine_python, os.environ)
    request = protocol.EngineRequest(video=clip.video, out=clip.out, audio=clip.audio or None,
                                     transcript=clip.transcript or None, language=clip.language or None,
                                     rig=generation,
                                     lip_correction=clip.lip_correction,
                                     smoothing_hz=clip.smoothing_hz, actor=clip.actor or None,
                                     symmetric=not clip.single_pass)
    log("  engine: %s" % clip.video)
    outcome = engine_subprocess.run_engine(python, request, entry, on_event=_log_event)
    if not outcome.ok:
        raise ClipFailed("engine failed: " + outcome.describe_failure())
    return outcome.take


def _log_event(event: protocol.EngineEvent) -> None:
    if event.kind == protocol.PROGRESS and event.total and event.done >= event.total:
        log("    %s done" % event.stage)
    elif event.kind == protocol.WARNING:
        log("    warning: %s" % event.message)


@dataclass
class PlayblastPlan:
    format: str                     # a format `playblast -query -format` offers
    compression: str                # a compression that format offers
    filename: str                   # given to playblast: the path without its extension (Maya adds it)
    note: str = ""                  # when the plan is not what the extension asked for: why


# The movie formats an extension asks for, in order of preference: (format, compression, label). Maya
# spells the compressions differently per platform and version ("H.264", "h264"): they are compared
# without case and punctuation.
_MOVIE_CHOICES = {
    ".mov": (("qt", "h264", "QuickTime H.264"), ("avfoundation", "h264", "AVFoundation H.264")),
    ".avi": (("avi", "none", "uncompressed AVI"),),
}
_IMAGE_ALIASES = {"jpeg": "jpg", "tiff": "tif"}
_IMAGE_DEFAULT = "png"


def _simple(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def choose_playblast_format(path: str, formats: Sequence[str],
                            compressions: Callable[[str], Sequence[str]]) -> PlayblastPlan:
    """The playblast format for `path` among what this Maya offers: `formats` is the answer of
    `playblast -query -format`, `compressions(format)` that of `playblast -format F -query -compression`.
    `.mov` and `.avi` ask for a movie; anything else (or a movie format not offered) gives an image
    sequence PATH_STEM.####.png (or .jpg/.tif when the extension names one). Pure: no Maya needed."""
    stem, extension = os.path.splitext(path)
    choices = _MOVIE_CHOICES.get(extension.lower(), ())
    for movie_format, codec, _ in choices:
        if movie_format in formats:
            for offered in compressions(movie_format):
                if _simple(offered) == codec:
                    return PlayblastPlan(movie_format, offered, stem)
    if "image" not in formats:
        raise RuntimeError("this Maya offers no playblast format for %s (it offers: %s)" % (
            path, ", ".join(formats) or "none"))
    offered_images = list(compressions("image"))
    wanted = extension.lower().lstrip(".")
    wanted = _IMAGE_ALIASES.get(wanted, wanted)
    for candidate in (wanted, _IMAGE_DEFAULT):
        if candidate in offered_images:
            break
    else:
        raise RuntimeError("this Maya offers no %s image playblast (image compressions: %s)" % (
            _IMAGE_DEFAULT, ", ".join(offered_images) or "none"))
    note = ""
    if choices:
        offered_movies = ["%s (%s)" % (f, ", ".join(compressions(f))) for f, _, _ in choices if f in formats]
        note = "this Maya offers no %s for %s (formats: %s%s): writing an image sequence instead: %s.####.%s" % (
            " or ".join(label for _, _, label in choices), extension, ", ".join(formats),
            "; " + "; ".join(offered_movies) if offered_movies else "", stem, candidate)
    return PlayblastPlan("image", candidate, stem, note)


def playblast(path: str, first: float, last: float, sound: Optional[str],
              camera: str = defaults.BATCH_PLAYBLAST_CAMERA) -> str:
    """Playblast the frame range through `camera` to `path` (the format follows the extension and what
    this Maya offers, see choose_playblast_format); returns the file (or image pattern) written."""
    from maya import cmds, mel

    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        os.makedirs(folder)

    def mel_list(command: str) -> List[str]:
        return [str(item) for item in (mel.eval(command) or [])]

    plan = choose_playblast_format(path, mel_list("playblast -query -format"),
                                   lambda name: mel_list('playblast -format "%s" -query -compression' % name))
    if plan.note:
        log("  playblast: " + plan.note)
    width, height = defaults.BATCH_PLAYBLAST_SIZE
    args: Dict[str, Any] = dict(filename=plan.filename, format=plan.format, compression=plan.compression,
                                startTime=int(first), endTime=int(last), forceOverwrite=True, viewer=False,
                                showOrnaments=False, offScreen=True, percent=100, widthHeight=(width, height))
    if sound:
        args["sound"] = sound
    with _through_camera(camera):
        written = cmds.playblast(**args)
    log("  playblast (%s %s, camera %s): %s" % (plan.format, plan.compression, camera, written))
    return str(written or path)


@contextlib.contextmanager
def _through_camera(camera: str) -> Iterator[None]:
    """Make the playblast draw through `camera`. With UI, the active model panel looks through it. In
    mayapy there is no model panel, and the playblast draws through the renderable camera: `camera` is
    made the only renderable one. Both are restored afterwards (the scene is already saved)."""
    from maya import cmds

    from . import scene

    shape = str((cmds.ls(scene.camera_shape(camera), long=True) or [camera])[0])
    if not scene.is_batch():
        editor = str(cmds.playblast(activeEditor=True))
        previous = str(cmds.modelEditor(editor, query=True, camera=True))
        cmds.modelEditor(editor, edit=True, camera=shape)
        try:
            yield
        finally:
            cmds.modelEditor(editor, edit=True, camera=previous)
        return
    cameras = [str(c) for c in cmds.ls(type="camera", long=True) or []]
    renderable = {c: bool(cmds.getAttr(c + ".renderable")) for c in cameras}
    try:
        for other in renderable:
            scene.set_attr(other + ".renderable", other == shape)
        yield
    finally:
        for other, value in renderable.items():
            scene.set_attr(other + ".renderable", value)


def save_scene(path: str) -> str:
    from maya import cmds

    kind = "mayaBinary" if path.lower().endswith(".mb") else "mayaAscii"
    cmds.file(rename=path)
    cmds.file(save=True, type=kind, force=True)
    log("  saved %s" % path)
    return path


# --- many clips -----------------------------------------------------------------------------------------

def run_batch(clips: Sequence[Clip], entry: Sequence[str] = protocol.DEFAULT_ENTRY) -> List[ClipResult]:
    results = []
    for number, clip in enumerate(clips, start=1):
        log("[%d/%d] %s" % (number, len(clips), clip.name))
        result = run_clip(clip, entry)
        log("  %s (%.1f s)" % ("ok" if result.ok else "FAILED: " + result.message, result.seconds))
        results.append(result)
    return results


def summary(results: Sequence[ClipResult]) -> str:
    failed = [r for r in results if not r.ok]
    lines = ["%d clip(s): %d ok, %d failed" % (len(results), len(results) - len(failed), len(failed))]
    lines += ["  FAILED %s: %s" % (r.clip.name, r.message.replace("\n", " ")) for r in failed]
    return "\n".join(lines)


def log(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def exit_code(results: Sequence[ClipResult]) -> int:
    return defaults.EXIT_OK if all(r.ok for r in results) else defaults.EXIT_FAILED


def main(argv: Optional[Sequence[str]] = None, entry: Sequence[str] = protocol.DEFAULT_ENTRY) -> int:
    """Run the batch; returns the exit code (the `__main__` block passes it to cmds.quit)."""
    try:
        clips = clips_from_args(parse_args(sys.argv[1:] if argv is None else argv))
    except (ValueError, OSError) as exc:
        log("error: %s" % exc)
        return defaults.EXIT_USAGE
    initialize_maya()
    results = run_batch(clips, entry)
    log(summary(results))
    return exit_code(results)


_maya_started = False


def initialize_maya() -> None:
    """Start Maya in this Python when it is a bare mayapy (inside Maya it is already running)."""
    global _maya_started
    try:
        import maya.standalone
        maya.standalone.initialize(name="python")
    except RuntimeError:
        pass    # already initialized
    _maya_started = True


def quit_maya(code: int) -> None:
    """Leave mayapy with `code`. Output is flushed first: cmds.quit(abort=True) ends the process without
    Python's own shutdown, which is what makes the exit code reliable."""
    sys.stdout.flush()
    sys.stderr.flush()
    from maya import cmds
    cmds.quit(abort=True, exitCode=code)


def run_as_script(argv: Optional[Sequence[str]] = None, entry: Sequence[str] = protocol.DEFAULT_ENTRY) -> None:
    code = main(argv, entry)
    if _maya_started:
        quit_maya(code)
    sys.exit(code)      # a usage error before Maya started: a plain exit is enough


if __name__ == "__main__":
    run_as_script()
