"""The take folder: the engine's output and the only thing the Maya side reads.

Everything is written into a temporary sibling folder, take.json last, and the folder is renamed into
place only when complete; a failed or cancelled run removes its temporary folder, so a folder with the
take's name is always a whole take.
"""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np

from engine.errors import BadInput
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


def write_curves_csv(path: Path, times: np.ndarray, names: list[str], values: np.ndarray,
                     value_format: str = "%.6g") -> None:
    """`time,<names>` then one row per sample."""
    table = np.column_stack([times, values])
    header = ",".join(["time", *names])
    np.savetxt(path, table, delimiter=",", header=header, comments="", fmt=["%.6f"] + [value_format] * len(names))


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
