"""Dense correspondence between two meshes of different topology.

landmark pairs (matched by name from named landmark sets) -> similarity fit -> thin-plate-spline warp ->
closest-point projection. Samples are target vertices (those the target's shapes move); each gets a
barycentric location on the source surface. The result is saved as an .npz and reused; its residuals say
how well the two faces were brought together.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from engine.errors import BadInput
from engine.blendshapes.geometry import Similarity, ThinPlateSpline, closest_points, fit_similarity, vertex_normals
from engine.config.blendshapes import CorrespondenceOptions
from engine.blendshapes.rig import BlendshapeRig, LandmarkSet

FORMAT = "faceretarget-correspondence-1"
LANDMARK_PREFERENCE = ("mediapipe468", "ibug68")


@dataclass
class Correspondence:
    """P sample points, each located on both surfaces (triangle vertex ids + barycentric weights)."""

    source_triangles: np.ndarray    # (P, 3) source vertex ids
    source_bary: np.ndarray         # (P, 3)
    target_triangles: np.ndarray    # (P, 3) target vertex ids
    target_bary: np.ndarray         # (P, 3)
    to_target: Similarity           # source space -> target space (displacements use scale * rotation)
    source_vertex_count: int
    target_vertex_count: int
    residuals: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.source_triangles)

    def save(self, path: str | Path) -> None:
        meta = {"format": FORMAT, "source_vertex_count": self.source_vertex_count,
                "target_vertex_count": self.target_vertex_count, "residuals": self.residuals}
        np.savez_compressed(path, source_triangles=self.source_triangles.astype(np.int32),
                            source_bary=self.source_bary.astype(np.float32),
                            target_triangles=self.target_triangles.astype(np.int32),
                            target_bary=self.target_bary.astype(np.float32),
                            to_target=self.to_target.to_array(), meta=np.array(json.dumps(meta)))

    @classmethod
    def load(cls, path: str | Path) -> "Correspondence":
        path = Path(path)
        if not path.is_file():
            raise BadInput(f"correspondence file not found: {path}",
                           "make one with `faceretarget-engine blendshapes correspond`")
        try:
            with np.load(path, allow_pickle=False) as data:
                meta = json.loads(str(data["meta"]))
                if meta.get("format") != FORMAT:
                    raise KeyError("format")
                return cls(data["source_triangles"].astype(np.int64), data["source_bary"].astype(np.float64),
                           data["target_triangles"].astype(np.int64), data["target_bary"].astype(np.float64),
                           Similarity.from_array(data["to_target"]), int(meta["source_vertex_count"]),
                           int(meta["target_vertex_count"]), meta.get("residuals", {}))
        except (KeyError, ValueError, OSError):
            raise BadInput(f"{path.name} is not a correspondence file",
                           "make one with `faceretarget-engine blendshapes correspond`") from None

    def check(self, source_vertices: int, target_vertices: int) -> None:
        if (source_vertices, target_vertices) != (self.source_vertex_count, self.target_vertex_count):
            raise BadInput(f"the correspondence was made for meshes of {self.source_vertex_count} -> "
                           f"{self.target_vertex_count} vertices, not {source_vertices} -> {target_vertices}",
                           "make a new correspondence for these rigs")

    def report(self) -> str:
        r = self.residuals
        lines = [f"{len(self)} corresponding points"]
        if "landmarks" in r:
            lines.append(f"landmarks ({r['landmark_set']}): {r['landmarks']} pairs; RMS residual after "
                         f"similarity {r['landmark_rms_similarity']:.4g}, after warp {r['landmark_rms_warp']:.4g} "
                         f"(source units; {r['landmark_rms_similarity_rel']:.1%} / {r['landmark_rms_warp_rel']:.1%}"
                         " of the landmarks' RMS radius)")
        if "projection_median" in r:
            lines.append(f"projection distance median {r['projection_median']:.4g}, 95% {r['projection_p95']:.4g}, "
                         f"max {r['projection_max']:.4g}; {r.get('rejected', 0)} samples without counterpart")
        if "scale" in r:
            lines.append(f"source -> target scale {r['scale']:.5g}")
        return "\n".join(lines)


def _vertex_bary(ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    tri = np.repeat(np.asarray(ids, np.int64)[:, None], 3, axis=1)
    bary = np.zeros((len(ids), 3))
    bary[:, 0] = 1.0
    return tri, bary


def same_topology(source: BlendshapeRig, target: BlendshapeRig) -> bool:
    return (source.vertex_count == target.vertex_count and source.faces.shape == target.faces.shape
            and np.array_equal(source.faces, target.faces))


def sample_vertices(target: BlendshapeRig, options: CorrespondenceOptions) -> np.ndarray:
    size = float(np.linalg.norm(np.ptp(target.neutral, axis=0))) or 1.0
    ids = target.moving_vertices(options.moving_threshold * size)
    if len(ids) == 0:
        ids = np.arange(target.vertex_count)
    if len(ids) > options.max_points:
        rng = np.random.default_rng(options.seed)
        ids = np.sort(rng.choice(ids, options.max_points, replace=False))
    return ids


def identity_correspondence(source: BlendshapeRig, target: BlendshapeRig,
                            options: CorrespondenceOptions | None = None) -> Correspondence:
    """Same topology: every sampled vertex corresponds to itself (the similarity still takes the units)."""
    options = options or CorrespondenceOptions()
    ids = sample_vertices(target, options)
    tri, bary = _vertex_bary(ids)
    to_target = fit_similarity(source.neutral, target.neutral)
    rms = float(np.sqrt(((to_target.apply(source.neutral) - target.neutral) ** 2).sum(1).mean()))
    return Correspondence(tri, bary, tri.copy(), bary.copy(), to_target, source.vertex_count, target.vertex_count,
                          {"method": "same topology", "scale": to_target.scale, "vertex_rms_target_units": rms})


def landmark_pairs(source: BlendshapeRig, target: BlendshapeRig, landmark_set: str | None,
                   minimum: int) -> tuple[str, LandmarkSet, LandmarkSet]:
    common = [n for n in source.landmarks if n in target.landmarks]
    if landmark_set is not None:
        if landmark_set not in source.landmarks or landmark_set not in target.landmarks:
            raise BadInput(f"landmark set {landmark_set!r} is not on both rigs (source has "
                           f"{sorted(source.landmarks) or 'none'}, target has {sorted(target.landmarks) or 'none'})",
                           "give landmark files with --source-landmarks / --target-landmarks")
        name = landmark_set
    elif common:
        name = next((n for n in LANDMARK_PREFERENCE if n in common), common[0])
    else:
        raise BadInput(f"too few landmarks: no landmark set is on both rigs (source has "
                       f"{sorted(source.landmarks) or 'none'}, target has {sorted(target.landmarks) or 'none'})",
                       "give landmark files (--source-landmarks / --target-landmarks), e.g. FLAME's "
                       "landmark_embedding.npy and the head's iBUG-68 vertex ids")
    src, dst = source.landmarks[name], target.landmarks[name]
    shared = [n for n in src.names if n in set(dst.names)]
    if len(shared) < minimum:
        raise BadInput(f"too few landmarks: {len(shared)} pairs in set {name!r}, a correspondence needs at "
                       f"least {minimum}", "give more landmarks spread over the eyes, nose, mouth and jaw")
    return name, src.subset(shared), dst.subset(shared)


def build_correspondence(source: BlendshapeRig, target: BlendshapeRig,
                         options: CorrespondenceOptions | None = None) -> Correspondence:
    """Correspondence from target samples to the source surface (see the module doc)."""
    options = options or CorrespondenceOptions()
    set_name, src_lm, dst_lm = landmark_pairs(source, target, options.landmark_set, options.min_landmarks)
    src_pts = src_lm.positions(source.neutral)
    dst_pts = dst_lm.positions(target.neutral)
    spread = np.linalg.svd(dst_pts - dst_pts.mean(0), compute_uv=False)
    if spread[2] < 1e-6 * spread[0]:
        raise BadInput(f"the {len(dst_pts)} target landmarks lie in a plane: the warp needs points at "
                       "different depths", "add landmarks on the nose tip and the jaw")
    to_source = fit_similarity(dst_pts, src_pts)
    moved = to_source.apply(dst_pts)
    radius = float(np.sqrt(((src_pts - src_pts.mean(0)) ** 2).sum(1).mean()))
    rms_sim = float(np.sqrt(((moved - src_pts) ** 2).sum(1).mean()))
    warp = ThinPlateSpline(moved, src_pts, options.tps_smoothing)
    rms_warp = float(np.sqrt(((warp(moved) - src_pts) ** 2).sum(1).mean()))

    ids = sample_vertices(target, options)
    warped = warp(to_source.apply(target.neutral[ids]))
    surface = source.visible_faces()   # not onto overlays (ICT's eye occlusion sits in front of the eye)
    hit = closest_points(warped, source.neutral, surface)
    # normals: target normals rotated into source space vs. the source surface's normal at the hit
    t_norm = vertex_normals(target.neutral, target.faces)[ids] @ to_source.rotation.T
    s_norm_v = vertex_normals(source.neutral, source.faces)
    s_norm = np.einsum("pk,pkc->pc", hit.bary, s_norm_v[surface[hit.triangle]])
    s_norm /= np.maximum(np.linalg.norm(s_norm, axis=1, keepdims=True), 1e-12)
    cos = np.einsum("pc,pc->p", t_norm, s_norm)
    cos[np.linalg.norm(t_norm, axis=1) < 0.5] = 1.0   # a vertex in no triangle has no normal to compare
    ok = (hit.distance <= options.max_distance * radius) & (cos >= np.cos(np.radians(options.max_normal_angle_deg)))
    if ok.sum() < 10:
        raise BadInput(f"the correspondence found only {int(ok.sum())} of {len(ids)} target points on the source "
                       "surface", "check that the landmark sets really name the same points on both faces")
    tri, bary = _vertex_bary(ids[ok])
    residuals = {
        "method": "landmarks + similarity + thin-plate spline + closest point",
        "landmark_set": set_name, "landmarks": len(src_pts),
        "landmark_rms_similarity": rms_sim, "landmark_rms_warp": rms_warp,
        "landmark_rms_similarity_rel": rms_sim / radius, "landmark_rms_warp_rel": rms_warp / radius,
        "projection_median": float(np.median(hit.distance[ok])),
        "projection_p95": float(np.percentile(hit.distance[ok], 95)),
        "projection_max": float(hit.distance[ok].max()),
        "rejected": int((~ok).sum()), "samples": int(ok.sum()),
        "scale": 1.0 / to_source.scale,
    }
    return Correspondence(surface[hit.triangle[ok]], hit.bary[ok], tri, bary, to_source.inverse(),
                          source.vertex_count, target.vertex_count, residuals)


def correspond(source: BlendshapeRig, target: BlendshapeRig, options: CorrespondenceOptions | None = None,
               force_landmarks: bool = False) -> Correspondence:
    """Identity for the same topology, else the landmark-driven correspondence."""
    if same_topology(source, target) and not force_landmarks:
        return identity_correspondence(source, target, options)
    return build_correspondence(source, target, options)
