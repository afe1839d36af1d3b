"""Maya's UI for FaceRetarget: the menu, the shelf (rebuilt from shelves/shelf_FaceRetarget.mel) and
what the shelf buttons do. Installing deletes the old menu/shelf first, so reloading is safe."""
from __future__ import annotations

import os
import subprocess
import sys
from typing import Any, Callable, List, Optional

from maya import cmds, mel

from . import defaults, paths

_dialog: Optional[Any] = None


# --- menu and shelf -------------------------------------------------------------------------------------

def install() -> None:
    """Menu and shelf, rebuilt from scratch (deferred by the plug-in; never in batch)."""
    if cmds.about(batch=True):
        return
    build_menu()
    rebuild_shelf()


def uninstall() -> None:
    if cmds.about(batch=True):
        return
    if cmds.menu(defaults.MENU_NAME, exists=True):
        cmds.deleteUI(defaults.MENU_NAME, menu=True)
    shelf = _shelf_path()
    if shelf:
        cmds.deleteUI(shelf, layout=True)


def build_menu() -> str:
    if cmds.menu(defaults.MENU_NAME, exists=True):
        cmds.deleteUI(defaults.MENU_NAME, menu=True)
    menu = str(cmds.menu(defaults.MENU_NAME, parent="MayaWindow", label=defaults.MENU_LABEL, tearOff=True))
    for label, command in MENU_ITEMS:
        if label is None:
            cmds.menuItem(divider=True, parent=menu)
        else:
            cmds.menuItem(label=label, command=_ignore_args(command), parent=menu)
    return menu


def _ignore_args(function: Callable[[], Any]) -> Callable[..., None]:
    # menuItem passes the check state as an argument; the actions take none.
    def call(*_args: Any) -> None:
        function()
    return call


def _shelf_top_level() -> str:
    return str(mel.eval("$faceRetargetTmp = $gShelfTopLevel"))


def _shelf_path() -> Optional[str]:
    top = _shelf_top_level()
    # maya-stubs types this query's answer as tuples; Maya answers a list of child names.
    children: Any = cmds.shelfTabLayout(top, query=True, childArray=True)
    if isinstance(children, list) and defaults.SHELF_NAME in children:
        return "%s|%s" % (top, defaults.SHELF_NAME)
    return None


def rebuild_shelf() -> str:
    """Delete the FaceRetarget shelf tab if there is one, then build it from the module's .mel file (the
    copy Maya saved in the user's prefs may be from an older version)."""
    existing = _shelf_path()
    if existing:
        cmds.deleteUI(existing, layout=True)
    shelf = str(cmds.shelfLayout(defaults.SHELF_NAME, parent=_shelf_top_level()))
    mel.eval('source "%s"; setParent "%s"; shelf_%s();' % (
        paths.shelf_file().replace("\\", "/"), shelf, defaults.SHELF_NAME))
    return shelf


def reload_module() -> None:
    """Unload the plug-in (removes menu and shelf), forget the package, load again (rebuilds them)."""
    plugin = defaults.PLUGIN_NAME
    if cmds.pluginInfo(plugin, query=True, loaded=True):
        cmds.unloadPlugin(plugin)
    for name in [n for n in sys.modules if n == __package__ or n.startswith(str(__package__) + ".")]:
        del sys.modules[name]
    cmds.loadPlugin(paths.plugin_file())


# --- shelf button actions ---------------------------------------------------------------------------------

def show_dialog() -> Any:
    """The Retarget dialog; an open one (also from before a reload) is closed first."""
    global _dialog
    from .dialog import OBJECT_NAME, RetargetDialog
    from .qt import QtWidgets

    for widget in QtWidgets.QApplication.topLevelWidgets():
        if widget.objectName() == OBJECT_NAME:
            widget.close()
            widget.deleteLater()
    _dialog = RetargetDialog()
    _dialog.show()
    return _dialog


def apply_take_interactive() -> None:
    from . import apply, scene
    from .qt import QtWidgets

    take = QtWidgets.QFileDialog.getExistingDirectory(None, "Apply a FaceRetarget take")
    if not take:
        return
    try:
        rig = _choose_rig(scene.find_rigs())
        if rig is None:
            return
        report = apply.apply_take(take, rig)
    except Exception as exc:  # reported to the artist, not raised into the shelf
        _message("Apply Take", str(exc), error=True)
        return
    _message("Apply Take", report.summary())


def _choose_rig(rigs: List[Any]) -> Any:
    from . import scene
    from .qt import QtWidgets

    if not rigs:
        raise scene.RigNotFound("No MetaHuman face board found in the scene.")
    if len(rigs) == 1:
        return rigs[0]
    labels = [r.label for r in rigs]
    label, ok = QtWidgets.QInputDialog.getItem(None, "Apply Take", "Face board:", labels, 0, False)
    return rigs[labels.index(label)] if ok else None


def inspect_arkit_interactive() -> None:
    from .arkit_inspect import inspect_arkit
    from .qt import QtWidgets

    selection = cmds.ls(selection=True, long=True) or []
    if not selection:
        _message("Inspect ARKit", "Select the ARKit head mesh first.", error=True)
        return
    take = QtWidgets.QFileDialog.getExistingDirectory(None, "Inspect the ARKit curves of a take")
    if not take:
        return
    try:
        report = inspect_arkit(take, selection[0])
    except Exception as exc:
        _message("Inspect ARKit", str(exc), error=True)
        return
    _message("Inspect ARKit", report.summary())


def batch_interactive() -> None:
    """Start the batch for a manifest in a separate mayapy, logging next to the manifest."""
    from .qt import QtWidgets

    manifest = QtWidgets.QFileDialog.getOpenFileName(None, "Batch manifest", "", "Manifest (*.json)")[0]
    if not manifest:
        return
    log_path = os.path.join(os.path.dirname(manifest), defaults.BATCH_LOG_NAME)
    command = [mayapy_path(), "-m", "retarget_maya.batch", "--manifest", manifest]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([paths.module_path("scripts")] +
                                        [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
    with open(log_path, "w") as log:
        subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
    _message("Batch", "The batch runs in the background; its log is %s" % log_path)


def mayapy_path() -> str:
    name = "mayapy.exe" if os.name == "nt" else "mayapy"
    location = os.environ.get("MAYA_LOCATION") or os.path.dirname(os.path.dirname(sys.executable))
    return os.path.join(location, "bin", name)


def _message(title: str, text: str, error: bool = False) -> None:
    from .qt import QtWidgets, maya_main_window

    box = QtWidgets.QMessageBox.warning if error else QtWidgets.QMessageBox.information
    box(maya_main_window(), title, text)


MENU_ITEMS = [
    ("Retarget...", show_dialog),
    ("Apply Take...", apply_take_interactive),
    ("Inspect ARKit...", inspect_arkit_interactive),
    ("Batch...", batch_interactive),
    (None, show_dialog),
    ("Rebuild Shelf", rebuild_shelf),
    ("Reload FaceRetarget", reload_module),
]
