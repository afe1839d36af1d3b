"""The scene: face-board rigs, transform limits, units, time range, audio and image planes, undo chunks.

A thin layer over maya.cmds; the decisions (which names make a rig, how units convert) are made in the
pure modules it calls.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple, Union

import numpy as np
from maya import cmds, mel

from . import defaults, faceboard, headpose, rotation, timebase

INF = float("inf")


class RigNotFound(Exception):
    """No (or no unambiguous) MetaHuman face board in the scene; the message tells the artist what to do."""


@dataclass
class SceneRig:
    """One face board in the scene: its namespace, generation, and its control nodes by short name."""

    namespace: str
    generation: str
    controls: Dict[str, str]
    duplicates: List[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        kind = "MetaHuman 4" if self.generation == "mh4" else "legacy MetaHuman"
        where = ("namespace %s" % self.namespace) if self.namespace else "root namespace"
        return "%s face board (%s)" % (kind, where)

    def plug(self, attribute: str) -> Optional[str]:
        """"CTRL_L_brow_down.ty" -> "MH:CTRL_L_brow_down.translateY" (None if the rig lacks the control
        or the attribute)."""
        control, maya_attribute = faceboard.split_attribute(attribute)
        node = self.controls.get(control)
        if node is None or not cmds.attributeQuery(maya_attribute, node=node, exists=True):
            return None
        return "%s.%s" % (node, maya_attribute)


RigSpec = Union[None, str, SceneRig]


def face_board_nodes() -> List[str]:
    """Every transform named like a face-board control, in every namespace, as unique paths."""
    return list(cmds.ls("CTRL_*", recursive=True, type="transform", long=True) or [])


def find_rigs() -> List[SceneRig]:
    """The face boards in the scene, one per namespace that holds enough face-board controls."""
    rigs = []
    for namespace, controls in faceboard.group_controls_by_namespace(face_board_nodes()).items():
        if not faceboard.is_face_board(controls):
            continue
        generation = faceboard.classify_generation(controls)
        assert generation is not None
        rigs.append(SceneRig(namespace, generation, controls, _duplicates(namespace, controls)))
    return rigs


def _duplicates(namespace: str, controls: Dict[str, str]) -> List[str]:
    prefix = namespace + ":" if namespace else ""
    return [short for short in controls if len(cmds.ls(prefix + short, long=True) or []) > 1]


def resolve_rig(rig: RigSpec = None) -> SceneRig:
    """A SceneRig from what the caller has: None (the only rig in the scene), a namespace ("MH",
    "MH:"), any node of the rig ("MH:CTRL_C_jaw"), or a SceneRig."""
    if isinstance(rig, SceneRig):
        return rig
    rigs = find_rigs()
    if not rigs:
        raise RigNotFound(
            "No MetaHuman face board found in the scene: no namespace holds the CTRL_* face-board "
            "controls (CTRL_C_jaw, CTRL_L_brow_down, ...). Import or reference the MetaHuman first.")
    if rig is None:
        if len(rigs) > 1:
            raise RigNotFound("The scene holds %d face boards (%s); choose one." % (
                len(rigs), ", ".join(r.namespace or ":" for r in rigs)))
        return rigs[0]
    wanted = _namespace_from_spec(rig)
    for candidate in rigs:
        if candidate.namespace == wanted:
            return candidate
    raise RigNotFound("No face board in namespace %r; the scene has: %s" % (
        wanted or ":", ", ".join(r.namespace or ":" for r in rigs)))


def _namespace_from_spec(spec: str) -> str:
    spec = spec.strip()
    if faceboard.short_name(spec) in faceboard.all_control_names():
        return faceboard.namespace_of(spec).lstrip(":")
    return spec.strip(":")


# --- units and time -----------------------------------------------------------------------------------

def scene_fps() -> float:
    return timebase.fps_from_time_unit(str(cmds.currentUnit(query=True, time=True)))


def centimetres_per_scene_unit() -> float:
    return timebase.centimetres_per_unit(str(cmds.currentUnit(query=True, linear=True)))


def radians_per_scene_angle_unit() -> float:
    return timebase.radians_per_unit(str(cmds.currentUnit(query=True, angle=True)))


def up_axis() -> str:
    return str(cmds.upAxis(query=True, axis=True)).lower()


def playback_start() -> float:
    return float(cmds.playbackOptions(query=True, minTime=True))


def playback_range() -> Tuple[float, float]:
    return (float(cmds.playbackOptions(query=True, minTime=True)),
            float(cmds.playbackOptions(query=True, maxTime=True)))


def set_playback_range(first: float, last: float) -> None:
    cmds.playbackOptions(minTime=int(first), maxTime=int(last),
                         animationStartTime=int(first), animationEndTime=int(last))


def is_batch() -> bool:
    return bool(cmds.about(batch=True))


def undo_enabled() -> bool:
    return bool(cmds.undoInfo(query=True, state=True))


class EditFailed(RuntimeError):
    """An edit in a named undo chunk failed. The message says what failed and, truthfully, what became of
    the scene; `scene_restored` is True when the scene is as it was before the edit."""

    def __init__(self, name: str, cause: BaseException, outcome: str) -> None:
        super().__init__("%s failed: %s\n%s" % (name, cause, _OUTCOME_TEXT[outcome]))
        self.outcome = outcome
        self.scene_restored = outcome in (ROLLED_BACK, NOTHING_CHANGED)


ROLLED_BACK, NOTHING_CHANGED, UNDO_OFF, NOT_ROLLED_BACK = "rolled back", "nothing changed", "undo off", "kept"
_OUTCOME_TEXT = {
    ROLLED_BACK: "Everything it had changed was undone: the scene is as it was before.",
    NOTHING_CHANGED: "It failed before changing the scene: the scene is as it was before.",
    UNDO_OFF: "Undo is off in this Maya, so what it did before failing could not be undone: the scene may "
              "hold part of it.",
    NOT_ROLLED_BACK: "Its changes are not the last step on Maya's undo queue, so they were not undone: the "
                     "scene may hold part of it (see Edit > Undo).",
}


@contextlib.contextmanager
def undo_chunk(name: str, roll_back: bool = False) -> Iterator[None]:
    """One named undo step for everything inside; closed whatever happens inside.

    Maya never rolls a chunk back by itself: commands that ran before an exception stay in the scene.
    With `roll_back`, an exception inside undoes the chunk (when it is the top of the undo queue) and is
    raised again as EditFailed, whose message says whether the scene is as it was. Do not nest a
    rolled-back chunk inside another open chunk: it is then no step of its own and cannot be undone."""
    before = _undo_queue_top() if roll_back else None
    cmds.undoInfo(openChunk=True, chunkName=name)
    try:
        try:
            yield
        finally:
            cmds.undoInfo(closeChunk=True)
    except Exception as exc:
        if not roll_back:
            raise
        raise EditFailed(name, exc, _roll_back(name, before)) from exc


def _undo_queue_top() -> Tuple[str, int]:
    """The name of what Edit > Undo would undo, and the number of items on the undo queue."""
    if not undo_enabled():
        return "", 0
    return str(cmds.undoInfo(query=True, undoName=True) or ""), int(cmds.undoInfo(query=True) or 0)


def _roll_back(name: str, before: Optional[Tuple[str, int]]) -> str:
    if not undo_enabled():
        return UNDO_OFF
    after = _undo_queue_top()
    if after[0] == name:
        cmds.undo()
        return ROLLED_BACK
    return NOTHING_CHANGED if after == before else NOT_ROLLED_BACK


# --- limits -------------------------------------------------------------------------------------------

_LIMIT_FLAGS = {"translateX": ("translationX", "enableTranslationX"),
                "translateY": ("translationY", "enableTranslationY")}


def translation_limits(node: str, maya_attribute: str) -> Tuple[float, float]:
    """The transform limits the scene sets on a control's translate channel, in centimetres;
    -inf/inf on a side whose limit is off."""
    value_flag, enable_flag = _LIMIT_FLAGS[maya_attribute]
    enabled = _pair(cmds.transformLimits(node, query=True, **{enable_flag: True}))
    values = _pair(cmds.transformLimits(node, query=True, **{value_flag: True}))
    scale = centimetres_per_scene_unit()
    low = float(values[0]) * scale if enabled[0] else -INF
    high = float(values[1]) * scale if enabled[1] else INF
    return low, high


def _pair(result: Any) -> Sequence[Any]:
    if not isinstance(result, (list, tuple)) or len(result) != 2:
        raise RuntimeError("unexpected transformLimits result: %r" % (result,))
    return result


# --- audio and video ----------------------------------------------------------------------------------

def import_audio(path: str, start_frame: float) -> str:
    """The take's audio as a sound node starting at `start_frame`, shown on the time slider. A sound
    node from an earlier apply is replaced, not duplicated."""
    if cmds.objExists(defaults.AUDIO_NODE_NAME):
        cmds.delete(defaults.AUDIO_NODE_NAME)
    node = str(cmds.sound(file=path, offset=int(round(start_frame)), name=defaults.AUDIO_NODE_NAME))
    if not is_batch():
        slider = mel.eval("$faceRetargetTmp = $gPlayBackSlider")
        cmds.timeControl(slider, edit=True, sound=node, displaySound=True)
    return node


def camera_shape(camera: str) -> str:
    """The camera shape of `camera` (a camera transform such as "persp", or the shape itself)."""
    if cmds.objExists(camera):
        if str(cmds.nodeType(camera)) == "camera":
            return camera
        shapes = cmds.listRelatives(camera, shapes=True, type="camera", fullPath=True) or []
        if shapes:
            return str(shapes[0])
    raise RuntimeError("No camera named %s in the scene." % camera)


def add_image_plane(video: str, start_frame: float, camera: str = defaults.IMAGE_PLANE_CAMERA) -> str:
    """The source video on an image plane of `camera`, its first frame at `start_frame`. Movie image
    planes show one video frame per scene frame, so they line up when the scene runs at the video's
    rate; the keys are right either way."""
    if cmds.objExists(defaults.IMAGE_PLANE_NAME):
        cmds.delete(defaults.IMAGE_PLANE_NAME)
    created = cmds.imagePlane(camera=camera, fileName=video, name=defaults.IMAGE_PLANE_NAME)
    node = str(created[0] if isinstance(created, (list, tuple)) else created)
    set_attr(node + ".type", 2)                 # 2 = movie
    set_attr(node + ".useFrameExtension", True)
    set_attr(node + ".frameOffset", int(round(1 - start_frame)))
    return node


def set_attr(plug: str, value: Any) -> None:
    cmds.setAttr(plug, value)


def is_layered(plug: str) -> bool:
    """Whether animation layers drive the plug (its input is an animBlendNode, not a curve)."""
    sources = cmds.listConnections(plug, source=True, destination=False, skipConversionNodes=True) or []
    return any(str(cmds.nodeType(node)).startswith("animBlendNode") for node in sources)


def root_layer() -> Optional[str]:
    root = cmds.animLayer(query=True, root=True)
    return str(root) if root else None


# --- joints and transforms (head motion) ----------------------------------------------------------------

ROTATE_CHANNELS = ("rotateX", "rotateY", "rotateZ")
TRANSLATE_CHANNELS = ("translateX", "translateY", "translateZ")


def joints_named(short_name: str) -> List[str]:
    """Every joint called `short_name` in any namespace, as unique paths."""
    return [str(node) for node in cmds.ls(short_name, recursive=True, type="joint", long=True) or []]


def transform_path(node: str) -> Optional[str]:
    """The unique path of a transform or joint called `node`; None when there is none (or it is no
    transform: a shape, a set, ...). A name that several nodes share is an error that says so."""
    found = [str(n) for n in cmds.ls(node, type="transform", long=True) or []]
    if len(found) > 1:
        raise ValueError("%d nodes are called %s; give its full path (%s)" % (len(found), node, ", ".join(found)))
    return found[0] if found else None


def selected_transforms() -> List[str]:
    return [str(node) for node in cmds.ls(selection=True, type="transform", long=True) or []]


def parent_of(node: str) -> Optional[str]:
    parents = cmds.listRelatives(node, parent=True, fullPath=True) or []
    return str(parents[0]) if parents else None


def keying_blocker(node: str, channels: Sequence[str]) -> str:
    """Why the channels cannot take keys: "" when they can, else e.g. "driven by MH:head_orientConstraint1"
    (a face rig whose head follows the body's) or "locked (rotateX)". Curves and animation layers' blend
    nodes are no obstacle: keys replace theirs."""
    for channel in channels:
        plug = "%s.%s" % (node, channel)
        if cmds.getAttr(plug, lock=True):
            return "locked (%s)" % channel
        sources = cmds.listConnections(plug, source=True, destination=False, skipConversionNodes=True) or []
        for source in sources:
            if not str(cmds.nodeType(source)).startswith(("animCurve", "animBlendNode")):
                return "driven by %s" % source
    return ""


def joint_rest(node: str, frame: float) -> headpose.JointRest:
    """A joint's (or transform's) rotate order, joint orient, rotate and translate values and its parent's
    world matrix, as the scene holds them at `frame` (radians, cm)."""
    radians, centimetres = radians_per_scene_angle_unit(), centimetres_per_scene_unit()
    order = rotation.ROTATE_ORDERS[int(cmds.getAttr(node + ".rotateOrder"))]
    parent = cmds.getAttr(node + ".parentMatrix[0]", time=int(frame))
    return headpose.JointRest(
        node=node, rotate_order=order, joint_orient=_triple(node, "jointOrient", frame) * radians,
        rotate=_triple(node, "rotate", frame) * radians, translate=_triple(node, "translate", frame) * centimetres,
        parent_world=rotation.from_maya_matrix(parent))


def _triple(node: str, attribute: str, frame: float) -> np.ndarray:
    """A compound's three values in the UI unit at `frame`; zeros when the node has no such attribute
    (a transform has no joint orient)."""
    if not cmds.attributeQuery(attribute, node=node, exists=True):
        return np.zeros(3)
    return np.array(cmds.getAttr("%s.%s" % (node, attribute), time=int(frame))[0], dtype=float)
