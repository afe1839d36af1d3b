"""The ICT-FaceKit Light head (MIT, user-supplied) as a HeadModel.

Read from the path the user gives (`--head-model PATH` or $FACERETARGET_HEAD_MODEL), never copied into
the project, by engine.rig.ict (which also maps ARKit names onto ICT's). There is no `tongueOut`;
`cheekRaiser_*` and `PupilDilate_*` are not ARKit shapes and stay at rest. ICT's `mouthClose` is a
corrective against `jawOpen`; HeadModel.pose caps it at `jawOpen`. The camera frames the face (the neck and
the back of the head are in the mesh but outside the picture).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from engine.errors import BadInput
from engine.preview.head.model import ARKIT, HeadModel
from engine.rig.ict import EXPR_FILE, EYELASH_MATERIAL, OVERLAY_MATERIALS, ict_names, read_expressions

# Transparent or overlay pieces of the ICT head that a plain opaque render must leave out.
SKIPPED_MATERIALS = (*OVERLAY_MATERIALS, EYELASH_MATERIAL)
MATERIAL_COLORS = {
    "M_Face": (0.86, 0.70, 0.62), "M_BackHead": (0.80, 0.64, 0.56), "M_GumsTongue": (0.70, 0.32, 0.34),
    "M_Teeth": (0.92, 0.90, 0.84), "M_ScleraLeft": (0.93, 0.93, 0.90), "M_ScleraRight": (0.93, 0.93, 0.90),
    "M_IrisLeft": (0.28, 0.20, 0.14), "M_IrisRight": (0.28, 0.20, 0.14),
}


def load_ict_head(path: Path) -> HeadModel:
    path = Path(path)
    if not path.is_file():
        raise BadInput(f"head model not found: {path}",
                       f"give the ICT-FaceKit npz ({EXPR_FILE}) with --head-model, or leave the "
                       "option out to use the built-in head")
    data = read_expressions(path, require_materials=True, hint=f"use {EXPR_FILE}, or leave --head-model out")
    materials = data.materials
    tri_mat = data.triangle_material
    keep_mats = [i for i, m in enumerate(materials) if m not in SKIPPED_MATERIALS]
    triangles = data.triangles[np.isin(tri_mat, keep_mats)]
    tri_mat = tri_mat[np.isin(tri_mat, keep_mats)]
    used = np.unique(triangles)
    remap = np.full(len(data.neutral), -1, dtype=np.int64)
    remap[used] = np.arange(len(used))
    neutral = data.neutral[used].astype(np.float32)
    colors = np.tile(np.float32(MATERIAL_COLORS["M_Face"]), (len(used), 1))
    for i, name in enumerate(materials):
        if name in MATERIAL_COLORS:
            colors[remap[np.unique(triangles[tri_mat == i])]] = MATERIAL_COLORS[name]
    names = data.expression_names
    all_deltas = data.expression_deltas
    channels, deltas = [], []
    for arkit in ARKIT:
        for name in ict_names(arkit):
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
