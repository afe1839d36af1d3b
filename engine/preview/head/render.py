"""Headless rendering of a HeadModel: moderngl over EGL, or a numpy + OpenCV fallback without GL.

`HeadRenderer(model, (w, h), backend)` then `render(arkit52, (yaw, pitch, roll) degrees)` -> RGB uint8.
- "gl": an offscreen moderngl context on EGL (Mesa's llvmpipe on machines without a GPU; Debian
  packages libegl1 libegl-mesa0 libgl1-mesa-dri), per-vertex normals, two-sided light. No multisampling:
  on llvmpipe 4x MSAA triples the cost; a 3x3 Gaussian (sigma 0.7) on the result hides the jaggies
  nearly as well for a fraction of a millisecond.
- "soft": painter's algorithm: triangles sorted back to front and filled with cv2.fillConvexPoly with
  one flat-shaded colour each. Fine for the built-in head (~1k triangles); slow for ICT (~50k).
- "auto" (default): "gl" when a context can be made, else "soft" (the choice is in `backend`).
Both use the same camera: a perspective view straight at the model's `view_center`, head rotation
applied about that centre as yaw (about y), pitch (about x), roll (about z) - MediaPipe's convention.
"""
from __future__ import annotations

import logging
import math

import cv2
import numpy as np

from engine.preview.head.model import HeadModel
from engine.errors import EngineError

log = logging.getLogger("faceretarget.preview")

FOV_DEG = 22.0
SMOOTH_SIGMA = 0.7
BACKGROUND = (38, 41, 48)
LIGHT = np.array([-0.45, 0.55, 0.70], dtype=np.float32)
LIGHT /= np.linalg.norm(LIGHT)

VERTEX_SHADER = """
#version 330
uniform mat4 mvp;
uniform mat3 rot;
in vec3 in_pos;
in vec3 in_normal;
in vec3 in_color;
out vec3 v_normal;
out vec3 v_color;
void main() {
    gl_Position = mvp * vec4(in_pos, 1.0);
    v_normal = rot * in_normal;
    v_color = in_color;
}
"""
FRAGMENT_SHADER = """
#version 330
uniform vec3 light;
in vec3 v_normal;
in vec3 v_color;
out vec4 f_color;
void main() {
    vec3 n = normalize(v_normal);
    if (n.z < 0.0) n = -n;                       // two-sided: light the side that faces the camera
    float key = max(dot(n, light), 0.0);
    float fill = max(dot(n, normalize(vec3(0.6, -0.1, 0.8))), 0.0);
    vec3 c = v_color * (0.30 + 0.62 * key + 0.22 * fill) + vec3(0.06) * pow(key, 12.0);
    f_color = vec4(min(c, vec3(1.0)), 1.0);
}
"""


def rotation_matrix(yaw_deg: float, pitch_deg: float, roll_deg: float) -> np.ndarray:
    """R = Ry(yaw) Rx(pitch) Rz(roll) (intrinsic Y-X-Z, as engine.track.head_pose reads them)."""
    y, p, r = (math.radians(float(a)) if np.isfinite(a) else 0.0 for a in (yaw_deg, pitch_deg, roll_deg))
    cy, sy, cp, sp, cr, sr = math.cos(y), math.sin(y), math.cos(p), math.sin(p), math.cos(r), math.sin(r)
    ry = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    rx = np.array([[1, 0, 0], [0, cp, -sp], [0, sp, cp]])
    rz = np.array([[cr, -sr, 0], [sr, cr, 0], [0, 0, 1]])
    return (ry @ rx @ rz).astype(np.float32)


class HeadRenderer:
    def __init__(self, model: HeadModel, size: tuple[int, int], backend: str = "auto"):
        self.model = model
        self.width, self.height = int(size[0]), int(size[1])
        aspect = self.width / self.height
        tan = math.tan(math.radians(FOV_DEG) / 2)
        radius = float(model.view_radius) * 1.08
        # far enough that the framed sphere fits both ways
        self.distance = radius / (tan * min(1.0, aspect))
        self.center = np.asarray(model.view_center, dtype=np.float32)
        near, far = max(self.distance - 4 * radius, 0.5), self.distance + 4 * radius
        f = 1.0 / tan
        self.projection = np.array([[f / aspect, 0, 0, 0], [0, f, 0, 0],
                                    [0, 0, (far + near) / (near - far), 2 * far * near / (near - far)],
                                    [0, 0, -1, 0]], dtype=np.float32)
        self.backend = None
        self._gl = None
        if backend in ("auto", "gl"):
            try:
                self._gl = _GLState(self)
                self.backend = "gl"
            except Exception as exc:  # no EGL / no libGL / no moderngl: say why, then fall back
                if backend == "gl":
                    raise EngineError(f"OpenGL (EGL) rendering is not available: {exc}",
                                      "install moderngl (pip) and Debian's libegl1 libegl-mesa0 libgl1-mesa-dri, "
                                      "or use --head-renderer soft") from exc
                log.info("GL head rendering unavailable (%s); using the software renderer", exc)
        if self.backend is None:
            self.backend = "soft"

    def mvp(self, rotation: np.ndarray) -> np.ndarray:
        model = np.eye(4, dtype=np.float32)
        model[:3, :3] = rotation
        model[:3, 3] = -rotation @ self.center
        view = np.eye(4, dtype=np.float32)
        view[2, 3] = -self.distance
        return self.projection @ view @ model

    def render(self, arkit: np.ndarray, head_ypr_deg=(0.0, 0.0, 0.0)) -> np.ndarray:
        rotation = rotation_matrix(*head_ypr_deg)
        if self._gl is not None:
            image = self._gl.draw(*self.model.pose_with_normals(arkit), rotation)
        else:
            image = self._soft(self.model.pose(arkit), rotation)
        return cv2.GaussianBlur(image, (3, 3), SMOOTH_SIGMA)

    def _soft(self, vertices: np.ndarray, rotation: np.ndarray) -> np.ndarray:
        mvp = self.mvp(rotation)
        clip = np.c_[vertices, np.ones(len(vertices), np.float32)] @ mvp.T
        ndc = clip[:, :3] / clip[:, 3:4]
        xy = np.stack([(ndc[:, 0] + 1) * 0.5 * self.width, (1 - ndc[:, 1]) * 0.5 * self.height], axis=1)
        tris = self.model.triangles
        a2, b2, c2 = ndc[tris[:, 0], :2], ndc[tris[:, 1], :2], ndc[tris[:, 2], :2]
        front = ((b2[:, 0] - a2[:, 0]) * (c2[:, 1] - a2[:, 1]) - (b2[:, 1] - a2[:, 1]) * (c2[:, 0] - a2[:, 0])) > 0
        tris = tris[front]                   # back faces culled, as on the GL path
        cam = vertices @ rotation.T
        a, b, c = cam[tris[:, 0]], cam[tris[:, 1]], cam[tris[:, 2]]
        normal = np.cross(b - a, c - a)
        normal /= np.maximum(np.linalg.norm(normal, axis=1, keepdims=True), 1e-12)
        normal[normal[:, 2] < 0] *= -1       # (a few front faces lean away under perspective)
        key = np.clip(normal @ LIGHT, 0, 1)
        albedo = self.model.colors[tris].mean(axis=1)
        shade = np.clip(albedo * (0.30 + 0.62 * key)[:, None] + 0.06 * key[:, None] ** 12, 0, 1)
        depth = ndc[tris, 2].mean(axis=1)
        order = np.argsort(-depth)           # far (larger NDC z) first
        image = np.empty((self.height, self.width, 3), np.uint8)
        image[:] = BACKGROUND
        pts = np.round(xy * 16).astype(np.int32)[tris]     # 4 bits of sub-pixel precision
        colors = (shade * 255).astype(np.uint8)
        for i in order:
            cv2.fillConvexPoly(image, pts[i], colors[i].tolist(), cv2.LINE_8, 4)
        return image

    def close(self) -> None:
        if self._gl is not None:
            self._gl.release()
            self._gl = None


class _GLState:
    def __init__(self, renderer: HeadRenderer):
        import moderngl

        self.renderer = renderer
        self.ctx = moderngl.create_standalone_context(backend="egl")
        model = renderer.model
        self.prog = self.ctx.program(vertex_shader=VERTEX_SHADER, fragment_shader=FRAGMENT_SHADER)
        self.prog["light"].value = tuple(float(x) for x in LIGHT)
        self.vbo_pos = self.ctx.buffer(reserve=model.neutral.nbytes, dynamic=True)
        self.vbo_nrm = self.ctx.buffer(reserve=model.neutral.nbytes, dynamic=True)
        self.vbo_col = self.ctx.buffer(np.ascontiguousarray(model.colors, dtype="f4").tobytes())
        self.ibo = self.ctx.buffer(np.ascontiguousarray(model.triangles, dtype="i4").tobytes())
        self.vao = self.ctx.vertex_array(self.prog, [(self.vbo_pos, "3f", "in_pos"),
                                                     (self.vbo_nrm, "3f", "in_normal"),
                                                     (self.vbo_col, "3f", "in_color")], self.ibo)
        w, h = renderer.width, renderer.height
        self.fbo = self.ctx.framebuffer(color_attachments=[self.ctx.renderbuffer((w, h))],
                                        depth_attachment=self.ctx.depth_renderbuffer((w, h)))
        self.pixels = np.empty((h, w, 3), np.uint8)
        self.ctx.enable(moderngl.DEPTH_TEST | moderngl.CULL_FACE)   # both heads wind front faces CCW

    def draw(self, vertices: np.ndarray, normals: np.ndarray, rotation: np.ndarray) -> np.ndarray:
        r = self.renderer
        self.vbo_pos.write(np.ascontiguousarray(vertices, dtype="f4").tobytes())
        self.vbo_nrm.write(np.ascontiguousarray(normals, dtype="f4").tobytes())
        self.prog["mvp"].write(np.ascontiguousarray(r.mvp(rotation).T, dtype="f4").tobytes())
        self.prog["rot"].write(np.ascontiguousarray(rotation.T, dtype="f4").tobytes())
        self.fbo.use()
        self.fbo.clear(*(c / 255 for c in BACKGROUND), 1.0, depth=1.0)
        self.vao.render()
        self.fbo.read_into(self.pixels, components=3, alignment=1)
        return cv2.flip(self.pixels, 0)

    def release(self) -> None:
        for obj in (self.vao, self.vbo_pos, self.vbo_nrm, self.vbo_col, self.ibo, self.fbo, self.prog):
            obj.release()
        self.ctx.release()
