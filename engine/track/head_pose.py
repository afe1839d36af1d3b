"""Head pose: MediaPipe's facial transformation matrix <-> translation (cm) and yaw/pitch/roll."""
from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation


def pose_to_components(matrices: np.ndarray) -> np.ndarray:
    """(N, 4, 4) transforms -> (N, 6) in engine.export.take.HEAD_POSE_COLUMNS order: translation, then yaw
    (about Y), pitch (about X), roll (about Z) in degrees, in the camera frame (Y up, looking down -Z). NaN
    rows stay NaN."""
    out = np.full((len(matrices), 6), np.nan)
    valid = np.isfinite(matrices).all(axis=(1, 2))
    if valid.any():
        rot = matrices[valid, :3, :3]
        # The matrix carries the face model's scale; take it out before reading angles.
        scale = np.cbrt(np.linalg.det(rot))[:, None, None]
        angles = Rotation.from_matrix(rot / scale).as_euler("YXZ", degrees=True)
        out[valid, :3] = matrices[valid, :3, 3]
        out[valid, 3:] = np.unwrap(angles, period=360.0, axis=0)
    return out


def angles_to_matrices(angles: np.ndarray | None, count: int) -> np.ndarray:
    """(N, 4, 4) head transforms from (N, 3) yaw, pitch, roll in radians, the convention pose_to_components
    reads back (identity rotations when a source has no head pose; no translation)."""
    out = np.tile(np.eye(4), (count, 1, 1))
    if angles is not None:
        out[:, :3, :3] = Rotation.from_euler("YXZ", angles).as_matrix()
    return out
