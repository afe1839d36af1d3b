"""Writing dense keys onto plugs: every frame of every curve, replacing the keys in the range.

Two ways, same result:
- the fast path (maya.api.OpenMayaAnim present): the first key through cmds.setKeyframe (it creates
  the curve, in the right animation layer, undoably), every other key in one MFnAnimCurve.addKeys call
  per curve. Those API edits are put on the undo queue by the plug-in's commit command; the fast path
  is used when that command exists, or when no undo is needed (batch, undo off). The plug-in is loaded
  by its file name "faceretarget.py" (Maya's loadPlugin needs the ".py" of a Python plug-in; a bare name
  means a compiled one), else by its full path; when neither loads, `path_warnings` says so.
- the fallback: cmds.setKeyframe for every key.
When writing fails half way, API edits that did not reach the undo queue are reverted here, so that
undoing the caller's undo chunk restores the scene.
Values come in the curve's internal unit (centimetres for translate channels); cmds works in the UI
unit, so cmds calls get them divided by `ui_scale`.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, List, Optional, Sequence

import numpy as np
from maya import cmds

from . import defaults, paths, scene, undo

try:
    from maya.api import OpenMaya as om
    from maya.api import OpenMayaAnim as oma
    HAVE_API = True
except ImportError:  # every Maya 2022+ has it; the fallback test installs a Maya without it
    HAVE_API = False

FAST, FALLBACK = "api", "cmds"


@dataclass
class KeyRequest:
    """Dense keys for several plugs: `values` is (frames x plugs), in the curves' internal unit."""

    plugs: List[str]
    frames: np.ndarray
    values: np.ndarray
    ui_scale: Sequence[float]          # per plug: internal units per UI unit (1 for unitless)
    layer: Optional[str] = None        # animation layer to key into (None: the plug's own curve)


_plugin_error: List[str] = []         # why the plug-in could not be loaded (the last attempt)


def choose_path(fast: Optional[bool] = None) -> str:
    """FAST when the API is there and its edits can be undone (or need not be); `fast` forces a path
    (True still needs the API)."""
    del _plugin_error[:]
    if fast is False or not HAVE_API:
        return FALLBACK
    if scene.is_batch() or not scene.undo_enabled() or ensure_commit_command():
        return FAST
    return FAST if fast else FALLBACK       # forced: fast, though its edits cannot be undone


def needs_commit_command(path: str) -> bool:
    """Whether keys written on `path` need the plug-in's command to be undoable."""
    return path == FAST and not scene.is_batch() and scene.undo_enabled()


def path_warnings(path: str) -> List[str]:
    """What the artist should know about the key path chosen: the plug-in that could not be loaded, and
    what that costs."""
    if hasattr(cmds, defaults.UNDO_COMMIT_COMMAND) or not _plugin_error:
        return []
    problem = "The FaceRetarget plug-in (%s) could not be loaded: %s" % (
        os.path.basename(paths.plugin_file()), _plugin_error[0])
    if needs_commit_command(path):
        return [problem + " Keys were written through the API anyway (fast=True): Edit > Undo will NOT "
                "remove them. Load the plug-in (Plug-in Manager) to make them undoable."]
    if path == FALLBACK:
        return [problem + " Keys were written one cmds.setKeyframe call at a time (slower; undo works). "
                "Load the plug-in (Plug-in Manager) for the fast path."]
    return []


def ensure_commit_command() -> bool:
    """Load the plug-in that registers the undo commit command: by its file name (the module puts it on
    MAYA_PLUG_IN_PATH), else by its full path; False when it cannot be loaded (the reason is kept for
    `path_warnings`)."""
    if hasattr(cmds, defaults.UNDO_COMMIT_COMMAND):
        return True
    plugin = paths.plugin_file()
    errors = []
    for name in (os.path.basename(plugin), plugin):
        try:
            cmds.loadPlugin(name, quiet=True)
        except RuntimeError as exc:
            errors.append("%s: %s" % (name, str(exc).strip()))
            continue
        if hasattr(cmds, defaults.UNDO_COMMIT_COMMAND):
            return True
        errors.append("%s loaded, but it registered no %s command" % (name, defaults.UNDO_COMMIT_COMMAND))
    _plugin_error.append("; ".join(errors))
    return False


def write_keys(request: KeyRequest, path: str) -> None:
    """Replace the keys of every plug in the request's frame range with the request's keys."""
    if len(request.frames) == 0 or not request.plugs:
        return
    if request.layer:
        cmds.animLayer(request.layer, edit=True, attribute=list(request.plugs))
    layers = _layer_per_plug(request)
    if path == FAST:
        _write_fast(request, layers)
    else:
        _write_with_cmds(request, layers)


def _layer_per_plug(request: KeyRequest) -> List[Optional[str]]:
    """The layer each plug is keyed in: the requested one; else, for a plug that animation layers
    already drive, the base layer (its own curve sits behind a blend node); else none."""
    if request.layer:
        return [request.layer] * len(request.plugs)
    layers: List[Optional[str]] = []
    for plug in request.plugs:
        layers.append(scene.root_layer() if scene.is_layered(plug) else None)
    return layers


def _key_args(layer: Optional[str]) -> dict:
    args = {"inTangentType": defaults.KEY_TANGENT, "outTangentType": defaults.KEY_TANGENT}
    if layer:
        args["animLayer"] = layer
    return args


def _cut_range(plug: str, layer: Optional[str], first: float, last: float) -> None:
    curve = curve_of(plug, layer)
    if curve:
        cmds.cutKey(curve, time=(first, last), clear=True)


def curve_of(plug: str, layer: Optional[str]) -> Optional[str]:
    """The animation curve that holds `plug`'s keys (in `layer` when given)."""
    if layer:
        found = cmds.animLayer(layer, query=True, findCurveForPlug=plug)
        curves = found if isinstance(found, list) else ([found] if found else [])
    else:
        curves = cmds.listConnections(plug, source=True, destination=False, type="animCurve") or []
    return str(curves[0]) if curves else None


def _write_with_cmds(request: KeyRequest, layers: List[Optional[str]]) -> None:
    first, last = float(request.frames[0]), float(request.frames[-1])
    frames = [int(f) for f in request.frames.tolist()]
    for column, (plug, layer) in enumerate(zip(request.plugs, layers)):
        _cut_range(plug, layer, first, last)
        args = _key_args(layer)
        values = (request.values[:, column] / request.ui_scale[column]).tolist()
        for frame, value in zip(frames, values):
            cmds.setKeyframe(plug, time=frame, value=value, **args)


def _write_fast(request: KeyRequest, layers: List[Optional[str]]) -> None:
    first, last = float(request.frames[0]), float(request.frames[-1])
    frames = [int(f) for f in request.frames.tolist()]
    unit = om.MTime.uiUnit()
    # Every curve gets keys on the same frames: the MTimeArray is built once for all of them.
    rest_times = om.MTimeArray([om.MTime(f, unit) for f in frames[1:]])
    edits: List[Any] = []
    try:
        for column, (plug, layer) in enumerate(zip(request.plugs, layers)):
            _cut_range(plug, layer, first, last)
            values = request.values[:, column]
            # The first key through cmds: creates the curve (in the layer) as an undoable command.
            cmds.setKeyframe(plug, time=frames[0], value=float(values[0]) / request.ui_scale[column],
                             **_key_args(layer))
            if len(frames) > 1:
                edits.append(_add_keys(plug, layer, rest_times, values[1:]))
    except BaseException:
        # Even when a later curve failed, the edits already made are committed so that undoing the
        # chunk undoes them too; edits that cannot go on the undo queue are reverted here.
        if not _commit(edits):
            for change in reversed(edits):
                change.undoIt()
        raise
    _commit(edits)


def _add_keys(plug: str, layer: Optional[str], times: Any, values: np.ndarray) -> Any:
    curve = curve_of(plug, layer)
    if curve is None:
        raise RuntimeError("no animation curve on %s after keying it" % plug)
    selection = om.MSelectionList()
    selection.add(curve)
    curve_fn = oma.MFnAnimCurve(selection.getDependNode(0))
    change = oma.MAnimCurveChange()
    tangent = oma.MFnAnimCurve.kTangentLinear
    curve_fn.addKeys(times, om.MDoubleArray(values.tolist()), tangent, tangent, True, change)
    return change


def _commit(changes: List[Any]) -> bool:
    """Put the API edits on the undo queue (through the plug-in's command); False when they cannot go
    there (batch, undo off, no plug-in)."""
    if not changes:
        return True
    if not needs_commit_command(FAST) or not hasattr(cmds, defaults.UNDO_COMMIT_COMMAND):
        return False    # nothing will ever undo them
    for change in changes:
        undo.stage(undo.StagedEdit(change.undoIt, change.redoIt, "addKeys"))
    getattr(cmds, defaults.UNDO_COMMIT_COMMAND)()
    return True
