"""Contact sheets: every shape rendered on its mesh, labelled, in a grid (headless numpy rasteriser)."""
import json

import numpy as np
import pytest
from PIL import Image

from engine.config.blendshapes import InspectOptions
from engine.blendshapes.readers import ict_expression_shapes, load_model
from engine.blendshapes.render import contact_sheet
from engine.cli import main


def cells_of(png, layout):
    image = np.asarray(Image.open(png).convert("RGB")).astype(int)
    assert image.shape == (layout["rows"] * (layout["cell"] + layout["label_height"]),
                           layout["columns"] * layout["cell"], 3)
    return image, [image[c["y"]:c["y"] + c["height"], c["x"]:c["x"] + c["width"]] for c in layout["cells"]]


def test_ict_sheet_shows_all_53_expression_shapes(shared_data, tmp_path):
    out = tmp_path / "ict.png"
    code = main(["blendshapes", "inspect", f"ict:{shared_data / 'ict-facekit' / 'ict_facekit_light_expr.npz'}",
                 "--out", str(out), "--cell", "96"])
    assert code == 0
    layout = json.loads(out.with_suffix(".json").read_text())
    labels = [c["label"] for c in layout["cells"]]
    rig = load_model(f"ict:{shared_data / 'ict-facekit' / 'ict_facekit_light_expr.npz'}")
    assert labels == ["neutral", *ict_expression_shapes(rig)] and len(labels) == 54
    image, cells = cells_of(out, layout)
    neutral = cells[0]
    assert (np.abs(neutral - neutral[0, 0]).sum(axis=2) > 30).mean() > 0.3      # a head is drawn
    for label, cell in zip(labels[1:], cells[1:]):
        changed = (np.abs(cell - neutral).sum(axis=2) > 30).sum()
        assert changed >= 10, f"{label}: only {changed} pixels differ from the neutral"
    for c in layout["cells"]:                                                   # a label under every cell
        strip = image[c["y"] + c["height"]:c["y"] + c["height"] + layout["label_height"], c["x"]:c["x"] + c["width"]]
        assert (strip.max(axis=2) > 150).sum() > 10


def test_flame_sheet_shows_components_at_plus_minus_sigma(tmp_path):
    from engine_dev.synthetic_rigs import toy_flame_arrays, write_flame_pickle

    write_flame_pickle(tmp_path / "m.pkl", toy_flame_arrays(rings=10, segments=14))
    model = load_model(f"flame:{tmp_path / 'm.pkl'}")
    layout = contact_sheet(model, tmp_path / "flame.png", InspectOptions(cell=64, components=3))
    labels = [c["label"] for c in layout["cells"]]
    assert labels == ["neutral", "exp000 -2sd", "exp000 +2sd", "exp001 -2sd", "exp001 +2sd", "exp002 -2sd",
                      "exp002 +2sd", "jaw open 0.3 rad", "eyelids 1.0"]
    _, cells = cells_of(tmp_path / "flame.png", layout)
    assert all(np.abs(c - cells[0]).sum() > 0 for c in cells[1:])
