"""Rig-to-rig conversion: correspondence between meshes and bounded least-squares weights per frame.

Tolerances: a rig converted to itself gives its weights back within 0.01; ICT-FaceKit expressions converted
through a re-meshed copy of ICT (new vertices and triangles, other units and orientation) come back with
mean error < 0.005 and max error < 0.06 (measured: ~0.0008 / ~0.03); FLAME's linear motion converted onto
shapes made of it comes back within 0.01, the jaw (a rotation fitted by one blendshape) within 0.03."""
import time

import numpy as np
import pytest

from engine.blendshapes.convert import Converter
from engine.blendshapes.correspondence import Correspondence, build_correspondence, correspond
from engine.blendshapes.flame import FlameParams, _model_from_arrays, evaluate_points
from engine.config.blendshapes import ConvertOptions, CorrespondenceOptions
from engine.blendshapes.readers import load_model
from engine.blendshapes.rig import BlendshapeRig, LandmarkSet
from engine.errors import BadInput
from engine_dev.synthetic_rigs import (flame_target_rig, remesh, toy_flame_arrays, toy_flame_landmarks,
                                       transformed)


def toy_model(rings=8, segments=12, shape_count=10):
    from pathlib import Path
    return _model_from_arrays(toy_flame_arrays(seed=5, rings=rings, segments=segments, shape_count=shape_count),
                              Path("toy.pkl"), shape_count)


def random_weights(n, k, seed=0, active=0.3):
    rng = np.random.default_rng(seed)
    return rng.uniform(0, 1, (n, k)) * (rng.uniform(0, 1, (n, k)) < active)


@pytest.fixture(scope="module")
def ict(shared_data):
    return load_model(f"ict:{shared_data / 'ict-facekit' / 'ict_facekit_light_expr.npz'}")


def test_toy_rig_to_itself():
    model = toy_model()
    rig = flame_target_rig(model, 10)
    conv = Converter(rig, rig, correspond(rig, rig))
    w = random_weights(200, rig.shape_count)
    assert np.abs(conv.convert_weights(w).weights - w).max() < 0.01


def test_ict_to_itself_recovers_weights(ict):
    rig = ict.arkit_view()
    assert rig.shape_count == 51                   # 53 ICT shapes, L/R halves of 2 merged; no tongueOut
    conv = Converter(rig, rig, correspond(rig, rig))
    w = random_weights(300, rig.shape_count)
    result = conv.convert_weights(w)
    assert np.abs(result.weights - w).max() < 0.01
    arkit = result.arkit()
    assert arkit.shape == (300, 52) and (arkit[:, -1] == 0).all()     # tongueOut: not in ICT


def test_ict_through_a_remeshed_copy(ict):
    groups = ["M_Face", "M_ScleraLeft", "M_ScleraRight", "M_IrisLeft", "M_IrisRight"]
    copy = transformed(remesh(ict, 12000, groups=groups, seed=1), 10.0, 8.0, [3.0, -2.0, 5.0])  # mm, turned
    assert copy.vertex_count != ict.vertex_count
    source, target = ict.arkit_view(), copy.arkit_view()
    corr = correspond(source, target)
    r = corr.residuals
    assert r["landmark_set"] == "mediapipe468" and abs(r["scale"] - 10.0) < 0.01
    assert r["projection_median"] < 0.02 and r["samples"] > 3000          # cm on the source
    w = random_weights(300, source.shape_count, seed=2)
    err = np.abs(Converter(source, target, corr).convert_weights(w).weights - w)
    assert err.mean() < 0.005 and err.max() < 0.06, (err.mean(), err.max())


def test_flame_to_arkit_shapes_on_another_mesh():
    model = toy_model(rings=14, segments=20)
    lms = toy_flame_landmarks(model.v_template, model.faces)
    target = remesh(flame_target_rig(model, 10, landmarks={"ibug68": lms}), 1500, ["head", "left_eye", "right_eye"], seed=3)
    source = model.as_rig()
    source.landmarks["ibug68"] = lms
    corr = correspond(source, target)
    conv = Converter(model, target, corr)
    n = 120
    rng = np.random.default_rng(4)
    w = random_weights(n, 10, seed=4, active=0.5)
    expression = np.zeros((n, 20))
    expression[:, :10] = w
    jaw = np.zeros((n, 3))
    # exact fast path: precomputed tensors == skinning evaluated at the corresponding points
    jaw[:, 0] = rng.uniform(0, 0.3, n)
    frames = FlameParams(expression=expression, jaw=jaw, eyelids=rng.uniform(0, 1, (n, 2))).frames()
    verts = np.unique(corr.source_triangles)
    moved = np.zeros((n, model.vertex_count, 3))
    moved[:, verts] = evaluate_points(model, verts, frames) - model.v_template[verts]
    at = np.einsum("npcx,pc->npx", moved[:, corr.source_triangles], corr.source_bary)
    at = corr.to_target.apply_vectors(at).reshape(n, -1)
    np.testing.assert_allclose(conv.flame_rhs(frames), at @ conv.basis, rtol=1e-9, atol=1e-12)

    linear = conv.convert_flame(FlameParams(expression=expression))
    names = conv.target_names
    cols = [names.index(n) for n in target.shape_names[:10]]
    assert np.abs(linear.weights[:, cols] - w).max() < 0.01
    jaw_only = conv.convert_flame(FlameParams(expression=np.zeros((n, 1)), jaw=jaw))
    jaw_open = jaw_only.weights[:, names.index("jawOpen")]
    assert np.abs(jaw_open - jaw[:, 0] / 0.3).max() < 0.03


def test_ten_thousand_frames_convert_fast():
    """FLAME's size (5023 vertices, 100 expression components, eyelids, 5 joints) onto a 52-shape head."""
    model = toy_model(rings=62, segments=80)
    assert model.vertex_count > 5000 and model.expression_count == 100
    rng = np.random.default_rng(0)
    mix = rng.normal(size=(52, 100)) / 10
    from engine.rig.arkit import ARKIT_NAMES
    head = BlendshapeRig("head", model.v_template, model.faces, list(ARKIT_NAMES),
                         np.einsum("kc,vxc->kvx", mix, model.exprdirs))
    corr = correspond(head, head)                      # same mesh: the linear algebra is what is timed
    start = time.perf_counter()
    conv = Converter(model, head, corr)
    n = 10_000
    params = FlameParams(expression=rng.normal(size=(n, 100)),
                         jaw=np.column_stack([rng.uniform(0, 0.3, n), rng.normal(0, 0.02, (n, 2))]),
                         eyelids=rng.uniform(0, 1, (n, 2)), eyes=rng.normal(0, 0.1, (n, 6)),
                         global_rot=rng.normal(0, 0.1, (n, 3)))
    result = conv.convert_flame(params)
    seconds = time.perf_counter() - start
    assert result.weights.shape == (n, 52) and result.head.shape == (n, 3)
    assert 0 <= result.weights.min() and result.weights.max() <= 1
    assert seconds < 10, seconds


def test_temporal_smoothness_removes_jitter():
    model = toy_model()
    rig = flame_target_rig(model, 10)
    rng = np.random.default_rng(6)
    t = np.linspace(0, 4, 240)
    clean = 0.5 + 0.4 * np.sin(np.outer(t, np.arange(1, rig.shape_count + 1)) * 0.7)
    noisy = np.clip(clean + rng.normal(0, 0.05, clean.shape), 0, 1)
    corr = correspond(rig, rig)
    plain = Converter(rig, rig, corr).convert_weights(noisy).weights
    smooth = Converter(rig, rig, corr, ConvertOptions(smoothness=2.0)).convert_weights(noisy).weights
    jitter = lambda w: np.abs(np.diff(w, axis=0)).mean()  # noqa: E731
    assert jitter(smooth) < 0.5 * jitter(plain)
    assert np.abs(smooth - clean).mean() < np.abs(plain - clean).mean()
    assert 0 <= smooth.min() and smooth.max() <= 1


def test_correspondence_file_round_trip_and_checks(tmp_path):
    model = toy_model()
    rig = flame_target_rig(model, 10)
    lms = toy_flame_landmarks(model.v_template, model.faces)
    rig.landmarks["ibug68"] = lms
    other = transformed(rig, 100.0, 20.0, [0, 1, 2])
    corr = build_correspondence(rig, other)
    assert corr.residuals["landmark_rms_warp_rel"] < 0.01 and abs(corr.residuals["scale"] - 100) < 0.5
    corr.save(tmp_path / "c.npz")
    again = Correspondence.load(tmp_path / "c.npz")
    np.testing.assert_array_equal(again.source_triangles, corr.source_triangles)
    assert again.residuals == corr.residuals
    w = random_weights(50, rig.shape_count)
    assert np.abs(Converter(rig, other, again).convert_weights(w).weights - w).max() < 0.01
    small = remesh(rig, 300, seed=1)
    with pytest.raises(BadInput, match="made for meshes of"):
        Converter(rig, small, again)
    with pytest.raises(BadInput, match="mismatched parameter counts"):
        Converter(rig, other, again).convert_weights(np.zeros((3, 4)))
    (tmp_path / "bad.npz").write_bytes(b"nope")
    with pytest.raises(BadInput, match="not a correspondence file"):
        Correspondence.load(tmp_path / "bad.npz")


def test_too_few_landmarks_is_a_clear_error():
    model = toy_model()
    rig = flame_target_rig(model, 10)
    other = remesh(rig, 400, seed=2)
    with pytest.raises(BadInput, match="too few landmarks: no landmark set"):
        build_correspondence(rig, other)
    lms = toy_flame_landmarks(model.v_template, model.faces)
    rig.landmarks["ibug68"] = lms.subset(lms.names[:5])
    other.landmarks["ibug68"] = LandmarkSet(lms.names[:5], lms.triangles[:5], lms.bary[:5])
    with pytest.raises(BadInput, match="too few landmarks: 5 pairs"):
        build_correspondence(rig, other, CorrespondenceOptions())
