"""FLAME model files (the pickled generic_model.pkl layout, read without running code), FLAME's skinning,
and tracker parameter files. The model is a small one the tests build (there is no FLAME file here)."""
import pickle

import numpy as np
import pytest

from engine.blendshapes.flame import (FlameFrames, evaluate_points, load_flame_model, load_flame_params,
                                      split_plain)
from engine.blendshapes.rig import rodrigues
from engine.blendshapes.safe_pickle import safe_load, safe_load_npy
from engine.errors import BadInput
from engine_dev.synthetic_rigs import toy_flame_arrays, toy_flame_landmarks, write_flame_pickle


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    folder = tmp_path_factory.mktemp("flame")
    arrays = toy_flame_arrays(seed=3, rings=8, segments=12)
    write_flame_pickle(folder / "generic_model.pkl", arrays)
    return folder / "generic_model.pkl", arrays


def test_reader_reads_the_flame_pickle_layout(toy):
    path, arrays = toy
    with open(path, "rb") as handle:
        raw = handle.read()
    assert b"chumpy.ch" in raw and b"scipy.sparse" in raw      # the same globals as FLAME's own file
    model = load_flame_model(path)
    count = len(arrays["v_template"])
    assert model.vertex_count == count and model.shape_count == 300 and model.expression_count == 100
    np.testing.assert_array_equal(model.v_template, arrays["v_template"])
    np.testing.assert_array_equal(model.shapedirs, arrays["shapedirs"][:, :, :300])
    np.testing.assert_array_equal(model.exprdirs, arrays["shapedirs"][:, :, 300:])
    np.testing.assert_allclose(model.j_regressor, arrays["J_regressor"])          # sparse -> dense
    np.testing.assert_array_equal(model.parents, [-1, 0, 1, 1, 1])
    np.testing.assert_array_equal(model.faces, arrays["f"])
    assert model.posedirs.shape == (36, count * 3)
    np.testing.assert_array_equal(model.eyelids[0], arrays["l_eyelid"])
    import sys
    assert "chumpy" not in sys.modules


def test_reader_refuses_code_in_the_pickle(tmp_path):
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            import os
            return (os.system, (f"touch {marker}",))

    path = tmp_path / "generic_model.pkl"
    path.write_bytes(pickle.dumps({"v_template": Evil()}, protocol=2))
    with pytest.raises(BadInput, match="refusing to read .*system"):
        load_flame_model(path)
    assert not marker.exists()
    with pytest.raises(pickle.UnpicklingError):
        safe_load(pickle.dumps(print))           # builtins.print is not on the allow-list either


@pytest.mark.parametrize("damage, message", [
    (lambda a: a.pop("J_regressor"), "missing J_regressor"),
    (lambda a: a.__setitem__("weights", a["weights"][:-3]), "weights has shape"),
    (lambda a: a.__setitem__("shapedirs", a["shapedirs"][:, :, :200]), "only|shape components"),
    (lambda a: a.__setitem__("kintree_table", np.zeros((3, 5))), "kintree_table"),
])
def test_wrong_layout_is_a_clear_error(tmp_path, toy, damage, message):
    arrays = dict(toy_flame_arrays(seed=3, rings=8, segments=12, eyelids=False))
    damage(arrays)
    write_flame_pickle(tmp_path / "model.pkl", arrays)
    with pytest.raises(BadInput, match=message):
        load_flame_model(tmp_path / "model.pkl")


def test_not_a_model_file(tmp_path):
    (tmp_path / "list.pkl").write_bytes(pickle.dumps([1, 2, 3]))
    with pytest.raises(BadInput, match="not a FLAME model"):
        load_flame_model(tmp_path / "list.pkl")
    (tmp_path / "junk.pkl").write_bytes(b"\x00 not a pickle at all")
    with pytest.raises(BadInput, match="not a readable pickle"):
        load_flame_model(tmp_path / "junk.pkl")


def reference_lbs(model, expression, pose):
    """FLAME's forward pass written out vertex by vertex with 4x4 matrices (independent of the engine's)."""
    v = model.v_template + model.exprdirs[:, :, :len(expression)] @ expression
    joints = model.j_regressor @ v
    rot = [rodrigues(p) for p in pose]
    feature = np.concatenate([(r - np.eye(3)).reshape(-1) for r in rot[1:]])
    v = v + (feature @ model.posedirs).reshape(-1, 3)
    world = []
    for j, r in enumerate(rot):
        local = np.eye(4)
        local[:3, :3] = r
        parent = model.parents[j]
        local[:3, 3] = joints[j] - (joints[parent] if parent >= 0 else 0)
        world.append(local if parent < 0 else world[parent] @ local)
    out = np.zeros_like(v)
    for j, g in enumerate(world):
        rest = np.eye(4)
        rest[:3, 3] = -joints[j]
        m = g @ rest
        out += model.weights[:, j:j + 1] * (v @ m[:3, :3].T + m[:3, 3])
    return out


def test_skinning_matches_a_reference_implementation(toy):
    model = load_flame_model(toy[0])
    rng = np.random.default_rng(0)
    expression = rng.normal(size=20)
    pose = rng.normal(0, 0.2, size=(5, 3))
    got = model.evaluate(expression=expression, global_rot=pose[0], neck=pose[1], jaw=pose[2],
                         eyes=pose[3:].reshape(-1))
    np.testing.assert_allclose(got, reference_lbs(model, expression, pose), atol=1e-12)
    # a subset of vertices, many frames: the same numbers
    frames = FlameFrames(3, np.tile(expression, (3, 1)), np.tile(pose[2], (3, 1)), None, np.tile(pose[1], (3, 1)),
                         np.tile(pose[3:].reshape(-1), (3, 1)), np.tile(pose[0], (3, 1)))
    ids = np.array([0, 5, 17, model.vertex_count - 1])
    np.testing.assert_allclose(evaluate_points(model, ids, frames, chunk=2)[2], got[ids], atol=1e-12)


def test_jaw_rotates_the_jaw_weighted_vertices_about_the_jaw_joint(toy):
    model = load_flame_model(toy[0])
    model.posedirs = None                                     # the rigid part alone
    angle = 0.25
    opened = model.evaluate(jaw=np.array([angle, 0.0, 0.0]))
    jaw_weight = model.weights[:, 2]
    still = jaw_weight == 0
    np.testing.assert_allclose(opened[still], model.v_template[still], atol=1e-15)
    full = np.flatnonzero(jaw_weight == 1)
    assert len(full) > 5
    joint = (model.j_regressor @ model.v_template)[2]
    expected = (model.v_template[full] - joint) @ rodrigues(np.array([angle, 0, 0])).T + joint
    np.testing.assert_allclose(opened[full], expected, atol=1e-12)
    assert np.abs(opened[full] - model.v_template[full]).max() > 0.005


def test_landmark_embedding_is_read_safely(tmp_path, toy):
    model = load_flame_model(toy[0])
    lms = toy_flame_landmarks(model.v_template, model.faces)
    tri_ids = np.array([np.flatnonzero((model.faces == t).all(1))[0] for t in lms.triangles])
    np.save(tmp_path / "landmark_embedding.npy",
            {"full_lmk_faces_idx": tri_ids[None], "full_lmk_bary_coords": lms.bary[None]}, allow_pickle=True)
    doc = safe_load_npy(tmp_path / "landmark_embedding.npy")
    assert set(doc) == {"full_lmk_faces_idx", "full_lmk_bary_coords"}
    with_lms = load_flame_model(toy[0], landmarks=tmp_path / "landmark_embedding.npy")
    got = with_lms.landmarks["ibug68"]
    assert got.names[0] == "ibug00" and len(got) == 68
    np.testing.assert_allclose(got.positions(model.v_template), lms.positions(model.v_template))


def test_parameter_files_of_trackers(tmp_path, toy):
    model = load_flame_model(toy[0])
    n = 7
    rng = np.random.default_rng(1)
    smirk = {"expression_params": rng.normal(size=(n, 50)), "jaw_params": rng.normal(size=(n, 3)),
             "eyelid_params": rng.uniform(size=(n, 2)), "pose_params": rng.normal(size=(n, 3)),
             "shape_params": rng.normal(size=(n, 300))}
    with open(tmp_path / "smirk.pkl", "wb") as handle:
        pickle.dump(smirk, handle, protocol=2)
    p = load_flame_params(tmp_path / "smirk.pkl", fps=25)
    assert p.expression.shape == (n, 50) and p.eyelids.shape == (n, 2) and p.shape.shape == (300,)
    np.testing.assert_array_equal(p.global_rot, smirk["pose_params"])
    np.testing.assert_allclose(p.times, np.arange(n) / 25)
    p.check_against(model)

    # DECA / EMOCA: 6-value posecode (global, jaw); per-frame dicts
    frames = [{"expcode": rng.normal(size=50), "posecode": rng.normal(size=6)} for _ in range(n)]
    with open(tmp_path / "emoca.pkl", "wb") as handle:
        pickle.dump(frames, handle)
    p = load_flame_params(tmp_path / "emoca.pkl")
    np.testing.assert_array_equal(p.jaw[3], frames[3]["posecode"][3:])

    # a plain array: 50 expression + 3 jaw columns
    np.save(tmp_path / "plain.npy", rng.normal(size=(n, 53)))
    p = split_plain(load_flame_params(tmp_path / "plain.npy"), model)
    assert p.expression.shape == (n, 50) and p.jaw.shape == (n, 3)

    np.savez(tmp_path / "times.npz", exp=np.zeros((3, 10)), times=[1.0, 1.1, 1.25])
    np.testing.assert_allclose(load_flame_params(tmp_path / "times.npz").times, [0, 0.1, 0.25])


@pytest.mark.parametrize("doc, message", [
    ({"expression_params": np.zeros((4, 120))}, "mismatched parameter counts: .*120 expression"),
    ({"expression_params": np.zeros((4, 50)), "jaw_params": np.zeros((4, 4))}, "jaw_params has 4 values"),
    ({"expression_params": np.zeros((4, 50)), "jaw_params": np.zeros((3, 3))}, "jaw_params has 3 frames"),
    ({"expression_params": np.zeros((4, 50)), "pose": np.zeros((4, 7))}, "pose has 7 values"),
    ({"jaw_params": np.zeros((4, 3))}, "no expression parameters"),
])
def test_mismatched_parameter_counts_are_clear_errors(tmp_path, toy, doc, message):
    model = load_flame_model(toy[0])
    np.savez(tmp_path / "p.npz", **doc)
    with pytest.raises(BadInput, match=message):
        load_flame_params(tmp_path / "p.npz").check_against(model)
