"""Applying a take folder to a face board in the scene (`apply_take`), without any UI.

Read the take (before touching the scene), bind its attributes to the rig's controls, resample from
the take's times to the scene's frames, clamp to the scene's own limits, plan the head's keys
(head_motion.py), then write every curve, face and head, in one named undo chunk. Attributes the rig lacks
are reported, not fatal. When anything in the chunk fails (a key, the audio, the image plane), the chunk
is undone before the error is raised: the error (scene.EditFailed) says whether the scene is as it was.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Dict, List, Optional

from maya import cmds

from . import defaults, faceboard, head_motion, keying, scene, takes, timebase


@dataclass
class Binding:
    """Which take columns go to which plugs, with each plug's limits (cm)."""

    columns: List[int] = field(default_factory=list)
    attributes: List[str] = field(default_factory=list)
    plugs: List[str] = field(default_factory=list)
    lows: List[float] = field(default_factory=list)
    highs: List[float] = field(default_factory=list)
    missing: List[str] = field(default_factory=list)       # attributes the rig lacks
    ignored: List[str] = field(default_factory=list)       # columns that are no face-board attribute


@dataclass
class ApplyReport:
    take: str
    rig: str
    generation: str
    take_rig: str
    start_frame: float
    end_frame: float
    scene_fps: float
    keyed: List[str]
    missing: List[str]
    ignored: List[str]
    clamped: Dict[str, int]
    key_path: str
    layer: Optional[str] = None
    audio_node: Optional[str] = None
    image_plane: Optional[str] = None
    head: Optional[head_motion.HeadKeys] = None     # the head's keys (None: not keyed; `warnings` says why)
    warnings: List[str] = field(default_factory=list)
    seconds: float = 0.0

    def summary(self) -> str:
        lines = ["Applied %s to the %s: %d attributes keyed on frames %g-%g at %g fps (%s path, %.1f s)." % (
            self.take, self.rig, len(self.keyed), self.start_frame, self.end_frame, self.scene_fps,
            self.key_path, self.seconds)]
        if self.head is not None:
            lines.append(self.head.summary())
        if self.layer:
            lines.append("Keys are on animation layer %s." % self.layer)
        if self.missing:
            lines.append("The rig lacks %d attribute(s): %s" % (len(self.missing), ", ".join(self.missing)))
        if self.clamped:
            lines.append("Clamped to the scene's limits: %s" % ", ".join(
                "%s (%d)" % (name, count) for name, count in sorted(self.clamped.items())))
        lines.extend(self.warnings)
        return "\n".join(lines)


def bind_attributes(names: List[str], rig: scene.SceneRig, clamp: bool = True) -> Binding:
    """Each take column to the rig's plug, with the limits the scene sets on it (when clamping)."""
    binding = Binding()
    for column, name in enumerate(names):
        try:
            control, maya_attribute = faceboard.split_attribute(name)
        except ValueError:
            binding.ignored.append(name)
            continue
        plug = rig.plug(name)
        if plug is None:
            binding.missing.append(name)
            continue
        low, high = (scene.translation_limits(rig.controls[control], maya_attribute)
                     if clamp else (-scene.INF, scene.INF))
        binding.columns.append(column)
        binding.attributes.append(name)
        binding.plugs.append(plug)
        binding.lows.append(low)
        binding.highs.append(high)
    return binding


def ensure_layer(name: str) -> str:
    """The animation layer `name`, created when the scene has none of that name."""
    if not cmds.animLayer(name, query=True, exists=True):
        cmds.animLayer(name)
    return name


def apply_take(take_dir: str, rig: scene.RigSpec = None, start_frame: Optional[float] = defaults.DEFAULT_START_FRAME,
               mode: str = defaults.DEFAULT_APPLY_MODE, layer_name: str = defaults.DEFAULT_LAYER_NAME,
               clamp: bool = defaults.DEFAULT_CLAMP, import_audio: bool = defaults.DEFAULT_IMPORT_AUDIO,
               image_plane: bool = defaults.DEFAULT_IMAGE_PLANE,
               fit_playback_range: bool = defaults.DEFAULT_FIT_PLAYBACK_RANGE,
               fast: Optional[bool] = None, head: bool = defaults.DEFAULT_HEAD,
               head_target: Optional[str] = None, head_strength: float = defaults.DEFAULT_HEAD_STRENGTH,
               head_weights: Optional[Dict[str, float]] = None,
               head_translation: bool = defaults.DEFAULT_HEAD_TRANSLATION) -> ApplyReport:
    """Key a take's face-board curves onto a MetaHuman face board, and its head motion onto the rig's
    neck and head.

    take_dir: the take folder. rig: None (the only face board in the scene), a namespace, a node of
    the rig, or a SceneRig. start_frame: the frame the take's time 0 lands on (default: the playback
    start). mode: "replace" (replace the keys in the take's range) or "layer" (key into the animation
    layer `layer_name`). clamp: clamp to the controls' transform limits in the scene. fast: None picks
    the API path when possible, False forces cmds.setKeyframe.

    head: key the head's rotation (head_pose.csv) onto the joint named "head" (with "neck_02" and
    "neck_01" above it sharing the turn by `head_weights`, default 0.2/0.3/0.5), or onto `head_target`;
    `head_strength` (0-1) scales the turn, `head_translation` keys the head's position too. No head found:
    a line in the report, the face is keyed anyway. See docs/maya.md, "Head motion".

    Raises scene.EditFailed (a RuntimeError) when writing to the scene fails: everything the apply did is
    undone first, and the message says so (or why it could not be: undo off, or called inside an undo
    chunk of the caller's own).
    """
    began = time.time()
    if mode not in defaults.APPLY_MODES:
        raise ValueError("mode must be one of %s, not %r" % (", ".join(defaults.APPLY_MODES), mode))
    info = takes.read_take_info(take_dir)
    table = takes.read_curve_csv(_faceboard_file(info))
    target = scene.resolve_rig(rig)
    start = float(round(scene.playback_start() if start_frame is None else start_frame))
    fps = scene.scene_fps()
    binding = bind_attributes(table.names, target, clamp)
    frames, values = timebase.take_to_scene(table.times, table.values[:, binding.columns], fps, start)
    clamped: Dict[str, int] = {}
    if clamp and binding.plugs:
        values, moved = timebase.clamp_columns(values, binding.lows, binding.highs)
        clamped = {name: int(n) for name, n in zip(binding.attributes, moved.tolist()) if n}
    head_options = head_motion.HeadOptions(head_target, head_strength, head_weights, head_translation)
    head_keys, head_problem = (head_motion.plan(info, target, head_options, start, mode == "layer")
                               if head else (None, ""))
    path = keying.choose_path(fast)
    report = ApplyReport(
        take=info.folder, rig=target.label, generation=target.generation, take_rig=info.rig,
        start_frame=float(frames[0]), end_frame=float(frames[-1]), scene_fps=fps, keyed=list(binding.attributes),
        missing=binding.missing, ignored=binding.ignored, clamped=clamped, key_path=path,
        head=head_keys, warnings=_warnings(info, target, binding) + ([head_problem] if head_problem else [])
        + keying.path_warnings(path))
    ui_scale = scene.centimetres_per_scene_unit()
    with scene.undo_chunk(defaults.APPLY_UNDO_CHUNK, roll_back=True):
        report.layer = ensure_layer(layer_name) if mode == "layer" else None
        keying.write_keys(keying.KeyRequest(binding.plugs, frames, values, [ui_scale] * len(binding.plugs),
                                            report.layer), path)
        if head_keys is not None:
            head_keys.request.layer = report.layer
            keying.write_keys(head_keys.request, path)
        _add_media(report, info, import_audio, image_plane, start)
        if fit_playback_range:
            scene.set_playback_range(frames[0], frames[-1])
    report.seconds = time.time() - began
    return report


def _faceboard_file(info: takes.TakeInfo) -> str:
    path = info.file("faceboard", defaults.FACEBOARD_FILE)
    if path is None:
        raise takes.TakeError("the take has no face-board curves (%s): %s" % (defaults.FACEBOARD_FILE, info.folder))
    return path


def _warnings(info: takes.TakeInfo, target: scene.SceneRig, binding: Binding) -> List[str]:
    warnings = []
    if info.rig != target.generation:
        warnings.append("The take was solved for a %s rig; the scene's face board is %s. Attributes both "
                        "generations share were keyed." % (info.rig, target.generation))
    if target.duplicates:
        warnings.append("Controls named twice in %s (first one used): %s" % (
            target.namespace or "the root namespace", ", ".join(target.duplicates)))
    if binding.ignored:
        warnings.append("Columns that are no face-board attribute were ignored: %s" % ", ".join(binding.ignored))
    return warnings


def _add_media(report: ApplyReport, info: takes.TakeInfo, import_audio: bool, image_plane: bool,
               start: float) -> None:
    if import_audio:
        audio = info.audio_path()
        if audio:
            report.audio_node = scene.import_audio(audio, start)
        else:
            report.warnings.append("The take has no audio to import.")
    if image_plane:
        video = info.video_path()
        if video:
            report.image_plane = scene.add_image_plane(video, start)
        else:
            report.warnings.append("The source video is not where the take says; no image plane.")

