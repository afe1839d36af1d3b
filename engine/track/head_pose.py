"""Head pose: MediaPipe's facial transformation matrix <-> translation (cm) and yaw/pitch/roll.

Angles are intrinsic Y-X-Z rotations (R = Ry(yaw) Rx(pitch) Rz(roll)), what SciPy's
Rotation.as_euler("YXZ") reads. The few lines of trigonometry are written out because importing
scipy.spatial costs ~0.4 s of CPU at `run`'s start; tests/test_head_pose.py holds them to SciPy's result.
"""
from __future__ import annotations

import numpy as np


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
        angles = np.degrees(yxz_angles(nearest_rotation(rot / scale)))
        out[valid, :3] = matrices[valid, :3, 3]
        out[valid, 3:] = np.unwrap(angles, period=360.0, axis=0)
    return out


def angles_to_matrices(angles: np.ndarray | None, count: int) -> np.ndarray:
    """(N, 4, 4) head transforms from (N, 3) yaw, pitch, roll in radians, the convention pose_to_components
    reads back (identity rotations when a source has no head pose; no translation)."""
    out = np.tile(np.eye(4), (count, 1, 1))
    if angles is not None:
        out[:, :3, :3] = yxz_matrices(np.asarray(angles, dtype=float).reshape(count, 3))
    return out


def nearest_rotation(matrices: np.ndarray) -> np.ndarray:
    """(N, 3, 3) -> the nearest proper rotations (orthogonal Procrustes: U V^T, its determinant made +1)."""
    u, _, vt = np.linalg.svd(matrices)
    u[..., :, -1] *= np.sign(np.linalg.det(u @ vt))[..., None]
    return u @ vt


def yxz_angles(rotations: np.ndarray) -> np.ndarray:
    """(N, 3, 3) rotations -> (N, 3) yaw, pitch, roll in radians (pitch within +-90 degrees)."""
    r = np.asarray(rotations, dtype=float)
    yaw = np.arctan2(r[:, 0, 2], r[:, 2, 2])
    pitch = np.arcsin(np.clip(-r[:, 1, 2], -1.0, 1.0))
    roll = np.arctan2(r[:, 1, 0], r[:, 1, 1])
    return np.column_stack([yaw, pitch, roll])


def yxz_matrices(angles: np.ndarray) -> np.ndarray:
    """(N, 3) yaw, pitch, roll in radians -> (N, 3, 3) rotations Ry(yaw) Rx(pitch) Rz(roll)."""
    (cy, cp, cr), (sy, sp, sr) = np.cos(angles).T, np.sin(angles).T
    return np.stack([np.stack([cy * cr + sy * sp * sr, sy * sp * cr - cy * sr, sy * cp], axis=-1),
                     np.stack([cp * sr, cp * cr, -sp], axis=-1),
                     np.stack([cy * sp * sr - sy * cr, sy * sr + cy * sp * cr, cy * cp], axis=-1)], axis=1)
