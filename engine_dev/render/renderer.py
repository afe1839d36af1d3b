"""Draw the ICT head headless (moderngl, EGL): skin-like shading, irises and pupils, lips and brows.

Only geometry and a few flat colours are used (ICT Light ships no textures): skin with a tone, redder
lips and dark brows placed from MediaPipe's lip/brow contours on the ICT surface (when the landmark
placement file is present), white sclera, a procedural iris (dark pupil, coloured iris, darker limbal
ring), dark eyelashes, a dim mouth interior. Lighting is two directional lights plus ambient, with a
Blinn-Phong highlight; the background is a vertical gradient.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from engine.rig.ict import OVERLAY_MATERIALS, read_landmark_placement
from engine_dev.render.ict_head import EYE_SOCKETS, MOUTH_SOCKET, IctHead

# MediaPipe face-mesh contours (FACEMESH_LIPS / FACEMESH_*EYEBROW), as polygons.
LIPS_OUTER = (61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291, 409, 270, 269, 267, 0, 37, 39, 40, 185)
BROW_RIGHT = (70, 63, 105, 66, 107, 55, 65, 52, 53, 46)
BROW_LEFT = (300, 293, 334, 296, 336, 285, 295, 282, 283, 276)

SKIN_TONES = {"light": (0.86, 0.66, 0.56), "medium": (0.70, 0.50, 0.38), "dark": (0.42, 0.28, 0.20)}
IRIS_COLOURS = {"brown": (0.30, 0.17, 0.08), "blue": (0.25, 0.38, 0.55), "green": (0.28, 0.36, 0.20)}


@dataclass(frozen=True)
class Lighting:
    """Two directional lights (towards the light, camera space) and an ambient term."""
    key_dir: tuple[float, float, float] = (0.4, 0.5, 1.0)
    key: float = 0.85
    fill_dir: tuple[float, float, float] = (-0.6, 0.1, 0.8)
    fill: float = 0.30
    ambient: float = 0.22
    background: tuple[tuple[float, float, float], tuple[float, float, float]] = ((0.42, 0.45, 0.50), (0.20, 0.21, 0.24))


LIGHTINGS = {
    "studio": Lighting(),
    "left_key": Lighting(key_dir=(-0.8, 0.3, 0.6), key=0.95, fill_dir=(0.7, 0.0, 0.7), fill=0.18, ambient=0.18,
                         background=((0.55, 0.52, 0.46), (0.30, 0.27, 0.22))),
    "top_soft": Lighting(key_dir=(0.0, 1.0, 0.5), key=0.70, fill_dir=(0.0, -0.3, 1.0), fill=0.35, ambient=0.30,
                         background=((0.25, 0.30, 0.28), (0.10, 0.12, 0.11))),
}


@dataclass(frozen=True)
class Camera:
    width: int = 512
    height: int = 512
    fov_y_deg: float = 30.0
    distance_cm: float = 62.0          # from the head's pivot
    target: tuple[float, float, float] = (0.0, 1.5, 4.0)


@dataclass(frozen=True)
class Look:
    skin: str = "light"
    iris: str = "brown"
    lighting: str = "studio"


def rotation_matrix(yaw_deg: float, pitch_deg: float, roll_deg: float) -> np.ndarray:
    """Head rotation: yaw about +Y (turns the face towards the subject's left = image right... as seen by
    the camera, positive yaw turns the nose towards +X), pitch about +X (positive = chin down... nose down),
    roll about +Z. Applied as R = Ry @ Rx @ Rz."""
    y, p, r = np.deg2rad([yaw_deg, pitch_deg, roll_deg])
    ry = np.array([[np.cos(y), 0, np.sin(y)], [0, 1, 0], [-np.sin(y), 0, np.cos(y)]])
    rx = np.array([[1, 0, 0], [0, np.cos(p), -np.sin(p)], [0, np.sin(p), np.cos(p)]])
    rz = np.array([[np.cos(r), -np.sin(r), 0], [np.sin(r), np.cos(r), 0], [0, 0, 1]])
    return ry @ rx @ rz


def perspective(fov_y_deg: float, aspect: float, near: float = 5.0, far: float = 500.0) -> np.ndarray:
    f = 1.0 / np.tan(np.deg2rad(fov_y_deg) / 2)
    return np.array([[f / aspect, 0, 0, 0], [0, f, 0, 0],
                     [0, 0, (far + near) / (near - far), 2 * far * near / (near - far)], [0, 0, -1, 0]])


def vertex_normals(vertices: np.ndarray, triangles: np.ndarray) -> np.ndarray:
    v0, v1, v2 = (vertices[triangles[:, i]] for i in range(3))
    face = np.cross(v1 - v0, v2 - v0)
    n = np.zeros_like(vertices)
    for i in range(3):
        for axis in range(3):
            n[:, axis] += np.bincount(triangles[:, i], weights=face[:, axis], minlength=len(vertices))
    return n / np.maximum(np.linalg.norm(n, axis=1, keepdims=True), 1e-12)


def _points_in_polygon(points: np.ndarray, polygon: np.ndarray) -> np.ndarray:
    """Even-odd rule, 2D."""
    x, y = points[:, 0], points[:, 1]
    inside = np.zeros(len(points), bool)
    px, py = polygon[:, 0], polygon[:, 1]
    for i in range(len(polygon)):
        j = i - 1
        cond = ((py[i] > y) != (py[j] > y))
        xs = (px[j] - px[i]) * (y - py[i]) / np.where(py[j] != py[i], py[j] - py[i], 1e-12) + px[i]
        inside ^= cond & (x < xs)
    return inside


_VERTEX_SHADER = """
#version 330
uniform mat4 mvp;
uniform mat4 model;
in vec3 in_pos;
in vec3 in_normal;
in vec4 in_color;      // rgb, iris radius (-1: not iris)
in float in_spec;
out vec3 v_normal;
out vec3 v_pos;
out vec4 v_color;
out float v_spec;
void main() {
    vec4 world = model * vec4(in_pos, 1.0);
    v_pos = world.xyz;
    v_normal = mat3(model) * in_normal;
    v_color = in_color;
    v_spec = in_spec;
    gl_Position = mvp * vec4(in_pos, 1.0);
}
"""

_FRAGMENT_SHADER = """
#version 330
uniform vec3 key_dir; uniform float key;
uniform vec3 fill_dir; uniform float fill;
uniform float ambient;
uniform vec3 eye_pos;
uniform vec3 iris_colour;
in vec3 v_normal; in vec3 v_pos; in vec4 v_color; in float v_spec;
out vec4 frag;
void main() {
    vec3 n = normalize(v_normal);
    vec3 view = normalize(eye_pos - v_pos);
    if (dot(n, view) < 0.0) n = -n;
    vec3 base = v_color.rgb;
    float r = v_color.a;
    if (r >= 0.0) {
        if (r < 0.36) base = vec3(0.02);
        else if (r < 0.86) base = iris_colour * (0.75 + 0.25 * sin(r * 60.0));
        else base = iris_colour * 0.35;
    }
    vec3 l1 = normalize(key_dir), l2 = normalize(fill_dir);
    float d = ambient + key * max(dot(n, l1), 0.0) + fill * max(dot(n, l2), 0.0);
    float s = pow(max(dot(n, normalize(l1 + view)), 0.0), 40.0) * v_spec * key;
    vec3 c = base * d + vec3(s);
    frag = vec4(pow(clamp(c, 0.0, 1.0), vec3(1.0 / 1.6)), 1.0);
}
"""

_BG_VERTEX = """
#version 330
in vec2 in_pos; out float v_y;
void main() { v_y = in_pos.y * 0.5 + 0.5; gl_Position = vec4(in_pos, 0.999, 1.0); }
"""
_BG_FRAGMENT = """
#version 330
uniform vec3 top; uniform vec3 bottom; in float v_y; out vec4 frag;
void main() { frag = vec4(mix(bottom, top, v_y), 1.0); }
"""


@dataclass
class TruthRenderer:
    """Render the ICT head's vertices to RGB uint8 ground-truth frames for the tracker (skin tones, irises,
    lightings, a fixed camera). Not the preview's HeadRenderer (engine.preview.head.render), which draws
    any HeadModel for a person to look at. Use as a context manager (releases the GL context)."""
    head: IctHead
    camera: Camera = field(default_factory=Camera)
    samples: int = 0             # MSAA costs ~4x on a software rasteriser; MediaPipe does not need it

    def __post_init__(self) -> None:
        import moderngl

        self._ctx = moderngl.create_standalone_context(backend="egl")
        self._build_static()
        self._program = self._ctx.program(vertex_shader=_VERTEX_SHADER, fragment_shader=_FRAGMENT_SHADER)
        self._bg = self._ctx.program(vertex_shader=_BG_VERTEX, fragment_shader=_BG_FRAGMENT)
        quad = np.array([-1, -1, 1, -1, -1, 1, 1, 1], np.float32)
        self._bg_vao = self._ctx.vertex_array(self._bg, [(self._ctx.buffer(quad.tobytes()), "2f", "in_pos")])
        n = len(self._used)
        self._pos = self._ctx.buffer(reserve=n * 12, dynamic=True)
        self._nrm = self._ctx.buffer(reserve=n * 12, dynamic=True)
        self._ibo = self._ctx.buffer(self._tris.astype(np.int32).tobytes())
        self._static_colour = self._ctx.buffer(self._colour_template.astype(np.float32).tobytes())
        self._static_spec = self._ctx.buffer(self._spec.astype(np.float32).tobytes())
        self._vao = self._ctx.vertex_array(self._program, [
            (self._pos, "3f", "in_pos"), (self._nrm, "3f", "in_normal"),
            (self._static_colour, "4f", "in_color"), (self._static_spec, "1f", "in_spec")], self._ibo)
        self._size = None
        self._resize(self.camera.width, self.camera.height)

    # --- set up -------------------------------------------------------------------------------------
    def _build_static(self) -> None:
        head = self.head
        # the overlays are transparent in a real-time eye shader (Unreal Digital Human style): not drawn
        keep = ~np.isin(head.triangle_material, [head.materials.index(m) for m in OVERLAY_MATERIALS])
        tris = head.triangles[keep]
        self._used = np.unique(tris)
        remap = np.full(len(head.neutral), -1, np.int64)
        remap[self._used] = np.arange(len(self._used))
        self._tris = remap[tris]
        self._tris_full = tris
        v = head.neutral
        n = len(v)
        region = np.zeros(n, np.int8)          # 0 skin, 1 lips, 2 brows, 3 sclera, 4 iris, 5 lashes, 6 mouth, 7 gums, 8 teeth
        iris_r = np.full(n, -1.0, np.float32)
        mat_of_vertex = np.full(n, -1, np.int64)
        mat_of_vertex[head.triangles.ravel()] = np.repeat(head.triangle_material, 3)
        name = {i: m for i, m in enumerate(head.materials)}
        for i, m in name.items():
            sel = mat_of_vertex == i
            region[sel] = {"M_ScleraLeft": 3, "M_ScleraRight": 3, "M_IrisLeft": 4, "M_IrisRight": 4,
                           "M_EyeLashes": 5, "M_GumsTongue": 7, "M_Teeth": 8}.get(m, 0)
        region[MOUTH_SOCKET[0]:MOUTH_SOCKET[1]] = 6
        region[EYE_SOCKETS[0]:EYE_SOCKETS[1]] = 6
        for iris, sclera in (("M_IrisLeft", "M_ScleraLeft"), ("M_IrisRight", "M_ScleraRight")):
            idx = head.material_vertices(iris)
            p = v[idx]
            centre = p.mean(axis=0)
            # The iris is a disc facing roughly +Z: the radius is measured across the eye's optical axis.
            axis = np.linalg.svd(p - centre, full_matrices=False)[2][2]
            axis = axis if axis[2] > 0 else -axis
            flat = (p - centre) - np.outer((p - centre) @ axis, axis)
            rad = np.linalg.norm(flat, axis=1)
            iris_r[idx] = rad / rad.max()
            # The sclera mesh continues over the iris as the cornea (transparent in a real eye shader):
            # paint the iris through it.
            sidx = head.material_vertices(sclera)
            rel = v[sidx] - centre
            along = rel @ axis
            srad = np.linalg.norm(rel - np.outer(along, axis), axis=1) / rad.max()
            front = (along > -0.05) & (srad < 1.0)
            iris_r[sidx[front]] = srad[front]
        placement = read_landmark_placement(head.folder)
        if placement is not None:
            tri_vertices, barycentric = placement
            pts = (barycentric[:, :, None] * v[tri_vertices]).sum(axis=1)
            face = np.arange(n) < 9409
            for polygon, code in ((LIPS_OUTER, 1), (BROW_RIGHT, 2), (BROW_LEFT, 2)):
                poly = pts[list(polygon)]
                zmin = poly[:, 2].min() - 1.0
                inside = _points_in_polygon(v[:, :2], poly[:, :2]) & face & (v[:, 2] > zmin)
                region[inside] = code
        self._region = region
        self._iris_r = iris_r

    def _colours(self, look: Look) -> tuple[np.ndarray, np.ndarray]:
        skin = np.array(SKIN_TONES[look.skin])
        palette = {0: skin, 1: skin * np.array([0.95, 0.62, 0.62]), 2: skin * 0.28, 3: np.array([0.86, 0.84, 0.80]),
                   4: np.array([0.0, 0.0, 0.0]), 5: np.array([0.05, 0.04, 0.04]), 6: skin * np.array([0.25, 0.12, 0.12]),
                   7: np.array([0.55, 0.26, 0.26]) * 0.6, 8: np.array([0.85, 0.82, 0.74]) * 0.7}
        spec_of = {0: 0.25, 1: 0.35, 2: 0.05, 3: 0.8, 4: 0.9, 5: 0.0, 6: 0.05, 7: 0.2, 8: 0.3}
        colour = np.zeros((len(self._region), 4), np.float32)
        spec = np.zeros(len(self._region), np.float32)
        for code, c in palette.items():
            sel = self._region == code
            colour[sel, :3] = c
            spec[sel] = spec_of[code]
        colour[:, 3] = self._iris_r
        return colour[self._used], spec[self._used]

    @property
    def _colour_template(self) -> np.ndarray:
        return self._colours(Look())[0]

    @property
    def _spec(self) -> np.ndarray:
        return self._colours(Look())[1]

    def _resize(self, width: int, height: int) -> None:
        if self._size == (width, height):
            return
        ctx = self._ctx
        self._fbo_ms = ctx.framebuffer(ctx.renderbuffer((width, height), 4, samples=self.samples),
                                       ctx.depth_renderbuffer((width, height), samples=self.samples))
        self._fbo = ctx.framebuffer(ctx.renderbuffer((width, height), 4))
        self._size = (width, height)

    # --- drawing ------------------------------------------------------------------------------------
    def set_look(self, look: Look) -> None:
        colour, spec = self._colours(look)
        self._static_colour.write(colour.tobytes())
        self._static_spec.write(spec.tobytes())
        self._look = look

    def render(self, vertices: np.ndarray, yaw: float = 0.0, pitch: float = 0.0, roll: float = 0.0,
               camera: Camera | None = None, look: Look | None = None) -> np.ndarray:
        """An (H, W, 3) uint8 RGB image of the head with these vertices and head rotation (degrees)."""
        cam = camera or self.camera
        if look is not None and look != getattr(self, "_look", None):
            self.set_look(look)
        look = getattr(self, "_look", Look())
        light = LIGHTINGS[look.lighting]
        self._resize(cam.width, cam.height)
        normals = vertex_normals(vertices, self._tris_full)
        self._pos.write(np.ascontiguousarray(vertices[self._used], np.float32).tobytes())
        self._nrm.write(np.ascontiguousarray(normals[self._used], np.float32).tobytes())

        pivot = np.array([0.0, -3.0, 0.0])
        model = np.eye(4)
        rot = rotation_matrix(yaw, pitch, roll)
        model[:3, :3] = rot
        model[:3, 3] = pivot - rot @ pivot
        eye = np.array(cam.target) + np.array([0.0, 0.0, cam.distance_cm])
        view = np.eye(4)
        view[:3, 3] = -eye
        mvp = perspective(cam.fov_y_deg, cam.width / cam.height) @ view @ model
        p = self._program
        p["mvp"].write(mvp.T.astype(np.float32).tobytes())
        p["model"].write(model.T.astype(np.float32).tobytes())
        p["key_dir"].value = light.key_dir
        p["key"].value = light.key
        p["fill_dir"].value = light.fill_dir
        p["fill"].value = light.fill
        p["ambient"].value = light.ambient
        p["eye_pos"].value = tuple(eye)
        p["iris_colour"].value = IRIS_COLOURS[look.iris]
        self._bg["top"].value = light.background[0]
        self._bg["bottom"].value = light.background[1]

        import moderngl

        ctx = self._ctx
        self._fbo_ms.use()
        ctx.clear(0, 0, 0, 1)
        ctx.disable(moderngl.DEPTH_TEST)
        self._bg_vao.render(moderngl.TRIANGLE_STRIP)
        ctx.enable(moderngl.DEPTH_TEST)
        ctx.disable(moderngl.CULL_FACE)
        self._vao.render(moderngl.TRIANGLES)
        ctx.copy_framebuffer(self._fbo, self._fbo_ms)
        data = self._fbo.read(components=3, alignment=1)
        image = np.frombuffer(data, np.uint8).reshape(cam.height, cam.width, 3)
        return np.ascontiguousarray(image[::-1])

    def close(self) -> None:
        if self._ctx is not None:
            self._ctx.release()
            self._ctx = None

    def __enter__(self) -> "TruthRenderer":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
