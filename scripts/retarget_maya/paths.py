"""Where the module's files are. The repository root is the Maya module root (FaceRetarget.mod)."""
from __future__ import annotations

import os

from . import defaults

PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
MODULE_ROOT = os.path.dirname(os.path.dirname(PACKAGE_DIR))


def module_path(*parts: str) -> str:
    return os.path.join(MODULE_ROOT, *parts)


def faceboard_table_path() -> str:
    """The face-board table the engine also reads. The Maya side reads the JSON file by path and never
    imports the engine package, which lives in another Python with torch and mediapipe."""
    return module_path("engine", "rig", "data", "faceboard.json")


def arkit_table_path() -> str:
    """ARKit-52 names and Live Link orders (engine/rig/data/arkit.json), read by path like the face board."""
    return module_path("engine", "rig", "data", "arkit.json")


def shelf_file() -> str:
    return module_path("shelves", "shelf_%s.mel" % defaults.SHELF_NAME)


def plugin_file() -> str:
    return module_path("maya_module", "plug-ins", defaults.PLUGIN_NAME + ".py")


def icon_file(name: str) -> str:
    return module_path("maya_module", "icons", name)
