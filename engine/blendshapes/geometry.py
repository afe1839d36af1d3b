"""Geometry for mesh correspondence: similarity fit, thin-plate-spline warp, closest points on a mesh."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

from engine.errors import BadInput


@dataclass
class Similarity:
    """x -> scale * rotation @ x + translation."""

    scale: float
    rotation: np.ndarray     # (3, 3)
    translation: np.ndarray  # (3,)

    def apply(self, points: np.ndarray) -> np.ndarray:
        return self.scale * points @ self.rotation.T + self.translation

    def apply_vectors(self, vectors: np.ndarray) -> np.ndarray:
        """Displacements transform without the translation."""
        return self.scale * vectors @ self.rotation.T

    def inverse(self) -> "Similarity":
        rot = self.rotation.T
        return Similarity(1.0 / self.scale, rot, -(rot @ self.translation) / self.scale)

    def to_array(self) -> np.ndarray:
        out = np.zeros((4, 4))
        out[:3, :3] = self.scale * self.rotation
        out[:3, 3] = self.translation
        out[3, 3] = 1
        return out

    @classmethod
    def from_array(cls, matrix: np.ndarray) -> "Similarity":
        m = np.asarray(matrix, np.float64)
        scale = float(np.cbrt(np.linalg.det(m[:3, :3])))
        return cls(scale, m[:3, :3] / scale, m[:3, 3].copy())


def fit_similarity(source: np.ndarray, target: np.ndarray, allow_scale: bool = True) -> Similarity:
    """Least-squares similarity taking source points onto target points (Umeyama 1991)."""
    src = np.asarray(source, np.float64)
    dst = np.asarray(target, np.float64)
    mu_s, mu_d = src.mean(0), dst.mean(0)
    a, b = src - mu_s, dst - mu_d
    sv = np.linalg.svd(a, compute_uv=False)
    if len(src) < 3 or sv[1] < 1e-9 * max(sv[0], 1e-30):
        raise BadInput(f"the {len(src)} landmarks are (nearly) collinear: a similarity fit needs points "
                       "spread over the face", "use landmarks on the eyes, nose and mouth")
    cov = b.T @ a / len(src)
    u, d, vt = np.linalg.svd(cov)
    sign = np.eye(3)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        sign[2, 2] = -1
    rot = u @ sign @ vt
    var = (a ** 2).sum() / len(src)
    scale = float(np.trace(np.diag(d) @ sign) / var) if allow_scale else 1.0
    return Similarity(scale, rot, mu_d - scale * rot @ mu_s)


class ThinPlateSpline:
    """3-D thin-plate spline (biharmonic kernel -|r|, plus an affine part) taking control points to targets.

    `smoothing` > 0 relaxes exact interpolation (relative to the mean kernel value), which keeps the warp
    from folding when landmark pairs are noisy."""

    def __init__(self, controls: np.ndarray, targets: np.ndarray, smoothing: float = 0.0):
        c = np.asarray(controls, np.float64)
        y = np.asarray(targets, np.float64)
        n = len(c)
        # -|r| is conditionally positive definite in 3-D, so adding the smoothing term keeps it solvable
        kernel = -np.linalg.norm(c[:, None] - c[None], axis=2)
        lam = smoothing * (-kernel.mean() if n > 1 else 1.0)
        p = np.hstack([np.ones((n, 1)), c])
        system = np.zeros((n + 4, n + 4))
        system[:n, :n] = kernel + lam * np.eye(n)
        system[:n, n:] = p
        system[n:, :n] = p.T
        rhs = np.zeros((n + 4, 3))
        rhs[:n] = y
        try:
            solution = np.linalg.solve(system, rhs)
        except np.linalg.LinAlgError:
            solution = np.linalg.lstsq(system, rhs, rcond=None)[0]
        self.controls, self.w, self.affine = c, solution[:n], solution[n:]

    def __call__(self, points: np.ndarray, chunk: int = 8192) -> np.ndarray:
        pts = np.asarray(points, np.float64)
        out = np.empty_like(pts)
        for s in range(0, len(pts), chunk):
            q = pts[s:s + chunk]
            k = -np.linalg.norm(q[:, None] - self.controls[None], axis=2)
            out[s:s + chunk] = k @ self.w + self.affine[0] + q @ self.affine[1:]
        return out


def triangle_closest_points(p, a, b, c) -> np.ndarray:
    """Barycentric weights (M, 3) of the point of each triangle (a, b, c) closest to p (all (M, 3))."""
    ab, ac, ap = b - a, c - a, p - a
    d1, d2 = _dot(ab, ap), _dot(ac, ap)
    bp = p - b
    d3, d4 = _dot(ab, bp), _dot(ac, bp)
    cp = p - c
    d5, d6 = _dot(ab, cp), _dot(ac, cp)
    va = d3 * d6 - d5 * d4
    vb = d5 * d2 - d1 * d6
    vc = d1 * d4 - d3 * d2
    with np.errstate(divide="ignore", invalid="ignore"):
        denom = va + vb + vc
        v = np.where(np.abs(denom) > 0, vb / denom, 1 / 3)
        w = np.where(np.abs(denom) > 0, vc / denom, 1 / 3)
        bary = np.stack([1 - v - w, v, w], axis=1)
        # Voronoi regions, lowest priority first (each later one overrides).
        t_bc = (d4 - d3) / ((d4 - d3) + (d5 - d6))
        region = (va <= 0) & (d4 - d3 >= 0) & (d5 - d6 >= 0)
        bary = np.where(region[:, None], np.stack([0 * t_bc, 1 - t_bc, t_bc], 1), bary)
        t_ac = d2 / (d2 - d6)
        region = (vb <= 0) & (d2 >= 0) & (d6 <= 0)
        bary = np.where(region[:, None], np.stack([1 - t_ac, 0 * t_ac, t_ac], 1), bary)
        region = (d6 >= 0) & (d5 <= d6)
        bary = np.where(region[:, None], np.array([0.0, 0.0, 1.0]), bary)
        t_ab = d1 / (d1 - d3)
        region = (vc <= 0) & (d1 >= 0) & (d3 <= 0)
        bary = np.where(region[:, None], np.stack([1 - t_ab, t_ab, 0 * t_ab], 1), bary)
        region = (d3 >= 0) & (d4 <= d3)
        bary = np.where(region[:, None], np.array([0.0, 1.0, 0.0]), bary)
        region = (d1 <= 0) & (d2 <= 0)
        bary = np.where(region[:, None], np.array([1.0, 0.0, 0.0]), bary)
    return np.nan_to_num(bary, nan=1 / 3)


def _dot(x, y):
    return np.einsum("ij,ij->i", x, y)


@dataclass
class SurfacePoints:
    triangle: np.ndarray     # (P,) triangle index
    bary: np.ndarray         # (P, 3)
    distance: np.ndarray     # (P,) distance from the query point
    points: np.ndarray       # (P, 3) the closest points


def closest_points(points: np.ndarray, vertices: np.ndarray, faces: np.ndarray, candidates: int = 24,
                   chunk: int = 4096) -> SurfacePoints:
    """Closest point on a triangle mesh for each query point (candidate triangles: the nearest centroids)."""
    pts = np.asarray(points, np.float64)
    v = np.asarray(vertices, np.float64)
    f = np.asarray(faces, np.int64)
    tri = v[f]
    centroids = tri.mean(axis=1)
    tree = cKDTree(centroids)
    k = min(candidates, len(f))
    out_tri = np.empty(len(pts), np.int64)
    out_bary = np.empty((len(pts), 3))
    for s in range(0, len(pts), chunk):
        q = pts[s:s + chunk]
        _, cand = tree.query(q, k=k)
        cand = np.asarray(cand).reshape(len(q), k)
        flat = cand.reshape(-1)
        qq = np.repeat(q, k, axis=0)
        bary = triangle_closest_points(qq, tri[flat, 0], tri[flat, 1], tri[flat, 2])
        closest = np.einsum("mk,mkc->mc", bary, tri[flat])
        dist = np.linalg.norm(closest - qq, axis=1).reshape(len(q), k)
        best = dist.argmin(axis=1)
        rows = np.arange(len(q))
        out_tri[s:s + chunk] = cand[rows, best]
        out_bary[s:s + chunk] = bary.reshape(len(q), k, 3)[rows, best]
    closest = np.einsum("pk,pkc->pc", out_bary, tri[out_tri])
    return SurfacePoints(out_tri, out_bary, np.linalg.norm(closest - pts, axis=1), closest)


def vertex_normals(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    v = np.asarray(vertices, np.float64)
    tri = v[faces]
    fn = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    normals = np.zeros_like(v)
    for k in range(3):
        np.add.at(normals, faces[:, k], fn)
    length = np.linalg.norm(normals, axis=1, keepdims=True)
    return normals / np.where(length > 0, length, 1)
