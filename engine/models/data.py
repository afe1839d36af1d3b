"""Training data from a studio's own recordings: (video or audio, face-board curves) pairs, split by clip.

A data folder may hold, anywhere below it:
- take folders (take.json + faceboard.csv): the engine's own takes, or takes exported from Maya after an
  animator corrected them ("source": "maya-export"). Their media: take.json `inputs.video.path` /
  `inputs.audio.path` (relative paths are relative to the take folder), else a video / audio file inside
  the folder. An optional `inputs.video.offset` (seconds) says where curve time 0 falls in the media.
- 174-column text files (.txt or .csv without a header): one frame per line at 60 fps, columns in the legacy
  order (../shared/spec/faceboard_controls.csv, legacy_174_index), paired with a video or audio file of the
  same name beside them (`clip01.txt` + `clip01.mp4` / `clip01.wav`).
- optionally `emotions.json` at the top: {"clip name or file stem": "angry", ...} for the audio model
  (a take.json may also carry "emotion").

Video features come from a take's own landmarks.npy + arkit.csv when it has them; otherwise the video is
tracked and solved once (engine.track, engine.solve) and the result is cached, keyed by the video's hash.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.errors import BadInput
from engine.export.take import TAKE_FILES, file_sha256, read_curves_csv
from engine.models.features import TrackRecord, frame_features, nearest_index, resample_rows, uniform_grid
from engine.protocol import Reporter
from engine.rig.faceboard import load_faceboard
from engine.export.livelink import read_livelink_csv
from engine.solve.calibration import estimate_neutral
from engine.config import SolveOptions
from engine.media.video import probe
from engine.solve.solver import solve
from engine.track.run_tracker import track_video
from engine.models.features import extract_crops
from engine.audio.io import load_audio

log = logging.getLogger("faceretarget.models")

VIDEO_EXTS = (".mp4", ".mov", ".mkv", ".avi", ".webm", ".m4v")
AUDIO_EXTS = (".wav", ".flac", ".mp3", ".m4a", ".ogg", ".aac", ".raw")
LEGACY_FPS = 60.0
LEGACY_COLUMNS = 174
CACHE_NAME = ".faceretarget-cache"
TRACK_CACHE_VERSION = 1


@dataclass
class Labels:
    times: np.ndarray            # (N,) seconds, label time
    values: np.ndarray           # (N, C) face-board values in the rig's control order
    mask: np.ndarray             # (C,) bool: which controls the source has


@dataclass
class ClipSource:
    name: str
    labels: Path                 # faceboard.csv or a 174-column text file
    kind: str                    # "take" | "legacy"
    take: Path | None = None
    video: Path | None = None
    audio: Path | None = None
    emotion: str | None = None
    offset: float = 0.0          # media time = label time + offset


# ---------------------------------------------------------------------------------------------------
# Discovery
# ---------------------------------------------------------------------------------------------------

def discover(data: Path) -> list[ClipSource]:
    data = Path(data)
    if not data.is_dir():
        raise BadInput(f"--data {data}: not a folder", "give the folder that holds your takes / curve files")
    emotions = _emotions(data)
    clips: list[ClipSource] = []
    take_dirs: set[Path] = set()
    for meta_path in sorted(data.rglob("take.json")):
        if _skipped(meta_path, data):
            continue
        folder = meta_path.parent
        take_dirs.add(folder)
        if (folder / TAKE_FILES["faceboard"]).is_file():
            clips.append(_take_clip(folder, data, emotions))
    for path in sorted([*data.rglob("*.txt"), *data.rglob("*.csv")]):
        if _skipped(path, data) or any(p in take_dirs for p in path.parents) or not _is_legacy_table(path):
            continue
        name = str(path.relative_to(data).with_suffix(""))
        clips.append(ClipSource(name=name, labels=path, kind="legacy",
                                video=_sibling(path, VIDEO_EXTS), audio=_sibling(path, AUDIO_EXTS),
                                emotion=emotions.get(name, emotions.get(path.stem))))
    if not clips:
        raise BadInput(f"no training clips found in {data}",
                       "put take folders (take.json + faceboard.csv) or 174-column text files with a video / "
                       "audio file of the same name there")
    return clips


def _skipped(path: Path, root: Path) -> bool:
    return any(part.startswith(".") for part in path.relative_to(root).parts[:-1])


def _emotions(data: Path) -> dict[str, str]:
    path = data / "emotions.json"
    if not path.is_file():
        return {}
    try:
        doc = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise BadInput(f"{path} is not valid JSON: {exc}", 'write {"clip": "emotion", ...}') from exc
    return {str(k): str(v) for k, v in doc.items()}


def _take_clip(folder: Path, root: Path, emotions: dict[str, str]) -> ClipSource:
    meta = _read_meta(folder)
    inputs = meta.get("inputs") or {}
    name = str(folder.relative_to(root)) if folder != root else folder.name
    video = _input_path(inputs.get("video"), folder) or _inside(folder, VIDEO_EXTS)
    audio = _input_path(inputs.get("audio"), folder) or _inside(folder, AUDIO_EXTS)
    offset = float((inputs.get("video") or {}).get("offset", 0.0) or 0.0)
    return ClipSource(name=name, labels=folder / TAKE_FILES["faceboard"], kind="take", take=folder,
                      video=video, audio=audio, emotion=meta.get("emotion") or emotions.get(name)
                      or emotions.get(folder.name), offset=offset)


def _read_meta(folder: Path) -> dict:
    try:
        return json.loads((folder / "take.json").read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise BadInput(f"cannot read {folder / 'take.json'}: {exc}", "the take folder is damaged; re-export it")


def _input_path(entry, folder: Path) -> Path | None:
    if not isinstance(entry, dict) or not entry.get("path"):
        return None
    path = Path(entry["path"])
    path = path if path.is_absolute() else folder / path
    return path if path.is_file() else None


def _inside(folder: Path, exts) -> Path | None:
    found = sorted(p for p in folder.iterdir() if p.suffix.lower() in exts and not p.name.startswith("preview"))
    return found[0] if found else None


def _sibling(path: Path, exts) -> Path | None:
    for ext in exts:
        for candidate in (path.with_suffix(ext), path.with_suffix(ext.upper())):
            if candidate.is_file():
                return candidate
    return None


def _is_legacy_table(path: Path) -> bool:
    try:
        with open(path) as handle:
            for line in handle:
                if line.strip():
                    return len(_fields(line)) == LEGACY_COLUMNS and all(_is_number(f) for f in _fields(line))
    except (OSError, UnicodeDecodeError):
        return False
    return False


def _fields(line: str) -> list[str]:
    return line.replace(",", " ").split()


def _is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def split_clips(clips: list[ClipSource], val_fraction: float, seed: int = 0
                ) -> tuple[list[ClipSource], list[ClipSource]]:
    """Train / validation split by clip (frames of one clip never land on both sides), stable under adding
    clips: a clip's side depends on a hash of its name and the seed only."""
    if not 0.0 < val_fraction < 1.0:
        raise BadInput(f"validation share {val_fraction} must lie between 0 and 1", "use e.g. 0.2")
    if len(clips) < 2:
        raise BadInput(f"only {len(clips)} clip found: a validation split needs at least 2",
                       "add recordings (validation is always on clips the model never trained on)")
    score = {c.name: int(hashlib.sha256(f"{seed}:{c.name}".encode()).hexdigest()[:12], 16) / 16 ** 12
             for c in clips}
    ordered = sorted(clips, key=lambda c: score[c.name])
    n_val = min(len(clips) - 1, max(1, int(round(val_fraction * len(clips)))))
    return sorted(ordered[n_val:], key=lambda c: c.name), sorted(ordered[:n_val], key=lambda c: c.name)


# ---------------------------------------------------------------------------------------------------
# Labels
# ---------------------------------------------------------------------------------------------------

def read_labels(clip: ClipSource, rig: str) -> Labels:
    board = load_faceboard(rig)
    if clip.kind == "legacy":
        return read_legacy_table(clip.labels, rig)
    meta = _read_meta(clip.take)
    take_rig = meta.get("rig")
    if take_rig is not None and take_rig != rig:
        raise BadInput(f"take {clip.name} is for the {take_rig!r} rig, training is for {rig!r}",
                       f"train with --rig {take_rig}, or keep takes of one rig generation per data folder")
    times, names, values = read_curves_csv(clip.labels)
    column = {n: i for i, n in enumerate(names)}
    mask = np.array([n in column for n in board.names])
    if not mask.any():
        raise BadInput(f"{clip.labels} has none of the {rig} face-board attributes",
                       "export the take from a MetaHuman face board (retarget_maya.export_take)")
    out = np.tile(board.defaults, (len(times), 1))
    for j, name in enumerate(board.names):
        if name in column:
            out[:, j] = values[:, column[name]]
    return Labels(np.asarray(times, float), out, mask)


def read_legacy_table(path: Path, rig: str, fps: float = LEGACY_FPS) -> Labels:
    """A 174-column, one-frame-per-line text file in legacy_174_index order -> the rig's control order."""
    rows = []
    with open(path) as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            fields = _fields(line)
            if len(fields) != LEGACY_COLUMNS:
                raise BadInput(f"{path.name} line {number}: {len(fields)} values, expected {LEGACY_COLUMNS}",
                               "each line is one frame: 174 comma-separated values in the legacy order")
            rows.append([float(f) for f in fields])
    table = np.array(rows, dtype=float).reshape(-1, LEGACY_COLUMNS)
    board = load_faceboard(rig)
    out = np.tile(board.defaults, (len(table), 1))
    mask = np.zeros(len(board.names), bool)
    for j, attribute in enumerate(board.attributes):
        if attribute.legacy_174_index is not None:
            out[:, j] = table[:, attribute.legacy_174_index]
            mask[j] = True
    return Labels(np.arange(len(table)) / fps, out, mask)


# ---------------------------------------------------------------------------------------------------
# Video clips: tracked features on the model's grid + labels
# ---------------------------------------------------------------------------------------------------

@dataclass
class VideoClip:
    name: str
    times: np.ndarray            # (T,) model grid, media seconds
    features: np.ndarray         # (T, F) float16
    targets: np.ndarray          # (T, C) float32
    mask: np.ndarray             # (C,) bool
    crop_index: np.ndarray       # (T,) source frame of each grid step (face crops)
    crops: np.ndarray | None = None   # (N, S, S, 3) uint8 memmap


def cache_folder(data: Path, cache_dir: Path | None) -> Path:
    folder = Path(cache_dir) if cache_dir else Path(data) / CACHE_NAME
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BadInput(f"cannot create the feature cache {folder} ({exc.strerror})",
                       "pass --cache DIR with a folder you can write to") from exc
    return folder


def take_record(take: Path) -> TrackRecord | None:
    """The tracking a take folder carries (landmarks.npy, arkit.csv, head_pose.csv), or None if it has none
    or it was resampled (--fps-out: its curves are no longer at the landmarks' frame times)."""
    lm_path, pose_path, arkit_path = (take / TAKE_FILES[k] for k in ("landmarks", "head_pose", "arkit"))
    if not (lm_path.is_file() and pose_path.is_file() and arkit_path.is_file()):
        return None
    landmarks = np.load(lm_path, mmap_mode="r")
    times, names, pose = read_curves_csv(pose_path)
    if len(landmarks) != len(times):
        return None
    arkit = read_livelink_csv(arkit_path).arkit().astype(float)
    if len(arkit) != len(times):
        return None
    detected = pose[:, names.index("detected")] > 0.5 if "detected" in names else np.ones(len(times), bool)
    meta = _read_meta(take)
    video = (meta.get("inputs") or {}).get("video") or {}
    size = (int(video["width"]), int(video["height"])) if video.get("width") else None
    neutral_times = (meta.get("tracking") or {}).get("neutral_frames") or []
    neutral = (np.unique(nearest_index(times, np.asarray(neutral_times, float))) if neutral_times
               else _estimated_neutral(arkit, detected))
    return TrackRecord(times, detected, arkit, landmarks, size, neutral, _input_path(video, take))


def _estimated_neutral(arkit: np.ndarray, detected: np.ndarray) -> np.ndarray:
    return estimate_neutral(arkit, detected)[1] if detected.any() else np.zeros(0, int)


def tracked_record(video: Path, cache: Path, reporter: Reporter) -> TrackRecord:
    """Track and solve a video the way `run` does; cached by the video's hash."""
    key = f"track{TRACK_CACHE_VERSION}-{file_sha256(video)[:24]}"
    npz, lm = cache / f"{key}.npz", cache / f"{key}.landmarks.npy"
    if not (npz.is_file() and lm.is_file()):
        log.info("tracking %s (cached as %s)", video.name, key)
        info = probe(video)
        tmp_lm = cache / f".{key}.landmarks.tmp-{os.getpid()}.npy"
        track = track_video(info, tmp_lm, reporter)
        if not track.detected.any():
            tmp_lm.unlink(missing_ok=True)
            raise BadInput(f"no face found in {video}", "training videos must show the actor's face")
        solved = solve(track, SolveOptions())
        tmp_npz = cache / f".{key}.tmp-{os.getpid()}.npz"
        np.savez(tmp_npz, times=track.times, detected=track.detected, arkit=solved.arkit,
                 neutral_frames=solved.neutral_frames, image_size=np.array([info.width, info.height]))
        os.replace(tmp_lm, lm)
        os.replace(tmp_npz, npz)
    doc = np.load(npz)
    return TrackRecord(doc["times"], doc["detected"].astype(bool), doc["arkit"], np.load(lm, mmap_mode="r"),
                       tuple(int(v) for v in doc["image_size"]), doc["neutral_frames"], video)


def clip_record(clip: ClipSource, cache: Path, reporter: Reporter) -> TrackRecord:
    record = take_record(clip.take) if clip.take is not None else None
    if record is not None:
        return record
    if clip.video is None:
        raise BadInput(f"clip {clip.name} has curves but no video to learn from",
                       "set inputs.video.path in its take.json, or put the video beside the curves "
                       "(same name for a text file, inside the folder for a take)")
    return tracked_record(clip.video, cache, reporter)


def crops_for(record: TrackRecord, size: int, cache: Path) -> np.ndarray:
    if record.video is None or record.image_size is None:
        raise BadInput("face crops need the clip's video and its frame size",
                       "set inputs.video.path in take.json, or train without --backbone")
    key = f"crops{size}-{file_sha256(record.video)[:24]}-{len(record.times)}"
    out = cache / f"{key}.npy"
    if out.is_file():
        return np.load(out, mmap_mode="r")
    log.info("cropping faces of %s", record.video.name)
    return extract_crops(record.video, record.landmarks, record.image_size, size, out)


def video_clip(clip: ClipSource, config: dict, rig: str, cache: Path, reporter: Reporter) -> VideoClip:
    labels = read_labels(clip, rig)
    record = clip_record(clip, cache, reporter)
    feats = frame_features(record, config)
    # the overlap of media and labels (label time + offset = media time), on the model's grid
    start = max(record.times[0], labels.times[0] + clip.offset)
    end = min(record.times[-1], labels.times[-1] + clip.offset)
    if end - start < 2.0 / config["fps"]:
        raise BadInput(f"clip {clip.name}: the curves and the video do not overlap in time "
                       f"(video {record.times[0]:.2f}-{record.times[-1]:.2f}s, curves "
                       f"{labels.times[0] + clip.offset:.2f}-{labels.times[-1] + clip.offset:.2f}s)",
                       "check inputs.video.offset in take.json, or that the curves belong to this video")
    grid = uniform_grid(start, end, config["fps"])
    crops = crops_for(record, config["crop_size"], cache) if config.get("backbone") else None
    return VideoClip(clip.name, grid, resample_rows(record.times, feats, grid).astype(np.float16),
                     resample_rows(labels.times + clip.offset, labels.values, grid).astype(np.float32),
                     labels.mask, nearest_index(record.times, grid), crops)


# ---------------------------------------------------------------------------------------------------
# Audio clips: 16 kHz samples + labels on the output grid
# ---------------------------------------------------------------------------------------------------

@dataclass
class AudioClip:
    name: str
    samples: np.ndarray          # (S,) float32 16 kHz, normalised as the model expects
    targets: np.ndarray          # (T, C) at the model's fps, frame k at k / fps seconds of the audio
    mask: np.ndarray
    emotion: str


def prepare_samples(samples: np.ndarray, normalize: bool) -> np.ndarray:
    x = np.asarray(samples, np.float32)
    if normalize:
        x = (x - x.mean()) / np.sqrt(x.var() + 1e-7)
    return x.astype(np.float32)


def audio_clip(clip: ClipSource, config: dict, rig: str, default_emotion: str) -> AudioClip:
    source = clip.audio or clip.video
    if source is None:
        raise BadInput(f"clip {clip.name} has curves but no audio to learn from",
                       "set inputs.audio.path (or inputs.video.path of a video with sound) in its take.json, "
                       "or put a .wav beside the curves with the same name")
    labels = read_labels(clip, rig)
    audio = load_audio(source, check_silence=False)
    fps = config["fps"]
    # audio time = label time + offset; output frame k sits at k / fps in the audio
    end = min(audio.duration, labels.times[-1] + clip.offset)
    start = max(0.0, labels.times[0] + clip.offset)
    if end - start < 0.5:
        raise BadInput(f"clip {clip.name}: the curves and the audio overlap by less than 0.5 s",
                       "check inputs.video.offset in take.json, or that the curves belong to this recording")
    first, last = int(np.ceil(start * fps)), int(np.floor(end * fps))
    grid = np.arange(first, last + 1) / fps
    targets = resample_rows(labels.times + clip.offset, labels.values, grid).astype(np.float32)
    samples = audio.samples[int(round(first / fps * audio.rate)): int(round((last + 1) / fps * audio.rate))]
    return AudioClip(clip.name, prepare_samples(samples, config["normalize_audio"]), targets, labels.mask,
                     clip.emotion or default_emotion)
