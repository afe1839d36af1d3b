"""Synthetic take folders in the engine's format, for the Maya-side tests and the apply benchmark."""
from __future__ import annotations

import json
import os
import wave
from typing import Callable, Dict, List, Optional, Sequence

import numpy as np

from fake_maya import REPO, faceboard_table


class HeadPose:
    """head_pose.csv as the engine writes it (engine/export/take.py): `angles(times)` -> (N, 3) yaw, pitch,
    roll in degrees, `translation(times)` -> (N, 3) cm (default: still), `detected(times)` -> (N,) bool
    (default: all), and the neutral frames' times (take.json tracking.neutral_frames)."""

    COLUMNS = ["detected", "tx_cm", "ty_cm", "tz_cm", "yaw_deg", "pitch_deg", "roll_deg"]

    def __init__(self, angles: Callable[[np.ndarray], np.ndarray], neutral_times: Sequence[float] = (0.0,),
                 translation: Optional[Callable[[np.ndarray], np.ndarray]] = None,
                 detected: Optional[Callable[[np.ndarray], np.ndarray]] = None) -> None:
        self.angles = angles
        self.neutral_times = list(neutral_times)
        self.translation = translation or (lambda t: np.tile([0.5, -1.0, -45.0], (len(t), 1)))
        self.detected = detected or (lambda t: np.ones(len(t), bool))

    def write(self, path: str, times: np.ndarray) -> List[float]:
        table = np.column_stack([times, self.detected(times).astype(float), self.translation(times),
                                 self.angles(times)])
        np.savetxt(path, table, delimiter=",", header=",".join(["time"] + self.COLUMNS), comments="",
                   fmt=["%.6f"] + ["%.6g"] * len(self.COLUMNS))
        return self.neutral_times


def board_curves(rig: str, times: np.ndarray) -> np.ndarray:
    """(samples x 174) smooth curves, each inside its attribute's range (a sine per attribute)."""
    table = faceboard_table(rig)
    lows = np.array([a["min"] for a in table])
    highs = np.array([a["max"] for a in table])
    frequency = 0.3 + 0.05 * np.arange(len(table))
    phase = np.arange(len(table)) * 0.7
    wave_ = np.sin(2 * np.pi * frequency[None, :] * times[:, None] + phase[None, :])
    return (lows + highs) / 2 + (highs - lows) / 2 * 0.9 * wave_


def arkit_names() -> List[str]:
    with open(os.path.join(REPO, "engine", "rig", "data", "arkit.json")) as handle:
        return json.load(handle)["names"]


def livelink_csv_order() -> List[str]:
    with open(os.path.join(REPO, "engine", "rig", "data", "arkit.json")) as handle:
        return json.load(handle)["livelink_csv_order"]


def timecode(seconds: float, start: float = 3600.0) -> str:
    total = start + seconds
    frames = (total % 1.0) * 60.0
    whole = int(total)
    return "%02d:%02d:%02d:%06.3f" % (whole // 3600, (whole // 60) % 60, whole % 60, frames)


def write_take(folder: str, rig: str = "mh4", fps: float = 60.0, seconds: float = 2.0,
               times: Optional[np.ndarray] = None, values: Optional[np.ndarray] = None,
               names: Optional[Sequence[str]] = None, audio: bool = True, arkit: bool = True,
               video: Optional[str] = None,
               arkit_values: Optional[Callable[[np.ndarray], Dict[str, np.ndarray]]] = None,
               head: Optional[HeadPose] = None) -> str:
    """A take folder: take.json, faceboard.csv (+ arkit.csv, audio.wav, head_pose.csv). Returns the folder."""
    os.makedirs(folder)
    if times is None:
        times = np.arange(int(round(seconds * fps)) + 1) / fps
    names = list(names) if names is not None else [a["attr"] for a in faceboard_table(rig)]
    if values is None:
        values = board_curves(rig, times)[:, :len(names)]
    table = np.column_stack([times, values])
    np.savetxt(os.path.join(folder, "faceboard.csv"), table, delimiter=",", header=",".join(["time"] + names),
               comments="", fmt=["%.6f"] + ["%.6g"] * len(names))
    files = {"faceboard": "faceboard.csv"}
    if arkit:
        _write_arkit(os.path.join(folder, "arkit.csv"), times, arkit_values)
        files["arkit"] = "arkit.csv"
    if audio:
        _write_wav(os.path.join(folder, "audio.wav"), float(times[-1]))
        files["audio"] = "audio.wav"
    tracking: Dict[str, object] = {}
    if head is not None:
        tracking["neutral_frames"] = head.write(os.path.join(folder, "head_pose.csv"), times)
        files["head_pose"] = "head_pose.csv"
    info = {"format": "faceretarget-take/1", "rig": rig, "fps": fps, "frame_count": len(times),
            "duration": float(times[-1]), "inputs": {"video": {"path": video or "", "sha256": ""}},
            "options": {}, "engine": {"version": "test"}, "timings": {}, "warnings": [], "files": files,
            "tracking": tracking}
    with open(os.path.join(folder, "take.json"), "w") as handle:
        json.dump(info, handle, indent=1)
    return folder


def _write_arkit(path: str, times: np.ndarray,
                 arkit_values: Optional[Callable[[np.ndarray], Dict[str, np.ndarray]]]) -> None:
    order = livelink_csv_order()
    given = arkit_values(times) if arkit_values else {}
    with open(path, "w") as handle:
        handle.write(",".join(["Timecode", "BlendShapeCount"] + order) + "\n")
        for row, t in enumerate(times):
            values = []
            for column, name in enumerate(order):
                camel = name[0].lower() + name[1:]
                value = given[camel][row] if camel in given else 0.5 + 0.4 * np.sin(t * (1 + column * 0.1))
                values.append("%.10f" % value)
            handle.write(",".join([timecode(float(t)), "61"] + values) + "\n")


def _write_wav(path: str, seconds: float, rate: int = 16000) -> None:
    samples = (np.sin(2 * np.pi * 220 * np.arange(int(rate * seconds)) / rate) * 8000).astype("<i2")
    with wave.open(path, "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(rate)
        handle.writeframes(samples.tobytes())
