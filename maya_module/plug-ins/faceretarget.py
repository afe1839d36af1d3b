"""FaceRetarget's Maya plug-in.

- `faceRetargetCommit`: an undoable command that takes the API edits the keying code staged
  (retarget_maya.undo) and undoes/redoes them with the rest of the apply's undo chunk.
- Loading it installs the FaceRetarget menu and shelf (deferred, never in batch); unloading removes
  them, so unload + load is a clean reload.
"""
import os
import sys

import maya.api.OpenMaya as om
from maya import cmds

_SCRIPTS = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "scripts")
if _SCRIPTS not in sys.path:        # loaded by path without the module's PYTHONPATH
    sys.path.insert(0, _SCRIPTS)

from retarget_maya import __version__, defaults, undo  # noqa: E402


def maya_useNewAPI():
    """Tells Maya this plug-in uses the Python API 2.0."""


class CommitCommand(om.MPxCommand):
    def __init__(self):
        om.MPxCommand.__init__(self)
        self._edits = []

    @staticmethod
    def creator():
        return CommitCommand()

    def doIt(self, args):
        # The edits have already been made; this command only owns them on the undo queue.
        self._edits = undo.take_pending()

    def redoIt(self):
        for edit in self._edits:
            edit.redo()

    def undoIt(self):
        for edit in reversed(self._edits):
            edit.undo()

    def isUndoable(self):
        return True


def initializePlugin(plugin_object):
    plugin = om.MFnPlugin(plugin_object, "FaceRetarget", __version__, "Any")
    plugin.registerCommand(defaults.UNDO_COMMIT_COMMAND, CommitCommand.creator)
    if not cmds.about(batch=True):
        cmds.evalDeferred(_install_ui)


def uninitializePlugin(plugin_object):
    plugin = om.MFnPlugin(plugin_object)
    plugin.deregisterCommand(defaults.UNDO_COMMIT_COMMAND)
    undo.discard_pending()
    if not cmds.about(batch=True):
        from retarget_maya import ui
        ui.uninstall()


def _install_ui():
    from retarget_maya import ui
    ui.install()
