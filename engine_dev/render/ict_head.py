"""The ICT-FaceKit Light head as ARKit-52 blendshapes, with its identity PCA (data read from a folder).

The expression npz is read, and ARKit names mapped onto ICT's, by engine.rig.ict (the subject's left is
+X, the face looks down +Z, Y is up, centimetres). `IctHead.arkit_matrix` maps ARKit weights onto ICT's
53 ARKit-style shapes; ICT has no tongueOut. Like ARKit, ICT's mouthClose is a corrective meant to be
used with jawOpen, so weights are kept at mouthClose <= jawOpen.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from engine.errors import BadInput
from engine.rig.arkit import ARKIT_INDEX, ARKIT_NAMES
from engine.rig.ict import EXPR_FILE, IctExpressions, ict_names, read_expressions

IDENTITY_FILE = "ict_facekit_light_identity.npz"
ENV_VAR = "FACERETARGET_ICT"

# ARKit channels the ICT head cannot show.
UNRENDERED = ("tongueOut",)
RENDERED_CHANNELS = tuple(n for n in ARKIT_NAMES if n not in UNRENDERED)

MOUTH_SOCKET = (11248, 13294)      # vertex range [start, end) of the mouth socket (ICT README)
EYE_SOCKETS = (13294, 14062)


def default_ict_dir() -> Path:
    """$FACERETARGET_ICT, else ../shared/data/ict-facekit beside the repository (development data)."""
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env)
    shared = os.environ.get("FACERETARGET_SHARED_DATA")
    if shared:
        return Path(shared) / "ict-facekit"
    return Path(__file__).resolve().parents[2].parent / "shared" / "data" / "ict-facekit"


def clamp_arkit(weights: np.ndarray) -> np.ndarray:
    """ARKit weights clipped to 0..1 with mouthClose <= jawOpen (mouthClose is a jawOpen corrective)."""
    w = np.clip(np.asarray(weights, dtype=np.float64), 0.0, 1.0)
    j, c = ARKIT_INDEX["jawOpen"], ARKIT_INDEX["mouthClose"]
    w[..., c] = np.minimum(w[..., c], w[..., j])
    return w


@dataclass
class IctHead:
    folder: Path

    @classmethod
    def load(cls, folder: Path | None = None) -> "IctHead":
        folder = Path(folder) if folder is not None else default_ict_dir()
        if not (folder / EXPR_FILE).is_file():
            raise BadInput(f"ICT-FaceKit data not found in {folder} (need {EXPR_FILE})",
                           f"pass the folder holding the ICT-FaceKit npz files or set ${ENV_VAR}")
        return cls(folder)

    @cached_property
    def _expr(self) -> IctExpressions:
        return read_expressions(self.folder / EXPR_FILE, require_materials=True)

    @cached_property
    def neutral(self) -> np.ndarray:
        return self._expr.neutral.astype(np.float32)

    @cached_property
    def triangles(self) -> np.ndarray:
        return self._expr.triangles.astype(np.int32)

    @property
    def triangle_material(self) -> np.ndarray:
        return self._expr.triangle_material

    @property
    def materials(self) -> list[str]:
        return self._expr.materials

    @property
    def expression_names(self) -> list[str]:
        return self._expr.expression_names

    @cached_property
    def expression_deltas(self) -> np.ndarray:
        return self._expr.expression_deltas.astype(np.float32)

    @cached_property
    def identity_deltas(self) -> np.ndarray:
        return np.load(self.folder / IDENTITY_FILE)["identity_deltas"].astype(np.float32)

    @cached_property
    def arkit_matrix(self) -> np.ndarray:
        """(52, ICT shapes): ICT weight = ARKit weights @ this."""
        m = np.zeros((len(ARKIT_NAMES), len(self.expression_names)), np.float32)
        index = {n: i for i, n in enumerate(self.expression_names)}
        for a, name in enumerate(ARKIT_NAMES):
            for shape in ict_names(name):
                if shape in index:
                    m[a, index[shape]] = 1.0
                elif name not in UNRENDERED:
                    raise ValueError(f"ICT has no shape {shape!r} for ARKit {name!r}")
        return m

    def material_vertices(self, name: str) -> np.ndarray:
        return self._expr.material_vertices(name)

    def identity_shape(self, coefficients: np.ndarray | None) -> np.ndarray:
        """Neutral vertices of an identity (coefficients in units of the PCA's sigma)."""
        if coefficients is None or not np.any(coefficients):
            return self.neutral.copy()
        c = np.asarray(coefficients, np.float32)
        return self.neutral + np.tensordot(c, self.identity_deltas[: len(c)], axes=1)

    def vertices(self, arkit: np.ndarray, base: np.ndarray | None = None,
                 extra: dict[str, float] | None = None) -> np.ndarray:
        """Vertices (V, 3) for ARKit weights (52,), on `base` (an identity's neutral, default ICT's mean)."""
        w = clamp_arkit(arkit).astype(np.float32) @ self.arkit_matrix
        for name, value in (extra or {}).items():
            w[self.expression_names.index(name)] += value
        base = self.neutral if base is None else base
        active = np.flatnonzero(np.abs(w) > 1e-6)
        if active.size == 0:
            return base.copy()
        return base + np.tensordot(w[active], self.expression_deltas[active], axes=1)
