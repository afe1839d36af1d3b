"""Writing dense keys onto plugs: every frame of every curve, replacing the keys in the range.

Two ways, same result:
- the fast path (maya.api.OpenMayaAnim present): the first key through cmds.setKeyframe (it creates
  the curve, in the right animation layer, undoably), every other key in one MFnAnimCurve.addKeys call
  per curve. Those API edits are put on the undo queue by the plug-in's commit command; the fast path
  is used when that command exists, or when no undo is needed (batch, undo off).
- the fallback: cmds.setKeyframe for every key.
Values come in the curve's internal unit (centimetres for translate channels); cmds works in the UI
unit, so cmds calls get them divided by `ui_scale`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, List, Optional, Sequence

import numpy as np
from maya import cmds

from . import defaults, scene, undo

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


def choose_path(fast: Optional[bool] = None) -> str:
    """FAST when the API is there and its edits can be undone (or need not be); `fast` forces a path
    (True still needs the API)."""
    if fast is False or not HAVE_API:
        return FALLBACK
    if scene.is_batch() or not scene.undo_enabled() or ensure_commit_command():
        return FAST
    return FAST if fast else FALLBACK       # forced: fast, though its edits cannot be undone


def ensure_commit_command() -> bool:
    """Load the plug-in that registers the undo commit command (it is on MAYA_PLUG_IN_PATH through
    the module); False when it cannot be loaded."""
    if hasattr(cmds, defaults.UNDO_COMMIT_COMMAND):
        return True
    try:
        cmds.loadPlugin(defaults.PLUGIN_NAME, quiet=True)
    except RuntimeError:
        return False
    return hasattr(cmds, defaults.UNDO_COMMIT_COMMAND)


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
    finally:
        # Even when a later curve failed, the edits already made are committed so that undoing the
        # chunk undoes them too.
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


def _commit(changes: List[Any]) -> None:
    if not changes:
        return
    if scene.is_batch() or not scene.undo_enabled() or not hasattr(cmds, defaults.UNDO_COMMIT_COMMAND):
        return      # nothing will ever undo them
    for change in changes:
        undo.stage(undo.StagedEdit(change.undoIt, change.redoIt, "addKeys"))
    getattr(cmds, defaults.UNDO_COMMIT_COMMAND)()
