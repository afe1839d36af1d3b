"""Blendshape conversion: accuracy and speed (prints markdown tables).

  .venv/bin/python bench/blendshapes.py [--shared ../shared/data] [--frames 10000]

1. ICT-FaceKit converted to itself (known random ARKit weights -> recovered weights).
2. ICT-FaceKit converted through a re-meshed copy (random surface samples re-triangulated, in mm and turned
   8 degrees): with the copy's landmarks placed exactly (retopology keeps landmarks) and with landmarks
   re-projected onto the coarser copy (~1 mm placement noise, what hand-placed landmarks give).
3. FLAME-size model (5,023-ish vertices, 100 expression components, eyelids, jaw/eyes skinning; a made-up
   model, no FLAME file here) -> a 52-shape head: time to prepare and to convert N frames.
4. Contact sheet of the ICT head (53 shapes).
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.blendshapes.convert import Converter  # noqa: E402
from engine.blendshapes.correspondence import correspond  # noqa: E402
from engine.blendshapes.flame import FlameParams, _model_from_arrays  # noqa: E402
from engine.config.blendshapes import InspectOptions  # noqa: E402
from engine.blendshapes.readers import ict_expression_shapes, load_model  # noqa: E402
from engine.blendshapes.render import contact_sheet  # noqa: E402
from engine.blendshapes.rig import BlendshapeRig  # noqa: E402
from engine.rig.arkit import ARKIT_NAMES  # noqa: E402
from engine_dev.synthetic_rigs import remesh, toy_flame_arrays, transformed  # noqa: E402

EYE_AND_FACE = ["M_Face", "M_ScleraLeft", "M_ScleraRight", "M_IrisLeft", "M_IrisRight"]


def weights(n, k, seed):
    rng = np.random.default_rng(seed)
    return rng.uniform(0, 1, (n, k)) * (rng.uniform(0, 1, (n, k)) < 0.3)


def row(name, err, extra=""):
    return (f"| {name} | {err.mean():.4f} | {np.percentile(err, 99):.4f} | {err.max():.4f} | "
            f"{np.percentile(err.max(axis=0), 50):.4f} | {extra} |")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--shared", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    parser.add_argument("--frames", type=int, default=10_000)
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{time.strftime('%Y-%m-%d')}\n")

    ict = load_model(f"ict:{args.shared / 'ict-facekit' / 'ict_facekit_light_expr.npz'}")
    source = ict.arkit_view()
    w = weights(1000, source.shape_count, 0)
    print("| conversion (1000 frames, ~30% of shapes active) | mean abs err | p99 | max | median channel max | notes |")
    print("|---|---|---|---|---|---|")
    conv = Converter(source, source, correspond(source, source))
    print(row("ICT -> ICT (same mesh)", np.abs(conv.convert_weights(w).weights - w), f"{len(conv.corr)} points"))
    for exact in (True, False):
        copy = transformed(remesh(ict, 12000, EYE_AND_FACE, seed=1, landmark_vertices=exact), 10.0, 8.0, [3, -2, 5])
        target = copy.arkit_view()
        start = time.perf_counter()
        corr = correspond(source, target)
        conv = Converter(source, target, corr)
        took = time.perf_counter() - start
        r = corr.residuals
        err = np.abs(conv.convert_weights(w).weights - w)
        worst = ", ".join(conv.target_names[i] for i in np.argsort(err.max(axis=0))[-3:])
        print(row(f"ICT -> re-meshed ICT ({copy.vertex_count} v), landmarks {'exact' if exact else 're-projected'}",
                  err, f"landmark RMS after similarity {r['landmark_rms_similarity'] * 10:.2f} mm; "
                       f"projection p95 {r['projection_p95'] * 10:.2f} mm; prepare {took:.1f} s; worst: {worst}"))

    print("\n| FLAME-size model -> 52-shape head | seconds |")
    print("|---|---|")
    start = time.perf_counter()
    model = _model_from_arrays(toy_flame_arrays(seed=5, rings=62, segments=80, shape_count=10), Path("toy.pkl"), 10)
    rng = np.random.default_rng(0)
    head = BlendshapeRig("head", model.v_template, model.faces, list(ARKIT_NAMES),
                         np.einsum("kc,vxc->kvx", rng.normal(size=(52, 100)) / 10, model.exprdirs))
    print(f"| make the model ({model.vertex_count} vertices, {model.expression_count} expression) | "
          f"{time.perf_counter() - start:.2f} |")
    start = time.perf_counter()
    corr = correspond(head, head)
    conv = Converter(model, head, corr)
    print(f"| precompute ({len(corr)} points) | {time.perf_counter() - start:.2f} |")
    n = args.frames
    params = FlameParams(expression=rng.normal(size=(n, 100)),
                         jaw=np.column_stack([rng.uniform(0, 0.3, n), rng.normal(0, 0.02, (n, 2))]),
                         eyelids=rng.uniform(0, 1, (n, 2)), eyes=rng.normal(0, 0.1, (n, 6)),
                         global_rot=rng.normal(0, 0.1, (n, 3)))
    start = time.perf_counter()
    conv.convert_flame(params)
    took = time.perf_counter() - start
    print(f"| convert {n} frames (jaw, eyes, eyelids, 100 expression) | {took:.2f} ({n / took:.0f} frames/s) |")

    out = Path("/tmp/faceretarget_bench_ict_sheet.png")
    start = time.perf_counter()
    layout = contact_sheet(ict, out, InspectOptions(cell=256), shapes=ict_expression_shapes(ict))
    print(f"| contact sheet of ICT, {len(layout['cells'])} cells at 256 px ({out}) | {time.perf_counter() - start:.2f} |")


if __name__ == "__main__":
    main()
