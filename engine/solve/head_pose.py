"""Head pose from MediaPipe's facial transformation matrix: translation (cm) and yaw/pitch/roll."""
from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation

HEAD_POSE_COLUMNS = ["tx_cm", "ty_cm", "tz_cm", "yaw_deg", "pitch_deg", "roll_deg"]


def pose_to_components(matrices: np.ndarray) -> np.ndarray:
    """(N, 4, 4) transforms -> (N, 6): translation then yaw (about Y), pitch (about X), roll (about Z) in
    degrees, in the camera frame (Y up, looking down -Z). NaN rows stay NaN."""
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
