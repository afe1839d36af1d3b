"""Reading and writing take folders (the engine's output; the only thing the Maya side reads).

A take folder holds take.json (metadata), faceboard.csv (`time,` + 174 face-board attributes, one row
per sample, time in seconds, possibly non-uniform), arkit.csv (Live Link Face CSV), raw_curves.csv and
head_pose.csv. Pure Python + numpy: never imports maya.
"""
from __future__ import annotations

import csv
import json
import os
import re
import shutil
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

import numpy as np

from . import defaults


class TakeError(Exception):
    """A take folder that cannot be read; the message says what is wrong with it."""


@dataclass
class CurveTable:
    """Named channels sampled at common times: `values` is (samples x channels)."""

    times: np.ndarray
    names: List[str]
    values: np.ndarray

    def column(self, name: str) -> np.ndarray:
        return self.values[:, self.names.index(name)]


@dataclass
class TakeInfo:
    """take.json of a take folder, with the fields the Maya side uses pulled out."""

    folder: str
    rig: str
    fps: float
    frame_count: int
    duration: float
    files: Dict[str, str]
    warnings: List[Dict[str, Any]] = field(default_factory=list)
    raw: Dict[str, Any] = field(default_factory=dict)

    def file(self, key: str, default_name: Optional[str] = None) -> Optional[str]:
        """Absolute path of a file the take lists under `key` (None when the take has no such file)."""
        name = self.files.get(key, default_name)
        if not name:
            return None
        path = os.path.join(self.folder, name)
        return path if os.path.isfile(path) else None

    def audio_path(self) -> Optional[str]:
        """The take's own audio file if it has one, else the source audio it was made from (if it is
        still where it was)."""
        inside = self.file("audio")
        if inside:
            return inside
        source = (self.raw.get("inputs") or {}).get("audio") or {}
        path = source.get("path") if isinstance(source, dict) else None
        return path if path and os.path.isfile(path) else None

    def video_path(self) -> Optional[str]:
        source = (self.raw.get("inputs") or {}).get("video") or {}
        path = source.get("path") if isinstance(source, dict) else None
        return path if path and os.path.isfile(path) else None


def read_take_info(take_dir: str) -> TakeInfo:
    path = os.path.join(take_dir, defaults.TAKE_INFO_FILE)
    if not os.path.isfile(path):
        raise TakeError("not a take folder (no %s): %s" % (defaults.TAKE_INFO_FILE, take_dir))
    try:
        with open(path, "r", encoding="utf-8") as handle:
            doc = json.load(handle)
    except ValueError as exc:
        raise TakeError("%s is not valid JSON: %s" % (path, exc)) from exc
    if not isinstance(doc, dict):
        raise TakeError("%s: not a take description (a JSON object was expected)" % path)
    fmt = str(doc.get("format", ""))
    if not fmt.startswith(defaults.TAKE_FORMAT_FAMILY):
        raise TakeError("%s: unknown take format %r (expected %s)" % (path, fmt, defaults.TAKE_FORMAT))
    try:
        return TakeInfo(
            folder=os.path.abspath(take_dir),
            rig=str(doc.get("rig", "mh4")),
            fps=float(doc.get("fps") or 0.0),
            frame_count=int(doc.get("frame_count") or 0),
            duration=float(doc.get("duration") or 0.0),
            files=dict(doc.get("files") or {}),
            warnings=list(doc.get("warnings") or []),
            raw=doc,
        )
    except (TypeError, ValueError, OverflowError) as exc:
        raise TakeError("%s is damaged: %s" % (path, exc)) from exc


def read_curve_csv(path: str, time_column: str = "time") -> CurveTable:
    """A `time,<names...>` CSV (faceboard.csv, raw_curves.csv) as a CurveTable."""
    with open(path, "r", newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        header = [name.strip() for name in next(reader, [])]
        if not header or header[0] != time_column:
            raise TakeError("%s: expected a header starting with %r" % (path, time_column))
        rows = [row for row in reader if row]
    if not rows:
        raise TakeError("%s: no samples after the header" % path)
    table = _rows_to_array(rows, len(header), path, first_line=2)
    return CurveTable(times=table[:, 0], names=header[1:], values=table[:, 1:])


def _rows_to_array(rows: List[List[str]], width: int, path: str, first_line: int) -> np.ndarray:
    try:
        # One float() per cell through map(): the quick way in plain Python (36,000 x 175 in ~2 s).
        table = np.array([list(map(float, row)) for row in rows], dtype=float)
    except ValueError:
        table = None
    if table is None or table.ndim != 2 or table.shape[1] != width:
        for number, row in enumerate(rows, start=first_line):
            if len(row) != width:
                raise TakeError("%s: line %d has %d fields, expected %d" % (path, number, len(row), width))
            for cell in row:
                try:
                    float(cell)
                except ValueError:
                    raise TakeError("%s: line %d: %r is not a number" % (path, number, cell)) from None
        raise TakeError("%s: unreadable table" % path)
    return table


# Live Link Face timecodes: HH:MM:SS:FF.fff, FF counting frames at the timecode rate.
_TIMECODE = re.compile(r"^(\d+):(\d\d):(\d\d):(\d+(?:\.\d+)?)$")
SECONDS_PER_DAY = 86400.0


def parse_timecode(text: str, rate: float = defaults.LIVELINK_TIMECODE_FPS) -> float:
    """"00:01:02:30.500" at 60 fps -> 62.508333... seconds since midnight."""
    match = _TIMECODE.match(text.strip())
    if not match:
        raise ValueError("timecode %r is not HH:MM:SS:FF.fff" % text)
    hours, minutes, seconds, frames = match.groups()
    return int(hours) * 3600.0 + int(minutes) * 60.0 + int(seconds) + float(frames) / rate


def arkit_name(livelink_name: str) -> str:
    """Live Link's PascalCase "EyeBlinkLeft" -> ARKit's camelCase "eyeBlinkLeft"."""
    return livelink_name[:1].lower() + livelink_name[1:]


def read_arkit_csv(path: str, rate: float = defaults.LIVELINK_TIMECODE_FPS) -> CurveTable:
    """A Live Link Face CSV as a CurveTable: times in seconds from the first row, ARKit camelCase
    names. Columns are found by header name (the app's order differs from ARKit's)."""
    with open(path, "r", newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        header = [name.strip() for name in next(reader, [])]
        rows = [row for row in reader if any(cell.strip() for cell in row)]
    if "Timecode" not in header:
        raise TakeError("%s: not a Live Link Face CSV (no Timecode column)" % path)
    if not rows:
        raise TakeError("%s: no samples after the header" % path)
    time_index = header.index("Timecode")
    value_indices = [i for i, name in enumerate(header) if name not in ("Timecode", "BlendShapeCount")]
    seconds = np.array([parse_timecode(row[time_index], rate) for row in rows])
    # A recording that runs past midnight starts again at 00:00:00.
    seconds = seconds + SECONDS_PER_DAY * np.cumsum(np.r_[0.0, np.diff(seconds) < -SECONDS_PER_DAY / 2])
    table = _rows_to_array([[row[i] for i in value_indices] for row in rows], len(value_indices), path, 2)
    return CurveTable(times=seconds - seconds[0], names=[arkit_name(header[i]) for i in value_indices],
                      values=table)


def write_curve_csv(path: str, table: CurveTable) -> None:
    """`time,<names>` then one row per sample, the format the engine writes."""
    with open(path, "w", newline="", encoding="utf-8") as handle:
        handle.write(",".join(["time"] + list(table.names)) + "\n")
        for time, row in zip(table.times.tolist(), table.values.tolist()):
            handle.write("%.6f," % time + ",".join("%.6g" % v for v in row) + "\n")


def write_take(out_dir: str, info: Dict[str, Any], faceboard: CurveTable, overwrite: bool = False) -> str:
    """Write a take folder (take.json + faceboard.csv) under a temporary name and rename it into place
    when complete, so a failure never leaves a half take that looks whole. Returns the folder."""
    out_dir = os.path.abspath(out_dir)
    if os.path.exists(out_dir):
        if not overwrite:
            raise TakeError("output folder already exists: %s" % out_dir)
        if not os.path.isfile(os.path.join(out_dir, defaults.TAKE_INFO_FILE)) and os.listdir(out_dir):
            raise TakeError("refusing to overwrite %s: it is not a take folder" % out_dir)
    parent, name = os.path.split(out_dir)
    if not os.path.isdir(parent):
        raise TakeError("the folder for the take does not exist: %s" % parent)
    temp = os.path.join(parent, ".%s.tmp-%d" % (name, os.getpid()))
    shutil.rmtree(temp, ignore_errors=True)
    os.makedirs(temp)
    try:
        write_curve_csv(os.path.join(temp, defaults.FACEBOARD_FILE), faceboard)
        doc = dict(info)
        doc["format"] = defaults.TAKE_FORMAT
        doc.setdefault("files", {})["faceboard"] = defaults.FACEBOARD_FILE
        with open(os.path.join(temp, defaults.TAKE_INFO_FILE), "w", encoding="utf-8") as handle:
            json.dump(doc, handle, indent=1)
            handle.write("\n")
        _move_into_place(temp, out_dir)
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise
    return out_dir


def _move_into_place(temp: str, out_dir: str) -> None:
    if os.path.exists(out_dir):
        parent, name = os.path.split(out_dir)
        old = os.path.join(parent, ".%s.old-%d" % (name, os.getpid()))
        os.rename(out_dir, old)
        os.rename(temp, out_dir)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.rename(temp, out_dir)
