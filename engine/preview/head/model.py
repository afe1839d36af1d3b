"""A blendshape head: neutral vertices, triangles, colours and per-ARKit-channel vertex deltas.

Every head the preview draws (ICT-FaceKit, or the project's own head built on MediaPipe's canonical mesh)
is one of these; the renderers only see `HeadModel.pose(weights)` (vertices for 52 ARKit weights),
`triangles` and `colors`. Units are cm; x towards the subject's left, y up, z towards the camera.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from engine.rig.arkit import arkit_names

ARKIT = tuple(arkit_names())
_JAW_OPEN, _MOUTH_CLOSE = ARKIT.index("jawOpen"), ARKIT.index("mouthClose")


@dataclass
class HeadModel:
    name: str
    neutral: np.ndarray          # (V, 3) float32 cm
    triangles: np.ndarray        # (T, 3) int32
    colors: np.ndarray           # (V, 3) float32 0..1 (albedo)
    deltas: np.ndarray           # (K, V, 3) float32: one blendshape per row of `channels`
    channels: tuple[str, ...]    # ARKit name driving each blendshape (a name may drive several)
    notes: str = ""
    view_center: np.ndarray | None = None   # what the camera frames (default: the whole mesh)
    view_radius: float | None = None
    _columns: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        index = {name: i for i, name in enumerate(ARKIT)}
        unknown = [c for c in self.channels if c not in index]
        if unknown:
            raise ValueError(f"not ARKit names: {unknown}")
        self._columns = np.array([index[c] for c in self.channels], dtype=np.int64)
        self._flat = self.deltas.reshape(len(self.channels), -1)
        self._table = None
        if self.view_center is None:
            self.view_center = self.center
        if self.view_radius is None:
            self.view_radius = self.radius

    @property
    def center(self) -> np.ndarray:
        lo, hi = self.neutral.min(axis=0), self.neutral.max(axis=0)
        return (lo + hi) / 2

    @property
    def radius(self) -> float:
        return float(np.ptp(self.neutral[:, :2], axis=0).max() / 2)

    def driven_channels(self) -> set[str]:
        return set(self.channels)

    def pose(self, arkit: np.ndarray) -> np.ndarray:
        """(V, 3) vertices for one frame's 52 ARKit weights (ARKIT order); NaN weights count as 0."""
        return self.pose_with_normals(arkit, normals=False)[0]

    def pose_with_normals(self, arkit: np.ndarray, normals: bool = True) -> tuple[np.ndarray, np.ndarray | None]:
        """Vertices and (approximate) unit vertex normals for one frame's 52 ARKit weights.

        mouthClose is capped at jawOpen (ARKit's mouthClose is a corrective against jawOpen). Normals are
        linear too: each blendshape carries the change of the vertex normals it causes (built once), so a
        frame costs one matrix product instead of a pass over every triangle."""
        arkit = np.nan_to_num(np.asarray(arkit, dtype=np.float32))
        if arkit[_MOUTH_CLOSE] > arkit[_JAW_OPEN]:
            arkit = arkit.copy()
            arkit[_MOUTH_CLOSE] = arkit[_JAW_OPEN]
        weights = arkit[self._columns]
        active = np.flatnonzero(np.abs(weights) > 1e-4)
        if not normals:
            if active.size == 0:
                return self.neutral.copy(), None
            return self.neutral + (weights[active] @ self._flat[active]).reshape(-1, 3), None
        table = self._with_normals()
        base = table[-1]
        moved = base if active.size == 0 else base + weights[active] @ table[active]
        moved = moved.reshape(-1, 6)
        vertices, normal = moved[:, :3], moved[:, 3:]
        normal = normal / np.maximum(np.linalg.norm(normal, axis=1, keepdims=True), 1e-6)
        return np.ascontiguousarray(vertices), np.ascontiguousarray(normal)

    def _with_normals(self) -> np.ndarray:
        """(K + 1, V * 6): per channel [vertex delta, normal delta] interleaved; last row the neutral."""
        if self._table is None:
            n0 = vertex_normals(self.neutral, self.triangles)
            rows = []
            for delta in self.deltas:
                dn = vertex_normals(self.neutral + delta, self.triangles) - n0
                rows.append(np.concatenate([delta, dn], axis=1).ravel())
            rows.append(np.concatenate([self.neutral, n0], axis=1).ravel())
            self._table = np.stack(rows).astype(np.float32)
        return self._table


def vertex_normals(vertices: np.ndarray, triangles: np.ndarray) -> np.ndarray:
    """Area-weighted vertex normals (float32, unit length; 0 for unused vertices)."""
    a, b, c = vertices[triangles[:, 0]], vertices[triangles[:, 1]], vertices[triangles[:, 2]]
    face = np.cross(b - a, c - a)
    flat = triangles.ravel()
    normals = np.empty_like(vertices)
    for k in range(3):
        per_corner = np.repeat(face[:, k], 3)
        normals[:, k] = np.bincount(flat, weights=per_corner, minlength=len(vertices))
    length = np.linalg.norm(normals, axis=1, keepdims=True)
    return (normals / np.maximum(length, 1e-12)).astype(np.float32)
