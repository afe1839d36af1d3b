"""FaceTrack: what the tracker saw, per frame. Frames without a face are kept as gaps, never dropped.
SourceTrack: a FaceTrack as any track source yields it (a video's tracking, an ARKit recording, a FLAME
sequence), with what the take records about that source."""
from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from engine.rig.arkit import ARKIT_NAMES

LANDMARK_COUNT = 478


@dataclass
class FaceTrack:
    times: np.ndarray          # (N,) seconds
    detected: np.ndarray       # (N,) bool
    arkit: np.ndarray          # (N, 52) MediaPipe scores in ARKIT_NAMES order; NaN where no face
    head_pose: np.ndarray      # (N, 4, 4) facial transformation matrix (cm); NaN where no face
    confidence: np.ndarray     # (N,) 0..1 (0 where no face)
    landmarks_path: Path | None = None   # (N, 478, 3) image-normalized landmarks, .npy on disk
    image_size: tuple[int, int] | None = None   # (width, height) of the tracked frames: landmarks -> pixels
    eyes: np.ndarray | None = None       # (N, 6) left then right eye yaw, pitch, roll (radians), where the
                                         # source measures them (an ARKit recording); arkit.csv carries them

    def __post_init__(self) -> None:
        n = len(self.times)
        assert self.arkit.shape == (n, len(ARKIT_NAMES)), self.arkit.shape
        assert self.head_pose.shape == (n, 4, 4) and self.detected.shape == (n,)

    def __len__(self) -> int:
        return len(self.times)

    @property
    def detected_share(self) -> float:
        return float(self.detected.mean()) if len(self) else 0.0

    def landmarks(self) -> "LandmarkFile":
        """The (N, 478, 3) landmarks on disk, read when indexed: never the whole array unless asked for."""
        if self.landmarks_path is None:
            raise ValueError("this track carries no landmarks")
        return LandmarkFile(self.landmarks_path)

    def gaps(self) -> list[tuple[int, int]]:
        """Half-open index ranges [start, end) of consecutive frames without a face."""
        missing = np.concatenate([[False], ~self.detected, [False]])
        edges = np.flatnonzero(np.diff(missing.astype(np.int8)))
        return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2])]


@dataclass
class SourceTrack:
    """What the pipeline takes from any source: the track, and what take.json says of its source."""

    kind: str                    # take.json "kind": video | arkit | flame_params
    track: FaceTrack
    fps: float | None            # the source's own frame rate (None: unknown)
    inputs: dict                 # take.json "inputs": the files the take was made from
    tracking: dict               # take.json "tracking": what the source measured or assumed
    # The scores are already the actor's own (an iPhone calibrates ARKit per face): the solve subtracts no
    # neutral and only smooths.
    calibrated: bool = False
    files_absent: dict = field(default_factory=dict)   # take files this source cannot give, and why


class LandmarkFile:
    """An .npy array on disk (a take's landmarks.npy), read from the file when indexed like an array: rows
    by an int, a slice or a list of frames, then any further axes (`lm[:, 0, 0]`). Not a memory map: a
    map's pages count in the process's resident memory once read, so one pass over a 10-minute clip would
    keep its 100 MB of landmarks; here only what was asked for is held."""

    def __init__(self, path: Path):
        self.path = Path(path)
        with open(self.path, "rb") as handle:
            version = np.lib.format.read_magic(handle)
            read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else \
                np.lib.format.read_array_header_2_0
            self.shape, fortran_order, self.dtype = read_header(handle)
            self._offset = handle.tell()
        if fortran_order or not self.shape:
            raise ValueError(f"{self.path.name}: not a C-ordered array of frames")
        self._row_items = int(np.prod(self.shape[1:], dtype=np.int64))

    def __len__(self) -> int:
        return self.shape[0]

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        rows = self[:]
        return rows if dtype is None else rows.astype(dtype)

    def __getitem__(self, key):
        rest = ()
        if isinstance(key, tuple):
            key, rest = key[0], key[1:]
        if isinstance(key, (int, np.integer)):
            return self._rows([int(key) + len(self) if key < 0 else int(key)])[0][rest]
        if isinstance(key, slice):
            start, stop, step = key.indices(len(self))
            if step < 0:
                raise IndexError("landmark rows are read forwards")
            rows = self._read_block(start, max(stop - start, 0))[::step]
        else:
            index = np.asarray(key)
            index = np.flatnonzero(index) if index.dtype == bool else index.astype(np.int64)
            rows = self._rows(np.where(index < 0, index + len(self), index))
        return rows[(slice(None), *rest)] if rest else rows

    def _read_block(self, start: int, count: int, handle=None) -> np.ndarray:
        """`count` frames from `start`, from `handle` (the file opened for reading) or a handle of its own."""
        if handle is None:
            with open(self.path, "rb") as own:
                return self._read_block(start, count, own)
        handle.seek(self._offset + start * self._row_items * self.dtype.itemsize)
        return np.fromfile(handle, self.dtype, count * self._row_items).reshape((-1, *self.shape[1:]))

    def _rows(self, indices) -> np.ndarray:
        """The frames `indices`, through one open of the file; each run of consecutive frames in one read."""
        indices = np.asarray(indices, np.int64).reshape(-1)
        bad = indices[(indices < 0) | (indices >= len(self))]
        if len(bad):
            raise IndexError(f"frame {int(bad[0])} of {len(self)}")
        out = np.empty((len(indices), *self.shape[1:]), self.dtype)
        run_starts = np.flatnonzero(np.diff(indices, prepend=-2) != 1)
        with open(self.path, "rb") as handle:
            for begin, end in zip(run_starts, [*run_starts[1:], len(indices)]):
                out[begin:end] = self._read_block(int(indices[begin]), int(end - begin), handle)
        return out


class LandmarkSink:
    """Appends per-frame landmarks to a raw file, then writes a proper .npy without loading them all."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._raw_path = self.path.with_suffix(".raw")
        self._raw = open(self._raw_path, "wb")
        self.count = 0

    def append(self, landmarks: np.ndarray | None) -> None:
        block = np.full((LANDMARK_COUNT, 3), np.nan, np.float32) if landmarks is None else landmarks
        self._raw.write(np.ascontiguousarray(block, dtype=np.float32).tobytes())
        self.count += 1

    def finish(self) -> Path:
        """The .npy: its header, then the raw frames copied by plain file writes (a full disk is an
        OSError, where a memory-mapped write would end the process with a bus error)."""
        self._raw.close()
        header = {"descr": np.lib.format.dtype_to_descr(np.dtype(np.float32)), "fortran_order": False,
                  "shape": (self.count, LANDMARK_COUNT, 3)}
        with open(self.path, "wb") as out, open(self._raw_path, "rb") as raw:
            np.lib.format.write_array_header_1_0(out, header)
            shutil.copyfileobj(raw, out, 1 << 20)
        self._raw_path.unlink()
        return self.path

    def abort(self) -> None:
        self._raw.close()
        self._raw_path.unlink(missing_ok=True)
