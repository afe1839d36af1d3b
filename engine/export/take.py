"""The take folder: the engine's output and the only thing the Maya side reads. Every take (a video's, an
ARKit recording's, a FLAME sequence's, an audio-only one) is written here: the same curve files
(`write_take_files`) and a take.json with the same keys (`take_record`, TAKE_KEYS).

Everything is written into a temporary sibling folder, take.json last, and the folder is renamed into
place only when complete; a failed or cancelled run removes its temporary folder, so a folder with the
take's name is always a whole take.
"""
from __future__ import annotations

import json
import os
import platform
import shutil
from pathlib import Path

import numpy as np

import engine
from engine.errors import BadInput
from engine.export.livelink import write_livelink_csv
from engine.export.rigmapper import rigmapper_rate, write_rigmapper_csv
from engine.hashing import file_sha256  # noqa: F401  (re-exported: takes record input hashes)

TAKE_FORMAT = "faceretarget-take/1"
TAKE_FILES = {
    "faceboard": "faceboard.csv",
    "raw_curves": "raw_curves.csv",
    "arkit": "arkit.csv",
    "head_pose": "head_pose.csv",
    "landmarks": "landmarks.npy",
    "rigmapper": "rigmapper.csv",      # Unreal RigMapper CSV of the raw curves (engine.export.rigmapper)
}
# head_pose.csv after its `time,detected`: the head's translation, then yaw (about Y), pitch (about X) and
# roll (about Z) in the camera frame (engine.track.head_pose reads them from MediaPipe's matrix).
HEAD_POSE_COLUMNS = ["tx_cm", "ty_cm", "tz_cm", "yaw_deg", "pitch_deg", "roll_deg"]
# Every take.json holds these keys (null where a source has nothing to say), "format" first.
TAKE_KEYS = ("format", "kind", "rig", "fps", "source_fps", "frame_count", "source_frame_count", "duration",
             "time_sampling", "rigmapper_fps", "inputs", "options", "actor", "engine", "tracking", "lipsync",
             "learned", "timings", "warnings", "files", "files_absent")


def write_curves_csv(path: Path, times: np.ndarray, names: list[str], values: np.ndarray,
                     value_format: str = "%.6g") -> None:
    """`time,<names>` then one row per sample."""
    table = np.column_stack([times, values])
    header = ",".join(["time", *names])
    np.savetxt(path, table, delimiter=",", header=header, comments="", fmt=["%.6f"] + [value_format] * len(names))


def write_take_files(folder: Path, times: np.ndarray, curves, arkit: np.ndarray, head_pose: np.ndarray,
                     detected: np.ndarray, rig_fps: float | None, eyes: np.ndarray | None = None) -> dict[str, str]:
    """The take's curve files at `times`: face board and raw curves (`curves`: engine.rig.retarget.RigCurves),
    the 52 ARKit scores with the head's (and, where measured, the eyes') angles as a Live Link CSV, the head
    pose (degrees, with the `detected` flag) and the RigMapper CSV. Returns {key: file name} written."""
    write_curves_csv(folder / TAKE_FILES["faceboard"], times, curves.faceboard_names, curves.faceboard)
    write_curves_csv(folder / TAKE_FILES["raw_curves"], times, curves.raw_names, curves.raw)
    write_livelink_csv(folder / TAKE_FILES["arkit"], times, arkit, head=np.deg2rad(head_pose[:, 3:6]), eyes=eyes)
    write_curves_csv(folder / TAKE_FILES["head_pose"], times, ["detected", *HEAD_POSE_COLUMNS],
                     np.column_stack([detected.astype(float), head_pose]))
    write_rigmapper_csv(folder / TAKE_FILES["rigmapper"], times, curves.raw_names, curves.raw, rig_fps)
    return {key: name for key, name in TAKE_FILES.items() if key != "landmarks"}


def take_record(*, kind: str, rig: str, times: np.ndarray, fps: float | None, source_fps: float | None,
                source_frame_count: int, fps_out: float | None, rig_fps: float | None, inputs: dict, options: dict,
                tracking: dict, timings: dict, warnings: list, files: dict, files_absent: dict | None = None,
                actor: dict | None = None, lipsync: dict | None = None, learned: dict | None = None,
                engine_extra: dict | None = None) -> dict:
    """take.json (without "format", which TakeWriter.commit puts first): the same keys for every kind of take.
    `fps` is the rate of the take's rows (--fps-out, else the source's), `source_fps` the source's own."""
    record = {
        "kind": kind,
        "rig": rig,
        "fps": fps,
        "source_fps": source_fps,
        "frame_count": len(times),
        "source_frame_count": source_frame_count,
        "duration": float(times[-1]) if len(times) else 0.0,
        "time_sampling": f"uniform {fps_out} fps" if fps_out else "source frame times",
        "rigmapper_fps": rigmapper_rate(rig_fps, times),
        "inputs": inputs,
        "options": options,
        "actor": actor,
        "engine": {"version": engine.__version__, "python": platform.python_version(), **(engine_extra or {})},
        "tracking": tracking,
        "lipsync": lipsync,
        "learned": learned,
        "timings": timings,
        "warnings": warnings,
        "files": dict(files),
        "files_absent": dict(files_absent or {}),
    }
    assert tuple(record) == TAKE_KEYS[1:], "take_record and TAKE_KEYS must list the same keys"
    return record


def read_curves_csv(path: Path) -> tuple[np.ndarray, list[str], np.ndarray]:
    """(times, names, values) of a curves CSV written by write_curves_csv."""
    with open(path) as handle:
        names = handle.readline().strip().split(",")[1:]
    table = np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2)
    return table[:, 0], names, table[:, 1:]


class TakeWriter:
    """Context manager: `with TakeWriter(out) as w: w.path / "faceboard.csv" ...; w.commit(meta)`."""

    def __init__(self, out: Path, overwrite: bool = False):
        self.out = Path(out).absolute()
        self.overwrite = overwrite
        check_output_folder(self.out, overwrite)
        self.path = self.out.with_name(f".{self.out.name}.tmp-{os.getpid()}")
        self._committed = False

    def __enter__(self) -> "TakeWriter":
        if self.path.exists():
            shutil.rmtree(self.path)
        self.path.mkdir(parents=True)
        return self

    def commit(self, meta: dict) -> Path:
        """Write take.json and move the folder into place."""
        meta = {"format": TAKE_FORMAT, **meta}
        (self.path / "take.json").write_text(json.dumps(meta, indent=1, default=_json_default) + "\n")
        if self.out.exists():
            old = self.out.with_name(f".{self.out.name}.old-{os.getpid()}")
            os.replace(self.out, old)
            os.replace(self.path, self.out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(self.path, self.out)
        self._committed = True
        return self.out

    def __exit__(self, exc_type, exc, tb) -> None:
        if not self._committed:
            shutil.rmtree(self.path, ignore_errors=True)


def check_output_folder(out: Path, overwrite: bool) -> None:
    """Refuse, before any work, an output that exists (unless overwriting a take) or can't be written."""
    if out.exists():
        if not overwrite:
            raise BadInput(f"output folder already exists: {out}",
                           "choose a new --out folder, or pass --overwrite to replace the take")
        if not out.is_dir() or (any(out.iterdir()) and not (out / "take.json").is_file()):
            raise BadInput(f"refusing to overwrite {out}: it is not a take folder",
                           "choose a new --out folder")
    parent = out.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BadInput(f"cannot create the folder for the take: {parent} ({exc.strerror})",
                       "choose a folder you can write to") from exc
    if not os.access(parent, os.W_OK):
        raise BadInput(f"cannot write in {parent}", "choose a folder you can write to")


def _json_default(value):
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
