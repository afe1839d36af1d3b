"""Installation: FaceRetarget.mod, the shelf, the plug-in (menu/shelf install and reload), the
drag-and-drop installer."""
from __future__ import annotations

import os
import re
import runpy

import pytest

import fake_maya
from maya import cmds

from retarget_maya import defaults, ui

REPO = fake_maya.REPO
VERSIONS = ("2022", "2023", "2024", "2025", "2026")
PLATFORMS = ("win64", "linux", "mac")


def mod_blocks():
    blocks, current = [], None
    for line in open(os.path.join(REPO, "FaceRetarget.mod")).read().splitlines():
        if line.startswith("+ "):
            current = {"header": line.split(), "lines": []}
            blocks.append(current)
        elif line.strip():
            assert current is not None, "a line before the first block: %r" % line
            current["lines"].append(line)
    return blocks


def test_mod_file_has_a_block_per_version_and_platform():
    blocks = mod_blocks()
    seen = set()
    for block in blocks:
        header = block["header"]
        conditions = dict(field.split(":", 1) for field in header[1:-3])
        name, version, path = header[-3:]
        assert (name, version, path) == ("FaceRetarget", "0.1.0", ".")
        seen.add((conditions["MAYAVERSION"], conditions["PLATFORM"]))
    assert seen == {(v, p) for v in VERSIONS for p in PLATFORMS}


def test_every_path_the_mod_file_names_exists():
    for block in mod_blocks():
        named = {}
        for line in block["lines"]:
            match = re.match(r"^(scripts|plug-ins|icons): (.+)$", line) or re.match(r"^(\w+)\s*\+:=\s*(.+)$", line)
            assert match, "unexpected .mod line %r" % line
            named[match.group(1)] = match.group(2).strip()
            assert os.path.isdir(os.path.join(REPO, match.group(2).strip())), line
        assert named == {"scripts": "scripts", "plug-ins": "maya_module/plug-ins", "icons": "maya_module/icons",
                         "MAYA_SHELF_PATH": "shelves"}
    assert os.path.isfile(os.path.join(REPO, "maya_module", "plug-ins", defaults.PLUGIN_NAME + ".py"))
    assert os.path.isdir(os.path.join(REPO, "scripts", "retarget_maya"))


def shelf_buttons():
    text = open(os.path.join(REPO, "shelves", "shelf_FaceRetarget.mel")).read()
    assert "global proc shelf_FaceRetarget ()" in text
    return [dict(re.findall(r'-(\w+) "((?:[^"\\]|\\.)*)"', block)) for block in text.split("shelfButton")[1:]]


def test_shelf_buttons_name_existing_icons_and_functions():
    buttons = shelf_buttons()
    assert [b["label"] for b in buttons] == ["Retarget", "Apply Take", "Inspect ARKit", "Batch"]
    for button in buttons:
        for key in ("image", "image1"):
            assert os.path.isfile(os.path.join(REPO, "maya_module", "icons", button[key])), button[key]
        assert button["sourceType"] == "python"
        module, function = re.match(r"import (\S+)\\nretarget_maya\.ui\.(\w+)\(\)", button["command"]).groups()
        assert module == "retarget_maya.ui" and callable(getattr(ui, function))


@pytest.fixture
def gui_scene(maya_scene):
    maya_scene.batch = False
    yield maya_scene
    if "faceretarget" in maya_scene.plugins:
        cmds.unloadPlugin("faceretarget")


def test_loading_the_plugin_installs_menu_and_shelf_deferred(gui_scene):
    cmds.loadPlugin("faceretarget.py")
    assert hasattr(cmds, defaults.UNDO_COMMIT_COMMAND)
    assert defaults.MENU_NAME not in gui_scene.ui                # deferred: not during plug-in load
    fake_maya.run_deferred()
    menu = gui_scene.ui[defaults.MENU_NAME]
    assert [i["label"] for i in menu["items"] if not i["divider"]][:4] == [
        "Retarget...", "Apply Take...", "Inspect ARKit...", "Batch..."]
    shelf = gui_scene.ui[defaults.SHELF_NAME]
    assert [b["label"] for b in shelf["buttons"]] == ["Retarget", "Apply Take", "Inspect ARKit", "Batch"]


def test_reload_rebuilds_menu_and_shelf_once(gui_scene):
    cmds.loadPlugin("faceretarget.py")
    fake_maya.run_deferred()
    ui.rebuild_shelf()
    ui.build_menu()
    cmds.unloadPlugin("faceretarget")
    assert defaults.MENU_NAME not in gui_scene.ui and defaults.SHELF_NAME not in gui_scene.ui
    assert not hasattr(cmds, defaults.UNDO_COMMIT_COMMAND)
    cmds.loadPlugin("faceretarget.py")
    fake_maya.run_deferred()
    assert len(gui_scene.ui[defaults.SHELF_NAME]["buttons"]) == 4
    assert len([i for i in gui_scene.ui[defaults.MENU_NAME]["items"] if i["label"] == "Retarget..."]) == 1


def test_no_ui_in_batch(maya_scene):
    maya_scene.batch = True
    cmds.loadPlugin("faceretarget.py")
    fake_maya.run_deferred()
    assert maya_scene.deferred == [] and maya_scene.ui == {}
    cmds.unloadPlugin("faceretarget")


def test_drag_and_drop_installer(gui_scene, tmp_path, monkeypatch):
    monkeypatch.setenv("MAYA_APP_DIR", str(tmp_path))
    for variable in ("MAYA_SHELF_PATH", "XBMLANGPATH", "MAYA_PLUG_IN_PATH"):
        monkeypatch.setenv(variable, "")
    script = runpy.run_path(os.path.join(REPO, "maya_module", "drag_and_drop_install.py"))
    script["onMayaDroppedPythonFile"]("")
    mod = tmp_path / "modules" / "FaceRetarget.mod"
    text = mod.read_text()
    assert text.splitlines()[0].endswith(" " + REPO.replace("\\", "/"))
    assert os.environ["MAYA_SHELF_PATH"].split(os.pathsep)[0] == os.path.join(REPO, "shelves")
    assert "faceretarget" in gui_scene.plugins
    script["onMayaDroppedPythonFile"]("")                       # again: backs up what it replaces ...
    assert os.listdir(tmp_path / "modules") == ["FaceRetarget.mod"]        # ... outside the modules folder
    backups = os.listdir(tmp_path / "FaceRetarget_backups")
    assert len(backups) == 1 and backups[0].startswith("FaceRetarget.mod.backup-")
    assert (tmp_path / "FaceRetarget_backups" / backups[0]).read_text() == text
