"""Blendshape rigs as plain data: a neutral mesh, named deltas, optional linear-blend-skinned joints.

`BlendshapeRig` is what every reader returns (ARKit heads, ICT-FaceKit; FLAME through `FlameModel.as_rig`)
and what conversion and the contact sheet work on. `arkit_view()` gives the same rig with its shapes
renamed/combined into ARKit-52 names (ICT's `eyeBlink_L` -> `eyeBlinkLeft`, `browInnerUp_L + _R` ->
`browInnerUp`), which is the basis conversion solves in.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

import numpy as np

from engine.errors import BadInput
from engine.rig.arkit import ARKIT_NAMES


@dataclass
class LandmarkSet:
    """Named points on a mesh surface: each is a barycentric combination of one triangle's vertices."""

    names: list[str]
    triangles: np.ndarray      # (L, 3) vertex indices
    bary: np.ndarray           # (L, 3) barycentric weights (rows sum to 1)

    def __post_init__(self) -> None:
        self.triangles = np.asarray(self.triangles, np.int64).reshape(-1, 3)
        self.bary = np.asarray(self.bary, np.float64).reshape(-1, 3)
        if not len(self.names) == len(self.triangles) == len(self.bary):
            raise BadInput(f"landmark set has {len(self.names)} names, {len(self.triangles)} triangles and "
                           f"{len(self.bary)} barycentric rows", "give one of each per landmark")

    @classmethod
    def from_vertices(cls, names, vertex_ids) -> "LandmarkSet":
        ids = np.asarray(vertex_ids, np.int64).reshape(-1)
        tri = np.repeat(ids[:, None], 3, axis=1)
        bary = np.zeros((len(ids), 3))
        bary[:, 0] = 1.0
        return cls(list(names), tri, bary)

    def __len__(self) -> int:
        return len(self.names)

    def positions(self, vertices: np.ndarray) -> np.ndarray:
        """(L, 3) positions on a (V, 3) mesh (or (..., L, 3) for (..., V, 3))."""
        return np.einsum("...lkc,lk->...lc", vertices[..., self.triangles, :], self.bary)

    def subset(self, names: list[str]) -> "LandmarkSet":
        index = {n: i for i, n in enumerate(self.names)}
        rows = [index[n] for n in names]
        return LandmarkSet(list(names), self.triangles[rows], self.bary[rows])

    def check(self, vertex_count: int, what: str) -> None:
        if len(self) and (self.triangles.min() < 0 or self.triangles.max() >= vertex_count):
            raise BadInput(f"{what}: landmark vertex index {int(self.triangles.max())} is outside the mesh's "
                           f"{vertex_count} vertices", "the landmarks belong to a different mesh")


@dataclass
class Skeleton:
    """Joints for linear blend skinning (rest positions, parent of each joint, per-vertex weights)."""

    names: list[str]
    parents: np.ndarray        # (J,) parent index, -1 for the root
    joints: np.ndarray         # (J, 3) rest positions
    weights: np.ndarray        # (V, J) skinning weights, rows sum to 1


@dataclass
class BlendshapeRig:
    name: str
    neutral: np.ndarray                    # (V, 3)
    faces: np.ndarray                      # (F, 3) triangle vertex indices
    shape_names: list[str]
    deltas: np.ndarray                     # (K, V, 3) offsets from the neutral
    skeleton: Skeleton | None = None
    landmarks: dict[str, LandmarkSet] = field(default_factory=dict)   # named landmark sets
    face_groups: np.ndarray | None = None  # (F,) group id of each triangle (materials)
    group_names: list[str] = field(default_factory=list)
    hidden_groups: tuple[str, ...] = ()    # groups not drawn on the contact sheet (overlays, interior)
    units: str = ""                        # "cm", "m" (informative)
    source: str = ""                       # where it was read from

    def __post_init__(self) -> None:
        self.neutral = np.asarray(self.neutral, np.float64).reshape(-1, 3)
        self.faces = np.asarray(self.faces, np.int64).reshape(-1, 3)
        self.deltas = np.asarray(self.deltas, np.float32).reshape(-1, len(self.neutral), 3)
        if len(self.shape_names) != len(self.deltas):
            raise BadInput(f"rig {self.name}: {len(self.shape_names)} shape names for {len(self.deltas)} deltas")
        if len(self.faces) and (self.faces.min() < 0 or self.faces.max() >= len(self.neutral)):
            raise BadInput(f"rig {self.name}: triangle vertex index out of range", "the mesh file is damaged")

    @property
    def vertex_count(self) -> int:
        return len(self.neutral)

    @property
    def shape_count(self) -> int:
        return len(self.shape_names)

    def evaluate(self, weights: np.ndarray) -> np.ndarray:
        """Vertices for (K,) or (N, K) weights: neutral + sum_k w_k delta_k."""
        w = np.asarray(weights, np.float64)
        if w.shape[-1] != self.shape_count:
            raise BadInput(f"rig {self.name} has {self.shape_count} shapes, got {w.shape[-1]} weights")
        flat = self.deltas.reshape(self.shape_count, -1)
        return self.neutral + (w @ flat).reshape(*w.shape[:-1], self.vertex_count, 3)

    def visible_faces(self) -> np.ndarray:
        if self.face_groups is None or not self.hidden_groups:
            return self.faces
        hidden = [i for i, n in enumerate(self.group_names) if n in self.hidden_groups]
        return self.faces[~np.isin(self.face_groups, hidden)]

    def moving_vertices(self, threshold: float = 1e-6) -> np.ndarray:
        """Indices of vertices some shape moves by more than `threshold` (in the rig's units)."""
        if not self.shape_count:
            return np.arange(0)
        amount = np.linalg.norm(self.deltas, axis=2).max(axis=0)
        return np.flatnonzero(amount > threshold)

    def arkit_view(self) -> "BlendshapeRig":
        """The rig with its shapes mapped to ARKit-52 names (only the names it has, in ARKIT_NAMES order)."""
        matrix, names = arkit_matrix(self.shape_names)
        if not names:
            raise BadInput(f"rig {self.name} has no ARKit-named shapes (its shapes: "
                           f"{', '.join(self.shape_names[:6])}...)",
                           "name the shape files like ARKit (eyeBlinkLeft, jawOpen, ...) or ICT (eyeBlink_L)")
        flat = self.deltas.reshape(self.shape_count, -1)
        deltas = (matrix @ flat).reshape(len(names), self.vertex_count, 3)
        return replace(self, shape_names=names, deltas=deltas)

    def summary(self) -> str:
        parts = [f"{self.name}: {self.vertex_count} vertices, {len(self.faces)} triangles, "
                 f"{self.shape_count} shapes"]
        if self.skeleton is not None:
            parts.append(f"joints {', '.join(self.skeleton.names)}")
        if self.landmarks:
            parts.append("landmarks " + ", ".join(f"{k} ({len(v)})" for k, v in self.landmarks.items()))
        return "; ".join(parts)


# -------------------------------------------------------------------------------------------------------
# ARKit names
# -------------------------------------------------------------------------------------------------------

def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


_ARKIT_BY_KEY = {_key(n): n for n in ARKIT_NAMES}
_SIDE_SUFFIX = re.compile(r"(?i)(?:[_.\-\s]?)(l|r|left|right)$")


def canonical_arkit_name(name: str) -> tuple[str | None, str | None]:
    """(ARKit name, side) for a shape name in ARKit, Live Link (PascalCase) or ICT (`_L/_R`) spelling.

    Returns (name, None) for a direct match, (base, "L"/"R") for a one-sided half of an ARKit shape that
    has no sides (ICT's browInnerUp_L -> ("browInnerUp", "L")), and (None, None) otherwise. A leading
    namespace or mesh prefix such as `head_blendShapes.` or `Face:` is ignored."""
    stripped = re.split(r"[.:|]", name)[-1]
    for candidate in (stripped, name):
        key = _key(candidate)
        if key in _ARKIT_BY_KEY:
            return _ARKIT_BY_KEY[key], None
        match = _SIDE_SUFFIX.search(candidate)
        if match and match.start() > 0:
            side = "L" if match.group(1).lower() in ("l", "left") else "R"
            base = candidate[:match.start()]
            full = _key(base) + ("left" if side == "L" else "right")
            if full in _ARKIT_BY_KEY:
                return _ARKIT_BY_KEY[full], None
            if _key(base) in _ARKIT_BY_KEY:
                return _ARKIT_BY_KEY[_key(base)], side
    return None, None


def arkit_matrix(shape_names: list[str]) -> tuple[np.ndarray, list[str]]:
    """(M, names): ARKit-named deltas = M @ native deltas, for the ARKit names present (ARKIT_NAMES order).

    Two one-sided halves of a symmetric ARKit shape are summed; a shape named twice is an error."""
    rows: dict[str, dict[int, float]] = {}
    sides: dict[str, set[str]] = {}
    for k, name in enumerate(shape_names):
        arkit, side = canonical_arkit_name(name)
        if arkit is None:
            continue
        entry = rows.setdefault(arkit, {})
        taken = sides.setdefault(arkit, set())
        tag = side or "both"
        if tag in taken or ("both" in taken) or (tag == "both" and taken):
            raise BadInput(f"shape {name!r} maps to ARKit {arkit!r}, which another shape already provides",
                           "give each ARKit shape once")
        taken.add(tag)
        entry[k] = 1.0
    names = [n for n in ARKIT_NAMES if n in rows]
    matrix = np.zeros((len(names), len(shape_names)), np.float32)
    for i, n in enumerate(names):
        for k, w in rows[n].items():
            matrix[i, k] = w
    return matrix, names


def arkit_columns(names: list[str]) -> np.ndarray:
    """Column index in ARKIT_NAMES of each name (all must be ARKit names)."""
    index = {n: i for i, n in enumerate(ARKIT_NAMES)}
    return np.array([index[n] for n in names], np.int64)


# -------------------------------------------------------------------------------------------------------
# Linear blend skinning
# -------------------------------------------------------------------------------------------------------

def rodrigues(axis_angle: np.ndarray) -> np.ndarray:
    """(..., 3) axis-angle -> (..., 3, 3) rotation matrices."""
    aa = np.asarray(axis_angle, np.float64)
    angle = np.linalg.norm(aa, axis=-1, keepdims=True)
    safe = np.where(angle < 1e-12, 1.0, angle)
    axis = aa / safe
    x, y, z = axis[..., 0], axis[..., 1], axis[..., 2]
    zeros = np.zeros_like(x)
    k = np.stack([zeros, -z, y, z, zeros, -x, -y, x, zeros], axis=-1).reshape(*aa.shape[:-1], 3, 3)
    s = np.sin(angle)[..., None]
    c = np.cos(angle)[..., None]
    eye = np.broadcast_to(np.eye(3), k.shape)
    return eye + s * k + (1 - c) * (k @ k)


def joint_transforms(rotations: np.ndarray, joints: np.ndarray, parents: np.ndarray) -> np.ndarray:
    """Skinning transforms (..., J, 3, 4): global transform of each joint with its rest position taken out,
    so that a vertex v skinned to joint j moves to A_j [v; 1].

    rotations (..., J, 3, 3) are local rotations about each joint; joints (..., J, 3) rest positions."""
    rotations = np.asarray(rotations, np.float64)
    joints = np.broadcast_to(np.asarray(joints, np.float64), rotations.shape[:-2] + (3,))
    count = rotations.shape[-3]
    rel = joints.copy()
    for j in range(count):
        if parents[j] >= 0:
            rel[..., j, :] = joints[..., j, :] - joints[..., parents[j], :]
    g_rot = np.empty_like(rotations)
    g_pos = np.empty_like(joints)
    for j in range(count):
        p = parents[j]
        if p < 0:
            g_rot[..., j, :, :] = rotations[..., j, :, :]
            g_pos[..., j, :] = rel[..., j, :]
        else:
            g_rot[..., j, :, :] = g_rot[..., p, :, :] @ rotations[..., j, :, :]
            g_pos[..., j, :] = np.einsum("...ab,...b->...a", g_rot[..., p, :, :], rel[..., j, :]) + g_pos[..., p, :]
    trans = g_pos - np.einsum("...jab,...jb->...ja", g_rot, joints)
    return np.concatenate([g_rot, trans[..., None]], axis=-1)


def skin(vertices: np.ndarray, weights: np.ndarray, transforms: np.ndarray) -> np.ndarray:
    """Linear blend skinning: (..., V, 3) vertices, (V, J) weights, (..., J, 3, 4) transforms."""
    blended = np.einsum("vj,...jab->...vab", weights, transforms)
    return np.einsum("...vab,...vb->...va", blended[..., :3], vertices) + blended[..., 3]
