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
    neutral: np.ndarray                  # (L, 3) the actor's neutral in the head frame, cm
    displacement: "FrameDisplacements"   # (N, L, 3) each frame's displacement from it, pose effects removed
    #                                      (NaN: no face), computed when indexed
    noise: np.ndarray                    # (L, 3) standard deviation of the displacement on calm frames (cm)


CALM_SHARE = 0.4        # share of frames (least active first) that teach the pose correction


CHUNK_FRAMES = 512      # frames summed at a time by the pose-effect fit (its sums depend on it); its
                        # float64 block copies are ~2.5 MB (2048 frames made a 10-minute run 20 MB taller)
# Frames aligned at a time: each frame's alignment is its own (any size gives the same values); a chunk's
# float64 points and their aligned copy are ~12 MB per 256 frames.
ALIGN_FRAMES = 256


class FrameDisplacements:
    """A clip's (N, L, 3) float32 displacements, computed from its landmarks when indexed (a block of frames
    at a time) rather than held: a 10-minute clip's would be ~42 MB, and the landmark network reads them a
    block at a time anyway. Indexing (an int, a slice, an array of frames, then the other axes) returns the
    values that a whole-clip array would hold, bit for bit; np.asarray gives that whole array."""

    def __init__(self, landmarks, image_size, reference: np.ndarray, keep: np.ndarray, valid: np.ndarray,
                 feats: np.ndarray, coef: np.ndarray | None = None):
        self.landmarks, self.image_size, self.reference, self.keep = landmarks, image_size, reference, keep
        self.valid, self.feats, self.coef = valid, feats, coef

    @property
    def shape(self) -> tuple[int, int, int]:
        return len(self.valid), len(self.keep), 3

    def __len__(self) -> int:
        return len(self.valid)

    def __getitem__(self, key):
        frames, rest = (key[0], key[1:]) if isinstance(key, tuple) else (key, ())
        rows = np.arange(len(self))[frames]
        block = self.rows(np.atleast_1d(rows)).reshape(-1, len(self.keep), 3)
        if np.ndim(rows) == 0:
            return block[0][rest]
        return block[(slice(None),) + rest]

    def __array__(self, dtype=None, copy=None):
        whole = self[:]
        return whole if dtype is None else whole.astype(dtype)

    def with_pose_effect(self, coef: np.ndarray | None) -> "FrameDisplacements":
        return FrameDisplacements(self.landmarks, self.image_size, self.reference, self.keep, self.valid,
                                  self.feats, coef)

    def rows(self, rows: np.ndarray) -> np.ndarray:
        """(len(rows), 3L) float32 displacements of those frames, the pose effect removed (NaN: no face)."""
        disp = self.aligned_rows(rows)
        if self.coef is not None:
            disp -= pose_effect(self.feats, self.coef, rows)
        disp[~self.valid[rows]] = np.nan
        return disp

    def aligned_rows(self, rows: np.ndarray) -> np.ndarray:
        """(len(rows), 3L) float32 displacements of those frames from the reference after the alignment alone."""
        disp = np.empty((len(rows), len(self.keep) * 3), np.float32)
        for start in range(0, len(rows), ALIGN_FRAMES):
            some = rows[start:start + ALIGN_FRAMES]
            points = to_points(np.asarray(self.landmarks[some]), self.image_size)
            aligned, _ = align_frames(points, self.reference)
            offsets = aligned[:, self.keep] - self.reference[self.keep][None]
            disp[start:start + len(some)] = offsets.reshape(len(some), -1)
            del points, aligned, offsets   # before the next chunk's are made, not after
        return disp


def pose_effect(feats: np.ndarray, coef: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """(len(rows), C) float32 pose effect of those frames. It is computed over the whole
    CHUNK_FRAMES chunk of frames each lies in, as a whole-clip subtraction did: a matrix product's last bit
    may depend on its shape, and the takes must not change with the frames asked for."""
    out = np.empty((len(rows), coef.shape[1]), np.float32)
    chunks = rows // CHUNK_FRAMES
    for chunk in np.unique(chunks):
        start = chunk * CHUNK_FRAMES
        effect = (feats[start:start + CHUNK_FRAMES] @ coef).astype(np.float32)
        mine = chunks == chunk
        out[mine] = effect[rows[mine] - start]
    return out


class _RowsOf:
    """`rows_of` indexed like an array by arrays of frames: how the fits below read frames computed on demand."""

    def __init__(self, rows_of, shape: tuple[int, int]):
        self.rows_of, self.shape = rows_of, shape

    def __getitem__(self, rows):
        return self.rows_of(np.asarray(rows))


def build_space(landmarks: np.ndarray, image_size, neutral_frames: np.ndarray,
                calm_frames: np.ndarray | None = None, keep: np.ndarray | None = None,
                reference: np.ndarray | None = None) -> LandmarkSpace:
    """Align a clip's landmarks to the actor's neutral (`reference`, a (478, 3) head-frame shape such as an
    actor profile's, or estimated from `neutral_frames`), then remove the displacement that follows head
    rotation, learnt on `calm_frames` (default: the neutral frames).

    `landmarks` may be a memory-mapped (N, 478, 3) array: it is read a chunk of frames at a time, by the fits
    here and later whenever the displacements (of the `keep` landmarks, default all; float32) are indexed,
    so it must stay readable while the space is used. Only the head rotations' features are held per frame."""
    n = len(landmarks)
    keep = np.arange(landmarks.shape[1]) if keep is None else np.asarray(keep, int)
    if reference is None:
        reference = neutral_reference(landmarks, image_size, neutral_frames)
    rotations, valid = head_rotations(landmarks, image_size, reference)
    frames = np.asarray(neutral_frames, int)
    calm = np.zeros(n, bool)
    calm[np.asarray(calm_frames if calm_frames is not None else frames, int)] = True
    calm &= valid
    disp = FrameDisplacements(landmarks, image_size, reference, keep, valid, pose_features(rotations))
    flat = (n, len(keep) * 3)
    disp = disp.with_pose_effect(fit_pose_effect(_RowsOf(disp.aligned_rows, flat), disp.feats, calm))
    noise = calm_noise(_RowsOf(disp.rows, flat), calm) if calm.any() else np.full(flat[1], np.nan)
    noise = np.where(np.isfinite(noise), noise, np.nanmedian(noise) if np.isfinite(noise).any() else 0.05)
    return LandmarkSpace(reference, disp, noise.reshape(-1, 3))


def head_rotations(landmarks: np.ndarray, image_size, reference: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(N, 3, 3) rotations that align each frame to `reference` (identity where no face), and (N,) which
    frames have a face."""
    n = len(landmarks)
    rotations = np.tile(np.eye(3), (n, 1, 1))
    valid = np.zeros(n, bool)
    for start in range(0, n, ALIGN_FRAMES):
        chunk = slice(start, start + ALIGN_FRAMES)
        points = to_points(np.asarray(landmarks[chunk]), image_size)
        _, rotations[chunk] = align_frames(points, reference)
        valid[chunk] = np.isfinite(points).all(axis=(1, 2))
    return rotations, valid


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
    """Per-column standard deviation of disp over the calm frames (NaN ignored), a block of frames at a time.
    `disp` may compute the frames it is indexed by: each block is read once for the count and the sum, once
    more for the squares."""
    blocks = _blocks(np.flatnonzero(calm))
    count, total = 0, 0
    for b in blocks:
        values = disp[b]
        count = count + np.isfinite(values).sum(axis=0)
        total = total + np.nansum(values, axis=0, dtype=np.float64)
    mean = total / np.maximum(count, 1)
    square = sum(np.nansum((disp[b] - mean) ** 2, axis=0) for b in blocks)
    return np.where(count > 0, np.sqrt(square / np.maximum(count, 1)), np.nan)


def fit_pose_effect(disp, feats: np.ndarray, calm: np.ndarray) -> np.ndarray | None:
    """Coefficients of the low-order polynomial of the head rotation that explains the displacement (what the
    similarity alignment cannot remove), fitted robustly on the calm frames; None if too few. `disp` (indexed
    by arrays of frames) is read a block of calm frames at a time, once per pass."""
    if calm.sum() < 3 * feats.shape[1]:
        return None
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
    return _pose_fit(disp, feats, calm)
