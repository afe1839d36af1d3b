"""Options of the preview stage: the review video, comparisons and plots (the single source of their
defaults; imported by engine.config and the preview CLI, so light)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass
class PreviewOptions:
    width: int = 1280
    height: int = 720
    head_model: Path | None = None        # ICT-FaceKit npz; None: $FACERETARGET_HEAD_MODEL, else the built-in head
    head_renderer: str = "auto"           # "auto" (GL over EGL, else software), "gl" or "soft"
    strip_seconds: float = 6.0            # seconds of curves visible in the scrolling strip
    codec: str = "libx264"
    crf: int = 23                         # H.264 constant quality (lower: better, bigger)
    preset: str = "superfast"             # x264 speed preset: 25 % less CPU than "veryfast" (bench/preview.py),
                                          # ~3 Mbit/s at 1280x720: plenty for a review video
    audio: bool = True                    # mux the take's audio (or the source video's audio track)
    video: Path | None = None             # the source video, when it has moved since the take was made


@dataclass
class CompareOptions:
    labels: tuple[str, str] = ("original", "render")
    offset: float = 0.0           # seconds into the left video where the right one starts
    height: int = 720
    audio: str = "left"           # "left", "right" or "none"
    codec: str = "libx264"
    crf: int = 23


# The curves `plot` draws unless told otherwise: jaw, blinks, smile, brows.
KEY_CHANNELS = ("CTRL_C_jaw.ty", "CTRL_L_eye_blink.ty", "CTRL_R_eye_blink.ty", "CTRL_L_mouth_cornerPull.ty",
                "CTRL_R_mouth_cornerPull.ty", "CTRL_L_mouth_lipsTogetherU.ty")


@dataclass
class PlotOptions:
    channels: tuple[str, ...] = KEY_CHANNELS
    start: float | None = None
    end: float | None = None
    overlay: bool = False
    dpi: int = 200
    title: str | None = None
    width_in: float = 7.0          # a two-column figure width
    row_height_in: float = 1.1
