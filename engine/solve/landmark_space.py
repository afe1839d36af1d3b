"""MediaPipe's 478 landmarks in a head-pose-normalised metric space, relative to the actor's neutral.

Image-normalised landmarks (x, y in 0..1 of the width/height, z in units of the width) become pixel-scaled
3D points (x right, y up, z towards the camera). Every frame is aligned to the actor's neutral shape with
a similarity transform over landmarks that expressions hardly move (nose bridge, inner eye corners,
temples, upper forehead), which removes head rotation, translation and distance to the camera. What a similarity cannot remove (perspective, MediaPipe's depth scale) shows as a
displacement that follows the head's rotation; it is learnt per clip from its calm frames (a low-order
polynomial in yaw, pitch and roll) and subtracted. The
neutral shape itself is put in a head frame (x from the right to the left outer eye corner, y from chin
to forehead, z out of the face) and scaled so that the outer eye corners are EYE_SPAN_CM apart, so
displacements read in centimetres of an average face.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.track.head_pose import nearest_rotation, yxz_angles

# Landmarks that no ARKit expression moves by more than ~2 mm (measured on the ICT face with MediaPipe's
# landmark placement): the rigid reference for the alignment.
RIGID = (362, 133, 197, 243, 463, 356, 127, 389, 162, 6, 195, 151, 155, 382, 464, 244, 264, 34, 351, 122,
         5, 245, 465, 419, 10, 196, 168, 454, 234, 3, 248, 251, 21)
RIGHT_EYE_OUTER, LEFT_EYE_OUTER, CHIN, FOREHEAD, NOSE_BRIDGE = 33, 263, 152, 10, 168
EYE_SPAN_CM = 9.02           # outer eye corners of the ICT mean face (MediaPipe placement)


def to_points(landmarks: np.ndarray, image_size: tuple[int, int] | None) -> np.ndarray:
    """(..., 478, 3) image-normalised landmarks -> pixel-scaled points, x right, y up, z to the camera."""
    w, h = image_size if image_size else (1, 1)
    out = np.empty(landmarks.shape, np.float64)
    out[..., 0] = landmarks[..., 0] * w
    out[..., 1] = -landmarks[..., 1] * h
    out[..., 2] = -landmarks[..., 2] * w
    return out


def similarity(src: np.ndarray, dst: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """Umeyama: scale s, rotation R, translation t with s R src + t ~ dst (points as rows)."""
    ms, md = src.mean(axis=0), dst.mean(axis=0)
    a, b = src - ms, dst - md
    u, sig, vt = np.linalg.svd(b.T @ a)
    d = np.sign(np.linalg.det(u @ vt))
    fix = np.diag([1.0, 1.0, d])
    r = u @ fix @ vt
    s = float((sig * np.diag(fix)).sum() / max((a * a).sum(), 1e-12))
    return s, r, md - s * r @ ms


def align_frames(points: np.ndarray, reference: np.ndarray, rigid=RIGID) -> tuple[np.ndarray, np.ndarray]:
    """Every frame (N, L, 3) similarity-aligned onto `reference` (L, 3) over the rigid landmarks, and the
    rotation (N, 3, 3) that did it (identity where no face)."""
    out = np.full_like(points, np.nan)
    rotations = np.tile(np.eye(3), (len(points), 1, 1))
    idx = list(rigid)
    for i in range(len(points)):
        p = points[i]
        if not np.isfinite(p).all():
            continue
        s, r, t = similarity(p[idx], reference[idx])
        out[i] = s * p @ r.T + t
        rotations[i] = r
    return out, rotations


def pose_features(rotations: np.ndarray) -> np.ndarray:
    """(N, 7): 1, yaw, pitch, roll and second-order terms of the head rotation (radians)."""
    yaw, pitch, roll = yxz_angles(nearest_rotation(rotations)).T
    return np.column_stack([np.ones(len(yaw)), yaw, pitch, roll, yaw * yaw, pitch * pitch, yaw * pitch])


def head_frame(shape: np.ndarray) -> np.ndarray:
    """The neutral shape (L, 3) moved into the head frame and scaled to EYE_SPAN_CM."""
    x = shape[LEFT_EYE_OUTER] - shape[RIGHT_EYE_OUTER]
    span = np.linalg.norm(x)
    x = x / span
    y = shape[FOREHEAD] - shape[CHIN]
    y = y - (y @ x) * x
    y /= np.linalg.norm(y)
    z = np.cross(x, y)
    rot = np.stack([x, y, z])
    return (shape - shape[NOSE_BRIDGE]) @ rot.T * (EYE_SPAN_CM / span)


@dataclass
class LandmarkSpace:
    neutral: np.ndarray          # (L, 3) the actor's neutral in the head frame, cm
    displacement: np.ndarray     # (N, L, 3) each frame's displacement from it, pose effects removed (NaN: no face)
    noise: np.ndarray            # (L, 3) standard deviation of the displacement on calm frames (cm)


CALM_SHARE = 0.4        # share of frames (least active first) that teach the pose correction


CHUNK_FRAMES = 2048     # frames summed at a time by the pose-effect fit (its sums depend on it)
# Frames aligned at a time: each frame's alignment is its own (any size gives the same values); a chunk's
# float64 points and their aligned copy are ~12 MB per 256 frames.
ALIGN_FRAMES = 256


def build_space(landmarks: np.ndarray, image_size, neutral_frames: np.ndarray,
                calm_frames: np.ndarray | None = None, keep: np.ndarray | None = None,
                reference: np.ndarray | None = None) -> LandmarkSpace:
    """Align a clip's landmarks to the actor's neutral (`reference`, a (478, 3) head-frame shape such as an
    actor profile's, or estimated from `neutral_frames`), then remove the displacement that follows head
    rotation, learnt on `calm_frames` (default: the neutral frames).

    `landmarks` may be a memory-mapped (N, 478, 3) array: frames are read and aligned in chunks, and only
    the displacements of the `keep` landmarks (default: all) are held, as float32."""
    n = len(landmarks)
    keep = np.arange(landmarks.shape[1]) if keep is None else np.asarray(keep, int)
    if reference is None:
        reference = neutral_reference(landmarks, image_size, neutral_frames)
    disp = np.full((n, len(keep) * 3), np.nan, np.float32)
    rotations = np.tile(np.eye(3), (n, 1, 1))
    valid = np.zeros(n, bool)
    for start in range(0, n, ALIGN_FRAMES):
        chunk = slice(start, start + ALIGN_FRAMES)
        points = to_points(np.asarray(landmarks[chunk]), image_size)
        aligned, rotations[chunk] = align_frames(points, reference)
        valid[chunk] = np.isfinite(points).all(axis=(1, 2))
        disp[chunk] = (aligned[:, keep] - reference[keep][None]).reshape(len(points), -1)
        del points, aligned   # before the next chunk's are made, not after
    frames = np.asarray(neutral_frames, int)
    calm = np.zeros(n, bool)
    calm[np.asarray(calm_frames if calm_frames is not None else frames, int)] = True
    calm &= valid
    remove_pose_effect(disp, pose_features(rotations), calm)
    disp[~valid] = np.nan
    noise = calm_noise(disp, calm) if calm.any() else np.full(disp.shape[1], np.nan)
    noise = np.where(np.isfinite(noise), noise, np.nanmedian(noise) if np.isfinite(noise).any() else 0.05)
    return LandmarkSpace(reference, disp.reshape(n, len(keep), 3), noise.reshape(-1, 3))


def neutral_reference(landmarks: np.ndarray, image_size, neutral_frames: np.ndarray) -> np.ndarray:
    """The actor's neutral shape in the head frame: the median of the neutral frames, aligned."""
    frames = np.asarray(neutral_frames, int)
    points = to_points(np.asarray(landmarks[frames]), image_size)
    points = points[np.isfinite(points).all(axis=(1, 2))]
    if not len(points):
        raise ValueError("no neutral frame with landmarks")
    reference = head_frame(points[0])
    for _ in range(2):   # refine: the neutral is the median of the neutral frames, aligned
        aligned, _ = align_frames(points, reference)
        reference = head_frame(np.median(aligned, axis=0))
    return reference


def _blocks(rows: np.ndarray) -> list[np.ndarray]:
    return [rows[start:start + CHUNK_FRAMES] for start in range(0, len(rows), CHUNK_FRAMES)]


def _pose_fit(disp: np.ndarray, feats: np.ndarray, calm: np.ndarray) -> np.ndarray:
    """Least squares of disp[calm] on feats[calm]: the features' pseudo-inverse (a few columns) times the
    displacements, a block of frames at a time, so that no float64 copy of a long clip's calm frames is made
    (a 10-minute clip's would be ~100 MB)."""
    rows = np.flatnonzero(calm)
    pinv = np.linalg.pinv(feats[rows])
    coef = np.zeros((feats.shape[1], disp.shape[1]))
    for start, block in zip(range(0, len(rows), CHUNK_FRAMES), _blocks(rows)):
        coef += pinv[:, start:start + len(block)] @ disp[block].astype(np.float64)
    return coef


def calm_noise(disp: np.ndarray, calm: np.ndarray) -> np.ndarray:
    """Per-column standard deviation of disp over the calm frames (NaN ignored), a block of frames at a time."""
    blocks = _blocks(np.flatnonzero(calm))
    count = sum(np.isfinite(disp[b]).sum(axis=0) for b in blocks)
    mean = sum(np.nansum(disp[b], axis=0, dtype=np.float64) for b in blocks) / np.maximum(count, 1)
    square = sum(np.nansum((disp[b] - mean) ** 2, axis=0) for b in blocks)
    return np.where(count > 0, np.sqrt(square / np.maximum(count, 1)), np.nan)


def remove_pose_effect(disp: np.ndarray, feats: np.ndarray, calm: np.ndarray) -> None:
    """Subtract, in place, the displacement that a low-order polynomial of the head rotation explains,
    fitted robustly on the calm frames (what the similarity alignment cannot remove)."""
    if calm.sum() < 3 * feats.shape[1]:
        return
    for _ in range(2):   # robust: refit on the calm frames that the pose model explains best
        coef = _pose_fit(disp, feats, calm)
        rows = np.flatnonzero(calm)
        resid = np.concatenate([np.linalg.norm(disp[block] - feats[block] @ coef, axis=1)
                                for block in _blocks(rows)])
        keep = rows[resid <= np.nanquantile(resid, 0.7)]
        if len(keep) < 3 * feats.shape[1]:
            break
        calm = np.zeros_like(calm)
        calm[keep] = True
    coef = _pose_fit(disp, feats, calm)
    for start in range(0, len(disp), CHUNK_FRAMES):
        chunk = slice(start, start + CHUNK_FRAMES)
        disp[chunk] -= (feats[chunk] @ coef).astype(disp.dtype)
