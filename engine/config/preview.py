"""Options of the preview video (the single source of its defaults; imported by engine.config, so light)."""
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
