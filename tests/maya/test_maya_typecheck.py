"""The Maya-side code type-checks against maya-stubs (Autodesk's cmds/OpenMaya signatures) and PySide6,
and parses as Python 3.7 (Maya 2022's Python)."""
from __future__ import annotations

import ast
import glob
import os
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MAYA_SOURCES = sorted(glob.glob(os.path.join(REPO, "scripts", "retarget_maya", "*.py")) +
                      glob.glob(os.path.join(REPO, "maya_module", "**", "*.py"), recursive=True))


def test_mypy_against_maya_stubs():
    pytest.importorskip("mypy")
    pytest.importorskip("PySide6")
    stubs = subprocess.run([sys.executable, "-m", "pip", "show", "maya-stubs"], capture_output=True, text=True)
    assert stubs.returncode == 0, "maya-stubs is not installed (requirements-dev.txt)"
    result = subprocess.run([sys.executable, "-m", "mypy", "--config-file", "tests/maya/mypy_maya.ini"],
                            cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Success: no issues found" in result.stdout


@pytest.mark.parametrize("path", MAYA_SOURCES, ids=lambda p: os.path.relpath(p, REPO))
def test_parses_as_python_37(path):
    with open(path) as handle:
        ast.parse(handle.read(), filename=path, feature_version=(3, 7))


def test_maya_side_never_imports_the_engine():
    for path in MAYA_SOURCES:
        tree = ast.parse(open(path).read())
        for node in ast.walk(tree):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                     [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else [])
            assert not [n for n in names if n.split(".")[0] in ("engine", "torch", "mediapipe")], path
