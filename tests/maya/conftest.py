"""Fixtures of the Maya-side tests: the fake Maya (installed into sys.modules before retarget_maya is
imported), a fresh scene per test, synthetic takes, and Qt offscreen."""
from __future__ import annotations

import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
for path in (os.path.join(REPO, "scripts"), HERE):
    if path not in sys.path:
        sys.path.insert(0, path)
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import fake_maya  # noqa: E402

fake_maya.install()


@pytest.fixture
def maya_scene():
    """A new, empty fake scene (24 fps, cm, playback 1-120) and no staged undo edits."""
    scene = fake_maya.reset()
    from retarget_maya import undo
    undo.discard_pending()
    yield scene
    assert not scene.open_chunks, "an undo chunk was left open"


@pytest.fixture
def mh4_rig(maya_scene):
    fake_maya.build_face_board("mh4", namespace="MH")
    return maya_scene


@pytest.fixture
def take_factory(tmp_path):
    """take_factory(name="take", **options) -> folder of a synthetic take (see maya_take_factory)."""
    import maya_take_factory

    def make(name: str = "take", **options):
        return maya_take_factory.write_take(str(tmp_path / name), **options)
    return make


@pytest.fixture(scope="session")
def qt_app():
    from retarget_maya.qt import QtWidgets     # PySide6, or PySide2 where that is the binding installed
    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
    yield app
