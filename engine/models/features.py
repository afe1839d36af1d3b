"""Per-frame inputs of the video model, computed the same way for training and for `run --video-model`.

- landmarks: MediaPipe's 478 landmarks aligned to the actor's neutral face (head rotation, translation and
  distance removed; engine.solve.landmark_space) minus that neutral, in cm of an average face;
- scores: the 52 calibrated ARKit scores (neutral-relative, the solver's output before resampling);
- a detected flag (frames without a face read neutral);
- optionally a face crop (square around the landmarks) for an image backbone.

Everything is put on a uniform grid at the model's rate (VideoModelConfig.fps), so clips recorded at
25, 30 or 60 fps look alike to the temporal model.
"""
from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.track.facetrack import LANDMARK_COUNT
from engine.solve.landmark_space import build_space
from engine.media.video import TruncatedVideo, iter_frames

FEATURE_VERSION = 1          # bump when the features change: checkpoints record it and must match
CROP_MARGIN = 1.4            # crop side = this x the landmarks' larger extent


@dataclass
class TrackRecord:
    """What the tracker and solver saw of one clip, at the video's own frame times."""
    times: np.ndarray            # (N,) seconds
    detected: np.ndarray         # (N,) bool
    arkit: np.ndarray            # (N, 52) calibrated scores (0 where no face)
    landmarks: np.ndarray        # (N, 478, 3) image-normalised (NaN where no face), may be a memmap
    image_size: tuple[int, int] | None
    neutral_frames: np.ndarray   # indices of the actor's resting frames
    video: Path | None = None


def feature_size(config: dict) -> int:
    return (LANDMARK_COUNT * 3 if config["landmarks"] else 0) + (52 if config["scores"] else 0) + 1


def frame_features(record: TrackRecord, config: dict) -> np.ndarray:
    """(N, F) float32 features at the record's frame times."""
    n = len(record.times)
    parts = []
    detected = record.detected & np.isfinite(np.asarray(record.landmarks[:, 0, 0])) if n else record.detected
    if config["landmarks"]:
        neutral = [i for i in record.neutral_frames if detected[i]] or list(np.flatnonzero(detected)[:1])
        if not neutral:
            disp = np.zeros((n, LANDMARK_COUNT, 3))
        else:
            space = build_space(np.asarray(record.landmarks), record.image_size, np.asarray(neutral))
            disp = np.asarray(space.displacement)   # computed when read: once, for both uses below
        disp = np.where(np.isfinite(disp), disp, 0.0)
        parts.append(disp.reshape(n, -1))
    if config["scores"]:
        parts.append(np.where(detected[:, None], np.nan_to_num(record.arkit), 0.0))
    parts.append(detected[:, None].astype(float))
    return np.concatenate(parts, axis=1).astype(np.float32)


def uniform_grid(start: float, end: float, fps: float) -> np.ndarray:
    return start + np.arange(int(np.floor((end - start) * fps + 1e-6)) + 1) / fps


def resample_rows(times: np.ndarray, values: np.ndarray, new_times: np.ndarray) -> np.ndarray:
    """Linear interpolation of every column onto new times (held at the ends)."""
    if len(times) == 1:
        return np.repeat(values[:1], len(new_times), axis=0)
    idx = np.clip(np.searchsorted(times, new_times) - 1, 0, len(times) - 2)
    t0, t1 = times[idx], times[idx + 1]
    w = np.clip((new_times - t0) / np.maximum(t1 - t0, 1e-9), 0.0, 1.0)[:, None]
    return (values[idx] * (1 - w) + values[idx + 1] * w).astype(values.dtype)


def nearest_index(times: np.ndarray, new_times: np.ndarray) -> np.ndarray:
    idx = np.clip(np.searchsorted(times, new_times), 1, max(len(times) - 1, 1))
    left = times[idx - 1]
    right = times[np.minimum(idx, len(times) - 1)]
    return np.where(np.abs(new_times - left) <= np.abs(right - new_times), idx - 1, idx).clip(0, len(times) - 1)


def crop_boxes(landmarks: np.ndarray, image_size: tuple[int, int]) -> np.ndarray:
    """(N, 3) crop centre x, y and side in pixels (NaN where no face)."""
    w, h = image_size
    x = np.asarray(landmarks[..., 0]) * w
    y = np.asarray(landmarks[..., 1]) * h
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)    # all-NaN rows: frames without a face
        x0, x1, y0, y1 = np.nanmin(x, 1), np.nanmax(x, 1), np.nanmin(y, 1), np.nanmax(y, 1)
    side = CROP_MARGIN * np.maximum(x1 - x0, y1 - y0)
    return np.stack([(x0 + x1) / 2, (y0 + y1) / 2, side], axis=1)


def extract_crops(video: Path, landmarks: np.ndarray, image_size: tuple[int, int], size: int,
                  out: Path) -> np.ndarray:
    """Face crops (N, size, size, 3) uint8 of every tracked frame, written to `out` (.npy) and memory-mapped.
    Frames without a face are black."""
    import cv2

    boxes = crop_boxes(landmarks, image_size)
    n = len(boxes)
    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}.npy")
    crops = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.uint8, shape=(n, size, size, 3))
    crops[:] = 0
    try:
        for frame in iter_frames(Path(video)):
            if frame.index >= n:
                break
            cx, cy, side = boxes[frame.index]
            if not np.isfinite(side) or side <= 1:
                continue
            scale = size / side
            m = np.array([[scale, 0, size / 2 - scale * cx], [0, scale, size / 2 - scale * cy]], np.float32)
            crops[frame.index] = cv2.warpAffine(frame.image, m, (size, size), flags=cv2.INTER_AREA,
                                                borderMode=cv2.BORDER_REPLICATE)
    except TruncatedVideo:
        pass
    crops.flush()
    del crops
    os.replace(tmp, out)
    return np.load(out, mmap_mode="r")
