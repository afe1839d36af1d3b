"""Installing the module for a user: a copy of FaceRetarget.mod with absolute paths in the user's modules
folder (what the drag-and-drop installer does), backing up the file it replaces. Pure Python.

Backups go to a folder beside the modules folder, never into it: Maya reads every file in a modules
folder as a module description, whatever its extension ("All module files, regardless of extension, are
read by Maya", Autodesk's "Maya module paths, folders and versions"), so a backup left there would keep
the old module active next to the new one.
"""
from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass, field
from typing import List, Mapping, Optional

from . import defaults, paths

MOD_FILE_NAME = defaults.MODULE_NAME + ".mod"
BACKUP_PREFIX = MOD_FILE_NAME + ".backup-"
BACKUP_FOLDER_NAME = defaults.MODULE_NAME + "_backups"


@dataclass
class InstallResult:
    mod_file: str
    backup: Optional[str]
    backup_dir: str = ""
    moved_backups: List[str] = field(default_factory=list)   # earlier installers' backups, moved out


def backup_dir_for(modules_dir: str) -> str:
    """<modules folder>/../FaceRetarget_backups: outside the modules folder, on no module path."""
    return os.path.join(os.path.dirname(os.path.abspath(modules_dir)), BACKUP_FOLDER_NAME)


def module_file_text(module_root: str, template: str) -> str:
    """The repository's .mod text with each block's module path made absolute (the last field of every
    "+ ..." line), so the copy works from the user's modules folder."""
    lines = []
    for line in template.splitlines():
        if line.startswith("+"):
            fields = line.split()
            fields[-1] = module_root.replace("\\", "/")
            line = " ".join(fields)
        lines.append(line)
    return "\n".join(lines) + "\n"


def user_modules_dir(environ: Mapping[str, str] = os.environ, home: Optional[str] = None) -> str:
    """The version-independent modules folder Maya always searches: $MAYA_APP_DIR/modules, else the
    platform's default Maya folder."""
    app_dir = environ.get("MAYA_APP_DIR")
    if not app_dir:
        home = home or os.path.expanduser("~")
        if os.name == "nt":
            app_dir = os.path.join(home, "Documents", "maya")
        elif os.uname()[0] == "Darwin":
            app_dir = os.path.join(home, "Library", "Preferences", "Autodesk", "maya")
        else:
            app_dir = os.path.join(home, "maya")
    return os.path.join(app_dir, "modules")


def install_module(module_root: str = paths.MODULE_ROOT, modules_dir: Optional[str] = None,
                   now: Optional[float] = None) -> InstallResult:
    """Write <modules_dir>/FaceRetarget.mod pointing at `module_root`. An existing file is first copied to
    <modules_dir>/../FaceRetarget_backups/FaceRetarget.mod.backup-<date-time>, and backups that earlier
    versions of this installer left inside the modules folder are moved there too."""
    modules_dir = modules_dir or user_modules_dir()
    with open(os.path.join(module_root, MOD_FILE_NAME), "r") as handle:
        text = module_file_text(os.path.abspath(module_root), handle.read())
    if not os.path.isdir(modules_dir):
        os.makedirs(modules_dir)
    target = os.path.join(modules_dir, MOD_FILE_NAME)
    backups = backup_dir_for(modules_dir)
    result = InstallResult(target, None, backups)
    stale = sorted(name for name in os.listdir(modules_dir) if name.startswith(BACKUP_PREFIX))
    if stale or os.path.exists(target):
        if not os.path.isdir(backups):
            os.makedirs(backups)
    for name in stale:
        moved = _free_path(os.path.join(backups, name))
        shutil.move(os.path.join(modules_dir, name), moved)
        result.moved_backups.append(moved)
    if os.path.exists(target):
        stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now))
        result.backup = _free_path(os.path.join(backups, BACKUP_PREFIX + stamp))
        shutil.copy2(target, result.backup)
    with open(target, "w") as handle:
        handle.write(text)
    return result


def _free_path(path: str) -> str:
    """`path`, or path-2, path-3, ... when it is taken (never overwrite a backup)."""
    candidate, number = path, 2
    while os.path.exists(candidate):
        candidate, number = "%s-%d" % (path, number), number + 1
    return candidate
