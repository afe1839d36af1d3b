"""An in-memory stand-in for the parts of Maya that retarget_maya calls.

`install()` puts modules named maya, maya.cmds, maya.mel, maya.api.OpenMaya, maya.api.OpenMayaAnim,
maya.OpenMayaUI and maya.standalone into sys.modules. They act on one global `SCENE`: nodes with
namespaces and DAG parents, attributes with transform limits, animation curves stored as numpy arrays
(so 36,000 keys x 174 curves stay cheap), animation layers, sound and image-plane nodes, a few UI
elements, plug-ins, and an undo queue with named chunks. Like Maya, only commands are undoable: edits
made through the API reach the undo queue only through a plug-in command that owns them.

It models behaviour the code relies on, not all of Maya: curves interpolate linearly, layers add. Where
real Maya is strict, so is the fake:
- a flag a command does not have raises TypeError("Invalid flag ...") (the flags are read from
  maya-stubs, which lists every command's flags from Autodesk's documentation);
- loadPlugin of a Python plug-in needs its ".py" file name or a path (a bare name means a compiled
  plug-in: .so/.mll/.bundle) unless a plug-in of that name is loaded;
- an undo chunk never rolls back by itself: an exception inside it leaves every command it ran in the
  scene; only undo() reverts the chunk;
- MTime values are in their own unit (kFilm unless given), MTime.uiUnit() is the scene's time unit, and
  the keys an MTimeArray adds land on the scene frames of that time;
- playblast offers only the formats and compressions of the platform it runs on (Scene.platform, see
  PLAYBLAST_FORMATS: a model for tests; a real Maya answers `playblast -query -format`), draws through the
  renderable camera in batch mode and through the active model panel's camera otherwise, and can be made
  to fail (Scene.playblast_error).
"""
from __future__ import annotations

import ast
import fnmatch
import os
import pickle
import re
import runpy
import sys
import types
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Tuple

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PLUGIN_DIR = os.path.join(REPO, "maya_module", "plug-ins")

TIME_UNITS = ("game", "film", "pal", "ntsc", "show", "palf", "ntscf")
ATTRIBUTE_ALIASES = {"tx": "translateX", "ty": "translateY", "tz": "translateZ", "w": "weight",
                     "rx": "rotateX", "ry": "rotateY", "rz": "rotateZ", "t": "translate", "r": "rotate",
                     "ro": "rotateOrder", "jo": "jointOrient", "ra": "rotateAxis", "s": "scale"}
# Attributes of the unit "angle": Maya keeps them in radians and cmds reads and writes them in the UI unit
# (degrees unless `currentUnit -angle rad`); their curves are animCurveTA.
ANGLE_ATTRIBUTES = tuple(base + axis for base in ("rotate", "jointOrient", "rotateAxis") for axis in "XYZ")
COMPOUND_ATTRIBUTES = ("translate", "rotate", "jointOrient", "rotateAxis", "scale")
ROTATE_ORDERS = ("xyz", "yzx", "zxy", "xzy", "yxz", "zyx")      # Maya's rotateOrder enum


class MayaError(RuntimeError):
    """What Maya raises from a failing command (RuntimeError)."""


# --------------------------------------------------------------------------------------------------------
# scene state
# --------------------------------------------------------------------------------------------------------

@dataclass
class Attr:
    value: float = 0.0
    limits: Tuple[float, float] = (-1.0, 1.0)
    limits_enabled: Tuple[bool, bool] = (False, False)
    locked: bool = False
    driver: Optional[str] = None            # a node (a constraint, ...) connected into it that is no curve
    curve: Optional[str] = None             # animCurve node driving the attribute (the base layer's)
    layers: Dict[str, Optional[str]] = field(default_factory=dict)   # layer -> its curve
    blend: Optional[str] = None             # animBlendNode when layers drive the attribute


@dataclass
class Node:
    name: str
    type: str
    parent: Optional[str] = None
    attrs: Dict[str, Attr] = field(default_factory=dict)
    aliases: Dict[str, str] = field(default_factory=dict)     # alias -> "weight[i]"
    data: Dict[str, Any] = field(default_factory=dict)
    # animation curves
    times: Any = None
    values: Any = None
    output: Optional[str] = None            # the plug a curve drives


@dataclass
class UndoEntry:
    undo: Callable[[], Any]
    redo: Callable[[], Any]
    label: str = ""


class UndoStep(list):
    """One item of the undo queue: a command's entries, or a closed chunk's; named like Maya names it (the
    chunk's name, else the command's)."""

    def __init__(self, entries: Any = (), name: str = "") -> None:
        super().__init__(entries)
        self.name = name


def _host_platform() -> str:
    if sys.platform.startswith("win"):
        return "windows"
    return "mac" if sys.platform == "darwin" else "linux"


# What `playblast -query -format` and `playblast -format F -query -compression` answer, per platform. A model
# for the tests (real answers depend on the Maya version and the codecs installed): QuickTime H.264 on
# Windows, AVFoundation H.264 on macOS, AVI on Windows only, and a Linux Maya whose movie format has no
# H.264; image sequences everywhere.
IMAGE_COMPRESSIONS = ["global", "bmp", "gif", "jpg", "png", "tga", "tif"]
PLAYBLAST_FORMATS: Dict[str, Dict[str, List[str]]] = {
    "windows": {"avi": ["none", "IYUV codec", "MS-CRAM"], "image": IMAGE_COMPRESSIONS,
                "qt": ["H.264", "JPEG", "PNG"]},
    "mac": {"avfoundation": ["H.264", "JPEG"], "image": IMAGE_COMPRESSIONS},
    "linux": {"image": IMAGE_COMPRESSIONS, "qt": ["png", "jpeg", "raw"]},
}
MOVIE_EXTENSIONS = {"qt": ".mov", "avfoundation": ".mov", "avi": ".avi"}
DEFAULT_CAMERAS = (("persp", True), ("top", False), ("front", False), ("side", False))


class Scene:
    def __init__(self) -> None:
        self.nodes: Dict[str, Node] = {}
        self.time_unit = "film"
        self.linear_unit = "cm"
        self.angle_unit = "deg"
        self.up_axis = "y"
        self.min_time, self.max_time = 1.0, 120.0
        self.current_time = 1.0
        self.batch = False
        self.undo_state = True
        self.undo_steps: List[UndoStep] = []
        self.redo_steps: List[UndoStep] = []
        self.open_chunks: List[List[UndoEntry]] = []
        self.open_chunk_names: List[str] = []
        self.chunk_names: List[str] = []        # every chunk opened, in order (tests read the last one)
        self.chunk_depth_max = 0
        self.calls: Counter = Counter()
        self.layers: List[str] = []
        self.plugins: Dict[str, Dict[str, Any]] = {}
        self.plugin_path = [PLUGIN_DIR]
        self.deferred: List[Callable[[], Any]] = []
        self.ui: Dict[str, Dict[str, Any]] = {}
        self.scene_name = ""
        self.selection: List[str] = []
        self.quit_code: Optional[int] = None
        self.fail_on: Dict[str, int] = {}     # command -> fail on the n-th call (tests of errors)
        self.platform = _host_platform()       # "windows" | "mac" | "linux": decides the playblast formats
        self.playblast_error: Optional[str] = None   # set: playblast fails with this (codec, no GL context)
        self.playblasts: List[Dict[str, Any]] = []   # what each playblast was asked for and drew
        self.panels: Dict[str, str] = {"modelPanel4": "persp"}   # model editor -> its camera (UI sessions)
        self._counter = 0
        for camera, renderable in DEFAULT_CAMERAS:
            self.add_node(camera, "transform")
            shape = self.add_node(camera + "Shape", "camera", parent=camera)
            shape.attrs["renderable"] = Attr(value=float(renderable))

    # --- naming -----------------------------------------------------------------------------------
    def unique(self, base: str) -> str:
        if base not in self.nodes:
            return base
        while True:
            self._counter += 1
            name = "%s%d" % (base.rstrip("0123456789"), self._counter)
            if name not in self.nodes:
                return name

    def node(self, name: str) -> Node:
        leaf = name.rsplit("|", 1)[-1]
        if leaf not in self.nodes:
            raise MayaError("No object matches name: %s" % name)
        return self.nodes[leaf]

    def long_name(self, name: str) -> str:
        node = self.node(name)
        if node.type in DAG_TYPES:
            parts = []
            while node is not None:
                parts.append(node.name)
                node = self.nodes.get(node.parent) if node.parent else None
            return "|" + "|".join(reversed(parts))
        return node.name

    def add_node(self, name: str, node_type: str, parent: Optional[str] = None) -> Node:
        node = Node(self.unique(name), node_type, parent)
        self.nodes[node.name] = node
        return node

    def plug(self, plug: str) -> Tuple[Node, str, Attr]:
        node_name, _, attribute = plug.rsplit("|", 1)[-1].partition(".")
        node = self.node(node_name)
        attribute = ATTRIBUTE_ALIASES.get(attribute, attribute)
        attribute = node.aliases.get(attribute, attribute)
        if attribute not in node.attrs:
            raise MayaError("No attribute %s on %s" % (attribute, node.name))
        return node, attribute, node.attrs[attribute]

    def plug_name(self, plug: str) -> str:
        node, attribute, _ = self.plug(plug)
        return "%s.%s" % (node.name, attribute)

    # --- undo ---------------------------------------------------------------------------------------
    def record(self, undo: Callable[[], Any], redo: Callable[[], Any], label: str = "") -> None:
        if not self.undo_state:
            return
        entry = UndoEntry(undo, redo, label)
        if self.open_chunks:
            self.open_chunks[-1].append(entry)
        else:
            self.undo_steps.append(UndoStep([entry], label))
        self.redo_steps.clear()

    def count(self, command: str) -> None:
        self.calls[command] += 1
        fail_at = self.fail_on.get(command)
        if fail_at is not None and self.calls[command] >= fail_at:
            raise MayaError("injected failure in %s" % command)

    # --- curves -------------------------------------------------------------------------------------
    def create_curve(self, plug: str, layer: Optional[str] = None) -> Node:
        node, attribute, attr = self.plug(plug)
        curve_type = ("animCurveTU" if node.type == "blendShape" else
                      "animCurveTA" if attribute in ANGLE_ATTRIBUTES else "animCurveTL")
        suffix = attribute.replace("[", "_").replace("]", "")
        curve = self.add_node("%s_%s%s" % (node.name.replace(":", "_"), suffix, "_" + layer if layer else ""),
                              curve_type)
        curve.times = np.empty(0)
        curve.values = np.empty(0)
        curve.output = "%s.%s" % (node.name, attribute)
        self._connect_curve(attr, curve.name, layer)
        return curve

    def _connect_curve(self, attr: Attr, curve: Optional[str], layer: Optional[str]) -> None:
        if layer and layer != ROOT_LAYER:
            attr.layers[layer] = curve
        else:
            attr.curve = curve

    def curve_for(self, plug: str, layer: Optional[str]) -> Optional[Node]:
        _, _, attr = self.plug(plug)
        name = attr.layers.get(layer) if layer and layer != ROOT_LAYER else attr.curve
        return self.nodes.get(name) if name else None

    def delete_node(self, name: str) -> None:
        node = self.nodes.pop(name)
        if node.output:
            owner = self.nodes.get(node.output.split(".", 1)[0])
            if owner is not None:
                attr = owner.attrs[node.output.split(".", 1)[1]]
                if attr.curve == name:
                    attr.curve = None
                for layer, curve in list(attr.layers.items()):
                    if curve == name:
                        attr.layers[layer] = None

    def restore_node(self, node: Node) -> None:
        self.nodes[node.name] = node
        if node.output:
            owner, attribute = node.output.split(".", 1)
            attr = self.nodes[owner].attrs[attribute]
            layer = node.data.get("layer")
            self._connect_curve(attr, node.name, layer)

    def evaluate(self, plug: str, time: float) -> float:
        _, _, attr = self.plug(plug)
        value = _curve_value(self.nodes.get(attr.curve) if attr.curve else None, time, attr.value)
        for curve in attr.layers.values():
            if curve:
                value += _curve_value(self.nodes[curve], time, 0.0)
        return value

    # --- files ----------------------------------------------------------------------------------------
    def save(self, path: str) -> None:
        state = {k: v for k, v in self.__dict__.items()
                 if k in ("nodes", "time_unit", "linear_unit", "min_time", "max_time", "layers")}
        with open(path, "wb") as handle:
            pickle.dump(state, handle)

    def load(self, path: str) -> None:
        with open(path, "rb") as handle:
            state = pickle.load(handle)
        self.__dict__.update(state)
        self.undo_steps.clear()
        self.redo_steps.clear()
        self.scene_name = path


def _curve_value(curve: Optional[Node], time: float, default: float) -> float:
    if curve is None or len(curve.times) == 0:
        return default
    return float(np.interp(time, curve.times, curve.values))


DAG_TYPES = ("transform", "joint", "mesh", "camera", "imagePlane")
ROOT_LAYER = "BaseAnimation"
SCENE = Scene()


def reset() -> Scene:
    global SCENE
    SCENE = Scene()
    for module in (cmds, om, oma):
        module.SCENE_REF[0] = SCENE
    for name in list(vars(cmds)):
        if getattr(getattr(cmds, name), "_plugin_command", False):
            delattr(cmds, name)
    return SCENE


def scene() -> Scene:
    return SCENE


# --------------------------------------------------------------------------------------------------------
# maya.cmds
# --------------------------------------------------------------------------------------------------------

cmds = types.ModuleType("maya.cmds")
cmds.SCENE_REF = [SCENE]


def _s() -> Scene:
    return cmds.SCENE_REF[0]


_STUB_FLAGS: Dict[str, frozenset] = {}


def stub_flags() -> Dict[str, frozenset]:
    """{command: its flags} from maya-stubs' maya/cmds (generated from Autodesk's command documentation);
    empty when maya-stubs is not installed."""
    if not _STUB_FLAGS:
        for folder in sys.path:
            path = os.path.join(folder or ".", "maya-stubs", "cmds", "__init__.pyi")
            if os.path.isfile(path):
                with builtins_open(path) as handle:
                    tree = ast.parse(handle.read())
                for node in tree.body:
                    if isinstance(node, ast.FunctionDef):
                        names = {a.arg for a in node.args.args + node.args.kwonlyargs}
                        _STUB_FLAGS[node.name] = _STUB_FLAGS.get(node.name, frozenset()) | frozenset(names)
                break
    return _STUB_FLAGS


def check_flags(name: str, flags: Dict[str, Any]) -> None:
    """Like maya.cmds: a flag the command does not have is a TypeError."""
    known = stub_flags().get(name)
    if known is None:
        return
    for flag in flags:
        if flag not in known:
            raise TypeError("Invalid flag '%s'" % flag)


def command(function: Callable) -> Callable:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        check_flags(function.__name__, kwargs)
        _s().count(function.__name__)
        return function(*args, **kwargs)
    wrapper.__name__ = function.__name__
    setattr(cmds, function.__name__, wrapper)
    return wrapper


def _curve_snapshot(curve: Node) -> Callable[[], None]:
    times, values = curve.times.copy(), curve.values.copy()

    def restore() -> None:
        curve.times, curve.values = times, values
    return restore


def _set_curve_keys(curve: Node, times: np.ndarray, values: np.ndarray, keep_existing: bool) -> None:
    if keep_existing and len(curve.times):
        keep = ~np.isin(curve.times, times)
        times = np.concatenate([curve.times[keep], times])
        values = np.concatenate([curve.values[keep], values])
        order = np.argsort(times, kind="stable")
        times, values = times[order], values[order]
    curve.times, curve.values = np.asarray(times, dtype=float), np.asarray(values, dtype=float)


@command
def ls(*patterns: str, recursive: bool = False, type: Any = None, long: bool = False, selection: bool = False,
       noIntermediate: bool = False, **_: Any) -> List[str]:
    scene = _s()
    if selection:
        names = list(scene.selection)
    else:
        names = []
        for node in scene.nodes.values():
            if patterns and not any(_matches(node.name, p.rsplit("|", 1)[-1], recursive) for p in patterns):
                continue
            names.append(node.name)
    if type is not None:
        wanted = type if isinstance(type, (list, tuple)) else [type]
        names = [n for n in names if any(_type_matches(scene.nodes[n].type, t) for t in wanted)]
    return [scene.long_name(n) if long else n for n in names]


def _matches(name: str, pattern: str, recursive: bool) -> bool:
    if fnmatch.fnmatchcase(name, pattern):
        return True
    return recursive and ":" not in pattern and fnmatch.fnmatchcase(name.rsplit(":", 1)[-1], pattern)


def _type_matches(node_type: str, wanted: str) -> bool:
    # As in Maya, a joint is a kind of transform: `ls -type transform` lists joints too.
    return (node_type == wanted or (wanted == "animCurve" and node_type.startswith("animCurve"))
            or (wanted == "transform" and node_type == "joint"))


@command
def objExists(name: str) -> bool:
    try:
        if "." in name.rsplit("|", 1)[-1]:
            _s().plug(name)
        else:
            _s().node(name)
        return True
    except MayaError:
        return False


@command
def nodeType(name: str) -> str:
    return _s().node(name).type


@command
def attributeQuery(attribute: str, node: str = "", exists: bool = False, **_: Any) -> bool:
    attribute = ATTRIBUTE_ALIASES.get(attribute, attribute)
    try:
        if attribute in COMPOUND_ATTRIBUTES:
            return attribute + "X" in _s().node(node).attrs
        _s().plug("%s.%s" % (node, attribute))
        return True
    except MayaError:
        return False


_LIMIT_AXES = {"translationX": "translateX", "translationY": "translateY", "translationZ": "translateZ"}


@command
def transformLimits(node: str, query: bool = False, edit: bool = False, **flags: Any) -> Any:
    target = _s().node(node)
    for flag, value in flags.items():
        enable = flag.startswith("enable")
        key = flag[len("enable"):] if enable else flag          # "TranslationX" / "translationX"
        attr = target.attrs[_LIMIT_AXES[key[0].lower() + key[1:]]]
        if query:
            return list(attr.limits_enabled if enable else attr.limits)
        if enable:
            attr.limits_enabled = tuple(value)
        else:
            attr.limits = tuple(value)
    return None


@command
def currentUnit(query: bool = False, time: Any = None, linear: Any = None, angle: Any = None, **_: Any) -> Any:
    scene = _s()
    if query:
        return scene.time_unit if time else scene.angle_unit if angle else scene.linear_unit
    if time:
        scene.time_unit = time
    if linear:
        scene.linear_unit = linear
    if angle:
        scene.angle_unit = angle
    return None


@command
def upAxis(query: bool = False, axis: Any = None, **_: Any) -> Any:
    if query:
        return _s().up_axis
    _s().up_axis = axis
    return None


@command
def playbackOptions(query: bool = False, edit: bool = False, minTime: Any = None, maxTime: Any = None,
                    animationStartTime: Any = None, animationEndTime: Any = None, **_: Any) -> Any:
    scene = _s()
    if query:
        return scene.min_time if minTime else scene.max_time
    old = (scene.min_time, scene.max_time)
    if minTime is not None:
        scene.min_time = float(minTime)
    if maxTime is not None:
        scene.max_time = float(maxTime)
    new = (scene.min_time, scene.max_time)
    scene.record(lambda: _set_range(old), lambda: _set_range(new), "playbackOptions")
    return None


def _set_range(values: Tuple[float, float]) -> None:
    _s().min_time, _s().max_time = values


@command
def currentTime(*args: Any, query: bool = False, **_: Any) -> float:
    if args:
        _s().current_time = float(args[0])
    return _s().current_time


@command
def about(batch: bool = False, **_: Any) -> Any:
    return _s().batch if batch else "fake"


@command
def undoInfo(query: bool = False, openChunk: bool = False, closeChunk: bool = False, chunkName: Any = None,
             state: Any = None, undoName: bool = False, **_: Any) -> Any:
    scene = _s()
    if query:
        if state is not None:
            return scene.undo_state
        if undoName:
            return scene.undo_steps[-1].name if scene.undo_steps else ""
        if chunkName is not None:
            return scene.open_chunk_names[-1] if scene.open_chunk_names else ""
        return len(scene.undo_steps)             # no flag: the number of items on the undo queue
    if state is not None:
        scene.undo_state = bool(state)
    if openChunk:
        scene.open_chunks.append([])
        scene.open_chunk_names.append(chunkName or "")
        scene.chunk_names.append(chunkName or "")
        scene.chunk_depth_max = max(scene.chunk_depth_max, len(scene.open_chunks))
    if closeChunk:
        if not scene.open_chunks:
            raise MayaError("closeChunk without an open chunk")
        chunk = scene.open_chunks.pop()
        name = scene.open_chunk_names.pop()
        if scene.open_chunks:
            scene.open_chunks[-1].extend(chunk)
        elif chunk:
            scene.undo_steps.append(UndoStep(chunk, name))    # an empty chunk leaves no step, as in Maya
    return None


@command
def undo() -> None:
    scene = _s()
    if not scene.undo_steps:
        raise MayaError("There are no more commands to undo.")
    step = scene.undo_steps.pop()
    for entry in reversed(step):
        entry.undo()
    scene.redo_steps.append(step)


@command
def redo() -> None:
    scene = _s()
    step = scene.redo_steps.pop()
    for entry in step:
        entry.redo()
    scene.undo_steps.append(step)


def _curve_or_plug(name: str, layer: Optional[str] = None) -> Optional[Node]:
    scene = _s()
    leaf = name.rsplit("|", 1)[-1]
    if "." not in leaf:
        node = scene.node(leaf)
        return node if node.type.startswith("animCurve") else None
    return scene.curve_for(name, layer)


@command
def cutKey(target: str, time: Tuple[float, float] = (-1e12, 1e12), clear: bool = False, **_: Any) -> int:
    scene = _s()
    curve = _curve_or_plug(target)
    if curve is None:
        return 0
    inside = (curve.times >= time[0]) & (curve.times <= time[1])
    count = int(inside.sum())
    if not count:
        return 0
    restore = _curve_snapshot(curve)
    curve.times, curve.values = curve.times[~inside], curve.values[~inside]
    after = _curve_snapshot(curve)
    if len(curve.times) == 0:
        # Like Maya, cutting every key deletes the curve.
        scene.delete_node(curve.name)
        scene.record(lambda: (restore(), scene.restore_node(curve)),
                     lambda: scene.delete_node(curve.name), "cutKey")
    else:
        scene.record(restore, after, "cutKey")
    return count


@command
def setKeyframe(plug: str, time: Any = None, value: Any = None, animLayer: Optional[str] = None,
                inTangentType: str = "", outTangentType: str = "", **_: Any) -> int:
    scene = _s()
    if isinstance(time, float) and not time.is_integer():
        raise MayaError("fractional frame in a test that expects whole frames")
    node, attribute, attr = scene.plug(plug)
    layer = animLayer if animLayer and animLayer != ROOT_LAYER else None
    if layer is not None and layer not in attr.layers:
        raise MayaError("%s.%s is not in layer %s" % (node.name, attribute, layer))
    curve = scene.curve_for(plug, layer)
    created = curve is None
    if created:
        curve = scene.create_curve(plug, layer)
        curve.data["layer"] = layer
    assert curve is not None
    frame = float(scene.current_time if time is None else time)
    key_value = float(attr.value if value is None else value) * _ui_scale(node, attribute)
    restore = _curve_snapshot(curve)
    _set_curve_keys(curve, np.array([frame]), np.array([key_value]), keep_existing=True)
    after = _curve_snapshot(curve)
    if created:
        scene.record(lambda: scene.delete_node(curve.name), lambda: (scene.restore_node(curve), after()),
                     "setKeyframe")
    else:
        scene.record(restore, after, "setKeyframe")
    return 1


def _ui_scale(node: Node, attribute: str) -> float:
    """Internal units per UI unit: centimetres for translate channels, radians for angles, 1 otherwise."""
    if node.type == "blendShape":
        return 1.0
    if attribute in ANGLE_ATTRIBUTES:
        return {"deg": np.pi / 180.0, "rad": 1.0}[_s().angle_unit]
    if attribute.startswith("translate"):
        return {"cm": 1.0, "mm": 0.1, "m": 100.0}[_s().linear_unit]
    return 1.0


@command
def keyframe(plug: str, query: bool = False, timeChange: bool = False, valueChange: bool = False,
             keyframeCount: bool = False, name: bool = False, **_: Any) -> Any:
    scene = _s()
    curve = _curve_or_plug(plug)
    if curve is None:
        return 0 if keyframeCount else None
    if keyframeCount:
        return int(len(curve.times))
    if name:
        return [curve.name]
    if timeChange:
        return curve.times.tolist()
    if valueChange:
        owner, _, attribute = (curve.output or "").partition(".")
        scale = _ui_scale(scene.node(owner), attribute) if owner else 1.0
        return (curve.values / scale).tolist()
    return None


@command
def listConnections(plug: str, source: bool = True, destination: bool = True, type: Optional[str] = None,
                    skipConversionNodes: bool = False, **_: Any) -> Optional[List[str]]:
    scene = _s()
    leaf = plug.rsplit("|", 1)[-1]
    if "." not in leaf or not source:
        return None
    _, _, attr = scene.plug(plug)
    sources = [attr.blend] if attr.blend else ([attr.curve] if attr.curve else [])
    if attr.driver:
        sources.append(attr.driver)
    if type is not None:
        sources = [n for n in sources if _type_matches(scene.nodes[n].type, type)]
    return sources or None


@command
def getAttr(plug: str, time: Any = None, lock: bool = False, **_: Any) -> Any:
    """Values in the UI units; a compound (translate, rotate, jointOrient, ...) as [(x, y, z)]; an enum
    (rotateOrder) as an int; a matrix (matrix, parentMatrix[0], worldMatrix[0]) as 16 numbers, row-vector
    convention, evaluated at `time`."""
    scene = _s()
    node_name, _, attribute = plug.rsplit("|", 1)[-1].partition(".")
    at = scene.current_time if time is None else float(time)
    base = ATTRIBUTE_ALIASES.get(attribute.split("[")[0], attribute.split("[")[0])
    if base in MATRIX_ATTRIBUTES:
        return MATRIX_ATTRIBUTES[base](scene, scene.node(node_name).name, at).ravel().tolist()
    if base in COMPOUND_ATTRIBUTES:
        node = scene.node(node_name)
        if base + "X" not in node.attrs:
            raise MayaError("No attribute %s on %s" % (base, node.name))
        if lock:
            return node.attrs[base + "X"].locked
        return [tuple(_value_in_ui_unit(scene, node, base + axis, at) for axis in "XYZ")]
    node, attribute, attr = scene.plug(plug)
    if lock:
        return attr.locked
    if attribute in ENUM_ATTRIBUTES:
        return int(round(attr.value))
    return _value_in_ui_unit(scene, node, attribute, at)


ENUM_ATTRIBUTES = ("rotateOrder",)


def _value_in_ui_unit(scene: Scene, node: Node, attribute: str, time: float) -> float:
    return _internal_value(scene, node, attribute, time) / _ui_scale(node, attribute)


def _internal_value(scene: Scene, node: Node, attribute: str, time: float, default: float = 0.0) -> float:
    attr = node.attrs.get(attribute)
    if attr is None:
        return default
    if attr.curve is None and not any(attr.layers.values()):
        return attr.value
    return scene.evaluate("%s.%s" % (node.name, attribute), time)


# --- transforms and joints: their matrices as Maya composes them ---------------------------------------
# Row vectors, as Maya's own matrices: a point p in the node's space is p @ matrix in its parent's space.
# A transform (pivots at the origin) is [S][RA][R][T]; a joint is [S][RA][R][JO][T] (the inverse parent
# scale is left out: the fake's joints have no scale). "xyz" turns about X first: [R] = Rx @ Ry @ Rz.

def _row_rotation(axis: str, angle: float) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    if axis == "x":
        return np.array([[1.0, 0.0, 0.0], [0.0, c, s], [0.0, -s, c]])
    if axis == "y":
        return np.array([[c, 0.0, -s], [0.0, 1.0, 0.0], [s, 0.0, c]])
    return np.array([[c, s, 0.0], [-s, c, 0.0], [0.0, 0.0, 1.0]])


def _row_euler(angles: Tuple[float, float, float], order: str) -> np.ndarray:
    matrix = np.eye(3)
    for letter in order:
        matrix = matrix @ _row_rotation(letter, angles["xyz".index(letter)])
    return matrix


def local_matrix(scene: Scene, name: str, time: float) -> np.ndarray:
    node = scene.node(name)

    def triple(base: str, default: float = 0.0) -> Tuple[float, float, float]:
        x, y, z = (_internal_value(scene, node, base + axis, time, default) for axis in "XYZ")
        return x, y, z

    order = ROTATE_ORDERS[int(round(_internal_value(scene, node, "rotateOrder", time)))]
    rotation = np.diag(triple("scale", 1.0)) @ _row_euler(triple("rotateAxis"), "xyz") @ \
        _row_euler(triple("rotate"), order)
    if node.type == "joint":
        rotation = rotation @ _row_euler(triple("jointOrient"), "xyz")
    matrix = np.eye(4)
    matrix[:3, :3] = rotation
    matrix[3, :3] = triple("translate")
    return matrix


def parent_matrix(scene: Scene, name: str, time: float) -> np.ndarray:
    parent = scene.node(name).parent
    return world_matrix(scene, parent, time) if parent else np.eye(4)


def world_matrix(scene: Scene, name: str, time: float) -> np.ndarray:
    return local_matrix(scene, name, time) @ parent_matrix(scene, name, time)


MATRIX_ATTRIBUTES: Dict[str, Callable[[Scene, str, float], np.ndarray]] = {
    "matrix": local_matrix, "parentMatrix": parent_matrix, "worldMatrix": world_matrix}


@command
def setAttr(plug: str, *values: Any, **_: Any) -> None:
    scene = _s()
    node_name, _, attribute = plug.rsplit("|", 1)[-1].partition(".")
    node = scene.node(node_name)
    attribute = ATTRIBUTE_ALIASES.get(attribute, attribute)
    attr = node.attrs.setdefault(attribute, Attr())
    old, attr.value = attr.value, float(values[0]) * _ui_scale(node, attribute)
    new = attr.value
    scene.record(lambda: setattr(attr, "value", old), lambda: setattr(attr, "value", new), "setAttr")


@command
def animLayer(name: Optional[str] = None, query: bool = False, edit: bool = False, exists: bool = False,
              attribute: Any = None, root: bool = False, findCurveForPlug: Optional[str] = None,
              **_: Any) -> Any:
    scene = _s()
    if query and root:
        return ROOT_LAYER if scene.layers else None
    if query and exists:
        return name in scene.layers
    if query and findCurveForPlug:
        curve = scene.curve_for(findCurveForPlug, name)
        return [curve.name] if curve is not None else None
    if edit and attribute is not None:
        for plug in attribute if isinstance(attribute, list) else [attribute]:
            _add_to_layer(plug, name)
        return None
    assert name is not None
    if not scene.layers:
        scene.layers.append(ROOT_LAYER)
    scene.layers.append(name)
    scene.record(lambda: scene.layers.remove(name), lambda: scene.layers.append(name), "animLayer")
    return name


def _add_to_layer(plug: str, layer: Optional[str]) -> None:
    scene = _s()
    node, attribute, attr = scene.plug(plug)
    if layer in attr.layers:
        return
    attr.layers[str(layer)] = None
    created_blend = attr.blend is None
    if created_blend:
        blend = scene.add_node("%s_%s_blend" % (node.name.replace(":", "_"), attribute), "animBlendNodeAdditiveDL")
        attr.blend = blend.name

    def undo() -> None:
        attr.layers.pop(str(layer), None)
        if created_blend and attr.blend:
            scene.nodes.pop(attr.blend, None)
            attr.blend = None
    scene.record(undo, lambda: _add_to_layer(plug, layer), "animLayer edit")


@command
def sound(file: str = "", offset: int = 0, name: str = "", **_: Any) -> str:
    scene = _s()
    node = scene.add_node(name or "audio", "audio")
    node.data.update(file=file, offset=offset)
    scene.record(lambda: scene.nodes.pop(node.name), lambda: scene.nodes.__setitem__(node.name, node), "sound")
    return node.name


@command
def timeControl(*_args: Any, **_kwargs: Any) -> None:
    return None


@command
def imagePlane(camera: str = "", fileName: str = "", name: str = "", **_: Any) -> List[str]:
    scene = _s()
    transform = scene.add_node(name or "imagePlane", "transform")
    shape = scene.add_node(transform.name + "Shape", "imagePlane", parent=transform.name)
    shape.data.update(camera=camera, fileName=fileName)
    scene.record(lambda: [scene.nodes.pop(n.name, None) for n in (transform, shape)],
                 lambda: scene.nodes.update({transform.name: transform, shape.name: shape}), "imagePlane")
    return [transform.name, shape.name]


@command
def delete(*names: str, **_: Any) -> None:
    scene = _s()
    for name in names:
        node = scene.node(name)
        scene.nodes.pop(node.name)
        scene.record(lambda n=node: scene.nodes.__setitem__(n.name, n),
                     lambda n=node: scene.nodes.pop(n.name), "delete")


@command
def listRelatives(name: str, parent: bool = False, fullPath: bool = False, shapes: bool = False,
                  type: Optional[str] = None, **_: Any) -> Optional[List[str]]:
    scene = _s()
    node = scene.node(name)
    if parent:
        found = [node.parent] if node.parent else []
    else:
        found = [n.name for n in scene.nodes.values() if n.parent == node.name
                 and (not shapes or n.type not in ("transform",))]
    if type is not None:
        found = [n for n in found if _type_matches(scene.nodes[n].type, type)]
    return [scene.long_name(n) if fullPath else n for n in found] or None


@command
def listHistory(name: str, **_: Any) -> List[str]:
    scene = _s()
    head = scene.node(name)
    found = [head.name]
    for node in scene.nodes.values():
        if node.type == "blendShape" and node.data.get("base") in (head.name, name):
            found.append(node.name)
    return found


@command
def blendShape(*args: str, name: str = "blendShape", **_: Any) -> List[str]:
    scene = _s()
    *targets, base = args
    node = scene.add_node(name, "blendShape")
    node.data["base"] = scene.node(base).name
    for index, target in enumerate(targets):
        alias = scene.node(target).name.rsplit(":", 1)[-1]
        node.attrs["weight[%d]" % index] = Attr()
        node.aliases[alias] = "weight[%d]" % index
    scene.record(lambda: scene.nodes.pop(node.name), lambda: scene.nodes.__setitem__(node.name, node), "blendShape")
    return [node.name]


@command
def aliasAttr(name: str, query: bool = False, **_: Any) -> Optional[List[str]]:
    node = _s().node(name)
    flat: List[str] = []
    for alias, attribute in node.aliases.items():
        flat += [alias, attribute]
    return flat or None


# --- plug-ins -------------------------------------------------------------------------------------------

COMPILED_PLUGIN_EXTENSIONS = {"windows": ".mll", "mac": ".bundle", "linux": ".so"}


@command
def loadPlugin(name: str, quiet: bool = False, **_: Any) -> List[str]:
    """As in Maya: a path loads that file; a file name is looked for on the plug-in path; a name without
    an extension gets the platform's compiled extension (.so/.mll/.bundle), so a Python plug-in must be
    named with its ".py" (a plug-in of that name already loaded is fine)."""
    scene = _s()
    short = os.path.splitext(os.path.basename(name))[0]
    if short in scene.plugins and (not os.path.splitext(name)[1] or os.path.basename(name) == name):
        return [short]
    file_name = name if os.path.splitext(name)[1] else name + COMPILED_PLUGIN_EXTENSIONS[scene.platform]
    path = file_name if os.path.dirname(file_name) and os.path.isfile(file_name) else None
    if path is None and not os.path.dirname(file_name):
        for folder in scene.plugin_path:
            candidate = os.path.join(folder, file_name)
            if os.path.isfile(candidate):
                path = candidate
                break
    if path is None:
        raise MayaError("Plug-in, \"%s\", was not found on MAYA_PLUG_IN_PATH." % name)
    if not path.endswith(".py"):
        raise MayaError("the fake loads Python plug-ins only: %s" % path)
    if short in scene.plugins:
        return [short]
    namespace = runpy.run_path(path, run_name="fake_plugin_" + short)
    namespace["initializePlugin"](om.MObject(short))
    scene.plugins[short] = {"path": path, "namespace": namespace}
    return [short]


@command
def unloadPlugin(name: str, **_: Any) -> None:
    plugin = _s().plugins.pop(name)
    plugin["namespace"]["uninitializePlugin"](om.MObject(name))


@command
def pluginInfo(name: str = "", query: bool = False, edit: bool = False, loaded: bool = False,
               autoload: Any = None, **_: Any) -> Any:
    short = os.path.splitext(os.path.basename(name))[0]
    if query and loaded:
        return short in _s().plugins
    return None


@command
def evalDeferred(function: Any, **_: Any) -> None:
    _s().deferred.append(function)


def run_deferred() -> None:
    scene = _s()
    while scene.deferred:
        function = scene.deferred.pop(0)
        function() if callable(function) else None


# --- files ----------------------------------------------------------------------------------------------

@command
def file(path: str = "", open: bool = False, force: bool = False, rename: str = "", save: bool = False,
         query: bool = False, sceneName: bool = False, type: str = "", **_: Any) -> Any:
    scene = _s()
    if query and sceneName:
        return scene.scene_name
    if open:
        scene.load(path)
        return path
    if rename:
        scene.scene_name = rename
        return rename
    if save:
        scene.save(scene.scene_name)
        return scene.scene_name
    return None


@command
def playblast(filename: str = "", startTime: int = 0, endTime: int = 0, format: str = "", compression: str = "",
              activeEditor: bool = False, editorPanelName: str = "", **kwargs: Any) -> str:
    """Writes a small text file per movie (or per frame of an image sequence) naming what was drawn.
    Checks the format and compression against the platform's (Maya appends the format's extension to a
    movie's file name, and `.####.<compression>` to an image sequence's)."""
    scene = _s()
    if activeEditor:
        if scene.batch or not scene.panels:
            raise MayaError("playblast: there is no model panel to playblast from")
        return next(iter(scene.panels))
    offered = PLAYBLAST_FORMATS[scene.platform]
    if format not in offered:
        raise MayaError("playblast: format \"%s\" is not available (available: %s)" % (format, ", ".join(offered)))
    if compression and compression not in offered[format]:
        raise MayaError("playblast: compression \"%s\" is not available for format %s" % (compression, format))
    if scene.playblast_error:
        raise MayaError(scene.playblast_error)
    if scene.batch:
        cameras = [n.parent or n.name for n in scene.nodes.values()
                   if n.type == "camera" and n.attrs["renderable"].value]
    else:
        cameras = [scene.panels[editorPanelName or next(iter(scene.panels))]]
    if not cameras:
        raise MayaError("playblast: no renderable camera")
    text = "fake playblast %s-%s %s %s camera=%s\n" % (startTime, endTime, format, compression, ",".join(cameras))
    if format == "image":
        written = "%s.####.%s" % (filename, compression)
        for frame in range(int(startTime), int(endTime) + 1):
            with builtins_open(written.replace("####", "%04d" % frame), "w") as handle:
                handle.write(text)
    else:
        written = filename + MOVIE_EXTENSIONS[format]
        with builtins_open(written, "w") as handle:
            handle.write(text)
    scene.playblasts.append(dict(kwargs, filename=filename, format=format, compression=compression,
                                 cameras=cameras, written=written, startTime=startTime, endTime=endTime))
    return written


@command
def modelEditor(editor: str, query: bool = False, edit: bool = False, camera: Any = None, **_: Any) -> Any:
    scene = _s()
    if editor not in scene.panels:
        raise MayaError("Object '%s' not found." % editor)
    if query:
        return scene.panels[editor]
    if camera:
        node = scene.node(camera)
        scene.panels[editor] = node.parent if node.type == "camera" and node.parent else node.name
    return None


builtins_open = open


@command
def quit(abort: bool = False, exitCode: int = 0, force: bool = False) -> None:
    _s().quit_code = exitCode
    raise SystemExit(exitCode)


@command
def internalVar(userAppDir: bool = False, **_: Any) -> str:
    return os.environ.get("MAYA_APP_DIR", "/tmp/maya") + "/"


@command
def confirmDialog(**_: Any) -> str:
    return "OK"


# --- UI: menus, shelves ---------------------------------------------------------------------------------

def _ui_exists(name: str) -> bool:
    return name.rsplit("|", 1)[-1] in _s().ui


@command
def menu(name: str = "", exists: bool = False, parent: str = "", label: str = "", **_: Any) -> Any:
    if exists:
        return _ui_exists(name)
    _s().ui[name] = {"type": "menu", "label": label, "items": [], "parent": parent}
    return name


@command
def menuItem(label: str = "", command: Any = None, parent: str = "", divider: bool = False, **_: Any) -> str:
    _s().ui[parent]["items"].append({"label": label, "command": command, "divider": divider})
    return "%s|item%d" % (parent, len(_s().ui[parent]["items"]))


@command
def deleteUI(name: str, **_: Any) -> None:
    leaf = name.rsplit("|", 1)[-1]
    if leaf not in _s().ui:
        raise MayaError("Object '%s' not found." % name)
    del _s().ui[leaf]


@command
def shelfTabLayout(name: str, query: bool = False, childArray: bool = False, **_: Any) -> Any:
    return [n for n, v in _s().ui.items() if v["type"] == "shelf"] or None


@command
def shelfLayout(name: str, parent: str = "", exists: bool = False, **_: Any) -> Any:
    if exists:
        return _ui_exists(name)
    if name in _s().ui:
        raise MayaError("shelf %s exists" % name)
    _s().ui[name] = {"type": "shelf", "buttons": [], "parent": parent}
    return "%s|%s" % (parent, name)


# --------------------------------------------------------------------------------------------------------
# maya.mel
# --------------------------------------------------------------------------------------------------------

mel = types.ModuleType("maya.mel")
_SOURCE = re.compile(r'source "([^"]+)"; setParent "([^"]+)"; (\w+)\(\);')
_BUTTON_FLAG = re.compile(r'-(\w+) "((?:[^"\\]|\\.)*)"')


def _mel_eval(text: str) -> Any:
    _s().count("mel.eval")
    if "$gShelfTopLevel" in text:
        return "ShelfLayout"
    if "$gPlayBackSlider" in text:
        return "timeControl1"
    if text.startswith("playblast "):
        return _playblast_query(text)
    match = _SOURCE.match(text)
    if match:
        path, parent, proc = match.groups()
        with builtins_open(path) as handle:
            source = handle.read()
        if "global proc %s" % proc not in source:
            raise MayaError("Cannot find procedure \"%s\"." % proc)
        shelf = _s().ui[parent.rsplit("|", 1)[-1]]
        for block in source.split("shelfButton")[1:]:
            shelf["buttons"].append(dict(_BUTTON_FLAG.findall(block)))
        return None
    raise MayaError("fake mel cannot evaluate: %s" % text)


def _playblast_query(text: str) -> List[str]:
    """`playblast -query -format` and `playblast -format "qt" -query -compression`."""
    words = text.rstrip(";").split()[1:]
    if not ({"-query", "-q"} & set(words)):
        raise MayaError("fake mel evaluates playblast queries only: %s" % text)
    offered = PLAYBLAST_FORMATS[_s().platform]
    if "-compression" in words or "-c" in words:
        flag = "-format" if "-format" in words else "-fmt"
        wanted = words[words.index(flag) + 1].strip('"')
        return list(offered.get(wanted, []))
    return sorted(offered)


mel.eval = _mel_eval


# --------------------------------------------------------------------------------------------------------
# maya.api.OpenMaya / OpenMayaAnim
# --------------------------------------------------------------------------------------------------------

om = types.ModuleType("maya.api.OpenMaya")
om.SCENE_REF = cmds.SCENE_REF
oma = types.ModuleType("maya.api.OpenMayaAnim")
oma.SCENE_REF = cmds.SCENE_REF


class MObject:
    def __init__(self, name: str = "") -> None:
        self.name = name


# MTime.Unit values of Maya's API, and the frame rates of the named units.
_TIME_UNIT_ENUM = {"game": 5, "film": 6, "pal": 7, "ntsc": 8, "show": 9, "palf": 10, "ntscf": 11}
_PER_SECOND = {1: 1 / 3600.0, 2: 1 / 60.0, 3: 1.0, 4: 1000.0, 5: 15.0, 6: 24.0, 7: 25.0, 8: 30.0, 9: 48.0,
               10: 50.0, 11: 60.0}


class MTime:
    """A time in its own unit (kFilm unless given, as in Maya's API)."""

    (kInvalid, kHours, kMinutes, kSeconds, kMilliseconds, kGames, kFilm, kPALFrame, kNTSCFrame, kShowScan,
     kPALField, kNTSCField) = range(12)

    def __init__(self, value: float = 0.0, unit: int = 6) -> None:
        if unit not in _PER_SECOND:
            raise ValueError("the fake MTime knows units 1-11, not %r" % unit)
        self.value = float(value)
        self.unit = unit

    @staticmethod
    def uiUnit() -> int:
        return _TIME_UNIT_ENUM[cmds.SCENE_REF[0].time_unit]

    def asUnits(self, unit: int) -> float:
        if unit == self.unit:
            return self.value
        return self.value * _PER_SECOND[unit] / _PER_SECOND[self.unit]


class MTimeArray:
    """Holds its times as frames of the scene's current time unit (what the keys' frames will read)."""

    def __init__(self, times: Any = ()) -> None:
        ui = MTime.uiUnit()
        self.values = np.fromiter((t.asUnits(ui) for t in times), dtype=float)

    def __len__(self) -> int:
        return len(self.values)


class MDoubleArray:
    def __init__(self, values: Any = ()) -> None:
        self.values = np.asarray(values, dtype=float)

    def __len__(self) -> int:
        return len(self.values)


class MSelectionList:
    def __init__(self) -> None:
        self.items: List[str] = []

    def add(self, name: str) -> "MSelectionList":
        self.items.append(cmds.SCENE_REF[0].node(name).name)
        return self

    def getDependNode(self, index: int) -> MObject:
        return MObject(self.items[index])


class MPxCommand:
    def __init__(self) -> None:
        pass


class MFnPlugin:
    def __init__(self, plugin_object: MObject, vendor: str = "", version: str = "", api: str = "") -> None:
        self.plugin = plugin_object.name

    def registerCommand(self, name: str, creator: Callable[[], Any]) -> None:
        def run(*args: Any) -> None:
            scene = cmds.SCENE_REF[0]
            scene.count(name)
            instance = creator()
            instance.doIt(list(args))
            if instance.isUndoable():
                scene.record(instance.undoIt, instance.redoIt, name)
        run._plugin_command = True  # type: ignore[attr-defined]
        setattr(cmds, name, run)

    def deregisterCommand(self, name: str) -> None:
        delattr(cmds, name)


class MAnimCurveChange:
    def __init__(self) -> None:
        self.steps: List[Tuple[Callable[[], None], Callable[[], None]]] = []

    def undoIt(self) -> None:
        for undo_step, _ in reversed(self.steps):
            undo_step()

    def redoIt(self) -> None:
        for _, redo_step in self.steps:
            redo_step()


class MFnAnimCurve:
    kTangentGlobal, kTangentFixed, kTangentLinear, kTangentFlat, kTangentSmooth = 0, 1, 2, 3, 4
    kAnimCurveTA, kAnimCurveTL, kAnimCurveTT, kAnimCurveTU = 0, 1, 2, 3

    def __init__(self, target: Optional[MObject] = None) -> None:
        self.curve = cmds.SCENE_REF[0].node(target.name) if target is not None else None

    def addKeys(self, times: MTimeArray, values: MDoubleArray, tangentInType: int = 0, tangentOutType: int = 0,
                keepExistingKeys: bool = False, change: Optional[MAnimCurveChange] = None) -> "MFnAnimCurve":
        scene = cmds.SCENE_REF[0]
        scene.count("MFnAnimCurve.addKeys")
        assert self.curve is not None
        if len(times) != len(values):
            raise ValueError("times and values differ in length")
        restore = _curve_snapshot(self.curve)
        _set_curve_keys(self.curve, times.values, values.values, keepExistingKeys)
        if change is not None:
            change.steps.append((restore, _curve_snapshot(self.curve)))
        return self

    def numKeys(self) -> int:
        assert self.curve is not None
        return int(len(self.curve.times))


for _cls in (MObject, MTime, MTimeArray, MDoubleArray, MSelectionList, MPxCommand, MFnPlugin):
    setattr(om, _cls.__name__, _cls)
for _cls in (MAnimCurveChange, MFnAnimCurve):
    setattr(oma, _cls.__name__, _cls)


# --------------------------------------------------------------------------------------------------------
# installing the modules
# --------------------------------------------------------------------------------------------------------

def _standalone_initialize(**_: Any) -> None:
    """mayapy: Maya runs without UI from here on (cmds.about(batch=True) is True)."""
    cmds.SCENE_REF[0].batch = True


def install(with_api: bool = True) -> None:
    """Put the fake modules into sys.modules (with_api=False: a Maya without maya.api, for the fallback)."""
    maya = types.ModuleType("maya")
    maya.__path__ = []  # a package
    api = types.ModuleType("maya.api")
    api.__path__ = []
    standalone = types.ModuleType("maya.standalone")
    standalone.initialize = _standalone_initialize
    standalone.uninitialize = lambda **_: None
    ui = types.ModuleType("maya.OpenMayaUI")
    ui.MQtUtil = type("MQtUtil", (), {"mainWindow": staticmethod(lambda: None)})
    modules = {"maya": maya, "maya.cmds": cmds, "maya.mel": mel, "maya.standalone": standalone,
               "maya.OpenMayaUI": ui}
    if with_api:
        modules.update({"maya.api": api, "maya.api.OpenMaya": om, "maya.api.OpenMayaAnim": oma})
        api.OpenMaya, api.OpenMayaAnim = om, oma
        maya.api = api
    maya.cmds, maya.mel, maya.standalone, maya.OpenMayaUI = cmds, mel, standalone, ui
    for name in ("maya.api", "maya.api.OpenMaya", "maya.api.OpenMayaAnim"):
        sys.modules.pop(name, None)
    sys.modules.update(modules)


# --------------------------------------------------------------------------------------------------------
# building scenes
# --------------------------------------------------------------------------------------------------------

def faceboard_table(rig: str) -> List[Dict[str, Any]]:
    import json
    with builtins_open(os.path.join(REPO, "engine", "rig", "data", "faceboard.json")) as handle:
        return json.load(handle)["rigs"][rig]


def build_face_board(rig: str = "mh4", namespace: str = "", limits: bool = True,
                     drop: Tuple[str, ...] = (), limit_overrides: Optional[Dict[str, Tuple[float, float]]] = None
                     ) -> Dict[str, str]:
    """The face board of a rig generation, from the project's control table: one transform per control
    under <ns>:CTRL_faceGUI, translateX/Y with the table's ranges as enabled transform limits.
    `drop` leaves controls out; `limit_overrides` {"CTRL_x.ty": (lo, hi)} changes a limit."""
    scene = _s()
    prefix = namespace + ":" if namespace else ""
    group = scene.add_node(prefix + "CTRL_faceGUI", "transform")
    controls: Dict[str, str] = {}
    for entry in faceboard_table(rig):
        control = entry["control"]
        if control in drop:
            continue
        if control not in controls:
            node = scene.add_node(prefix + control, "transform", parent=group.name)
            for axis in ("translateX", "translateY", "translateZ"):
                node.attrs[axis] = Attr()
            controls[control] = node.name
        attr = scene.nodes[controls[control]].attrs["translateX" if entry["axis"] == "tx" else "translateY"]
        low, high = (limit_overrides or {}).get(entry["attr"], (entry["min"], entry["max"]))
        attr.limits = (low, high)
        attr.limits_enabled = (limits, limits)
        attr.value = entry["default"]
    return controls


def build_arkit_head(names: List[str], namespace: str = "", with_blendshape: bool = False) -> str:
    """A head mesh and one target mesh per ARKit name (or a blendShape with those weight names)."""
    scene = _s()
    prefix = namespace + ":" if namespace else ""
    head = scene.add_node(prefix + "arkitHead", "transform")
    scene.add_node(head.name + "Shape", "mesh", parent=head.name)
    targets = []
    for name in names:
        target = scene.add_node(prefix + "ARKit_" + name, "transform")
        scene.add_node(target.name + "Shape", "mesh", parent=target.name)
        targets.append(target.name)
    if with_blendshape:
        node = scene.add_node(prefix + "faceShapes", "blendShape")
        node.data["base"] = head.name
        for index, name in enumerate(names):
            node.attrs["weight[%d]" % index] = Attr()
            node.aliases[name] = "weight[%d]" % index
        for target in targets:
            scene.nodes.pop(target)
            scene.nodes.pop(target + "Shape")
    return head.name


def add_transform(name: str, node_type: str = "transform", parent: Optional[str] = None,
                  translate: Tuple[float, float, float] = (0.0, 0.0, 0.0),
                  rotate: Tuple[float, float, float] = (0.0, 0.0, 0.0), rotate_order: str = "xyz",
                  joint_orient: Tuple[float, float, float] = (0.0, 0.0, 0.0),
                  rotate_axis: Tuple[float, float, float] = (0.0, 0.0, 0.0),
                  scale: Tuple[float, float, float] = (1.0, 1.0, 1.0)) -> str:
    """A transform or a joint (`node_type="joint"`) with its channels: translate in cm, angles in degrees
    (stored, as Maya stores them, in radians), a rotate order by name. Joint orient only on joints."""
    scene = _s()
    node = scene.add_node(name, node_type, parent=scene.node(parent).name if parent else None)
    channels = {"translate": translate, "rotate": np.radians(rotate), "rotateAxis": np.radians(rotate_axis),
                "scale": scale}
    if node_type == "joint":
        channels["jointOrient"] = np.radians(joint_orient)
    for base, values in channels.items():
        for axis, value in zip("XYZ", values):
            node.attrs[base + axis] = Attr(value=float(value))
    node.attrs["rotateOrder"] = Attr(value=float(ROTATE_ORDERS.index(rotate_order)))
    return node.name


# MetaHuman-like neck and head: the skeleton's root turns Z-up into Maya's Y-up (rotateX -90), and each
# joint's local X runs along the bone, up the neck (joint orients carry the axes; rotate is near 0).
METAHUMAN_NECK = (
    ("spine_05", {"translate": (0.0, 0.0, 150.0), "joint_orient": (-90.0, -80.0, 90.0)}),
    ("neck_01", {"translate": (10.0, 0.5, 0.0), "joint_orient": (0.0, 0.0, -12.0)}),
    ("neck_02", {"translate": (5.0, 0.0, 0.0), "joint_orient": (0.0, 0.0, 6.0)}),
    ("head", {"translate": (5.0, 0.0, 0.0), "joint_orient": (0.0, 0.0, 14.0)}),
)


def build_metahuman_neck(namespace: str = "", rotate_order: str = "xyz",
                         rest_rotate: Tuple[float, float, float] = (0.0, 0.0, 0.0)) -> Dict[str, str]:
    """root -> spine_05 -> neck_01 -> neck_02 -> head joints under `namespace`; {short name: node}. Every
    neck and head joint gets `rotate_order`; the head's rotate starts at `rest_rotate` (degrees)."""
    prefix = namespace + ":" if namespace else ""
    nodes = {"root": add_transform(prefix + "root", "joint", rotate=(-90.0, 0.0, 0.0))}
    parent = nodes["root"]
    for short, channels in METAHUMAN_NECK:
        rotate = rest_rotate if short == "head" else (0.0, 0.0, 0.0)
        nodes[short] = add_transform(prefix + short, "joint", parent=parent, rotate=rotate,
                                     rotate_order=rotate_order, **channels)   # type: ignore[arg-type]
        parent = nodes[short]
    return nodes
