"""The take's head motion onto the rig's neck and head joints (apply_take's `head=True`).

Planned before the apply touches the scene (the target, its rest pose at the start frame, every key), keyed
inside the apply's undo chunk next to the face board, in its layer or replace mode. When there is nothing
to key (no head joint, a take without head pose), the plan says why in one line and the face is keyed
anyway. The rotation math is headpose.py's; the scene is read through scene.py.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

import numpy as np

from . import defaults, faceboard, headpose, keying, rotation, scene, takes, timebase


@dataclass
class HeadOptions:
    """How the head is keyed: `target` a transform to key instead of the head joint found by name;
    `strength` the share of the actor's turn (0-1); `weights` each neck/head joint's share by short name
    (default defaults.DEFAULT_HEAD_WEIGHTS); `translation` the head's position too."""

    target: Optional[str] = None
    strength: float = defaults.DEFAULT_HEAD_STRENGTH
    weights: Optional[Dict[str, float]] = None
    translation: bool = defaults.DEFAULT_HEAD_TRANSLATION

    def check(self) -> None:
        if not 0.0 <= self.strength <= 1.0:
            raise ValueError("head strength must be between 0 and 1, not %r" % self.strength)


@dataclass
class HeadKeys:
    """What apply_take keys for the head: the joints with their shares of the turn, and the keys."""

    joints: List[str]
    shares: List[float]
    strength: float
    neutral: str
    request: keying.KeyRequest
    translation: str = ""           # what became of the head's position when it was asked for

    def summary(self) -> str:
        spread = ", ".join("%s (%d%%)" % (headpose.leaf_name(joint), round(100 * share))
                           for joint, share in zip(self.joints, self.shares))
        text = "Head rotation keyed on %s at strength %g; the rig's rest pose is the actor's neutral head (%s)." % (
            spread, self.strength, self.neutral)
        return text + (" " + self.translation if self.translation else "")


@dataclass
class HeadTarget:
    """The joints to key, top-most first (neck_01, neck_02, head), or why there are none."""

    chain: List[str] = field(default_factory=list)
    problem: str = ""


def find_target(rig: scene.SceneRig, target: Optional[str] = None) -> HeadTarget:
    """The head joint found by name (with the neck joints above it), or the transform `target` names."""
    if target:
        return _named_target(target)
    candidates = [headpose.HeadCandidate(node, scene.keying_blocker(node, scene.ROTATE_CHANNELS))
                  for node in scene.joints_named(defaults.HEAD_JOINT)]
    head, problem = headpose.choose_head(candidates, rig.namespace)
    if head is None:
        return HeadTarget(problem=problem)
    return HeadTarget(chain=_free_chain(head))


def _named_target(target: str) -> HeadTarget:
    try:
        node = scene.transform_path(target)
    except ValueError as exc:
        return HeadTarget(problem="Head target: %s; the head was not keyed." % exc)
    if node is None:
        return HeadTarget(problem="Head target %s is no transform in the scene; the head was not keyed." % target)
    blocked = scene.keying_blocker(node, scene.ROTATE_CHANNELS)
    if blocked:
        return HeadTarget(problem="Head target %s is %s; the head was not keyed." % (node, blocked))
    return HeadTarget(chain=_free_chain(node))


def _free_chain(head: str) -> List[str]:
    """The head with the neck joints above it whose rotation can be keyed (a driven neck is left out: the
    joints kept share the whole turn)."""
    chain = headpose.neck_chain(head, scene.parent_of)
    return [node for node in chain[:-1] if not scene.keying_blocker(node, scene.ROTATE_CHANNELS)] + [head]


@dataclass
class _Motion:
    """The take's head motion on the scene's frames: turns and moves away from the neutral, scene axes."""

    frames: np.ndarray
    turns: np.ndarray            # (F, 3, 3)
    shifts: np.ndarray           # (F, 3) cm
    neutral: headpose.NeutralPose


def plan(info: takes.TakeInfo, rig: scene.SceneRig, options: HeadOptions, start: float, layered: bool
         ) -> Tuple[Optional[HeadKeys], str]:
    """(the head keys, "") or (None, the report line saying why the head is not keyed). Reads the scene
    (at `start`) but changes nothing. `layered`: keys are offsets from the rest pose (an additive
    animation layer adds them to it) instead of the rotations themselves."""
    options.check()
    target = find_target(rig, options.target)
    if not target.chain:
        return None, target.problem
    motion, problem = _read_motion(info, options.strength, start)
    if motion is None:
        return None, problem
    weights = dict(defaults.DEFAULT_HEAD_WEIGHTS) if options.weights is None else dict(options.weights)
    shares = headpose.chain_shares([faceboard.short_name(node) for node in target.chain], weights)
    builder = _RequestBuilder(motion.frames, layered)
    for node, share in zip(target.chain, shares):
        rest = scene.joint_rest(node, start)
        builder.add(node, scene.ROTATE_CHANNELS,
                    headpose.joint_rotations(rest, rotation.fraction_of(motion.turns, share)),
                    rest.rotate, scene.radians_per_scene_angle_unit())
    translation = _add_translation(builder, target.chain[0], motion.shifts, start) if options.translation else ""
    return HeadKeys(target.chain, shares, options.strength, motion.neutral.source, builder.request(),
                    translation), ""


def _read_motion(info: takes.TakeInfo, strength: float, start: float) -> Tuple[Optional[_Motion], str]:
    """head_pose.csv resampled to the scene's frames (time 0 on `start`, as the face board), relative to
    the take's neutral; or None and why."""
    path = info.file("head_pose", defaults.HEAD_POSE_FILE)
    if path is None:
        return None, "The take has no head pose (%s): the head was not keyed." % defaults.HEAD_POSE_FILE
    track = headpose.read_head_track(path)
    neutral = headpose.neutral_pose(track, (info.raw.get("tracking") or {}).get("neutral_frames") or [])
    if neutral is None:
        return None, "The take never saw the actor's face (no tracked head pose): the head was not keyed."
    frames, values = timebase.take_to_scene(track.times, track.values, scene.scene_fps(), start)
    axes = headpose.character_axes(scene.up_axis())
    return _Motion(frames, headpose.world_turns(values[:, :3], neutral, axes, strength),
                   headpose.world_shifts(values[:, 3:], neutral, axes, strength), neutral), ""


def _add_translation(builder: "_RequestBuilder", node: str, shifts: np.ndarray, start: float) -> str:
    """The head's move, on the top-most joint of the chain (the neck carries the head along); returns the
    report's sentence about it."""
    blocked = scene.keying_blocker(node, scene.TRANSLATE_CHANNELS)
    if blocked:
        return "Head position not keyed: %s is %s." % (headpose.leaf_name(node), blocked)
    rest = scene.joint_rest(node, start)
    builder.add(node, scene.TRANSLATE_CHANNELS, headpose.joint_translations(rest, shifts), rest.translate,
                scene.centimetres_per_scene_unit())
    return "Head position keyed on %s." % headpose.leaf_name(node)


class _RequestBuilder:
    """Collects (plug, keys) columns into one KeyRequest; in a layer, keys are offsets from the rest."""

    def __init__(self, frames: np.ndarray, layered: bool) -> None:
        self.frames = frames
        self.layered = layered
        self.plugs: List[str] = []
        self.columns: List[np.ndarray] = []
        self.ui_scale: List[float] = []

    def add(self, node: str, channels: Tuple[str, ...], values: np.ndarray, rest: np.ndarray,
            ui_scale: float) -> None:
        offsets = values - rest if self.layered else values
        for index, channel in enumerate(channels):
            self.plugs.append("%s.%s" % (node, channel))
            self.columns.append(offsets[:, index])
            self.ui_scale.append(ui_scale)

    def request(self) -> keying.KeyRequest:
        return keying.KeyRequest(self.plugs, self.frames, np.column_stack(self.columns), self.ui_scale)
