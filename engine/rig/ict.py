"""ICT-FaceKit Light (USC-ICT, MIT): the one reader of its npz files, which the user supplies by path.

The head is never copied into the project. Its expression npz (`ict_facekit_light_expr.npz`) holds
`neutral` (V, 3) cm, `triangles`, `triangle_material` (an index into `materials` per triangle),
`materials`, `expression_names` and `expression_deltas` (K, V, 3) cm per unit weight. Everything that
reads it builds on this module: the preview's ICT head (engine/preview/head/ict.py), the blendshape
reader (`ict:` rigs, engine/blendshapes/readers.py), ICT-style landmark bases (engine/solve/landmark_fit.py)
and the development renderer of the rendered-truth bench.

Names: ICT spells ARKit's sides `_L`/`_R` (`eyeBlinkLeft` -> `eyeBlink_L`; the subject's left is +X),
splits `browInnerUp` and `cheekPuff` into `_L` and `_R` (both driven by the one ARKit channel), keeps
`jawLeft`/`jawRight`/`mouthLeft`/`mouthRight` as they are (directions, not sides), has no `tongueOut`,
and adds `cheekRaiser_*` and `PupilDilate_*`, which are not ARKit shapes. Like ARKit's, ICT's `mouthClose`
is a corrective meant to be used with `jawOpen`.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.errors import BadInput

EXPR_FILE = "ict_facekit_light_expr.npz"
LANDMARK_FILE = "ict_mediapipe468_landmark_model.npz"   # MediaPipe's 468 landmarks placed on the ICT surface

REQUIRED_KEYS = ("neutral", "triangles", "expression_names", "expression_deltas")
MATERIAL_KEYS = ("triangle_material", "materials")

# Geometry that is transparent in a real-time eye shader (Unreal Digital Human style): an opaque render,
# a contact sheet or a preview leaves it out.
OVERLAY_MATERIALS = ("M_EyeBlend", "M_EyeOcclusion", "M_LacrimalFluid")
EYELASH_MATERIAL = "M_EyeLashes"


def ict_names(arkit_name: str) -> list[str]:
    """The ICT expression names that one ARKit channel drives (tongueOut's is not in ICT)."""
    if arkit_name in ("browInnerUp", "cheekPuff"):
        return [arkit_name + "_L", arkit_name + "_R"]
    if arkit_name in ("jawLeft", "jawRight", "mouthLeft", "mouthRight"):   # directions, not sides
        return [arkit_name]
    for side, suffix in (("Left", "_L"), ("Right", "_R")):
        if arkit_name.endswith(side):
            return [arkit_name[: -len(side)] + suffix]
    return [arkit_name]


@dataclass(frozen=True)
class IctExpressions:
    """The arrays of an ICT expression npz, as stored (no dtype conversion)."""
    path: Path
    neutral: np.ndarray                      # (V, 3) cm
    triangles: np.ndarray                    # (T, 3)
    triangle_material: np.ndarray | None     # (T,) index into `materials`; None if the file has none
    materials: list[str]
    expression_names: list[str]
    expression_deltas: np.ndarray            # (K, V, 3) cm per unit weight

    def material_vertices(self, name: str) -> np.ndarray:
        """The vertices of the triangles of one material (sorted, unique)."""
        m = self.materials.index(name)
        return np.unique(self.triangles[self.triangle_material == m])


def read_expressions(path: str | Path, require_materials: bool = False,
                     hint: str = f"expected {EXPR_FILE}") -> IctExpressions:
    """The ICT expression npz at `path` (no pickles), checked for the keys every reader needs, plus the
    material keys when `require_materials`; BadInput naming the file (and `hint`) otherwise."""
    path = Path(path)
    try:
        data = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise BadInput(f"{path.name} is not a readable npz ({exc})", hint) from None
    if not isinstance(data, np.lib.npyio.NpzFile):
        raise BadInput(f"{path.name} is not a readable npz (a single array, not an archive)", hint)
    with data:
        required = REQUIRED_KEYS + (MATERIAL_KEYS if require_materials else ())
        missing = [k for k in required if k not in data.files]
        if missing:
            raise BadInput(f"{path.name} is not an ICT-FaceKit npz (missing {', '.join(missing)})", hint)
        return IctExpressions(
            path=path, neutral=data["neutral"], triangles=data["triangles"],
            triangle_material=data["triangle_material"] if "triangle_material" in data.files else None,
            materials=[str(m) for m in data["materials"]] if "materials" in data.files else [],
            expression_names=[str(n) for n in data["expression_names"]],
            expression_deltas=data["expression_deltas"])


def read_landmark_placement(folder: str | Path) -> tuple[np.ndarray, np.ndarray] | None:
    """MediaPipe's 468 landmarks on the ICT surface, from LANDMARK_FILE in `folder`: (triangle vertices
    (468, 3), barycentric weights (468, 3)), or None when the file is not there."""
    path = Path(folder) / LANDMARK_FILE
    if not path.is_file():
        return None
    with np.load(path, allow_pickle=False) as lm:
        return lm["mp_tri_vertices"], lm["mp_barycentric"]
