"""Everything the preview reads from a take folder, sampled at any time (seconds).

Curves are stored at the take's sample times (the source frames, or a uniform rate with --fps-out);
`TakeData.at(t)` interpolates them linearly at a source frame's time. `landmarks.npy` has one row per
source frame (memory-mapped, never loaded whole).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.errors import BadInput
from engine.media.files import reading_input
from engine.export.livelink import read_livelink_csv
from engine.export.take import TAKE_FILES, read_curves_csv
from engine.rig.arkit import arkit_names

ARKIT = tuple(arkit_names())


@dataclass
class FrameValues:
    faceboard: np.ndarray      # (174,) in the rig's attribute order
    arkit: np.ndarray          # (52,) ARKIT order
    head: np.ndarray           # (6,) tx, ty, tz cm, yaw, pitch, roll degrees (NaN when no face)
    detected: bool


@dataclass
class TakeData:
    folder: Path
    meta: dict
    rig: str
    fps: float
    times: np.ndarray
    faceboard_names: list[str]
    faceboard: np.ndarray
    arkit: np.ndarray
    head: np.ndarray           # (N, 7): detected, tx, ty, tz, yaw, pitch, roll
    landmarks: np.ndarray | None
    video: Path | None
    audio: Path | None         # the take's own audio file, if it has one

    @property
    def frame_count(self) -> int:
        return int(self.meta.get("source_frame_count") or self.meta.get("frame_count") or len(self.times))

    @property
    def duration(self) -> float:
        return float(self.times[-1]) if len(self.times) else 0.0

    def _index(self, t: float) -> tuple[int, int, float]:
        times = self.times
        if len(times) == 1 or t <= times[0]:
            return 0, 0, 0.0
        if t >= times[-1]:
            return len(times) - 1, len(times) - 1, 0.0
        j = int(np.searchsorted(times, t, side="right"))
        i = j - 1
        span = times[j] - times[i]
        return i, j, float((t - times[i]) / span) if span > 0 else 0.0

    def at(self, t: float) -> FrameValues:
        i, j, w = self._index(t)
        fb = self.faceboard[i] * (1 - w) + self.faceboard[j] * w
        ak = self.arkit[i] * (1 - w) + self.arkit[j] * w
        nearest = i if w < 0.5 else j
        return FrameValues(fb, ak, self.head[nearest, 1:], bool(self.head[nearest, 0] > 0.5))

    def frame_landmarks(self, index: int) -> np.ndarray | None:
        if self.landmarks is None or index >= len(self.landmarks):
            return None
        points = np.asarray(self.landmarks[index])
        return None if not np.isfinite(points).all() else points

    def channel(self, name: str) -> np.ndarray | None:
        """A curve by name: a face-board attribute, an ARKit name or a head-pose column; None if unknown."""
        if name in self.faceboard_names:
            return self.faceboard[:, self.faceboard_names.index(name)]
        if name in ARKIT:
            return self.arkit[:, ARKIT.index(name)]
        head_cols = ("detected", "tx_cm", "ty_cm", "tz_cm", "yaw_deg", "pitch_deg", "roll_deg")
        if name in head_cols:
            return self.head[:, head_cols.index(name)]
        return None


def load_take(folder: Path, meta: dict | None = None, video: Path | None = None) -> TakeData:
    """Read a take folder. `meta` stands in for take.json while a take is still being written (run
    --preview renders into the unfinished take); `video` overrides the source path recorded in take.json."""
    folder = Path(folder)
    if meta is None:
        meta_path = folder / "take.json"
        if not meta_path.is_file():
            raise BadInput(f"not a take folder (no take.json): {folder}",
                           "give a folder written by `faceretarget-engine run`")
        with reading_input(meta_path, "take.json", "the take is damaged; re-run the engine"):
            meta = json.loads(meta_path.read_text())
    with reading_input(folder / "take.json", "take.json", "the take is damaged; re-run the engine"):
        files = {**TAKE_FILES, **meta.get("files", {})}
        named = [key for key in ("faceboard", "arkit", "head_pose", "landmarks", "audio") if key in files]
        if not all(isinstance(files[key], str) and files[key] for key in named):
            raise ValueError("its `files` must name each file of the take")
    for key in ("faceboard", "arkit", "head_pose"):
        if not (folder / files[key]).is_file():
            raise BadInput(f"the take is missing {files[key]}: {folder}", "re-run the engine on the video")
    with reading_input(folder / files["faceboard"], "take file", "the take is damaged; re-run the engine"):
        times, names, faceboard = read_curves_csv(folder / files["faceboard"])
    with reading_input(folder / files["arkit"], "take file", "the take is damaged; re-run the engine"):
        livelink = read_livelink_csv(folder / files["arkit"])
        arkit = livelink.arkit().astype(np.float32)
    if len(arkit) != len(times):
        raise BadInput(f"{files['arkit']} and {files['faceboard']} have different row counts",
                       "the take is damaged; re-run the engine")
    with reading_input(folder / files["head_pose"], "take file", "the take is damaged; re-run the engine"):
        head_times, _, head = read_curves_csv(folder / files["head_pose"])
    landmarks = None
    if (folder / files["landmarks"]).is_file():
        with reading_input(folder / files["landmarks"], "landmark file", "the take is damaged; re-run the engine"):
            landmarks = np.load(folder / files["landmarks"], mmap_mode="r", allow_pickle=False)
    with reading_input(folder / "take.json", "take.json", "the take is damaged; re-run the engine"):
        if video is None:
            recorded = meta.get("inputs", {}).get("video", {}).get("path")
            video = Path(recorded) if recorded else None
        audio = files.get("audio")
        audio_path = folder / audio if audio and (folder / audio).is_file() else None
        fps = float(meta.get("fps") or (1.0 / np.median(np.diff(times)) if len(times) > 1 else 30.0))
        rig = str(meta.get("rig", "mh4"))
    return TakeData(folder=folder, meta=meta, rig=rig, fps=fps, times=times,
                    faceboard_names=names, faceboard=faceboard, arkit=arkit, head=head, landmarks=landmarks,
                    video=video, audio=audio_path)
