"""`faceretarget-engine blendshapes ...` and `run --flame-params` end to end on a small self-made FLAME model
and an ARKit head given as OBJ files."""
import json

import numpy as np
import pytest

from engine.blendshapes.readers import load_model, write_obj
from engine.cli import main
from engine.errors import EXIT_BAD_INPUT
from engine.export.livelink import read_livelink_csv
from engine.export.take import TAKE_KEYS
from engine.rig.arkit import ARKIT_NAMES
from engine_dev.synthetic_rigs import (flame_target_rig, remesh, toy_flame_arrays, toy_flame_landmarks,
                                       write_flame_pickle)


@pytest.fixture(scope="module")
def assets(tmp_path_factory):
    folder = tmp_path_factory.mktemp("assets")
    write_flame_pickle(folder / "generic_model.pkl", toy_flame_arrays(seed=7, rings=14, segments=20))
    model = load_model(f"flame:{folder / 'generic_model.pkl'}")
    lms = toy_flame_landmarks(model.v_template, model.faces)
    tri_ids = np.array([np.flatnonzero((model.faces == t).all(1))[0] for t in lms.triangles])
    np.save(folder / "landmark_embedding.npy",
            {"full_lmk_faces_idx": tri_ids[None], "full_lmk_bary_coords": lms.bary[None]}, allow_pickle=True)
    head = remesh(flame_target_rig(model, 10, landmarks={"ibug68": lms}), 1200, ["head", "left_eye", "right_eye"],
                  seed=3)
    obj = folder / "head"
    obj.mkdir()
    write_obj(obj / "neutral.obj", head.neutral, head.faces)
    for name, delta in zip(head.shape_names, head.deltas):
        write_obj(obj / f"{name}.obj", head.neutral + delta, head.faces)
    landmarks = head.landmarks["ibug68"]
    (obj / "landmarks.json").write_text(json.dumps({"set": "ibug68", "names": landmarks.names,
                                                    "triangles": landmarks.triangles.tolist(),
                                                    "bary": landmarks.bary.tolist()}))
    rng = np.random.default_rng(0)
    n = 90
    weights = rng.uniform(0, 1, (n, 10)) * (rng.uniform(0, 1, (n, 10)) < 0.5)
    weights[:10] = 0                                                   # a resting start for the neutral estimate
    params = {"expression_params": np.column_stack([weights, np.zeros((n, 40))]),
              "jaw_params": np.column_stack([np.linspace(0, 0.3, n), np.zeros((n, 2))]), "fps": 30.0}
    np.savez(folder / "smirk.npz", **params)
    return {"model": folder / "generic_model.pkl", "head": obj, "params": folder / "smirk.npz",
            "weights": weights, "jaw": params["jaw_params"][:, 0], "names": head.shape_names}


def test_convert_writes_a_livelink_csv(assets, tmp_path, capsys):
    out = tmp_path / "arkit.csv"
    code = main(["blendshapes", "convert", "--source", f"flame:{assets['model']}", "--params", str(assets["params"]),
                 "--target", f"arkit:{assets['head']}", "--out", str(out),
                 "--save-correspondence", str(tmp_path / "corr.npz")])
    assert code == 0, capsys.readouterr().err
    assert "corresponding points" in capsys.readouterr().err
    take = read_livelink_csv(out)
    arkit = take.arkit()
    assert arkit.shape == (90, 52)
    np.testing.assert_allclose(take.times, np.arange(90) / 30, atol=1e-3)
    cols = [ARKIT_NAMES.index(n) for n in assets["names"][:10]]
    # the jaw moves the expression shapes too, so the linear shapes come back approximately
    assert np.abs(arkit[:, cols] - assets["weights"]).mean() < 0.04
    assert np.abs(arkit[:, ARKIT_NAMES.index("jawOpen")] - assets["jaw"] / 0.3).max() < 0.05
    # the saved correspondence is reused
    again = tmp_path / "again.csv"
    assert main(["blendshapes", "convert", "--source", f"flame:{assets['model']}", "--params",
                 str(assets["params"]), "--target", f"arkit:{assets['head']}", "--out", str(again),
                 "--correspondence", str(tmp_path / "corr.npz")]) == 0
    np.testing.assert_allclose(read_livelink_csv(again).arkit(), arkit, atol=1e-6)


def test_info_and_bad_inputs(assets, tmp_path, capsys):
    assert main(["blendshapes", "info", f"flame:{assets['model']}"]) == 0
    assert "100 expression components" in capsys.readouterr().out
    (tmp_path / "wrong.pkl").write_bytes(__import__("pickle").dumps({"v_template": np.zeros((4, 3))}))
    assert main(["blendshapes", "info", f"flame:{tmp_path / 'wrong.pkl'}"]) == EXIT_BAD_INPUT
    assert "not a FLAME model file" in capsys.readouterr().err
    np.savez(tmp_path / "p.npz", expression_params=np.zeros((5, 101)))
    code = main(["blendshapes", "convert", "--source", f"flame:{assets['model']}", "--params",
                 str(tmp_path / "p.npz"), "--target", f"arkit:{assets['head']}", "--out", str(tmp_path / "x.csv")])
    assert code == EXIT_BAD_INPUT and "mismatched parameter counts" in capsys.readouterr().err


def test_run_with_flame_params_writes_a_take(assets, tmp_path, capsys):
    out = tmp_path / "take"
    code = main(["run", "--flame-params", str(assets["params"]), "--flame-model", str(assets["model"]),
                 "--flame-target", f"arkit:{assets['head']}", "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    meta = json.loads((out / "take.json").read_text())
    assert meta["tracking"]["source"] == "flame_params" and meta["frame_count"] == 90
    assert tuple(meta) == TAKE_KEYS, set(meta) ^ set(TAKE_KEYS)   # every kind of take: the same take.json keys
    assert meta["tracking"]["conversion"]["correspondence"]["landmark_set"] == "ibug68"
    take = read_livelink_csv(out / "arkit.csv")
    jaw_open = take.arkit()[:, ARKIT_NAMES.index("jawOpen")]
    assert jaw_open[-1] > 0.5 > jaw_open[5]                 # the jaw opens over the clip
    header = (out / "faceboard.csv").read_text().splitlines()[0]
    assert header.startswith("time,")

    code = main(["run", "--flame-params", str(assets["params"]), "--out", str(tmp_path / "t2")])
    assert code == EXIT_BAD_INPUT and "--flame-model" in capsys.readouterr().err
    assert not (tmp_path / "t2").exists()
