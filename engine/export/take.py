"""The take folder: the engine's output and the only thing the Maya side reads. Every take (a video's, an
ARKit recording's, a FLAME sequence's, an audio-only one) is written here: the same curve files
(`write_take_files`) and a take.json with the same keys (`take_record`, TAKE_KEYS).

Everything is written into a temporary sibling folder, take.json last, and the folder is renamed into
place only when complete; a failed or cancelled run removes its temporary folder, so a folder with the
take's name is always a whole take.
"""
from __future__ import annotations

import errno
import glob
import json
import os
import platform
import shutil
import signal
import threading
import warnings
from contextlib import contextmanager
from pathlib import Path

import numpy as np

import engine
from engine.errors import BadInput
from engine.export.beside import BesideTables
from engine.export.livelink import LiveLinkCsv
from engine.export.rigmapper import RigMapperCsv, grid_frames, rigmapper_rate, write_rigmapper_csv
from engine.export.text_table import Closing, TextFile, csv_lines, formatted_columns, row_blocks
from engine.hashing import file_sha256  # noqa: F401  (re-exported: takes record input hashes)
from engine.media.files import reading_input

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
    with CurvesCsv(path, names, value_format) as table:
        table.write(times, values)


class CurvesCsv(TextFile):
    """A `time,<names>` CSV written block by block, as numpy's savetxt would write it in one go."""

    def __init__(self, path: Path, names: list[str], value_format: str = "%.6g"):
        super().__init__(path, encoding="latin1")     # savetxt's encoding and line ends
        self.value_format = value_format
        self.handle.write(",".join(["time", *names]) + "\n")

    def write(self, times: np.ndarray, values: np.ndarray) -> None:
        times = np.asarray(times, np.float64)
        values = np.asarray(values, np.float64).reshape(len(times), -1)
        for rows in row_blocks(len(times)):
            columns = formatted_columns(times[rows, None], "%.6f") + formatted_columns(values[rows], self.value_format)
            self.handle.write(csv_lines(columns, len(times[rows])))



def write_take_files(folder: Path, times: np.ndarray, curves, arkit: np.ndarray, head_pose: np.ndarray,
                     detected: np.ndarray, rig_fps: float | None, eyes: np.ndarray | None = None) -> dict[str, str]:
    """The take's curve files at `times`: face board and raw curves (`curves`: engine.rig.retarget.RigCurves),
    the 52 ARKit scores with the head's (and, where measured, the eyes') angles as a Live Link CSV, the head
    pose (degrees, with the `detected` flag) and the RigMapper CSV. Returns {key: file name} written."""
    rate = rigmapper_rate(rig_fps, times)
    on_grid = _on_grid(times, rate)
    with TakeCurveFiles(folder, curves.faceboard_names, curves.raw_names, rate, rigmapper=on_grid) as files:
        files.write(times, curves, arkit, head_pose, detected, eyes)
    if not on_grid:      # variable frame rate: the RigMapper file resamples the whole take onto its grid
        write_rigmapper_csv(folder / TAKE_FILES["rigmapper"], times, curves.raw_names, curves.raw, rate)
    return files.names


class TakeCurveFiles(Closing):
    """`write_take_files` block by block: `write` appends more frames to every curve file (a long audio-only
    take is animated and written a block at a time). The RigMapper file is written here when the frames lie
    on its grid at `rig_fps` (`rigmapper=False`: its caller writes it). `beside`: the raw-curve files
    (raw_curves.csv and the RigMapper file, over half the formatting) are written by a helper process
    beside this one (export.beside)."""

    def __init__(self, folder: Path, faceboard_names: list[str], raw_names: list[str], rig_fps: float,
                 rigmapper: bool = True, beside: bool = False):
        self.names = {key: name for key, name in TAKE_FILES.items() if key != "landmarks"}
        raw_tables = [(CurvesCsv, (folder / TAKE_FILES["raw_curves"], raw_names))]
        if rigmapper:
            raw_tables.append((RigMapperCsv, (folder / TAKE_FILES["rigmapper"], raw_names, rig_fps)))
        self.raw = BesideTables(raw_tables) if beside else Tables(raw_tables)
        self.faceboard = CurvesCsv(folder / TAKE_FILES["faceboard"], faceboard_names)
        self.arkit = LiveLinkCsv(folder / TAKE_FILES["arkit"])
        self.head_pose = CurvesCsv(folder / TAKE_FILES["head_pose"], ["detected", *HEAD_POSE_COLUMNS])

    def write(self, times: np.ndarray, curves, arkit: np.ndarray, head_pose: np.ndarray, detected: np.ndarray,
              eyes: np.ndarray | None = None) -> None:
        self.raw.write(times, curves.raw)
        self.faceboard.write(times, curves.faceboard)
        self.arkit.write(times, arkit, head=np.deg2rad(head_pose[:, 3:6]), eyes=eyes)
        self.head_pose.write(times, np.column_stack([np.asarray(detected, float), head_pose]))

    def close(self) -> None:
        for table in (self.faceboard, self.arkit, self.head_pose, self.raw):
            table.close()

    def abandon(self) -> None:
        for table in (self.faceboard, self.arkit, self.head_pose, self.raw):
            table.abandon()


class Tables(Closing):
    """Tables (a class with `write(times, values)` and `close()`, and its constructor's arguments) that take
    the same values, written here (export.beside.BesideTables writes them in a helper process)."""

    def __init__(self, tables: list[tuple[type, tuple]]):
        self.tables = [kind(*arguments) for kind, arguments in tables]

    def write(self, times: np.ndarray, values: np.ndarray) -> None:
        for table in self.tables:
            table.write(times, values)

    def close(self) -> None:
        for table in self.tables:
            table.close()


def rigmapper_on_grid(times: np.ndarray, rig_fps: float | None) -> bool:
    """Whether the take's frames lie on its RigMapper file's grid: then every file can be written a block of
    frames at a time (TakeCurveFiles); otherwise the RigMapper file resamples the whole take."""
    return _on_grid(times, rigmapper_rate(rig_fps, times))


def _on_grid(times: np.ndarray, fps: float) -> bool:
    try:
        grid_frames(times, fps)
    except ValueError:
        return False
    return len(times) > 0 and int(round(float(times[0]) * fps)) == 0


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
    """(times, names, values) of a curves CSV written by write_curves_csv (MalformedInput if it is not one)."""
    with reading_input(path, "curves CSV (time,<names>)"):
        with open(path, encoding="utf-8") as handle:
            names = handle.readline().strip().split(",")[1:]
        with warnings.catch_warnings():   # a take without frames is valid: no "input contained no data" on stderr
            warnings.simplefilter("ignore", UserWarning)
            table = np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2)
        if table.size == 0:
            table = np.zeros((0, len(names) + 1))
        if table.shape[1] != len(names) + 1:
            raise ValueError(f"{table.shape[1]} columns in the rows, {len(names) + 1} in the header")
    return table[:, 0], names, table[:, 1:]


# A failed write for one of these reasons is the output location's fault, not the engine's: said in one line.
OUTPUT_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.EFBIG, errno.ENAMETOOLONG}


class TakeWriter:
    """Context manager: `with TakeWriter(out) as w: w.path / "faceboard.csv" ...; w.commit(meta)`.

    One writer per take at a time: a lock file beside the take (`.NAME.lock`, held for the writer's life and
    removed after) makes a second run with the same --out fail at once instead of replacing the first one's
    take. --overwrite never leaves the user without a take: the old take is moved back if the new one cannot
    be put in its place, and a take stranded by a killed run is restored by the next writer."""

    def __init__(self, out: Path, overwrite: bool = False):
        self.out = Path(out).absolute()
        self.overwrite = overwrite
        check_output_folder(self.out, overwrite)
        self.path = self.out.with_name(f".{self.out.name}.tmp-{os.getpid()}")
        self._old = self.out.with_name(f".{self.out.name}.old-{os.getpid()}")
        self._lock: OutputLock | None = None
        self._committed = False

    def __enter__(self) -> "TakeWriter":
        self._lock = OutputLock(self.out.with_name(f".{self.out.name}.lock"))
        try:
            self._clear_leftovers()
            self.path.mkdir(parents=True)
        except BaseException:
            self._lock.release()
            raise
        return self

    def _clear_leftovers(self) -> None:
        """With the lock held no other writer is active: temporary folders of killed runs go, and a take a
        killed --overwrite had moved aside comes back."""
        for stale in self.out.parent.glob(f".{glob.escape(self.out.name)}.tmp-*"):
            shutil.rmtree(stale, ignore_errors=True)
        for stranded in sorted(self.out.parent.glob(f".{glob.escape(self.out.name)}.old-*")):
            if not self.out.exists():
                os.replace(stranded, self.out)
            else:
                shutil.rmtree(stranded, ignore_errors=True)
        check_output_folder(self.out, self.overwrite)   # again: a restored take may now be in the way

    def commit(self, meta: dict) -> Path:
        """Write take.json and move the folder into place."""
        meta = {"format": TAKE_FORMAT, **meta}
        text = json.dumps(meta, indent=1, default=_json_default, allow_nan=False)   # never bare NaN in JSON
        (self.path / "take.json").write_text(text + "\n")
        with signals_deferred():   # a cancel between the two renames would strand the old take
            if self.out.exists():
                os.replace(self.out, self._old)
                try:
                    os.replace(self.path, self.out)
                except BaseException:
                    os.replace(self._old, self.out)
                    raise
            else:
                os.rename(self.path, self.out)
            self._committed = True
        shutil.rmtree(self._old, ignore_errors=True)
        return self.out

    def __exit__(self, exc_type, exc, tb) -> None:
        if not self._committed:
            shutil.rmtree(self.path, ignore_errors=True)
            if self._old.exists() and not self.out.exists():
                os.replace(self._old, self.out)
        if self._lock is not None:
            self._lock.release()
        if isinstance(exc, OSError) and exc.errno in OUTPUT_ERRNOS:
            raise BadInput(f"cannot write the take at {self.out}: {exc.strerror}",
                           "free some space, or choose a folder you can write to") from exc


class OutputLock:
    """An exclusive lock on a file that exists only while it is held (an advisory OS lock, released by the
    OS if the process dies, so a killed run never blocks the next one)."""

    def __init__(self, path: Path):
        self.path = path
        self._handle = None
        for _ in range(10):
            handle = open(path, "a+b")
            if not _try_lock(handle):
                handle.close()
                raise BadInput(f"another run is writing {path.parent / path.name[1:-len('.lock')]}",
                               "wait for it to finish, or choose another --out")
            try:
                same = os.path.samestat(os.fstat(handle.fileno()), os.stat(path))
            except FileNotFoundError:
                same = False
            if same:     # (not a file its last holder had just removed)
                self._handle = handle
                return
            handle.close()
        raise BadInput(f"could not lock {path}", "try again")

    def release(self) -> None:
        if self._handle is None:
            return
        try:
            self.path.unlink()
        except OSError:
            pass    # Windows cannot remove an open file; a lock file left there holds no lock
        self._handle.close()
        self._handle = None


def _try_lock(handle) -> bool:
    try:
        if os.name == "nt":
            import msvcrt   # Windows only

            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
        else:
            import fcntl    # POSIX only

            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except OSError:
        return False


@contextmanager
def signals_deferred():
    """Block SIGINT/SIGTERM in this thread for a few renames (POSIX); delivered when the block ends."""
    if not hasattr(signal, "pthread_sigmask") or threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


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
    if len(os.fsencode(f".{out.name}.tmp-{os.getpid()}")) > 255:
        raise BadInput(f"the take's folder name is too long ({len(os.fsencode(out.name))} bytes): {out.name[:40]}...",
                       "choose a shorter --out name")


def _json_default(value):
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
