"""The ICT-FaceKit Light head (MIT, user-supplied) as a HeadModel.

Read from the path the user gives (`--head-model PATH` or $FACERETARGET_HEAD_MODEL), never copied into
the project: an npz with `neutral` (V, 3) cm, `triangles`, `triangle_material`, `materials`,
`expression_names` and `expression_deltas` (K, V, 3). Its expression names are ARKit's with `_L/_R`
instead of `Left/Right`; `browInnerUp` and `cheekPuff` are split into `_L` and `_R` (both are driven by
the one ARKit channel); there is no `tongueOut`; `cheekRaiser_*` and `PupilDilate_*` are not ARKit shapes
and stay at rest. ICT's `mouthClose` is a corrective against `jawOpen`; HeadModel.pose caps it at `jawOpen`.
The camera frames the face (the neck and the back of the head are in the mesh but outside the picture).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from engine.errors import BadInput
from engine.preview.head.model import ARKIT, HeadModel

# Transparent or overlay pieces of the ICT head that a plain opaque render must leave out.
SKIPPED_MATERIALS = ("M_EyeBlend", "M_EyeLashes", "M_EyeOcclusion", "M_LacrimalFluid")
MATERIAL_COLORS = {
    "M_Face": (0.86, 0.70, 0.62), "M_BackHead": (0.80, 0.64, 0.56), "M_GumsTongue": (0.70, 0.32, 0.34),
    "M_Teeth": (0.92, 0.90, 0.84), "M_ScleraLeft": (0.93, 0.93, 0.90), "M_ScleraRight": (0.93, 0.93, 0.90),
    "M_IrisLeft": (0.28, 0.20, 0.14), "M_IrisRight": (0.28, 0.20, 0.14),
}
REQUIRED_KEYS = ("neutral", "triangles", "triangle_material", "materials", "expression_names", "expression_deltas")


def ict_name(arkit: str) -> list[str]:
    """ICT expression names driven by one ARKit channel."""
    if arkit in ("browInnerUp", "cheekPuff"):
        return [f"{arkit}_L", f"{arkit}_R"]
    if arkit.endswith("Left"):
        return [arkit[:-4] + "_L"]
    if arkit.endswith("Right"):
        return [arkit[:-5] + "_R"]
    return [arkit]


def load_ict_head(path: Path) -> HeadModel:
    path = Path(path)
    if not path.is_file():
        raise BadInput(f"head model not found: {path}",
                       "give the ICT-FaceKit npz (ict_facekit_light_expr.npz) with --head-model, or leave the "
                       "option out to use the built-in head")
    try:
        data = np.load(path, allow_pickle=False)
        missing = [k for k in REQUIRED_KEYS if k not in data.files]
    except (OSError, ValueError) as exc:
        raise BadInput(f"cannot read the head model {path.name}: {exc}", "give an .npz file") from exc
    if missing:
        raise BadInput(f"{path.name} is not an ICT-FaceKit head npz (missing {', '.join(missing)})",
                       "use ict_facekit_light_expr.npz, or leave --head-model out")
    materials = [str(m) for m in data["materials"]]
    tri_mat = data["triangle_material"]
    keep_mats = [i for i, m in enumerate(materials) if m not in SKIPPED_MATERIALS]
    triangles = data["triangles"][np.isin(tri_mat, keep_mats)]
    tri_mat = tri_mat[np.isin(tri_mat, keep_mats)]
    used = np.unique(triangles)
    remap = np.full(len(data["neutral"]), -1, dtype=np.int64)
    remap[used] = np.arange(len(used))
    neutral = data["neutral"][used].astype(np.float32)
    colors = np.tile(np.float32(MATERIAL_COLORS["M_Face"]), (len(used), 1))
    for i, name in enumerate(materials):
        if name in MATERIAL_COLORS:
            colors[remap[np.unique(triangles[tri_mat == i])]] = MATERIAL_COLORS[name]
    names = [str(n) for n in data["expression_names"]]
    all_deltas = data["expression_deltas"]
    channels, deltas = [], []
    for arkit in ARKIT:
        for name in ict_name(arkit):
            if name in names:
                channels.append(arkit)
                deltas.append(all_deltas[names.index(name)][used].astype(np.float32))
    # Frame the face: from the chin to the top of the forehead (ICT's mesh runs down to the shoulders).
    view_center = np.float32([0.0, 1.0, float(neutral[:, 2].max()) - 6.0])
    view_radius = 12.0
    return HeadModel(name="ict-facekit", neutral=neutral, triangles=remap[triangles].astype(np.int32),
                     colors=colors, deltas=np.stack(deltas), channels=tuple(channels),
                     notes=f"ICT-FaceKit Light ({path.name}); no tongueOut",
                     view_center=view_center, view_radius=view_radius)
