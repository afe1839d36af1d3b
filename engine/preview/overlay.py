"""Panel 1: the source frame, letterboxed into its panel, with the tracked landmarks and head axes."""
from __future__ import annotations

import cv2
import numpy as np

from engine.preview.head.render import rotation_matrix

CONTOUR_COLOR = (80, 230, 160)
POINT_COLOR = (210, 255, 230)
AXIS_COLORS = ((235, 70, 70), (80, 220, 90), (80, 140, 255))   # x red, y green, z (out of the face) blue
NO_FACE = (255, 120, 80)
BG = (16, 18, 22)
NOSE_BRIDGE = 168
CHEEK_EDGES = (234, 454)


def _contour_pairs() -> np.ndarray:
    from mediapipe.tasks.python.vision.face_landmarker import FaceLandmarksConnections as C

    groups = (C.FACE_LANDMARKS_LIPS, C.FACE_LANDMARKS_LEFT_EYE, C.FACE_LANDMARKS_RIGHT_EYE,
              C.FACE_LANDMARKS_LEFT_EYEBROW, C.FACE_LANDMARKS_RIGHT_EYEBROW, C.FACE_LANDMARKS_FACE_OVAL,
              C.FACE_LANDMARKS_LEFT_IRIS, C.FACE_LANDMARKS_RIGHT_IRIS, C.FACE_LANDMARKS_NOSE)
    return np.array([(c.start, c.end) for group in groups for c in group], dtype=np.int64)


class SourcePanel:
    def __init__(self, size: tuple[int, int], source_size: tuple[int, int] | None):
        self.width, self.height = size
        self._pairs = _contour_pairs()
        self.fit(source_size)

    def fit(self, source_size: tuple[int, int] | None) -> None:
        """Letterbox geometry for frames of (width, height)."""
        if not source_size:
            self.scale, self.ox, self.oy, self.dw, self.dh = 1.0, 0, 0, self.width, self.height
            return
        sw, sh = source_size
        self.scale = min(self.width / sw, self.height / sh)
        self.dw, self.dh = max(2, int(round(sw * self.scale))), max(2, int(round(sh * self.scale)))
        self.ox, self.oy = (self.width - self.dw) // 2, (self.height - self.dh) // 2

    def draw(self, out: np.ndarray, image: np.ndarray | None, landmarks: np.ndarray | None,
             head_ypr: np.ndarray | None) -> None:
        """Draw into `out` (the panel's view of the composed frame)."""
        out[:] = BG
        if image is None:
            cv2.putText(out, "source video not available", (12, self.height // 2), cv2.FONT_HERSHEY_SIMPLEX,
                        0.5, (170, 170, 170), 1, cv2.LINE_AA)
            return
        if image.shape[1] != self.dw or image.shape[0] != self.dh:
            interp = cv2.INTER_AREA if image.shape[1] > 2 * self.dw else cv2.INTER_LINEAR
            image = cv2.resize(image, (self.dw, self.dh), interpolation=interp)
        view = out[self.oy:self.oy + self.dh, self.ox:self.ox + self.dw]
        view[:] = image
        if landmarks is None:
            cv2.putText(view, "no face", (10, 24), cv2.FONT_HERSHEY_SIMPLEX, 0.6, NO_FACE, 2, cv2.LINE_AA)
            return
        pts = landmarks[:, :2] * (self.dw, self.dh)
        fixed = np.round(pts * 16).astype(np.int32)
        cv2.polylines(view, list(fixed[self._pairs]), False, CONTOUR_COLOR, 1, cv2.LINE_AA, 4)
        ix = np.clip(pts[:, 0].astype(np.int64), 0, self.dw - 1)
        iy = np.clip(pts[:, 1].astype(np.int64), 0, self.dh - 1)
        view[iy, ix] = POINT_COLOR
        if head_ypr is not None and np.isfinite(head_ypr).all():
            self._axes(view, pts, head_ypr)

    @staticmethod
    def _axes(view: np.ndarray, pts: np.ndarray, ypr: np.ndarray) -> None:
        """Head axes at the nose bridge, weak-perspective: length half the face width in the image."""
        rot = rotation_matrix(*ypr)
        origin = pts[NOSE_BRIDGE]
        length = 0.5 * float(np.linalg.norm(pts[CHEEK_EDGES[0]] - pts[CHEEK_EDGES[1]]))
        for axis in (2, 0, 1):
            d = rot[:, axis]
            end = origin + length * np.array([d[0], -d[1]])
            cv2.arrowedLine(view, tuple(np.round(origin * 16).astype(int)), tuple(np.round(end * 16).astype(int)),
                            AXIS_COLORS[axis], 2, cv2.LINE_AA, 4, 0.15)
