"""Drag this file onto Maya's viewport to install FaceRetarget.

It writes FaceRetarget.mod (pointing at this folder's parent, the module root) into your Maya modules
folder, backing up a FaceRetarget.mod that is already there into FaceRetarget_backups beside the
modules folder (Maya reads every file inside a modules folder), then loads the module into the running
Maya (paths, plug-in, menu and shelf) so you need not restart.
"""
import os
import sys

MODULE_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def onMayaDroppedPythonFile(*_args):
    from maya import cmds

    scripts = os.path.join(MODULE_ROOT, "scripts")
    if scripts not in sys.path:
        sys.path.insert(0, scripts)
    from retarget_maya import install

    modules_dir = os.path.join(cmds.internalVar(userAppDir=True), "modules")
    result = install.install_module(MODULE_ROOT, modules_dir)
    _activate_now()
    message = "FaceRetarget installed:\n%s" % result.mod_file
    if result.backup:
        message += "\n\nThe previous file was saved as:\n%s" % result.backup
    if result.moved_backups:
        message += ("\n\nOlder backups were moved out of the modules folder (Maya reads every file there) "
                    "to:\n%s" % result.backup_dir)
    cmds.confirmDialog(title="FaceRetarget", message=message, button=["OK"])


def _activate_now():
    """What the .mod file does at the next start, for this session."""
    from maya import cmds

    def prepend(variable, path):
        entries = [p for p in os.environ.get(variable, "").split(os.pathsep) if p]
        if path not in entries:
            os.environ[variable] = os.pathsep.join([path] + entries)

    prepend("MAYA_SHELF_PATH", os.path.join(MODULE_ROOT, "shelves"))
    prepend("XBMLANGPATH", os.path.join(MODULE_ROOT, "maya_module", "icons"))
    prepend("MAYA_PLUG_IN_PATH", os.path.join(MODULE_ROOT, "maya_module", "plug-ins"))
    plugin = os.path.join(MODULE_ROOT, "maya_module", "plug-ins", "faceretarget.py")
    if cmds.pluginInfo("faceretarget", query=True, loaded=True):
        cmds.unloadPlugin("faceretarget")
    cmds.loadPlugin(plugin)
    cmds.pluginInfo(plugin, edit=True, autoload=True)
