"""Reading rigs: `load_model("flame:generic_model.pkl")`, `arkit:DIR` (neutral.obj + one OBJ per shape named
like ARKit), `arkit:HEAD.npz`, `ict:ict_facekit_light_expr.npz`; and landmark files.

A spec without a `kind:` prefix is recognised by its content (a .pkl is FLAME, a folder is OBJs, an .npz with
`expression_deltas` is ICT-FaceKit).
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np

from engine.errors import BadInput
from engine.media.files import reading_input
from engine.blendshapes.flame import FlameModel, load_flame_landmarks, load_flame_model
from engine.blendshapes.rig import BlendshapeRig, LandmarkSet
from engine.rig.ict import OVERLAY_MATERIALS, read_expressions, read_landmark_placement

KINDS = ("flame", "arkit", "ict", "npz", "obj")
NEUTRAL_NAMES = ("neutral", "base", "default", "basis", "neutral_pose")
ICT_INDICES = "vertex_indices.json"


def parse_spec(spec: str | Path) -> tuple[str | None, Path]:
    text = str(spec)
    match = re.match(r"^([a-zA-Z]+):(.+)$", text)
    if match and match.group(1).lower() in KINDS:
        return match.group(1).lower(), Path(match.group(2)).expanduser()
    return None, Path(text).expanduser()


def load_model(spec: str | Path, landmarks: str | Path | None = None) -> FlameModel | BlendshapeRig:
    """A FlameModel for FLAME specs, otherwise a BlendshapeRig; `landmarks` adds a landmark file."""
    kind, path = parse_spec(spec)
    if not path.exists():
        raise BadInput(f"rig not found: {path}", "give kind:PATH, e.g. flame:generic_model.pkl, arkit:HEAD_DIR, "
                       "ict:ict_facekit_light_expr.npz")
    with reading_input(path, "rig (flame:FILE.pkl, arkit:DIR_OR_NPZ, ict:FILE.npz)"):
        if kind is None:
            kind = _detect(path)
        if kind == "flame":
            return load_flame_model(path, landmarks=landmarks)
        if kind in ("arkit", "obj", "npz"):
            rig = read_obj_rig(path) if path.is_dir() else read_npz_rig(path)
        elif kind == "ict":
            rig = read_ict(path)
        else:  # pragma: no cover - parse_spec limits kinds
            raise BadInput(f"unknown rig kind {kind}")
    if landmarks is not None:
        with reading_input(landmarks, "landmark file"):
            rig.landmarks.update(load_landmarks(landmarks, rig.vertex_count, rig.faces))
    return rig


def _detect(path: Path) -> str:
    if path.is_dir():
        return "arkit"
    if path.suffix.lower() in (".pkl", ".pickle"):
        return "flame"
    if path.suffix.lower() == ".npz":
        with np.load(path, allow_pickle=False) as data:
            return "ict" if "expression_deltas" in data.files and "triangle_material" in data.files else "npz"
    raise BadInput(f"cannot tell what kind of rig {path.name} is",
                   "prefix it: flame:FILE.pkl, arkit:DIR_OR_NPZ, ict:FILE.npz")


# -------------------------------------------------------------------------------------------------------
# OBJ
# -------------------------------------------------------------------------------------------------------

def read_obj(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """(vertices (V, 3), triangles (F, 3)) of an OBJ; polygons are fanned into triangles."""
    vertices, faces = [], []
    path = Path(path)
    with open(path, encoding="utf-8", errors="replace") as handle:
        for number, line in enumerate(handle, 1):
            if line.startswith("v "):
                parts = line.split()
                try:
                    vertices.append([float(parts[1]), float(parts[2]), float(parts[3])])
                except (IndexError, ValueError):
                    raise BadInput(f"{path.name}: line {number}: bad vertex {line.strip()!r}") from None
            elif line.startswith("f "):
                try:
                    ids = [int(tok.split("/")[0]) for tok in line.split()[1:]]
                except ValueError:
                    raise BadInput(f"{path.name}: line {number}: bad face {line.strip()!r}") from None
                ids = [i - 1 if i > 0 else len(vertices) + i for i in ids]
                faces.extend([ids[0], ids[k], ids[k + 1]] for k in range(1, len(ids) - 1))
    if not vertices:
        raise BadInput(f"{path.name} has no vertices", "is it an OBJ file?")
    return np.asarray(vertices, np.float64), np.asarray(faces, np.int64).reshape(-1, 3)


def write_obj(path: str | Path, vertices: np.ndarray, faces: np.ndarray) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("".join(f"v {x:.6f} {y:.6f} {z:.6f}\n" for x, y, z in np.asarray(vertices)))
        handle.write("".join(f"f {a + 1} {b + 1} {c + 1}\n" for a, b, c in np.asarray(faces)))


def read_obj_rig(folder: Path) -> BlendshapeRig:
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() == ".obj")
    neutral_file = next((p for p in files if p.stem.lower() in NEUTRAL_NAMES), None)
    if neutral_file is None:
        raise BadInput(f"{folder} has no neutral OBJ ({' / '.join(n + '.obj' for n in NEUTRAL_NAMES)})",
                       "put the neutral head beside the shape OBJs, named neutral.obj")
    neutral, faces = read_obj(neutral_file)
    names, deltas = [], []
    for p in files:
        if p == neutral_file:
            continue
        verts, _ = read_obj(p)
        if verts.shape != neutral.shape:
            raise BadInput(f"{p.name} has {len(verts)} vertices, {neutral_file.name} has {len(neutral)}",
                           "every shape must be the neutral mesh with moved vertices (same topology)")
        names.append(p.stem)
        deltas.append(verts - neutral)
    if not names:
        raise BadInput(f"{folder} has no shape OBJs beside {neutral_file.name}")
    rig = BlendshapeRig(folder.name, neutral, faces, names, np.stack(deltas), source=str(folder))
    _sibling_landmarks(rig, folder)
    return rig


# -------------------------------------------------------------------------------------------------------
# npz heads
# -------------------------------------------------------------------------------------------------------

def _first(data, keys, what, path):
    for k in keys:
        if k in data.files:
            return data[k]
    raise BadInput(f"{path.name} has no {what} (looked for {', '.join(keys)}; it has {', '.join(data.files)})",
                   "an ARKit head npz has neutral, faces, names and deltas")


def _open_npz(path: Path):
    """np.load of an npz without pickles, or BadInput naming the file."""
    try:
        return np.load(path, allow_pickle=False)
    except (ValueError, OSError) as exc:
        raise BadInput(f"{path.name} is not a readable npz ({exc})") from None


def read_npz_rig(path: Path) -> BlendshapeRig:
    with _open_npz(path) as data:
        if "expression_deltas" in data.files and "triangle_material" in data.files:
            return read_ict(path)
        neutral = _first(data, ("neutral", "vertices", "v_template"), "neutral mesh", path)
        faces = _first(data, ("faces", "triangles", "f"), "triangles", path)
        names = [str(n) for n in _first(data, ("names", "shape_names", "expression_names"), "shape names", path)]
        if "deltas" in data.files or "expression_deltas" in data.files:
            deltas = _first(data, ("deltas", "expression_deltas"), "deltas", path)
        else:
            deltas = _first(data, ("shapes", "targets"), "deltas or shapes", path) - neutral[None]
        if deltas.shape != (len(names), *np.shape(neutral)):
            raise BadInput(f"{path.name}: deltas have shape {deltas.shape}, expected ({len(names)}, "
                           f"{len(neutral)}, 3)")
        rig = BlendshapeRig(path.stem, neutral, faces, names, deltas, source=str(path))
        if "landmark_names" in data.files:
            lnames = [str(n) for n in data["landmark_names"]]
            if "landmark_vertices" in data.files:
                lms = LandmarkSet.from_vertices(lnames, data["landmark_vertices"])
            else:
                lms = LandmarkSet(lnames, data["landmark_triangles"], data["landmark_bary"])
            lms.check(rig.vertex_count, path.name)
            rig.landmarks[str(data["landmark_set"]) if "landmark_set" in data.files else "landmarks"] = lms
    _sibling_landmarks(rig, path.parent)
    return rig


def write_npz_rig(path: str | Path, rig: BlendshapeRig) -> None:
    extra = {}
    if rig.landmarks:
        set_name, lms = next(iter(rig.landmarks.items()))
        extra = {"landmark_set": np.array(set_name), "landmark_names": np.array(lms.names),
                 "landmark_triangles": lms.triangles, "landmark_bary": lms.bary}
    np.savez(path, neutral=rig.neutral.astype(np.float32), faces=rig.faces.astype(np.int32),
             names=np.array(rig.shape_names), deltas=rig.deltas.astype(np.float32), **extra)


def read_ict(path: Path) -> BlendshapeRig:
    """ICT-FaceKit Light packed as npz (neutral, triangles, materials, expression deltas named `_L/_R`)."""
    data = read_expressions(path)
    # The overlays (transparent in a real renderer) are hidden on the contact sheet.
    rig = BlendshapeRig("ict-facekit", data.neutral, data.triangles, data.expression_names, data.expression_deltas,
                        face_groups=data.triangle_material, group_names=data.materials,
                        hidden_groups=OVERLAY_MATERIALS, units="cm", source=str(path))
    folder = path.parent
    placement = read_landmark_placement(folder)
    if placement is not None:
        tri_vertices, barycentric = placement
        rig.landmarks["mediapipe468"] = LandmarkSet([f"mp{i:03d}" for i in range(len(tri_vertices))],
                                                    tri_vertices, barycentric)
    if (folder / ICT_INDICES).is_file():
        ids = json.loads((folder / ICT_INDICES).read_text()).get("idx_to_landmark_verts", [])
        if len(ids) == 68:
            rig.landmarks["ibug68"] = LandmarkSet.from_vertices([f"ibug{i:02d}" for i in range(68)], ids)
    return rig


def ict_expression_shapes(rig: BlendshapeRig) -> list[str]:
    """ICT's 53 ARKit-style expression shapes (without cheekRaiser / PupilDilate)."""
    return [n for n in rig.shape_names if not n.startswith(("cheekRaiser", "PupilDilate"))]


# -------------------------------------------------------------------------------------------------------
# Landmark files
# -------------------------------------------------------------------------------------------------------

def _sibling_landmarks(rig: BlendshapeRig, folder: Path) -> None:
    for candidate in ("landmarks.json",):
        if (folder / candidate).is_file():
            rig.landmarks.update(load_landmarks(folder / candidate, rig.vertex_count, rig.faces))


def load_landmarks(path: str | Path, vertex_count: int, faces: np.ndarray) -> dict[str, LandmarkSet]:
    """Landmark files: JSON {"set": NAME, "names": [...], "vertices": [...]} (or "triangles" + "bary"),
    FLAME's embeddings (landmark_embedding.npy, flame_static_embedding.pkl), or a plain list of 68 (iBUG)
    or 51 (iBUG inner, points 17-67) vertex indices in .txt/.npy."""
    path = Path(path)
    if not path.is_file():
        raise BadInput(f"landmark file not found: {path}")
    suffix = path.suffix.lower()
    if suffix == ".json":
        doc = json.loads(path.read_text())
        names = [str(n) for n in doc.get("names", [])]
        if "vertices" in doc:
            names = names or _ibug_names(len(doc["vertices"]), path)
            lms = LandmarkSet.from_vertices(names, doc["vertices"])
        elif "triangles" in doc and "bary" in doc:
            lms = LandmarkSet(names, doc["triangles"], doc["bary"])
        else:
            raise BadInput(f"{path.name}: a landmark JSON needs 'vertices' or 'triangles' + 'bary'")
        sets = {str(doc.get("set", "landmarks")): lms}
    elif suffix == ".pkl" or (suffix == ".npy" and _is_object_npy(path)):
        sets = load_flame_landmarks(path, vertex_count, faces)
    elif suffix in (".npy", ".txt"):
        ids = np.load(path, allow_pickle=False) if suffix == ".npy" else np.loadtxt(path, dtype=np.int64)
        ids = np.asarray(ids).reshape(-1).astype(np.int64)
        sets = {"ibug68": LandmarkSet.from_vertices(_ibug_names(len(ids), path), ids)}
    else:
        raise BadInput(f"unsupported landmark file {path.name}", "use .json, .npy, .txt or FLAME's embedding")
    for lms in sets.values():
        lms.check(vertex_count, path.name)
    return sets


def _ibug_names(count: int, path: Path) -> list[str]:
    if count == 68:
        return [f"ibug{i:02d}" for i in range(68)]
    if count == 51:
        return [f"ibug{i:02d}" for i in range(17, 68)]
    raise BadInput(f"{path.name}: {count} unnamed landmarks", "unnamed lists must be iBUG-68 (68) or its inner "
                   "51 points; otherwise give names in a JSON file")


def _is_object_npy(path: Path) -> bool:
    with open(path, "rb") as handle:
        version = np.lib.format.read_magic(handle)
        header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                  else np.lib.format.read_array_header_2_0)(handle)
    return header[2].hasobject
