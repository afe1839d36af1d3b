"""Unreal's RigMapper CSV: `curve_name, frame_number, value`, one row per curve per frame.

This is the text format of Unreal's RigMapper editor subsystem (`URigMapperEditorSubsystem::ConvertCsv*`,
UE 5.6+), which imports curves onto an AnimSequence or a Control Rig section of a MetaHuman face and can
remap them through RigMapper definitions. Its reader skips the first line, removes every space, splits each
line at commas into exactly three fields, and reads the frame number as an integer (`Atoi`) and the value as
a float (`Atof`); its writer prints the header `curve_name, frame_number, value` and rows `%s, %d, %f`,
frame by frame, every curve of a frame before the next frame. We write the same bytes its writer would.

Frame numbers count frames at a fixed rate that the file itself does not carry: Unreal takes it from the
target sequence (or asks for it when it makes a new one). The take records it in take.json as
`rigmapper_fps`: the `--fps-out` rate when given, else the video's own frame rate. Samples that do not fall
on that grid (variable-frame-rate phone videos) are linearly resampled onto it, so every frame from 0 to the
last one has every curve.
"""
from __future__ import annotations

from dataclasses import dataclass
from itertools import repeat
from pathlib import Path

import numpy as np

from engine.export.text_table import FIELD, TextFile, formatted_columns, row_blocks

HEADER = "curve_name, frame_number, value"
ROW_FORMAT = "%s, %d, %f"       # Unreal's writer; the value's part:
VALUE_FORMAT = "%f"
FRAME_MARK = "\x00"             # where a line's frame number goes in a frame's line template
# A sample closer than this (in frames) to a grid frame is taken as lying on it (float times, 1/fps steps).
ON_GRID_TOL = 1e-3


@dataclass
class RigMapperCurves:
    frames: np.ndarray       # (F,) int frame numbers, ascending
    names: list[str]         # curve names in first-seen order
    values: np.ndarray       # (F, C) float


def rigmapper_rate(fps: float | None, times: np.ndarray) -> float:
    """The frame rate of the file: `fps` when known, else the median spacing of the sample times."""
    if fps and fps > 0:
        return float(fps)
    steps = np.diff(np.asarray(times, float))
    if steps.size == 0 or not np.median(steps) > 0:
        raise ValueError("cannot choose a frame rate: give fps, or at least two increasing sample times")
    return float(1.0 / np.median(steps))


def to_frame_grid(times: np.ndarray, values: np.ndarray, fps: float) -> tuple[np.ndarray, np.ndarray]:
    """(frame numbers 0..last, values on them): the samples themselves when they lie on the grid,
    otherwise each curve linearly interpolated at frame / fps (held flat before the first sample)."""
    times = np.asarray(times, float)
    values = np.asarray(values, float).reshape(len(times), -1)
    if len(times) == 0:
        return np.zeros(0, int), values
    position = times * fps
    last = int(round(position[-1]))
    frames = np.arange(last + 1)
    if len(times) == last + 1 and np.all(np.abs(position - frames) < ON_GRID_TOL):
        return frames, values.copy()
    grid = frames / fps
    return frames, np.stack([np.interp(grid, times, values[:, c]) for c in range(values.shape[1])], axis=1)


def write_rigmapper_csv(path: str | Path, times: np.ndarray, names: list[str], values: np.ndarray,
                        fps: float | None) -> float:
    """Write `values` (N, C) sampled at `times` (seconds) as a RigMapper CSV at `fps`; return the rate used."""
    values = np.asarray(values, float)
    if values.shape != (len(times), len(names)):
        raise ValueError(f"values must have shape ({len(times)}, {len(names)}), not {values.shape}")
    rate = rigmapper_rate(fps, times)
    frames, grid_values = to_frame_grid(times, values, rate)
    with RigMapperCsv(path, names, rate) as table:
        table.write_frames(frames, grid_values)
    return rate


class RigMapperCsv(TextFile):
    """A RigMapper CSV written block by block; `write` takes samples already on the file's frame grid (an
    audio-only take's), `write_frames` frame numbers and their values."""

    def __init__(self, path: str | Path, names: list[str], fps: float):
        super().__init__(path, encoding="utf-8", newline="\n")
        self.names, self.fps = _checked_names(names), fps
        self.handle.write(HEADER + "\n")

    def write(self, times: np.ndarray, values: np.ndarray) -> None:
        self.write_frames(grid_frames(times, self.fps), values)

    def write_frames(self, frames: np.ndarray, values: np.ndarray) -> None:
        values = np.asarray(values, np.float64).reshape(len(frames), len(self.names))
        for rows in row_blocks(len(frames)):
            columns = formatted_columns(values[rows], VALUE_FORMAT)
            # a frame's lines (`ROW_FORMAT` per curve): values that hold throughout the block written in, the
            # frame number filled in per frame (one replace in C), the other values by one `%`
            lines = "".join(f"{name.replace('%', '%%')}, {FRAME_MARK}, "
                            f"{column.replace('%', '%%') if isinstance(column, str) else FIELD}\n"
                            for name, column in zip(self.names, columns))
            varying = [c for c in columns if not isinstance(c, str)]
            for frame, fields in zip(np.asarray(frames[rows]).tolist(), zip(*varying) if varying else repeat(())):
                self.handle.write(lines.replace(FRAME_MARK, str(frame)) % fields)



def _checked_names(names: list[str]) -> list[str]:
    names = list(names)
    bad = [n for n in names if not n or any(c in n for c in ", \r\n" + FRAME_MARK)]
    if bad:
        raise ValueError(f"curve names cannot hold commas, spaces or line breaks: {bad[:5]}")
    return names


def grid_frames(times: np.ndarray, fps: float) -> np.ndarray:
    """The frame numbers of samples that lie on the grid at `fps`, one frame after another."""
    position = np.asarray(times, float) * fps
    frames = np.round(position).astype(np.int64)
    if np.any(np.abs(position - frames) >= ON_GRID_TOL) or np.any(np.diff(frames) != 1):
        raise ValueError(f"the samples are not consecutive frames at {fps} fps")
    return frames


def read_rigmapper_csv(path: str | Path) -> RigMapperCurves:
    """Read a RigMapper CSV the way Unreal does (spaces removed, three fields a line, first line skipped),
    into a dense table; a curve missing at some frame is an error here (Unreal would interpolate it)."""
    rows: list[tuple[str, int, float]] = []
    with open(path, encoding="utf-8") as handle:
        header = handle.readline().replace(" ", "").strip()
        if header != HEADER.replace(" ", ""):
            raise ValueError(f"{path}: not a RigMapper CSV (first line {header!r})")
        for number, line in enumerate(handle, start=2):
            parts = line.replace(" ", "").strip().split(",")
            if parts == [""]:
                continue
            if len(parts) != 3:
                raise ValueError(f"{path}: line {number} has {len(parts)} fields, expected 3")
            rows.append((parts[0], int(parts[1]), float(parts[2])))
    names = list(dict.fromkeys(name for name, _, _ in rows))
    frames = np.array(sorted({frame for _, frame, _ in rows}), int)
    column = {name: i for i, name in enumerate(names)}
    row_of = {frame: i for i, frame in enumerate(frames)}
    values = np.full((len(frames), len(names)), np.nan)
    for name, frame, value in rows:
        values[row_of[frame], column[name]] = value
    if np.isnan(values).any():
        raise ValueError(f"{path}: some curves are missing at some frames")
    return RigMapperCurves(frames, names, values)
