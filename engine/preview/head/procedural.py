"""The project's own head: MediaPipe's canonical face mesh with hand-built ARKit blendshapes.

No shipped asset is needed: the mesh comes from the Face Landmarker bundle the tracker uses (see
`canonical.py`), or, when that is missing, from the mean of a take's own tracked landmarks
(`mean_face_from_landmarks`). Both are the same 468-point topology, so the same construction applies.

How the 52 ARKit channels move it (all deltas are linear blendshapes, in cm, built once per head):
- jaw: `jawOpen` rotates everything below the lip line about a hinge behind the mouth (under the ears);
  `jawLeft/Right/Forward` translate the same region; `mouthClose` moves the lower lip back up against it.
- eyes: `eyeBlink*` carries each upper-lid contour point down to the lower lid at the same x (90 %; the
  lower lid comes up 10 %), the skin above following with a falloff; `eyeWide*`, `eyeSquint*` move lids;
  `eyeLook*` slide an iris disc behind the eye opening.
- mouth: smile/frown/dimple/stretch move a mouth corner with a smooth falloff; pucker/funnel/roll/shrug/
  press/upper-up/lower-down move lip regions; `mouthLeft/Right` the whole mouth.
- brows, cheeks, nose: regions around the brow landmarks, the cheekbones and the nose wings.
- `tongueOut` slides a tongue out of the mouth.
The eye and mouth openings of the mask are cut open and backed by eyeballs, irises, a mouth interior and
teeth (extra vertices appended after the 468), so blinks and an open jaw read clearly.

Limits: it is a mask (no back of the head, ears or neck), the deformations are sketches of the real
shapes (made to read well at preview size, not to match a scan), and eyes have no eyeball rotation.
"""
from __future__ import annotations

import numpy as np

from engine.preview.head.model import HeadModel

N_MESH = 468
INNER_UPPER = (78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308)
INNER_LOWER = (78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308)
OUTER_UPPER = (61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291)
OUTER_LOWER = (61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291)
LIP_RINGS = (  # the rings between the outer and inner lip contours
    (62, 183, 42, 41, 38, 12, 268, 271, 272, 407, 292), (76, 184, 74, 73, 72, 11, 302, 303, 304, 408, 306),
    (62, 96, 89, 179, 86, 15, 316, 403, 319, 325, 292), (76, 77, 90, 180, 85, 16, 315, 404, 320, 307, 306),
)
EYES = {  # side: (upper lid, lower lid), corner to corner; "Left" is the subject's left
    "Right": ((33, 246, 161, 160, 159, 158, 157, 173, 133), (33, 7, 163, 144, 145, 153, 154, 155, 133)),
    "Left": ((263, 466, 388, 387, 386, 385, 384, 398, 362), (263, 249, 390, 373, 374, 380, 381, 382, 362)),
}
BROWS = {"Right": ((107, 66, 105, 63, 70), (55, 65, 52, 53, 46)),     # (upper, lower), inner to outer
         "Left": ((336, 296, 334, 293, 300), (285, 295, 282, 283, 276))}
MOUTH_CORNER = {"Right": 61, "Left": 291}
NOSE_WING = {"Right": 129, "Left": 358}
CHEEK = {"Right": 50, "Left": 280}
SIDE_SIGN = {"Left": 1.0, "Right": -1.0}     # x of the subject's left is positive

SKIN = (0.86, 0.70, 0.62)
LIP = (0.74, 0.42, 0.42)
SCLERA = (0.93, 0.93, 0.90)
IRIS = (0.30, 0.22, 0.16)
MOUTH_INSIDE = (0.30, 0.08, 0.09)
TEETH = (0.92, 0.90, 0.84)
BROW = (0.42, 0.31, 0.25)
TONGUE = (0.70, 0.30, 0.32)

JAW_OPEN_RAD = 0.30


def _smoothstep(x):
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def _bump(points: np.ndarray, center, radii) -> np.ndarray:
    """1 at `center`, smoothly to 0 at the ellipsoid of `radii` (compact support)."""
    r2 = (((points - np.asarray(center, dtype=np.float32)) / np.asarray(radii, dtype=np.float32)) ** 2).sum(axis=1)
    x = 1.0 - np.clip(r2, 0.0, 1.0)
    return (x * x).astype(np.float32)


def _fan(center, radii, z, segments=20):
    """Vertices (1 + segments) and triangles of an elliptic disc facing +z."""
    angles = np.linspace(0, 2 * np.pi, segments, endpoint=False)
    ring = np.stack([center[0] + radii[0] * np.cos(angles), center[1] + radii[1] * np.sin(angles),
                     np.full(segments, z)], axis=1)
    verts = np.vstack([[center[0], center[1], z], ring]).astype(np.float32)
    tris = np.array([(0, 1 + i, 1 + (i + 1) % segments) for i in range(segments)], dtype=np.int32)
    return verts, tris


def _quad_strip(xs, y_top, y_bottom, zs):
    """A strip of quads through the given x/z columns, from y_top to y_bottom."""
    top = np.stack([xs, np.full_like(xs, y_top), zs], axis=1)
    bottom = np.stack([xs, np.full_like(xs, y_bottom), zs], axis=1)
    verts = np.vstack([top, bottom]).astype(np.float32)
    n = len(xs)
    tris = [t for i in range(n - 1) for t in ((i, n + i, i + 1), (i + 1, n + i, n + i + 1))]  # CCW seen from +z
    return verts, np.array(tris, dtype=np.int32)


def _close_lips(v: np.ndarray) -> np.ndarray:
    """The canonical mesh rests with parted lips (~5 mm); ARKit's neutral has them together. Bring each
    inner-lip contour half-way to the other, the lips' skin following within ~1 cm."""
    up, lo = v[list(INNER_UPPER)], v[list(INNER_LOWER)]
    ou, ol = np.argsort(up[:, 0]), np.argsort(lo[:, 0])
    y_up = np.interp(v[:, 0], up[ou, 0], up[ou, 1])
    y_lo = np.interp(v[:, 0], lo[ol, 0], lo[ol, 1])
    half_gap = np.maximum(y_up - y_lo, 0.0) / 2
    inside = (v[:, 0] >= min(up[:, 0].min(), lo[:, 0].min())) & (v[:, 0] <= max(up[:, 0].max(), lo[:, 0].max()))
    above = inside & (v[:, 1] >= y_up - 1e-4)
    below = inside & (v[:, 1] <= y_lo + 1e-4)
    reach = 1.0
    v[above, 1] -= half_gap[above] * (1 - _smoothstep((v[above, 1] - y_up[above]) / reach))
    v[below, 1] += half_gap[below] * (1 - _smoothstep((y_lo[below] - v[below, 1]) / reach))
    return v


class _Builder:
    """Collects extra geometry (eyes, mouth) and the blendshape deltas channel by channel."""

    def __init__(self, vertices: np.ndarray, triangles: np.ndarray):
        self.v = vertices.astype(np.float32)
        self.tris = [triangles.astype(np.int32)]
        self.colors = [np.tile(np.float32(SKIN), (len(vertices), 1))]
        self.tags: dict[str, np.ndarray] = {}
        self.shapes: dict[str, np.ndarray] = {}

    def add(self, tag: str, verts: np.ndarray, tris: np.ndarray, color) -> np.ndarray:
        start = len(self.v)
        self.v = np.vstack([self.v, verts.astype(np.float32)])
        self.tris.append(tris + start)
        self.colors.append(np.tile(np.float32(color), (len(verts), 1)))
        ids = np.arange(start, len(self.v))
        self.tags[tag] = ids
        return ids

    def shape(self, name: str, delta: np.ndarray) -> None:
        self.shapes[name] = self.shapes.get(name, 0) + delta.astype(np.float32)


def build_procedural_head(vertices: np.ndarray, triangles: np.ndarray, name: str = "canonical") -> HeadModel:
    """A HeadModel from a 468-vertex MediaPipe-topology mesh (cm, x to the subject's left, y up, z out)."""
    original = np.asarray(vertices, dtype=np.float32)[:N_MESH]
    v = _close_lips(original.copy())
    inner = set(INNER_UPPER) | set(INNER_LOWER)
    eye_rings = {side: set(up) | set(lo) for side, (up, lo) in EYES.items()}
    # Cut the mouth and the eyes open: drop the triangles lying entirely on an opening's rim.
    keep = [t for t in triangles.tolist()
            if not (set(t) <= inner or any(set(t) <= ring for ring in eye_rings.values()))]
    b = _Builder(v, np.array(keep, dtype=np.int32))
    lip_ids = sorted(set(INNER_UPPER + INNER_LOWER + OUTER_UPPER + OUTER_LOWER) | {i for r in LIP_RINGS for i in r})
    b.colors[0][lip_ids] = LIP
    b.colors[0][[i for up, lo in BROWS.values() for i in up + lo]] = BROW

    # ---- measurements
    # The lip line is found on the mesh as given (lips parted), so that every lip vertex is clearly above
    # or below it; on the closed lips the two inner contours coincide.
    up_in, lo_in = original[list(INNER_UPPER)], original[list(INNER_LOWER)]
    mouth_c = (up_in.mean(axis=0) + lo_in.mean(axis=0)) / 2
    corners = {s: v[i] for s, i in MOUTH_CORNER.items()}
    half_w = float(abs(corners["Left"][0] - corners["Right"][0]) / 2)
    lip_z = float(np.concatenate([up_in, lo_in])[:, 2].min())
    split_knots = np.linspace(-half_w, half_w, 11) + mouth_c[0]
    order_u, order_l = np.argsort(up_in[:, 0]), np.argsort(lo_in[:, 0])
    split_y = (np.interp(split_knots, up_in[order_u, 0], up_in[order_u, 1])
               + np.interp(split_knots, lo_in[order_l, 0], lo_in[order_l, 1])) / 2
    eye_dist = float(np.linalg.norm(v[263] - v[33]))
    face_h = float(v[:, 1].max() - v[:, 1].min())

    # ---- extra geometry: eyeballs + irises behind the eye openings, mouth interior, teeth, tongue
    eye_info = {}
    for side, (upper, lower) in EYES.items():
        ring = v[list(upper + lower)]
        c = ring.mean(axis=0)
        half = float(np.ptp(ring[:, 0]) / 2)
        z_back = float(ring[:, 2].min()) - 0.12
        verts, tris = _fan(c, (half * 1.15, half * 0.8), z_back)
        b.add(f"eyeball_{side}", verts, tris, SCLERA)
        verts, tris = _fan(c, (half * 0.42, half * 0.42), z_back + 0.03, segments=16)
        iris = b.add(f"iris_{side}", verts, tris, IRIS)
        b.colors[-1][0] = (0.05, 0.05, 0.05)            # the pupil: the fan's centre
        eye_info[side] = (c, half, iris)
    verts, tris = _fan(mouth_c, (half_w * 1.05, half_w * 0.9), lip_z - 0.9, segments=24)
    b.add("mouth_inside", verts, tris, MOUTH_INSIDE)
    xs = np.linspace(-half_w * 0.8, half_w * 0.8, 7) + mouth_c[0]
    zs = lip_z - 0.35 - 0.5 * ((xs - mouth_c[0]) / half_w) ** 2
    verts, tris = _quad_strip(xs, mouth_c[1] + 0.45, mouth_c[1] - 0.2, zs)
    b.add("teeth_upper", verts, tris, TEETH)
    verts, tris = _quad_strip(xs * 0.95, mouth_c[1] - 0.12, mouth_c[1] - 0.55, zs - 0.05)
    b.add("teeth_lower", verts, tris, TEETH)
    verts, tris = _fan(mouth_c + np.float32([0, -0.35, 0]), (half_w * 0.5, 0.45), lip_z - 0.6, segments=16)
    tongue = b.add("tongue", verts, tris, TONGUE)

    p = b.v                                   # every vertex, extras included
    n = len(p)
    lower_extra = np.concatenate([b.tags["teeth_lower"], tongue])
    upper_extra = np.concatenate([b.tags["teeth_upper"], b.tags["eyeball_Left"], b.tags["eyeball_Right"],
                                  eye_info["Left"][2], eye_info["Right"][2]])

    # ---- jaw region: below the lip line (extended flat past the corners), fading towards the ears
    line = np.interp(p[:, 0], split_knots, split_y)
    y_ref = p[:, 1].copy()
    y_ref[:N_MESH] = original[:, 1]
    jaw_w = _smoothstep(0.5 + (line - y_ref) / 0.5)
    jaw_w *= 1.0 - _smoothstep((np.abs(p[:, 0] - mouth_c[0]) - 0.75 * eye_dist) / (0.5 * eye_dist))
    jaw_w[lower_extra] = 1.0
    jaw_w[upper_extra] = 0.0
    hinge = np.float32([0.0, mouth_c[1] + 0.25 * face_h, lip_z - 0.9 * face_h])
    rel = p - hinge
    c, s = np.cos(JAW_OPEN_RAD), np.sin(JAW_OPEN_RAD)
    rotated = np.stack([rel[:, 0], rel[:, 1] * c - rel[:, 2] * s, rel[:, 1] * s + rel[:, 2] * c], axis=1)
    jaw_open = jaw_w[:, None] * (rotated - rel)
    b.shape("jawOpen", jaw_open)
    b.shape("jawLeft", jaw_w[:, None] * np.float32([0.7, 0, 0]))
    b.shape("jawRight", jaw_w[:, None] * np.float32([-0.7, 0, 0]))
    b.shape("jawForward", jaw_w[:, None] * np.float32([0, 0, 0.6]))

    # ---- lips
    mouth_r = (half_w * 1.25, half_w * 0.85, 2.5)
    mouth_w = _bump(p, mouth_c, mouth_r)
    lips = _bump(p, mouth_c, (half_w * 1.1, half_w * 0.55, 2.5))
    upper_lip = lips * (1.0 - jaw_w)
    lower_lip = lips * jaw_w
    lower_lip[tongue] = 0.0
    b.shape("mouthClose", -jaw_open * lower_lip[:, None])
    toward = (mouth_c - p) * np.float32([1, 0.4, 0])
    b.shape("mouthPucker", lips[:, None] * (0.35 * toward + np.float32([0, 0, 0.6])))
    b.shape("mouthFunnel", lips[:, None] * (0.2 * toward + np.float32([0, 0, 0.45]))
            + (upper_lip[:, None] - lower_lip[:, None]) * np.float32([0, 0.3, 0]))
    b.shape("mouthRollUpper", upper_lip[:, None] * np.float32([0, -0.15, -0.35]))
    b.shape("mouthRollLower", lower_lip[:, None] * np.float32([0, 0.15, -0.35]))
    b.shape("mouthShrugUpper", upper_lip[:, None] * np.float32([0, 0.2, 0.2]))
    chin = _bump(p, v[152] + np.float32([0, 1.0, 0]), (half_w * 1.3, 2.2, 3.0)) * jaw_w
    b.shape("mouthShrugLower", np.maximum(lower_lip, chin)[:, None] * np.float32([0, 0.35, 0.2]))
    b.shape("mouthLeft", mouth_w[:, None] * np.float32([0.7, 0, 0]))
    b.shape("mouthRight", mouth_w[:, None] * np.float32([-0.7, 0, 0]))
    for side, sign in SIDE_SIGN.items():
        corner = corners[side]
        reach = _bump(p, corner, (half_w * 0.9, half_w * 0.8, 3.0))
        cheek_reach = _bump(p, corner + np.float32([sign * 0.4, 0.9, 0]), (half_w * 0.9, 1.6, 3.0))
        near_side = _smoothstep(0.5 + sign * (p[:, 0] - mouth_c[0]) / (0.6 * half_w))
        b.shape(f"mouthSmile{side}", reach[:, None] * np.float32([sign * 0.45, 0.5, -0.2])
                + cheek_reach[:, None] * np.float32([0, 0.25, 0.15]))
        b.shape(f"mouthFrown{side}", reach[:, None] * np.float32([0, -0.45, 0]))
        b.shape(f"mouthDimple{side}", reach[:, None] * np.float32([sign * 0.25, 0, -0.35]))
        b.shape(f"mouthStretch{side}", reach[:, None] * np.float32([sign * 0.45, -0.25, -0.1]))
        b.shape(f"mouthPress{side}", (near_side * lips)[:, None] * np.float32([0, 0, -0.1])
                + (near_side * (upper_lip - lower_lip))[:, None] * np.float32([0, -0.12, 0]))
        b.shape(f"mouthUpperUp{side}", (near_side * upper_lip)[:, None] * np.float32([0, 0.45, 0.05]))
        b.shape(f"mouthLowerDown{side}", (near_side * lower_lip)[:, None] * np.float32([0, -0.45, 0.05]))

    # ---- eyes
    for side, (upper, lower) in EYES.items():
        sign = SIDE_SIGN[side]
        c, half, iris = eye_info[side]
        uu, ll = v[list(upper)], v[list(lower)]
        ou, ol = np.argsort(uu[:, 0]), np.argsort(ll[:, 0])
        y_up = np.interp(p[:, 0], uu[ou, 0], uu[ou, 1])
        y_lo = np.interp(p[:, 0], ll[ol, 0], ll[ol, 1])
        gap = y_lo - y_up                              # <= 0: how far the upper lid travels to close
        arch = np.sqrt(np.clip(1 - ((p[:, 0] - c[0]) / half) ** 2, 0, 1))
        across = _smoothstep((half * 1.15 - np.abs(p[:, 0] - c[0])) / (0.35 * half))
        above = across * (1 - _smoothstep((p[:, 1] - y_up) / 0.9)) * (p[:, 1] >= y_up - 0.02)
        below = across * (1 - _smoothstep((y_lo - p[:, 1]) / 0.5)) * (p[:, 1] <= y_lo + 0.02)
        near = np.zeros(n, dtype=bool)
        near[:N_MESH] = True
        above, below = above * near, below * near
        blink = np.zeros((n, 3), dtype=np.float32)
        blink[:, 1] = 0.9 * gap * above - 0.1 * gap * below
        blink[:, 2] = 0.15 * arch * above
        b.shape(f"eyeBlink{side}", blink)
        b.shape(f"eyeWide{side}", (above * arch)[:, None] * np.float32([0, 0.22, 0]))
        cheek_under = _bump(p, c + np.float32([0, -1.0, 0.3]), (half * 1.2, 0.9, 2.0)) * near
        b.shape(f"eyeSquint{side}", (below * arch)[:, None] * np.float32([0, 0.2, 0])
                + cheek_under[:, None] * np.float32([0, 0.12, 0.05]))
        move = np.zeros((n, 3), dtype=np.float32)
        for direction, vec in (("Up", (0, 0.32, 0)), ("Down", (0, -0.3, 0)),
                               ("In", (-sign * 0.38, 0, 0)), ("Out", (sign * 0.38, 0, 0))):
            shape = move.copy()
            shape[iris] = vec
            b.shape(f"eyeLook{direction}{side}", shape)
        b.shape(f"cheekSquint{side}", _bump(p, v[CHEEK[side]] + np.float32([0, 0.3, 0]),
                                            (1.8, 1.4, 3.0))[:, None] * near[:, None] * np.float32([0, 0.3, 0.1]))
        wing = _bump(p, v[NOSE_WING[side]], (1.0, 1.1, 2.5)) * near
        b.shape(f"noseSneer{side}", wing[:, None] * np.float32([0, 0.3, 0.05]))
        puff = _bump(p, v[CHEEK[side]] + np.float32([sign * 0.3, -1.6, 0]), (2.6, 2.4, 4.0)) * near
        b.shape("cheekPuff", puff[:, None] * np.float32([sign * 0.6, 0, 0.3]))

    # ---- brows
    for side, (upper, lower) in BROWS.items():
        sign = SIDE_SIGN[side]
        brow = v[list(upper + lower)]
        center = brow.mean(axis=0)
        region = _bump(p, center + np.float32([0, 0.3, 0]), (np.ptp(brow[:, 0]) * 0.75, 1.6, 3.0))
        region[N_MESH:] = 0.0
        inner_w = _smoothstep(0.5 - sign * (p[:, 0] - center[0]) / np.ptp(brow[:, 0])) * region
        outer_w = region - inner_w
        b.shape(f"browDown{side}", region[:, None] * np.float32([-sign * 0.12, -0.45, 0.05]))
        b.shape("browInnerUp", inner_w[:, None] * np.float32([0, 0.55, 0]))
        b.shape(f"browOuterUp{side}", outer_w[:, None] * np.float32([0, 0.5, 0]))

    out = np.zeros((n, 3), dtype=np.float32)
    out[tongue] = (0, -0.5, 2.2)
    b.shape("tongueOut", out)

    channels = tuple(b.shapes)
    deltas = np.stack([b.shapes[c] for c in channels]).astype(np.float32)
    return HeadModel(name=name, neutral=b.v, triangles=np.vstack(b.tris).astype(np.int32),
                     colors=np.vstack(b.colors).astype(np.float32), deltas=deltas, channels=channels,
                     notes="MediaPipe canonical face mesh with the project's procedural ARKit blendshapes")


def mean_face_from_landmarks(landmarks: np.ndarray, width: int, height: int) -> np.ndarray | None:
    """A neutral-ish 468-point face (cm-like, canonical axes) from a take's (N, 478, 3) landmarks:
    every detected frame is aligned to the first by a similarity transform and the aligned faces are
    averaged; the result is scaled to a 9 cm eye-corner distance. None when no frame has a face."""
    frames = np.asarray(landmarks[:, :N_MESH, :], dtype=np.float64)
    valid = np.isfinite(frames).all(axis=(1, 2))
    if not valid.any():
        return None
    pts = frames[valid][:: max(1, int(valid.sum()) // 200)]
    pts = np.stack([pts[..., 0] * width, -pts[..., 1] * height, -pts[..., 2] * width], axis=-1)
    ref = pts[0] - pts[0].mean(axis=0)
    aligned = []
    for face in pts:
        x = face - face.mean(axis=0)
        u, s, vt = np.linalg.svd(x.T @ ref)
        d = np.sign(np.linalg.det(u @ vt))
        rot = u @ np.diag([1, 1, d]) @ vt
        scale = (s * [1, 1, d]).sum() / (x ** 2).sum()
        aligned.append(scale * x @ rot)
    mean = np.mean(aligned, axis=0)
    mean *= 8.9 / np.linalg.norm(mean[263] - mean[33])
    return (mean - mean.mean(axis=0)).astype(np.float32)


def triangles_from_tesselation() -> np.ndarray:
    """Triangles of MediaPipe's 468-point mesh recovered from its tesselation edges (3-cliques)."""
    from mediapipe.tasks.python.vision.face_landmarker import FaceLandmarksConnections

    neighbours: dict[int, set[int]] = {}
    for edge in FaceLandmarksConnections.FACE_LANDMARKS_TESSELATION:
        neighbours.setdefault(edge.start, set()).add(edge.end)
        neighbours.setdefault(edge.end, set()).add(edge.start)
    tris = set()
    for a, near in neighbours.items():
        for b_ in near:
            if b_ > a:
                for c in near & neighbours[b_]:
                    if c > b_:
                        tris.add((a, b_, c))
    return np.array(sorted(tris), dtype=np.int32)
