"""Installing the module for a user: a copy of FaceRetarget.mod with absolute paths in the user's modules
folder (what the drag-and-drop installer does), backing up the file it replaces. Pure Python."""
from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass
from typing import Mapping, Optional

from . import defaults, paths

MOD_FILE_NAME = defaults.MODULE_NAME + ".mod"


@dataclass
class InstallResult:
    mod_file: str
    backup: Optional[str]


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
    """Write <modules_dir>/FaceRetarget.mod pointing at `module_root`; an existing file is first copied
    to FaceRetarget.mod.backup-<date-time>."""
    modules_dir = modules_dir or user_modules_dir()
    with open(os.path.join(module_root, MOD_FILE_NAME), "r") as handle:
        text = module_file_text(os.path.abspath(module_root), handle.read())
    if not os.path.isdir(modules_dir):
        os.makedirs(modules_dir)
    target = os.path.join(modules_dir, MOD_FILE_NAME)
    backup = None
    if os.path.exists(target):
        stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now))
        backup = "%s.backup-%s" % (target, stamp)
        shutil.copy2(target, backup)
    with open(target, "w") as handle:
        handle.write(text)
    return InstallResult(target, backup)
