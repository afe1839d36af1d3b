"""FaceRetarget for Maya: key an engine take onto the MetaHuman face board.

Functions without UI (importing this package does not import maya or Qt; each function loads its module
on first use):

    apply_take(take_dir, rig=None, start_frame=None, mode="replace", head=True, ...) -> ApplyReport
        (the face board, and the head's turn on the neck and head joints)
    export_take(rig=None, frame_range=None, out_dir=...) -> take folder
    inspect_arkit(take_dir, head_mesh) -> InspectReport
    find_rigs() -> [SceneRig]
    show_dialog() -> the Retarget dialog

Batch: `mayapy -m retarget_maya.batch --help`.
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_LAZY = {
    "apply_take": ".apply", "ApplyReport": ".apply",
    "export_take": ".export",
    "inspect_arkit": ".arkit_inspect", "InspectReport": ".arkit_inspect",
    "find_rigs": ".scene", "resolve_rig": ".scene", "SceneRig": ".scene", "RigNotFound": ".scene",
    "show_dialog": ".ui",
    "TakeError": ".takes",
}

__all__ = sorted(_LAZY) + ["__version__"]

if TYPE_CHECKING:  # the real names for type checkers; at run time __getattr__ loads them on first use
    from .apply import ApplyReport as ApplyReport, apply_take as apply_take
    from .arkit_inspect import InspectReport as InspectReport, inspect_arkit as inspect_arkit
    from .export import export_take as export_take
    from .scene import RigNotFound as RigNotFound, SceneRig as SceneRig
    from .scene import find_rigs as find_rigs, resolve_rig as resolve_rig
    from .takes import TakeError as TakeError
    from .ui import show_dialog as show_dialog


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError("module %r has no attribute %r" % (__name__, name))
