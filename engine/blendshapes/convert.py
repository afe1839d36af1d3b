"""Converting one rig's motion into another's weights.

Per frame, the source rig's displacement at the corresponding points is fitted by the target's shapes,
weights bounded to 0..1 (`lsq.BoxLeastSquares`). Nothing per frame touches the mesh: for a blendshape
source the whole map is a (K_target x K_source) matrix; for FLAME the skinning of jaw/eyes (with pose
correctives) is exact but folded into precomputed tensors, so a frame costs one small matrix product:

  B^T d = sum_j sum_ab R_j[a,b] sum_m Q_j[a,b,:,m] z_m + sum_j W_j^T t_j - B^T n

with z = [1, expression, eyelids, pose features], R_j / t_j the skinning transforms of joint j,
Q_j = sum_v w_vj C_v^T (x) Z_v and W_j = sum_v w_vj C_v, C_v the target basis scattered to source vertex v.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from engine.errors import BadInput
from engine.blendshapes.correspondence import Correspondence
from engine.blendshapes.flame import FlameFrames, FlameModel, FlameParams, split_plain
from engine.blendshapes.lsq import BoxLeastSquares, single_threaded_blas
from engine.config.blendshapes import ConvertOptions
from engine.blendshapes.rig import BlendshapeRig, arkit_columns, joint_transforms, rodrigues
from engine.rig.arkit import ARKIT_NAMES
from engine.track.head_pose import pose_to_components
from engine.blendshapes.flame import GLOBAL, JAW, LEFT_EYE, NECK, RIGHT_EYE


@dataclass
class Conversion:
    times: np.ndarray                 # (N,) seconds
    weights: np.ndarray               # (N, K) in target_names order
    target_names: list[str]
    head: np.ndarray | None = None    # (N, 3) yaw, pitch, roll (radians) for the Live Link CSV
    eyes: np.ndarray | None = None    # (N, 6)
    unobserved: list[str] = field(default_factory=list)   # target shapes no corresponding point sees
    warnings: list[str] = field(default_factory=list)

    def arkit(self) -> np.ndarray:
        """(N, 52) in ARKIT_NAMES order; shapes the target lacks are 0."""
        out = np.zeros((len(self.times), len(ARKIT_NAMES)))
        out[:, arkit_columns(self.target_names)] = self.weights
        return out


def sample_basis(deltas: np.ndarray, triangles: np.ndarray, bary: np.ndarray) -> np.ndarray:
    """(K, P, 3) deltas at barycentric sample points."""
    return np.einsum("kpcx,pc->kpx", deltas[:, triangles], bary.astype(np.float32), optimize=True)


class Converter:
    """Precomputes everything per (source, target, correspondence); `convert_*` then run per sequence."""

    def __init__(self, source: BlendshapeRig | FlameModel, target: BlendshapeRig, corr: Correspondence,
                 options: ConvertOptions | None = None, shape: np.ndarray | None = None):
        self.options = options or ConvertOptions()
        self.source, self.target, self.corr = source, target, corr
        corr.check(source.vertex_count, target.vertex_count)
        self.target_names = list(target.shape_names)
        basis = sample_basis(target.deltas, corr.target_triangles, corr.target_bary)     # (K, P, 3)
        self.basis = basis.reshape(len(self.target_names), -1).T.astype(np.float64)      # (3P, K)
        gram = self.basis.T @ self.basis
        self.solver = BoxLeastSquares(gram, self.options.ridge)
        self.unobserved = [n for n, ok in zip(self.target_names, self.solver.observed) if not ok]
        # the target basis carried back into source space: A^T B_p, A = scale * rotation (source -> target)
        a = corr.to_target.scale * corr.to_target.rotation
        back = np.einsum("xy,kpx->kpy", a, basis.astype(np.float64))                     # (K, P, 3)
        self._back = back
        if isinstance(source, FlameModel):
            self._prepare_flame(source, shape)
        else:
            src = sample_basis(source.deltas, corr.source_triangles, corr.source_bary)   # (Ks, P, 3)
            self.linear = np.einsum("kpx,spx->ks", back, src.astype(np.float64))         # (K, Ks) = B^T S
            self.source_names = list(source.shape_names)

    # ---------------------------------------------------------------------------------------------------
    def _prepare_flame(self, model: FlameModel, shape) -> None:
        corr = self.corr
        verts, inverse = np.unique(corr.source_triangles.reshape(-1), return_inverse=True)
        k = len(self.target_names)
        # C_v: scatter the back-carried basis to source vertices with the barycentric weights
        c = np.zeros((len(verts), 3, k))
        contrib = np.einsum("kpy,pc->pcyk", self._back, corr.source_bary).reshape(-1, 3, k)
        np.add.at(c, inverse, contrib)
        neutral = model.shaped(shape)
        e = model.expression_count
        lids = 2 if model.eyelids is not None else 0
        n_pose = 0 if model.posedirs is None else model.posedirs.shape[0]
        # Z_v: (3, M) columns [neutral, expression, eyelids, pose correctives] so that x_v = Z_v z
        parts = [neutral[verts][:, :, None], model.exprdirs[verts]]
        if lids:
            parts.append(np.moveaxis(model.eyelids[:, verts], 0, -1))
        if n_pose:
            parts.append(np.moveaxis(model.posedirs.reshape(n_pose, model.vertex_count, 3)[:, verts], 0, -1))
        zb = np.concatenate(parts, axis=2)                                              # (U, 3, M)
        m = zb.shape[2]
        w = model.weights[verts]                                                        # (U, J)
        self.joints_used = np.flatnonzero(np.abs(w).sum(axis=0) > 0)
        q = []
        for j in self.joints_used:
            cw = (c * w[:, j, None, None]).reshape(len(verts), 3 * k)
            qj = (cw.T @ zb.reshape(len(verts), 3 * m)).reshape(3, k, 3, m)
            q.append(np.transpose(qj, (0, 2, 3, 1)))                                     # (a, b, m, K)
        self.q = np.stack(q).reshape(-1, k)                                             # (J'*9*M, K)
        self.w_t = np.einsum("uj,uak->jak", w[:, self.joints_used], c).reshape(-1, k)    # (J'*3, K)
        self.offset = np.einsum("uak,ua->k", c, neutral[verts])                         # B^T n
        # joints as a linear function of the parameters
        support = np.flatnonzero(np.abs(model.j_regressor).sum(axis=0) > 0)
        jr = model.j_regressor[:, support]
        self.j_base = jr @ neutral[support]
        self.j_expr = np.einsum("jv,vck->jck", jr, model.exprdirs[support])
        self.j_lids = np.einsum("jv,lvc->ljc", jr, model.eyelids[:, support]) if lids else None
        self.flame_layout = (e, lids, n_pose)
        self.model = model

    def flame_rhs(self, frames: FlameFrames) -> np.ndarray:
        """(N, K) right-hand sides B^T d for FLAME frames (exact skinning at the corresponding points)."""
        model = self.model
        e, lids, n_pose = self.flame_layout
        n = frames.count
        z = np.zeros((n, 1 + e + lids + n_pose))
        z[:, 0] = 1.0
        joints = np.broadcast_to(self.j_base, (n, *self.j_base.shape)).copy()
        if frames.expression is not None:
            given = frames.expression.shape[1]
            z[:, 1:1 + given] = frames.expression
            joints += np.einsum("nk,jck->njc", frames.expression, self.j_expr[:, :, :given])
        if lids and frames.eyelids is not None:
            z[:, 1 + e:1 + e + lids] = frames.eyelids
            joints += np.einsum("nl,ljc->njc", frames.eyelids, self.j_lids)
        aa = np.zeros((n, model.joint_count, 3))
        for index, values in ((GLOBAL, frames.global_rot), (NECK, frames.neck), (JAW, frames.jaw)):
            if values is not None:
                aa[:, index] = values
        if frames.eyes is not None:
            aa[:, LEFT_EYE], aa[:, RIGHT_EYE] = frames.eyes[:, :3], frames.eyes[:, 3:6]
        rots = rodrigues(aa)                                                            # (N, J, 3, 3)
        if n_pose:
            z[:, 1 + e + lids:] = (rots[:, 1:] - np.eye(3)).reshape(n, -1)
        transforms = joint_transforms(rots, joints, model.parents)                      # (N, J, 3, 4)
        r = rots[:, self.joints_used].reshape(n, -1)                                    # (N, J'*9)
        feature = (r[:, :, None] * z[:, None, :]).reshape(n, -1)
        t = transforms[:, self.joints_used][..., 3].reshape(n, -1)
        return feature @ self.q + t @ self.w_t - self.offset

    # ---------------------------------------------------------------------------------------------------
    def solve(self, rhs: np.ndarray) -> np.ndarray:
        o = self.options
        weights = np.zeros((len(rhs), len(self.target_names)))
        for s in range(0, len(rhs), o.chunk):
            weights[s:s + o.chunk] = self.solver.solve(rhs[s:s + o.chunk], o.iterations, o.polish_steps)
        if o.smoothness > 0:
            weights = self.solver.smooth(weights, rhs, o.smoothness, o.smooth_iterations)
        return weights

    def convert_weights(self, weights: np.ndarray, times: np.ndarray | None = None) -> Conversion:
        """Blendshape source: (N, Ks) source weights in the source's shape order."""
        if isinstance(self.source, FlameModel):
            raise BadInput("this converter's source is FLAME: give FLAME parameters, not weights")
        w = np.atleast_2d(np.asarray(weights, np.float64))
        if w.shape[1] != len(self.source_names):
            raise BadInput(f"mismatched parameter counts: {w.shape[1]} weights per frame, the source rig has "
                           f"{len(self.source_names)} shapes")
        rhs = w @ self.linear.T
        times = np.arange(len(w)) / self.options.fps if times is None else np.asarray(times, np.float64)
        return Conversion(times, self.solve(rhs), self.target_names, unobserved=list(self.unobserved))

    def convert_flame(self, params: FlameParams) -> Conversion:
        if not isinstance(self.source, FlameModel):
            raise BadInput("this converter's source is a blendshape rig: give its weights, not FLAME parameters")
        model = self.source
        if params.plain:
            params = split_plain(params, model)
        params.check_against(model)
        o = self.options
        if o.expression_count is not None:
            params.expression = params.expression[:, :o.expression_count]
        frames = params.frames()
        if not o.eyes:
            frames.eyes = None
        if model.eyelids is None:
            frames.eyelids = None
        with single_threaded_blas():
            rhs = np.concatenate([self.flame_rhs(frames.slice(s, s + o.chunk))
                                  for s in range(0, frames.count, o.chunk)]) if frames.count else np.zeros((0, 1))
        times = params.times if params.times is not None else np.arange(len(params)) / o.fps
        result = Conversion(times, self.solve(rhs), self.target_names, unobserved=list(self.unobserved),
                            warnings=list(params.warnings))
        if o.head_rotation and (params.global_rot is not None or params.neck is not None):
            result.head = head_angles(params)
        if o.eyes and params.eyes is not None:
            result.eyes = eye_angles(params.eyes)
        return result


def head_angles(params: FlameParams) -> np.ndarray:
    """(N, 3) yaw, pitch, roll (radians) of FLAME's global * neck rotation, in the engine's head-pose
    convention (engine.track.head_pose: Y up, yaw about Y, pitch about X, roll about Z)."""
    n = len(params)
    rot = np.broadcast_to(np.eye(3), (n, 3, 3)).copy()
    if params.global_rot is not None:
        rot = rodrigues(params.global_rot)
    if params.neck is not None:
        rot = rot @ rodrigues(params.neck)
    matrices = np.zeros((n, 4, 4))
    matrices[:, :3, :3] = rot
    matrices[:, 3, 3] = 1
    return np.radians(pose_to_components(matrices)[:, 3:6])


def eye_angles(eyes: np.ndarray) -> np.ndarray:
    """(N, 6) Live Link eye yaw/pitch/roll (left, right) from FLAME's eye axis-angles."""
    from scipy.spatial.transform import Rotation

    out = np.zeros((len(eyes), 6))
    for side in range(2):
        out[:, 3 * side:3 * side + 3] = Rotation.from_rotvec(eyes[:, 3 * side:3 * side + 3]).as_euler("YXZ")
    return out


def weights_for_source(values: np.ndarray, names: list[str], source_names: list[str]) -> np.ndarray:
    """Pick the source rig's columns from weights named `names` (e.g. ARKit-52 from a Live Link CSV)."""
    index = {n: i for i, n in enumerate(names)}
    missing = [n for n in source_names if n not in index]
    if missing:
        raise BadInput(f"the weights have no column for the source shape(s) {', '.join(missing[:5])}")
    return np.asarray(values)[:, [index[n] for n in source_names]]
