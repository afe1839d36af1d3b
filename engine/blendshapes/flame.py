"""FLAME: the model file as its authors distribute it, its evaluation (shape, expression, eyelids, LBS of
neck/jaw/eyes with pose correctives), and the parameter sequences research trackers write.

Model layout (`generic_model.pkl`, FLAME 2020/2023; a Python-2 pickle of a dict, read with the restricted
unpickler of `safe_pickle`): v_template (V, 3), shapedirs (V, 3, 300 shape + E expression), posedirs
(V, 3, 36), J_regressor (5, V) sparse, kintree_table (2, 5), weights (V, 5), f (F, 3). Joints: global, neck,
jaw, left eye, right eye. Eyelid blendshapes (FLAME 2023 / SMIRK) are read from `l_eyelid`/`r_eyelid`
entries of the pickle or from `l_eyelid.npy`/`r_eyelid.npy` beside it.
"""
from __future__ import annotations

import pickle
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from engine.errors import BadInput
from engine.media.files import reading_input
from engine.blendshapes.rig import BlendshapeRig, LandmarkSet, Skeleton, joint_transforms, rodrigues, skin
from engine.blendshapes.safe_pickle import UnsafePickle, as_array, safe_load, safe_load_npy

FLAME_SHAPE_COUNT = 300          # FLAME 2017/2020/2023: 300 identity components, then the expression ones
FLAME_JOINTS = ("global", "neck", "jaw", "left_eye", "right_eye")
REQUIRED_KEYS = ("v_template", "shapedirs", "J_regressor", "kintree_table", "weights", "f")
JAW, NECK, GLOBAL, LEFT_EYE, RIGHT_EYE = 2, 1, 0, 3, 4


@dataclass
class FlameModel:
    v_template: np.ndarray       # (V, 3)
    shapedirs: np.ndarray        # (V, 3, S) identity
    exprdirs: np.ndarray         # (V, 3, E) expression
    posedirs: np.ndarray | None  # (9 * (J - 1), V * 3) pose correctives (rows: joint-major R - I)
    j_regressor: np.ndarray      # (J, V)
    parents: np.ndarray          # (J,) -1 for the root
    weights: np.ndarray          # (V, J)
    faces: np.ndarray            # (F, 3)
    eyelids: np.ndarray | None = None   # (2, V, 3): left, right (SMIRK's eyelid_params order)
    landmarks: dict[str, LandmarkSet] = field(default_factory=dict)
    source: str = ""

    @property
    def vertex_count(self) -> int:
        return len(self.v_template)

    @property
    def expression_count(self) -> int:
        return self.exprdirs.shape[2]

    @property
    def shape_count(self) -> int:
        return self.shapedirs.shape[2]

    @property
    def joint_count(self) -> int:
        return len(self.parents)

    def shaped(self, shape: np.ndarray | None = None) -> np.ndarray:
        """The identity's neutral (V, 3) for shape parameters (S' <= S,), zero expression."""
        if shape is None:
            return self.v_template.copy()
        shape = np.asarray(shape, np.float64).reshape(-1)
        return self.v_template + self.shapedirs[:, :, :len(shape)] @ shape

    def evaluate(self, expression=None, jaw=None, eyelids=None, shape=None, neck=None, eyes=None,
                 global_rot=None) -> np.ndarray:
        """Vertices (N, V, 3) for N frames (or (V, 3) when every given parameter is one frame).

        expression (N, E' <= E), jaw/neck/global_rot (N, 3) axis-angle, eyes (N, 6) left then right,
        eyelids (N, 2) left, right; shape (S' <= S,) is the identity."""
        single = all(p is None or np.ndim(p) == 1 for p in (expression, jaw, eyelids, neck, eyes, global_rot))
        frames = _frames(expression, jaw, eyelids, neck, eyes, global_rot)
        out = evaluate_points(self, np.arange(self.vertex_count), frames, shape)
        return out[0] if single else out

    def as_rig(self, expression_count: int | None = None, shape=None, name: str = "flame") -> BlendshapeRig:
        """The linear part as a blendshape rig: expression components (and eyelids) as deltas on the
        identity's neutral, plus the skeleton (joints regressed from that neutral)."""
        count = self.expression_count if expression_count is None else min(expression_count, self.expression_count)
        neutral = self.shaped(shape)
        deltas = [self.exprdirs[:, :, k] for k in range(count)]
        names = [f"exp{k:03d}" for k in range(count)]
        if self.eyelids is not None:
            deltas += [self.eyelids[0], self.eyelids[1]]
            names += ["eyelidLeft", "eyelidRight"]
        skeleton = Skeleton(list(FLAME_JOINTS), self.parents.copy(), self.j_regressor @ neutral, self.weights)
        return BlendshapeRig(name, neutral, self.faces, names, np.stack(deltas) if deltas else
                             np.zeros((0, self.vertex_count, 3)), skeleton=skeleton,
                             landmarks=dict(self.landmarks), units="m", source=self.source)


@dataclass
class FlameFrames:
    """Per-frame FLAME parameters, broadcast to N frames (missing parts are zeros/None)."""

    count: int
    expression: np.ndarray | None = None     # (N, E')
    jaw: np.ndarray | None = None            # (N, 3)
    eyelids: np.ndarray | None = None        # (N, 2)
    neck: np.ndarray | None = None
    eyes: np.ndarray | None = None           # (N, 6)
    global_rot: np.ndarray | None = None

    def posed(self) -> np.ndarray:
        """(N,) True where any joint rotates (those frames need skinning)."""
        flags = np.zeros(self.count, bool)
        for part in (self.jaw, self.neck, self.eyes, self.global_rot):
            if part is not None:
                flags |= np.abs(part).max(axis=1) > 0
        return flags

    def slice(self, start: int, stop: int) -> "FlameFrames":
        cut = lambda a: None if a is None else a[start:stop]  # noqa: E731
        return FlameFrames(min(stop, self.count) - start, cut(self.expression), cut(self.jaw), cut(self.eyelids),
                           cut(self.neck), cut(self.eyes), cut(self.global_rot))


def _frames(expression, jaw, eyelids, neck, eyes, global_rot) -> FlameFrames:
    parts = [None if p is None else np.atleast_2d(np.asarray(p, np.float64))
             for p in (expression, jaw, eyelids, neck, eyes, global_rot)]
    counts = {len(p) for p in parts if p is not None}
    if len(counts) > 1:
        raise BadInput(f"FLAME parameters disagree on the frame count: {sorted(counts)}")
    return FlameFrames(counts.pop() if counts else 1, *parts)


def evaluate_points(model: FlameModel, vertex_ids: np.ndarray, frames: FlameFrames, shape=None,
                    chunk: int = 2048) -> np.ndarray:
    """FLAME evaluated at a subset of vertices for every frame: (N, U, 3). Joints are regressed from the
    whole (shaped + expressed) mesh as FLAME does, but only the regressor's support is evaluated."""
    ids = np.asarray(vertex_ids, np.int64)
    support = np.flatnonzero(np.abs(model.j_regressor).sum(axis=0) > 0)
    base = model.shaped(shape)
    e_count = 0 if frames.expression is None else frames.expression.shape[1]
    if e_count > model.expression_count:
        raise BadInput(f"mismatched parameter counts: {e_count} expression parameters, the FLAME model has "
                       f"{model.expression_count}", "use the model the tracker was run with")
    exprdirs = model.exprdirs[ids, :, :e_count].reshape(len(ids) * 3, e_count)  # (U*3, E')
    j_expr = np.einsum("jv,vck->jck", model.j_regressor[:, support], model.exprdirs[support, :, :e_count])
    j_base = model.j_regressor[:, support] @ base[support]                        # (J, 3)
    lids = None if model.eyelids is None else model.eyelids[:, ids].reshape(2, -1)
    lids_j = None if model.eyelids is None else np.einsum("jv,lvc->ljc", model.j_regressor[:, support],
                                                             model.eyelids[:, support])
    posedirs = None if model.posedirs is None else model.posedirs.reshape(-1, model.vertex_count, 3)[:, ids]
    out = np.empty((frames.count, len(ids), 3))
    for start in range(0, frames.count, chunk):
        part = frames.slice(start, start + chunk)
        n = part.count
        verts = np.broadcast_to(base[ids], (n, len(ids), 3)).copy()
        joints = np.broadcast_to(j_base, (n, model.joint_count, 3)).copy()
        if e_count:
            verts += (part.expression @ exprdirs.T).reshape(n, len(ids), 3)
            joints += np.einsum("nk,jck->njc", part.expression, j_expr)
        if part.eyelids is not None and lids is not None:
            verts += (part.eyelids @ lids).reshape(n, len(ids), 3)
            joints += np.einsum("nl,ljc->njc", part.eyelids, lids_j)
        posed = part.posed()
        if posed.any():
            aa = np.zeros((n, model.joint_count, 3))
            for index, values in ((GLOBAL, part.global_rot), (NECK, part.neck), (JAW, part.jaw)):
                if values is not None:
                    aa[:, index] = values
            if part.eyes is not None:
                aa[:, LEFT_EYE], aa[:, RIGHT_EYE] = part.eyes[:, :3], part.eyes[:, 3:6]
            sub = np.flatnonzero(posed)
            rots = rodrigues(aa[sub])                                             # (n', J, 3, 3)
            v = verts[sub]
            if posedirs is not None:
                feature = (rots[:, 1:] - np.eye(3)).reshape(len(sub), -1)
                v = v + np.einsum("nk,kuc->nuc", feature, posedirs)
            transforms = joint_transforms(rots, joints[sub], model.parents)
            verts[sub] = skin(v, model.weights[ids], transforms)
        out[start:start + n] = verts
    return out


# -------------------------------------------------------------------------------------------------------
# Reading the model file
# -------------------------------------------------------------------------------------------------------

def _load_pickle(path: Path, what: str):
    if not path.is_file():
        raise BadInput(f"{what} not found: {path}", "give the path to the file")
    try:
        return safe_load(path)
    except UnsafePickle as exc:
        raise BadInput(f"refusing to read {path.name}: it references {exc.module}.{exc.name}, which a "
                       f"{what} never contains (loading it could run code)",
                       "use the file as its authors distribute it") from None
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError,
            UnicodeDecodeError) as exc:
        raise BadInput(f"{path.name} is not a readable pickle ({type(exc).__name__}: {exc})",
                       f"expected a {what}") from None


def load_flame_model(path: str | Path, shape_count: int = FLAME_SHAPE_COUNT,
                     landmarks: str | Path | None = None) -> FlameModel:
    """Read a FLAME `generic_model.pkl` (safely: no code from the file runs)."""
    path = Path(path)
    doc = _load_pickle(path, "FLAME model file")
    if not isinstance(doc, dict):
        raise BadInput(f"{path.name} holds a {type(doc).__name__}, not a FLAME model (a dict with "
                       f"{', '.join(REQUIRED_KEYS)})", "give FLAME's generic_model.pkl (FLAME 2020/2023)")
    missing = [k for k in REQUIRED_KEYS if k not in doc]
    if missing:
        raise BadInput(f"{path.name} is not a FLAME model file: missing {', '.join(missing)} "
                       f"(it has {', '.join(sorted(map(str, doc))[:8])})",
                       "give FLAME's generic_model.pkl (FLAME 2020/2023)")
    try:
        arrays = {k: as_array(v) for k, v in doc.items() if k in (*REQUIRED_KEYS, "posedirs", "l_eyelid",
                                                                    "r_eyelid", "eyelids")}
    except ValueError as exc:
        raise BadInput(f"{path.name}: {exc}", "give FLAME's generic_model.pkl (FLAME 2020/2023)") from None
    model = _model_from_arrays(arrays, path, shape_count)
    model.eyelids = _eyelids(arrays, path, model.vertex_count)
    if landmarks is not None:
        model.landmarks.update(load_flame_landmarks(landmarks, model.vertex_count, model.faces))
    else:
        for candidate in ("landmark_embedding.npy", "flame_static_embedding.pkl"):
            if (path.parent / candidate).is_file():
                try:
                    model.landmarks.update(load_flame_landmarks(path.parent / candidate, model.vertex_count,
                                                                model.faces))
                except BadInput:
                    pass
                break
    return model


def _model_from_arrays(a: dict, path: Path, shape_count: int) -> FlameModel:
    name = path.name
    v = np.asarray(a["v_template"], np.float64)
    if v.ndim != 2 or v.shape[1] != 3 or len(v) < 4:
        raise BadInput(f"{name}: v_template has shape {v.shape}, expected (V, 3)")
    count = len(v)

    def check(key, shape_ok, expected):
        arr = a[key]
        if not shape_ok(arr.shape):
            raise BadInput(f"{name}: {key} has shape {arr.shape}, expected {expected} for {count} vertices",
                           "the file is not a FLAME model or is damaged")
        return arr

    dirs = check("shapedirs", lambda s: len(s) == 3 and s[:2] == (count, 3), "(V, 3, 300 + E)")
    if dirs.shape[2] <= shape_count:
        raise BadInput(f"{name}: shapedirs has {dirs.shape[2]} components; a FLAME model has {shape_count} "
                       "shape components followed by its expression components",
                       "this looks like a shape-only model; use FLAME 2020 or 2023")
    faces = check("f", lambda s: len(s) == 2 and s[1] == 3, "(F, 3)").astype(np.int64)
    if faces.min() < 0 or faces.max() >= count:
        raise BadInput(f"{name}: triangle index {int(faces.max())} is outside the {count} vertices")
    kintree = check("kintree_table", lambda s: len(s) == 2 and s[0] == 2, "(2, J)").astype(np.int64)
    joints = kintree.shape[1]
    order = np.argsort(kintree[1])
    parents = kintree[0][order]
    parents = np.where((parents < 0) | (parents >= joints), -1, parents)
    if (parents[1:] < 0).any() or parents[0] != -1 or np.any(parents[1:] >= np.arange(1, joints)):
        raise BadInput(f"{name}: kintree_table does not describe a tree rooted at joint 0")
    regressor = check("J_regressor", lambda s: s == (joints, count), f"({joints}, V)").astype(np.float64)
    weights = check("weights", lambda s: s == (count, joints), f"(V, {joints})").astype(np.float64)
    posedirs = None
    if "posedirs" in a:
        pd = a["posedirs"]
        n_pose = 9 * (joints - 1)
        if pd.shape != (count, 3, n_pose):
            raise BadInput(f"{name}: posedirs has shape {pd.shape}, expected ({count}, 3, {n_pose})")
        posedirs = np.ascontiguousarray(pd.reshape(-1, n_pose).T, np.float64)
    return FlameModel(v_template=v, shapedirs=np.ascontiguousarray(dirs[:, :, :shape_count], np.float64),
                      exprdirs=np.ascontiguousarray(dirs[:, :, shape_count:], np.float64), posedirs=posedirs,
                      j_regressor=regressor, parents=parents, weights=weights, faces=faces, source=str(path))


def _eyelids(arrays: dict, path: Path, count: int) -> np.ndarray | None:
    pair = None
    if "eyelids" in arrays:
        e = arrays["eyelids"]
        pair = np.moveaxis(e, -1, 0) if e.shape == (count, 3, 2) else e
    elif "l_eyelid" in arrays and "r_eyelid" in arrays:
        pair = np.stack([arrays["l_eyelid"], arrays["r_eyelid"]])
    elif (path.parent / "l_eyelid.npy").is_file() and (path.parent / "r_eyelid.npy").is_file():
        pair = np.stack([np.load(path.parent / f"{s}_eyelid.npy", allow_pickle=False) for s in "lr"])
    if pair is None:
        return None
    pair = np.asarray(pair, np.float64).reshape(2, -1, 3) if np.size(pair) == 2 * count * 3 else None
    if pair is None:
        raise BadInput(f"{path.name}: eyelid blendshapes do not match the model's {count} vertices",
                       "use the eyelid files that belong to this FLAME version")
    return pair


IBUG68 = [f"ibug{i:02d}" for i in range(68)]


def load_flame_landmarks(path: str | Path, vertex_count: int, faces: np.ndarray) -> dict[str, LandmarkSet]:
    """FLAME landmark embeddings as their authors distribute them: DECA's `landmark_embedding.npy`
    (full_lmk_faces_idx / full_lmk_bary_coords: iBUG-68) or the fitting code's
    `flame_static_embedding.pkl` (lmk_face_idx / lmk_b_coords: the 51 inner iBUG points, 17..67)."""
    path = Path(path)
    if path.suffix == ".npy":
        doc = safe_load_npy(path)
    else:
        doc = _load_pickle(path, "FLAME landmark embedding")
    if not isinstance(doc, dict):
        raise BadInput(f"{path.name} is not a FLAME landmark embedding (a dict)")
    doc = {k: as_array(v) for k, v in doc.items()}
    if "full_lmk_faces_idx" in doc:
        tri, bary, names = doc["full_lmk_faces_idx"], doc["full_lmk_bary_coords"], IBUG68
    elif "lmk_face_idx" in doc:
        tri, bary, names = doc["lmk_face_idx"], doc["lmk_b_coords"], IBUG68[17:]
    elif "static_lmk_faces_idx" in doc:
        tri, bary, names = doc["static_lmk_faces_idx"], doc["static_lmk_bary_coords"], IBUG68[17:]
    else:
        raise BadInput(f"{path.name}: no landmark face indices (expected full_lmk_faces_idx or lmk_face_idx)")
    tri = np.asarray(tri, np.int64).reshape(-1)
    bary = np.asarray(bary, np.float64).reshape(-1, 3)
    if len(tri) != len(names) or len(bary) != len(names):
        raise BadInput(f"{path.name}: {len(tri)} landmarks, expected {len(names)} (iBUG-68 layout)")
    if tri.max() >= len(faces):
        raise BadInput(f"{path.name}: landmark triangle {int(tri.max())} is outside the model's triangles")
    return {"ibug68": LandmarkSet(list(names), faces[tri], bary)}


# -------------------------------------------------------------------------------------------------------
# Parameter sequences (tracker outputs)
# -------------------------------------------------------------------------------------------------------

ALIASES = {
    "expression": ("expression_params", "expression", "expr", "exp", "expcode", "exp_params", "expressions"),
    "jaw": ("jaw_params", "jaw_pose", "jaw"),
    "eyelids": ("eyelid_params", "eyelids", "eyelid"),
    "neck": ("neck_pose", "neck_params", "neck"),
    "eyes": ("eye_pose", "eye_pose_params", "eyes_pose", "eyes"),
    "global_rot": ("global_orient", "global_pose", "rotation", "root_pose", "head_pose_params"),
    "pose": ("pose", "posecode", "pose_params", "poses", "full_pose"),
    "shape": ("shape_params", "shape", "shapecode", "betas", "identity"),
    "times": ("times", "time", "timestamps", "timestamp", "t"),
    "fps": ("fps", "frame_rate", "framerate"),
}
PLAIN_LAYOUT_HINT = ("a plain array has one row per frame: E expression columns (E <= the model's count), "
                     "optionally followed by 3 jaw and 2 eyelid columns; or save a dict/npz with named "
                     "parts (expression_params, jaw_params, eyelid_params, ...)")


@dataclass
class FlameParams:
    """A FLAME parameter sequence: what a tracker (SMIRK, EMOCA, DECA, ...) writes per frame."""

    expression: np.ndarray                     # (N, E)
    jaw: np.ndarray | None = None              # (N, 3) axis-angle
    eyelids: np.ndarray | None = None          # (N, 2) left, right
    neck: np.ndarray | None = None             # (N, 3)
    eyes: np.ndarray | None = None             # (N, 6)
    global_rot: np.ndarray | None = None       # (N, 3)
    shape: np.ndarray | None = None            # (S,)
    times: np.ndarray | None = None            # (N,) seconds
    warnings: list[str] = field(default_factory=list)
    plain: bool = False                        # read from an unnamed (N, D) array: see split_plain

    def __len__(self) -> int:
        return len(self.expression)

    def frames(self, with_global: bool = False, with_neck: bool = False) -> FlameFrames:
        return FlameFrames(len(self), self.expression, self.jaw, self.eyelids,
                           self.neck if with_neck else None, self.eyes,
                           self.global_rot if with_global else None)

    def check_against(self, model: FlameModel) -> None:
        e = self.expression.shape[1]
        if e > model.expression_count:
            raise BadInput(f"mismatched parameter counts: the sequence has {e} expression parameters, the "
                           f"FLAME model only {model.expression_count}",
                           "use the FLAME model the tracker was run with")
        if self.shape is not None and len(self.shape) > model.shape_count:
            raise BadInput(f"mismatched parameter counts: {len(self.shape)} shape parameters, the model has "
                           f"{model.shape_count}")
        if self.eyelids is not None and model.eyelids is None and np.abs(self.eyelids).max() > 0:
            self.warnings.append("the sequence has eyelid parameters but the model has no eyelid blendshapes "
                                 "(l_eyelid.npy / r_eyelid.npy beside it): eyelids ignored")


def load_flame_params(path: str | Path, fps: float = 30.0) -> FlameParams:
    """Read a parameter sequence from .npy/.npz/.pkl (dict of per-frame arrays, a list of per-frame dicts,
    or a plain (N, D) array; see PLAIN_LAYOUT_HINT)."""
    path = Path(path)
    if not path.is_file():
        raise BadInput(f"FLAME parameter file not found: {path}")
    suffix = path.suffix.lower()
    with reading_input(path, "FLAME parameter file", PLAIN_LAYOUT_HINT):
        if suffix == ".npz":
            with np.load(path, allow_pickle=False) as data:
                doc = {k: data[k] for k in data.files}
        elif suffix == ".npy":
            doc = safe_load_npy(path)
        elif suffix in (".pkl", ".pickle"):
            if zipfile.is_zipfile(path):
                raise BadInput(f"{path.name} is a zip archive (a torch.save file?), not a pickle",
                               "save the tensors as numpy: np.savez(path, **{k: v.cpu().numpy() ...})")
            doc = _load_pickle(path, "FLAME parameter file")
        else:
            raise BadInput(f"unsupported FLAME parameter file {path.name}", "use .npy, .npz or .pkl")
        params = params_from(doc, path.name, fps)
    require_finite(params, path.name)
    return params


def require_finite(params: FlameParams, name: str) -> None:
    """A tracker that lost the face may write NaN: refused here, before it becomes NaN curves."""
    for field_name in ("expression", "jaw", "eyelids", "neck", "eyes", "global_rot", "shape", "times"):
        values = getattr(params, field_name)
        if values is not None and not np.isfinite(values).all():
            raise BadInput(f"{name}: {field_name} holds non-finite values (NaN or infinity)",
                           "drop or fill the frames where the tracker lost the face, then convert again")


def params_from(doc, name: str = "parameters", fps: float = 30.0) -> FlameParams:
    if isinstance(doc, (list, tuple)) and doc and all(isinstance(d, dict) for d in doc):
        keys = set.intersection(*(set(d) for d in doc))
        doc = {k: np.stack([np.asarray(as_array(d[k]), np.float64).reshape(-1) for d in doc]) for k in keys}
    if isinstance(doc, dict):
        return _params_from_dict({str(k): v for k, v in doc.items()}, name, fps)
    array = np.asarray(as_array(doc), np.float64)
    if array.ndim == 1:
        array = array[None]
    if array.ndim != 2:
        raise BadInput(f"{name}: a parameter array of shape {array.shape}", PLAIN_LAYOUT_HINT)
    return FlameParams(expression=array, times=np.arange(len(array)) / fps, plain=True)


def _pick(doc: dict, part: str):
    for key in ALIASES[part]:
        if key in doc:
            return key, doc[key]
    return None, None


def _params_from_dict(doc: dict, name: str, fps: float) -> FlameParams:
    parts: dict[str, np.ndarray] = {}
    used = {}
    for part in ("expression", "jaw", "eyelids", "neck", "eyes", "global_rot", "pose", "shape"):
        key, value = _pick(doc, part)
        if key is None:
            continue
        try:
            arr = np.asarray(as_array(value), np.float64)
        except (ValueError, TypeError):
            raise BadInput(f"{name}: {key} is not numeric") from None
        arr = arr.reshape(arr.shape[0], -1) if arr.ndim >= 2 else arr[None]
        parts[part], used[part] = arr, key
    if "expression" not in parts:
        raise BadInput(f"{name}: no expression parameters (looked for {', '.join(ALIASES['expression'])}; "
                       f"found {', '.join(sorted(doc)[:10])})", PLAIN_LAYOUT_HINT)
    if "pose" in parts:
        pose = parts.pop("pose")
        width = pose.shape[1]
        if width == 3:
            parts.setdefault("global_rot", pose)
        elif width == 6:      # DECA / EMOCA posecode: global rotation, then jaw
            parts.setdefault("global_rot", pose[:, :3])
            parts.setdefault("jaw", pose[:, 3:])
        elif width == 15:     # the full FLAME pose: global, neck, jaw, left eye, right eye
            parts.setdefault("global_rot", pose[:, :3])
            parts.setdefault("neck", pose[:, 3:6])
            parts.setdefault("jaw", pose[:, 6:9])
            parts.setdefault("eyes", pose[:, 9:15])
        else:
            raise BadInput(f"mismatched parameter counts: {used['pose']} has {width} values per frame",
                           "a FLAME pose has 3 (global), 6 (global + jaw) or 15 (5 joints x 3) values")
    widths = {"jaw": 3, "eyelids": 2, "neck": 3, "eyes": 6, "global_rot": 3}
    for part, width in widths.items():
        if part in parts and parts[part].shape[1] != width:
            raise BadInput(f"mismatched parameter counts: {used.get(part, part)} has {parts[part].shape[1]} "
                           f"values per frame, expected {width}")
    n = len(parts["expression"])
    for part, arr in parts.items():
        if part != "shape" and len(arr) != n:
            raise BadInput(f"mismatched parameter counts: {used.get(part, part)} has {len(arr)} frames, the "
                           f"expression parameters {n}", "every per-frame part must have one row per frame")
    shape = parts.pop("shape", None)
    if shape is not None:
        shape = shape.mean(axis=0)
    times = _times(doc, n, fps, name)
    return FlameParams(shape=shape, times=times, **parts)


def _times(doc: dict, n: int, fps: float, name: str) -> np.ndarray:
    key, value = _pick(doc, "times")
    if key is not None:
        times = np.asarray(as_array(value), np.float64).reshape(-1)
        if len(times) != n or not np.all(np.diff(times) > 0):
            raise BadInput(f"{name}: {key} must be {n} increasing times in seconds")
        return times - times[0]
    key, value = _pick(doc, "fps")
    if key is not None:
        fps = float(np.asarray(as_array(value)).reshape(-1)[0])
    if not fps > 0:
        raise BadInput(f"{name}: frame rate {fps} must be positive")
    return np.arange(n) / fps


def split_plain(params: FlameParams, model: FlameModel) -> FlameParams:
    """A plain (N, D) array read without names: split D into expression [+ jaw [+ eyelids]] for `model`."""
    d = params.expression.shape[1]
    e_max = model.expression_count
    lids = model.eyelids is not None
    candidates = []
    for extra, parts in ((0, ()), (3, ("jaw",)), (5, ("jaw", "eyelids"))):
        e = d - extra
        if 0 < e <= e_max:
            candidates.append((e, parts))
    standard = [c for c in candidates if c[0] in (10, 20, 50, 100, e_max) and (c[1] != ("jaw", "eyelids") or lids)]
    choice = (standard or candidates or [None])[0]
    if choice is None:
        raise BadInput(f"mismatched parameter counts: {d} values per frame do not fit a FLAME model with "
                       f"{e_max} expression components", PLAIN_LAYOUT_HINT)
    e, parts = choice
    full = params.expression
    out = FlameParams(expression=full[:, :e], times=params.times, warnings=params.warnings)
    if "jaw" in parts:
        out.jaw = full[:, e:e + 3]
    if "eyelids" in parts:
        out.eyelids = full[:, e + 3:e + 5]
    return out
