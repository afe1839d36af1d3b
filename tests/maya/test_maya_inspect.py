"""inspect_arkit: the take's ARKit curves on an ARKit head, built or reused."""
from __future__ import annotations

import numpy as np
import pytest

import fake_maya
import maya_take_factory
from maya import cmds

import retarget_maya
from retarget_maya.arkit_inspect import HeadNotUsable

NAMES = maya_take_factory.arkit_names()


def weight_keys(plug):
    curve = cmds.listConnections(plug, source=True, destination=False, type="animCurve")
    node = fake_maya.scene().nodes[curve[0]]
    return node.times, node.values


def ramp(times):
    return {"jawOpen": np.clip(times, 0, 1), "eyeBlinkLeft": 1 - np.clip(times, 0, 1)}


def test_builds_a_blendshape_from_arkit_named_targets(maya_scene, take_factory):
    head = fake_maya.build_arkit_head(NAMES, namespace="ARKit")
    take = take_factory(fps=60.0, seconds=1.0, arkit_values=ramp)
    report = retarget_maya.inspect_arkit(take, head, start_frame=1)
    assert report.built and report.blendshape == "FaceRetarget_arkit"
    assert len(report.keyed) == 52 and not report.missing
    jaw = "FaceRetarget_arkit.weight[%d]" % NAMES.index("jawOpen")
    times, values = weight_keys(jaw)
    np.testing.assert_array_equal(times, np.arange(1, 26))
    np.testing.assert_allclose(values, np.arange(25) / 24.0, atol=1e-6)
    assert maya_scene.chunk_names[-1] == "FaceRetarget: inspect ARKit"
    # a second inspection reuses the blendShape it built
    again = retarget_maya.inspect_arkit(take, head, start_frame=1)
    assert not again.built and again.blendshape == "FaceRetarget_arkit"
    assert sum(1 for n in maya_scene.nodes.values() if n.type == "blendShape") == 1


def test_reuses_an_existing_arkit_blendshape_and_reports_missing_targets(maya_scene, take_factory):
    head = fake_maya.build_arkit_head(NAMES[:50], with_blendshape=True)
    report = retarget_maya.inspect_arkit(take_factory(fps=60.0, seconds=0.5, arkit_values=ramp), head)
    assert not report.built and report.blendshape == "faceShapes"
    assert report.missing == NAMES[50:] and "no target for" in report.summary()
    times, values = weight_keys("faceShapes.jawOpen")
    assert len(times) == 13 and values[0] == pytest.approx(0.0)


def test_head_without_targets(maya_scene, take_factory):
    take = take_factory(fps=60.0, seconds=0.5)
    head = fake_maya.build_arkit_head([])
    with pytest.raises(HeadNotUsable, match="no blendShape with ARKit-named weights"):
        retarget_maya.inspect_arkit(take, head)
    with pytest.raises(HeadNotUsable, match="No node named"):
        retarget_maya.inspect_arkit(take, "nowhere")
    assert not maya_scene.open_chunks


def test_take_without_arkit_curves(maya_scene, take_factory):
    head = fake_maya.build_arkit_head(NAMES)
    with pytest.raises(retarget_maya.TakeError, match="no ARKit curves"):
        retarget_maya.inspect_arkit(take_factory(fps=60.0, seconds=0.5, arkit=False), head)
