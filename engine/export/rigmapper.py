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
from pathlib import Path

import numpy as np

HEADER = "curve_name, frame_number, value"
ROW_FORMAT = "%s, %d, %f"
FRAME_MARK = "\x00"     # where a line's frame number goes in write_rigmapper_csv's per-frame template
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
    names = list(names)
    values = np.asarray(values, float)
    if values.shape != (len(times), len(names)):
        raise ValueError(f"values must have shape ({len(times)}, {len(names)}), not {values.shape}")
    bad = [n for n in names if not n or any(c in n for c in ", \r\n" + FRAME_MARK)]
    if bad:
        raise ValueError(f"curve names cannot hold commas, spaces or line breaks: {bad[:5]}")
    rate = rigmapper_rate(fps, times)
    frames, grid_values = to_frame_grid(times, values, rate)
    # One template per frame (every curve's line, the frame number filled in once): formatting stays in C,
    # so a long take adds no slow per-value Python loop (a minute at 30 fps is ~450k lines).
    block = "".join(ROW_FORMAT.replace("%s", name.replace("%", "%%")).replace("%d", FRAME_MARK) + "\n"
                    for name in names)
    with open(path, "w", encoding="utf-8", newline="\n") as handle:
        handle.write(HEADER + "\n")
        for frame, row in zip(frames.tolist(), grid_values.tolist()):
            handle.write(block.replace(FRAME_MARK, str(frame)) % tuple(row))
    return rate


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
