"""Rotations as Maya composes them, for keying head motion onto joints. Pure: numpy only, never imports maya.

Matrices here act on column vectors (v' = R v), so a chain reads right to left. Maya's own matrices act on
row vectors (v' = v M): `from_maya_matrix` transposes at the boundary. Angles are radians unless a name
says degrees.

Maya's rotate orders: "xyz" turns about X first, then Y, then Z, all about the parent's axes, so the
matrix is Rz @ Ry @ Rx. The take's head angles (yaw about Y, pitch about X, roll about Z, intrinsic YXZ:
R = Ry @ Rx @ Rz) are therefore Maya's rotate order "zxy" with rotateX = pitch, rotateY = yaw, rotateZ = roll.
"""
from __future__ import annotations

from typing import Optional, Sequence

import numpy as np

# Maya's rotateOrder enum, in its order (0 = xyz ... 5 = zyx).
ROTATE_ORDERS = ("xyz", "yzx", "zxy", "xzy", "yxz", "zyx")
TAKE_ORDER = "zxy"           # the take's yaw/pitch/roll (intrinsic YXZ) as a Maya rotate order
_AXIS = {"x": 0, "y": 1, "z": 2}
_CYCLIC = ("xyz", "yzx", "zxy")
_GIMBAL = 1e-9


def about_axis(axis: int, angles: np.ndarray) -> np.ndarray:
    """(N, 3, 3) rotations by `angles` (N,) about axis 0/1/2 (right-handed)."""
    angles = np.asarray(angles, dtype=float)
    c, s = np.cos(angles), np.sin(angles)
    out = np.zeros(angles.shape + (3, 3))
    a, b = [(1, 2), (2, 0), (0, 1)][axis]
    out[..., axis, axis] = 1.0
    out[..., a, a] = c
    out[..., b, b] = c
    out[..., a, b] = -s
    out[..., b, a] = s
    return out


def euler_to_matrix(angles: np.ndarray, order: str) -> np.ndarray:
    """(N, 3) rotateX/Y/Z values (radians) -> (N, 3, 3) for a Maya rotate order ("xyz": Rz @ Ry @ Rx)."""
    angles = np.atleast_2d(np.asarray(angles, dtype=float))
    matrix = np.broadcast_to(np.eye(3), angles.shape[:-1] + (3, 3)).copy()
    for letter in order:            # the first letter turns first: it sits rightmost
        axis = _AXIS[letter]
        matrix = about_axis(axis, angles[..., axis]) @ matrix
    return matrix


def matrix_to_euler(matrices: np.ndarray, order: str, reference: Optional[np.ndarray] = None) -> np.ndarray:
    """(N, 3, 3) -> (N, 3) rotateX/Y/Z values (radians) for a Maya rotate order. Every rotation has two
    sets of angles (and any multiple of 360 degrees on each); the one nearest `reference` (3,) or (N, 3) is
    returned, so that keys made from a rest pose stay next to that pose's own values (no flips)."""
    matrices = np.asarray(matrices, dtype=float).reshape(-1, 3, 3)
    first, middle, last = (_AXIS[letter] for letter in order)
    sign = 1.0 if order in _CYCLIC else -1.0
    m = matrices
    turn_middle = np.arcsin(np.clip(-sign * m[:, last, first], -1.0, 1.0))
    turn_first = np.arctan2(sign * m[:, last, middle], m[:, last, last])
    turn_last = np.arctan2(sign * m[:, middle, first], m[:, first, first])
    locked = np.abs(np.cos(turn_middle)) < _GIMBAL
    if locked.any():            # gimbal lock: only first +/- last is defined; the first angle is set to 0
        turn_first[locked] = 0.0
        turn_last[locked] = np.arctan2(-sign * m[locked, first, middle], m[locked, middle, middle])
    primary = _by_axis(order, turn_first, turn_middle, turn_last)
    other = _by_axis(order, turn_first + np.pi, np.pi - turn_middle, turn_last + np.pi)
    if reference is None:
        return primary
    reference = np.broadcast_to(np.asarray(reference, dtype=float), primary.shape)
    primary, other = _near(primary, reference), _near(other, reference)
    closer = np.abs(other - reference).sum(axis=1) < np.abs(primary - reference).sum(axis=1)
    return np.where(closer[:, None], other, primary)


def _by_axis(order: str, first: np.ndarray, middle: np.ndarray, last: np.ndarray) -> np.ndarray:
    out = np.empty((len(first), 3))
    for letter, values in zip(order, (first, middle, last)):
        out[:, _AXIS[letter]] = values
    return out


def _near(angles: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Each angle moved by whole turns to lie within half a turn of its reference."""
    return angles + 2.0 * np.pi * np.round((reference - angles) / (2.0 * np.pi))


def take_rotation(yaw_deg: np.ndarray, pitch_deg: np.ndarray, roll_deg: np.ndarray) -> np.ndarray:
    """(N, 3, 3) head rotations from the take's head angles (head_pose.csv, degrees)."""
    angles = np.radians(np.column_stack([pitch_deg, yaw_deg, roll_deg]))
    return euler_to_matrix(angles, TAKE_ORDER)


# --- quaternions: the fraction of a rotation (strength, spreading over neck and head) -------------------

def to_quaternion(matrices: np.ndarray) -> np.ndarray:
    """(N, 3, 3) -> (N, 4) unit quaternions (w, x, y, z) with w >= 0."""
    m = np.asarray(matrices, dtype=float).reshape(-1, 3, 3)
    trace = m[:, 0, 0] + m[:, 1, 1] + m[:, 2, 2]
    # Each row from the largest of the four candidates (w, x, y, z): stable for any angle.
    candidates = np.stack([1.0 + trace, 1.0 + 2.0 * m[:, 0, 0] - trace, 1.0 + 2.0 * m[:, 1, 1] - trace,
                           1.0 + 2.0 * m[:, 2, 2] - trace], axis=1)
    pick = np.argmax(candidates, axis=1)
    q = np.empty((len(m), 4))
    big = np.sqrt(np.maximum(candidates[np.arange(len(m)), pick], 1e-300)) / 2.0
    w_xyz = {
        0: (big, (m[:, 2, 1] - m[:, 1, 2]), (m[:, 0, 2] - m[:, 2, 0]), (m[:, 1, 0] - m[:, 0, 1])),
        1: ((m[:, 2, 1] - m[:, 1, 2]), big, (m[:, 0, 1] + m[:, 1, 0]), (m[:, 0, 2] + m[:, 2, 0])),
        2: ((m[:, 0, 2] - m[:, 2, 0]), (m[:, 0, 1] + m[:, 1, 0]), big, (m[:, 1, 2] + m[:, 2, 1])),
        3: ((m[:, 1, 0] - m[:, 0, 1]), (m[:, 0, 2] + m[:, 2, 0]), (m[:, 1, 2] + m[:, 2, 1]), big),
    }
    for index, parts in w_xyz.items():
        rows = pick == index
        if rows.any():
            for column, part in enumerate(parts):
                q[rows, column] = part[rows] if column == index else part[rows] / (4.0 * big[rows])
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    return np.where(q[:, :1] < 0.0, -q, q)


def from_quaternion(q: np.ndarray) -> np.ndarray:
    """(N, 4) quaternions (w, x, y, z) -> (N, 3, 3)."""
    q = np.asarray(q, dtype=float)
    q = q / np.linalg.norm(q, axis=1, keepdims=True)
    w, x, y, z = q[:, 0], q[:, 1], q[:, 2], q[:, 3]
    return np.stack([
        np.stack([1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)], axis=1),
        np.stack([2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)], axis=1),
        np.stack([2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)], axis=1)], axis=1)


def fraction_of(matrices: np.ndarray, fraction: float) -> np.ndarray:
    """The rotation by `fraction` of each rotation's angle about the same axis (0: none, 1: all of it)."""
    q = to_quaternion(matrices)
    half_angle = np.arccos(np.clip(q[:, 0], -1.0, 1.0))
    sin_half = np.sin(half_angle)
    axis = np.where(sin_half[:, None] > 1e-12, q[:, 1:] / np.maximum(sin_half, 1e-12)[:, None], 0.0)
    scaled = half_angle * fraction
    return from_quaternion(np.column_stack([np.cos(scaled), axis * np.sin(scaled)[:, None]]))


def angle_between(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(N,) angle (radians) of the rotation taking each `b` to `a`."""
    relative = np.asarray(a) @ np.swapaxes(np.asarray(b), -1, -2)
    cosine = (np.trace(relative, axis1=-2, axis2=-1) - 1.0) / 2.0
    return np.arccos(np.clip(cosine, -1.0, 1.0))


# --- Maya's matrices ------------------------------------------------------------------------------------

def from_maya_matrix(values: Sequence[float]) -> np.ndarray:
    """The 3x3 part (rotation and scale) of a Maya matrix (16 numbers, row-vector convention, as getAttr
    returns a matrix attribute), as a matrix acting on column vectors."""
    matrix = np.asarray(values, dtype=float).reshape(4, 4)
    return matrix[:3, :3].T.copy()


def nearest_rotation(matrix: np.ndarray) -> np.ndarray:
    """The rotation closest to `matrix` (3, 3): its scale and shear taken out."""
    u, _, vt = np.linalg.svd(np.asarray(matrix, dtype=float))
    rotation = u @ vt
    if np.linalg.det(rotation) < 0:      # a mirrored parent: keep a proper rotation
        u[:, -1] = -u[:, -1]
        rotation = u @ vt
    return rotation
