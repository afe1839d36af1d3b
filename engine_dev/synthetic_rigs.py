"""Small stand-ins for licensed assets, for tests and benchmarks.

`toy_flame_arrays` / `write_flame_pickle` make a FLAME-format model file (the same pickle layout as
FLAME's generic_model.pkl: chumpy objects, a scipy.sparse J_regressor, 5 joints) with a few hundred
vertices and random bases. `remesh` makes a copy of a rig with a different topology (random surface
samples, re-triangulated), whose deltas are the original's interpolated at the new vertices.
"""
from __future__ import annotations

import pickle
import sys
import types
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from scipy.spatial import Delaunay

from engine.blendshapes.geometry import closest_points
from engine.blendshapes.rig import BlendshapeRig, LandmarkSet

JOINT_POSITIONS = np.array([[0.0, 0.0, 0.0],        # global
                            [0.0, -0.06, -0.01],     # neck
                            [0.0, -0.02, 0.01],      # jaw
                            [0.03, 0.03, 0.06],      # left eye
                            [-0.03, 0.03, 0.06]])    # right eye


def _sphere(rings: int, segments: int, radius: np.ndarray, center=(0.0, 0.0, 0.0)):
    theta = np.linspace(0, np.pi, rings + 2)[1:-1]
    phi = np.linspace(0, 2 * np.pi, segments, endpoint=False)
    t, p = np.meshgrid(theta, phi, indexing="ij")
    pts = np.stack([np.sin(t) * np.sin(p), np.cos(t), np.sin(t) * np.cos(p)], -1).reshape(-1, 3)
    pts = np.vstack([pts, [[0, 1, 0], [0, -1, 0]]]) * radius + np.asarray(center)
    faces = []
    for r in range(rings - 1):
        for s in range(segments):
            a, b = r * segments + s, r * segments + (s + 1) % segments
            c, d = a + segments, b + segments
            faces += [[a, c, b], [b, c, d]]
    top, bottom = rings * segments, rings * segments + 1
    for s in range(segments):
        faces.append([top, s, (s + 1) % segments])
        last = (rings - 1) * segments
        faces.append([bottom, last + (s + 1) % segments, last + s])
    return pts, np.asarray(faces, np.int64)


def toy_flame_arrays(seed: int = 0, rings: int = 12, segments: int = 16, expression_count: int = 100,
                     shape_count: int = 300, eyelids: bool = True) -> dict:
    """The arrays of a FLAME model (same keys and shapes as generic_model.pkl) for a tiny ellipsoid head
    with two eyeballs; jaw-weighted lower face; random (smooth-ish) shape/expression/pose bases."""
    rng = np.random.default_rng(seed)
    head, head_f = _sphere(rings, segments, np.array([0.075, 0.1, 0.09]))
    eyes = [_sphere(4, 8, np.array([0.012] * 3), JOINT_POSITIONS[k]) for k in (3, 4)]
    verts = [head]
    faces = [head_f]
    for pts, f in eyes:
        faces.append(f + sum(len(v) for v in verts))
        verts.append(pts)
    v = np.vstack(verts)
    f = np.vstack(faces)
    count = len(v)
    n_head = len(head)
    weights = np.zeros((count, 5))
    y, z = v[:n_head, 1], v[:n_head, 2]
    jaw = np.clip((-0.0 - y) / 0.04, 0, 1) * (z > -0.02)
    neck = np.clip((-0.06 - y) / 0.03, 0, 1) * (1 - jaw)
    weights[:n_head, 2] = jaw
    weights[:n_head, 1] = neck
    weights[:n_head, 0] = 1 - jaw - neck
    n_eye = len(eyes[0][0])
    weights[n_head:n_head + n_eye, 3] = 1
    weights[n_head + n_eye:, 4] = 1
    # smooth random bases: random combinations of low-order polynomials of the position
    feats = np.column_stack([np.ones(count), v, v ** 2, v[:, [0]] * v[:, [1]], v[:, [1]] * v[:, [2]],
                             v[:, [0]] * v[:, [2]], np.sin(40 * v)]) 
    feats /= np.abs(feats).max(axis=0)

    def basis(components, scale):
        coef = rng.normal(size=(feats.shape[1], 3, components))
        return np.einsum("vf,fck->vck", feats, coef) * scale / np.sqrt(feats.shape[1])

    shapedirs = np.concatenate([basis(shape_count, 0.002), basis(expression_count, 0.002)], axis=2)
    posedirs = basis(36, 0.0005)
    regressor = np.zeros((5, count))
    for j, pos in enumerate(JOINT_POSITIONS):
        near = np.argsort(np.linalg.norm(v - pos, axis=1))[:6]
        regressor[j, near] = 1.0 / 6
    # place the joints where the regressor puts them: shift their mean onto the intended position
    kintree = np.array([[4294967295, 0, 1, 1, 1], [0, 1, 2, 3, 4]], np.int64)
    arrays = {"v_template": v, "shapedirs": shapedirs, "posedirs": posedirs, "J_regressor": regressor,
              "kintree_table": kintree, "weights": weights, "f": f.astype(np.uint32),
              "bs_style": "lbs", "bs_type": "lrotmin"}
    if eyelids:
        arrays["l_eyelid"] = basis(1, 0.003)[:, :, 0]
        arrays["r_eyelid"] = basis(1, 0.003)[:, :, 0]
    return arrays


@contextmanager
def _fake_chumpy():
    """A module `chumpy.ch` with a class `Ch` only so that pickle writes the same global as FLAME's file."""
    names = ("chumpy", "chumpy.ch")
    saved = {n: sys.modules.get(n) for n in names}
    package, module = types.ModuleType("chumpy"), types.ModuleType("chumpy.ch")

    class Ch:  # what chumpy pickles: an object whose state dict holds the value as `x`
        pass

    Ch.__module__, Ch.__qualname__ = "chumpy.ch", "Ch"
    module.Ch, package.ch = Ch, module
    sys.modules.update({"chumpy": package, "chumpy.ch": module})
    try:
        yield Ch
    finally:
        for n, m in saved.items():
            if m is None:
                sys.modules.pop(n, None)
            else:
                sys.modules[n] = m


def write_flame_pickle(path: str | Path, arrays: dict,
                       chumpy_keys=("v_template", "shapedirs", "posedirs", "weights"), protocol: int = 2) -> None:
    """Pickle `arrays` like FLAME's generic_model.pkl: chumpy objects for `chumpy_keys`, a scipy.sparse
    csc J_regressor, numpy arrays for the rest."""
    import scipy.sparse

    with _fake_chumpy() as Ch:
        doc = {}
        for key, value in arrays.items():
            if key in chumpy_keys:
                obj = Ch()
                obj.x = np.asarray(value)
                obj._dirty_vars = set()  # chumpy keeps bookkeeping beside the value
                doc[key] = obj
            elif key == "J_regressor":
                doc[key] = scipy.sparse.csc_matrix(np.asarray(value))
            else:
                doc[key] = value
        with open(path, "wb") as handle:
            pickle.dump(doc, handle, protocol=protocol)


def toy_flame_landmarks(v: np.ndarray, faces: np.ndarray, count: int = 68, seed: int = 1) -> LandmarkSet:
    """Landmarks named like iBUG-68 on the front of the toy head (for correspondence tests)."""
    rng = np.random.default_rng(seed)
    front = np.flatnonzero(v[faces].mean(axis=1)[:, 2] > 0.02)
    tris = rng.choice(front, count, replace=len(front) < count)
    bary = rng.dirichlet(np.ones(3), count)
    return LandmarkSet([f"ibug{i:02d}" for i in range(count)], faces[tris], bary)


# -------------------------------------------------------------------------------------------------------
# Re-meshing (a different topology of the same surface)
# -------------------------------------------------------------------------------------------------------

def remesh(rig: BlendshapeRig, points: int, groups: list[str] | None = None, seed: int = 0,
           edge_factor: float = 3.0, landmark_vertices: bool = True) -> BlendshapeRig:
    """A copy of `rig` with new vertices: `points` random area-weighted samples on the triangles of
    `groups` (all when None), re-triangulated per group by Delaunay in the front (x, y) projection; triangles
    with edges much longer than the sample spacing are dropped. Deltas are interpolated at the samples and
    landmark sets are carried over by closest-point projection."""
    rng = np.random.default_rng(seed)
    if groups is None or rig.face_groups is None:
        group_faces = {"all": np.arange(len(rig.faces))}
    else:
        group_faces = {g: np.flatnonzero(rig.face_groups == rig.group_names.index(g)) for g in groups}
    areas = {g: _areas(rig.neutral, rig.faces[idx]) for g, idx in group_faces.items()}
    total = sum(a.sum() for a in areas.values())
    all_tri, all_bary, all_faces, all_group = [], [], [], []
    offset = 0
    for gi, (g, idx) in enumerate(group_faces.items()):
        share = max(12, int(round(points * areas[g].sum() / total)))
        chosen = rng.choice(idx, share, p=areas[g] / areas[g].sum())
        bary = rng.dirichlet(np.ones(3), share)
        if landmark_vertices:
            for lms in rig.landmarks.values():
                hit = closest_points(lms.positions(rig.neutral), rig.neutral, rig.faces[idx])
                on = hit.distance < 1e-6 * (1 + np.abs(rig.neutral).max())
                chosen = np.concatenate([chosen, idx[hit.triangle[on]]])
                bary = np.vstack([bary, hit.bary[on]])
            share = len(chosen)
        pos = np.einsum("pk,pkc->pc", bary, rig.neutral[rig.faces[chosen]])
        tri = _triangulate(pos)
        edges = np.stack([np.linalg.norm(pos[tri[:, a]] - pos[tri[:, b]], axis=1)
                          for a, b in ((0, 1), (1, 2), (2, 0))], 1).max(1)
        spacing = np.sqrt(areas[g].sum() / share)
        tri = tri[edges < edge_factor * spacing]
        # orient like the source surface (outward normals)
        src_n = np.cross(*(rig.neutral[rig.faces[chosen]][:, 1:] - rig.neutral[rig.faces[chosen]][:, :1]).transpose(1, 0, 2))
        new_n = np.cross(pos[tri[:, 1]] - pos[tri[:, 0]], pos[tri[:, 2]] - pos[tri[:, 0]])
        flip = np.einsum("fc,fc->f", new_n, src_n[tri].mean(axis=1)) < 0
        tri[flip] = tri[flip][:, [0, 2, 1]]
        all_tri.append(rig.faces[chosen])
        all_bary.append(bary)
        all_faces.append(tri + offset)
        all_group.append(np.full(len(tri), gi))
        offset += share
    src_tri = np.vstack(all_tri)
    bary = np.vstack(all_bary)
    neutral = np.einsum("pk,pkc->pc", bary, rig.neutral[src_tri])
    deltas = np.einsum("kpcx,pc->kpx", rig.deltas[:, src_tri], bary.astype(np.float32))
    faces = np.vstack(all_faces)
    out = BlendshapeRig(f"{rig.name}-remeshed", neutral, faces, list(rig.shape_names), deltas,
                        face_groups=np.concatenate(all_group), group_names=list(group_faces),
                        units=rig.units, source=f"remesh of {rig.source}")
    for name, lms in rig.landmarks.items():
        hit = closest_points(lms.positions(rig.neutral), neutral, faces)
        out.landmarks[name] = LandmarkSet(list(lms.names), faces[hit.triangle], hit.bary)
    return out


def _triangulate(pos: np.ndarray) -> np.ndarray:
    """Triangles over surface samples: for a closed convex shell (an eyeball, the toy head) the convex hull
    of the samples pushed onto a sphere (every sample becomes a vertex), else Delaunay in the front (x, y)
    projection."""
    from scipy.spatial import ConvexHull

    hull = ConvexHull(pos)
    size = np.ptp(pos, axis=0).max()
    depth = (pos @ hull.equations[:, :3].T + hull.equations[:, 3]).max(axis=1)   # 0 on the hull, < 0 inside
    if np.mean(depth > -1e-3 * size) >= 0.97:
        directions = pos - pos.mean(axis=0)
        directions /= np.linalg.norm(directions, axis=1, keepdims=True)
        return ConvexHull(directions).simplices.copy()
    return Delaunay(pos[:, :2]).simplices


def _areas(v: np.ndarray, f: np.ndarray) -> np.ndarray:
    t = v[f]
    return 0.5 * np.linalg.norm(np.cross(t[:, 1] - t[:, 0], t[:, 2] - t[:, 0]), axis=1) + 1e-12


def transformed(rig: BlendshapeRig, scale: float, angle_deg: float, shift) -> BlendshapeRig:
    """The rig moved by a similarity (units change, head turned): what a different asset looks like."""
    a = np.radians(angle_deg)
    rot = np.array([[np.cos(a), 0, np.sin(a)], [0, 1, 0], [-np.sin(a), 0, np.cos(a)]])
    out = BlendshapeRig(rig.name, scale * rig.neutral @ rot.T + np.asarray(shift), rig.faces, list(rig.shape_names),
                        (scale * rig.deltas.astype(np.float64) @ rot.T).astype(np.float32),
                        skeleton=None, landmarks=dict(rig.landmarks), face_groups=rig.face_groups,
                        group_names=list(rig.group_names), hidden_groups=rig.hidden_groups, units=rig.units,
                        source=rig.source)
    return out


def flame_target_rig(model, count: int = 10, jaw_angle: float = 0.3, landmarks=None) -> BlendshapeRig:
    """An ARKit-named blendshape rig on FLAME's own mesh whose shapes are known FLAME motions: the first
    `count` ARKit names are expression components 0..count-1 (at +1), `jawOpen` is the jaw rotated by
    `jaw_angle` radians about X. Converting FLAME parameters onto it must give those values back."""
    from engine.rig.arkit import ARKIT_NAMES

    names = [n for n in ARKIT_NAMES if n != "jawOpen"][:count] + ["jawOpen"]
    deltas = [model.exprdirs[:, :, k] for k in range(count)]
    deltas.append(model.evaluate(jaw=np.array([jaw_angle, 0.0, 0.0])) - model.v_template)
    part = np.where(model.weights[model.faces[:, 0], 3] > 0.5, 1, np.where(model.weights[model.faces[:, 0], 4] > 0.5, 2, 0))
    rig = BlendshapeRig("flame-arkit", model.v_template, model.faces, names, np.stack(deltas), units="m",
                        face_groups=part, group_names=["head", "left_eye", "right_eye"])
    if landmarks is not None:
        rig.landmarks.update(landmarks)
    return rig
