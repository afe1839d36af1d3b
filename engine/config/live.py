"""Options of `faceretarget-engine live`: the single source of its defaults (the CLI reads them from here)."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from engine.config import SolveOptions

LIVELINK_PORT = 11111           # Unreal's Live Link Face source listens here unless told otherwise


@dataclass
class LiveOptions:
    camera: int | None = None                  # OpenCV camera index; exactly one of camera / video
    video: Path | None = None                  # a file streamed instead of a camera
    realtime: bool = False                     # pace --video at its own frame times, dropping frames
                                               # that come while the previous one is still processed
    livelink: str = f"127.0.0.1:{LIVELINK_PORT}"   # HOST:PORT of Unreal's Live Link Face source
    subject: str = "FaceRetarget"              # the Live Link subject name Unreal shows
    device_id: str | None = None               # None: "FaceRetarget-<host name>" (stable per machine)
    max_seconds: float | None = None           # stop after this much source time (None: to the end)
    # Live Link frame numbers are timecode frames at the stream rate counted from midnight; the stream's
    # first frame gets this time of day in seconds (None: the wall clock's when the stream starts).
    timecode_start_s: float | None = None
    # The running neutral: `run`'s rule (population resting model, lowered where the frames hold rest)
    # over the frames seen in the last `neutral_window_s` seconds.
    neutral_window_s: float = 60.0
    camera_fps: float | None = None            # ask the camera for this rate (None: its default)
    model_path: Path | None = None             # face_landmarker.task; None: resolve
    frame_log: bool = True                     # one line per frame (latency); False: summary only
    progress: str = "human"
    solve: SolveOptions = field(default_factory=SolveOptions)
