"""Small videos made by the tests themselves (PyAV), from shared clips or synthetic pictures."""
from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Iterable

import av
import numpy as np


def write_video(path: Path, frames: Iterable[np.ndarray], fps: float = 30.0,
                times: Iterable[float] | None = None) -> Path:
    """Encode RGB frames as H.264 MP4; `times` (seconds) gives each frame's own timestamp (VFR)."""
    frames = list(frames)
    stamps = list(times) if times is not None else [i / fps for i in range(len(frames))]
    h, w = frames[0].shape[:2]
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=Fraction(fps).limit_denominator(1000))
        stream.width, stream.height, stream.pix_fmt = w - w % 2, h - h % 2, "yuv420p"
        stream.codec_context.time_base = Fraction(1, 1000)
        for image, t in zip(frames, stamps):
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image[: h - h % 2, : w - w % 2]), format="rgb24")
            frame.pts = int(round(t * 1000))
            frame.time_base = Fraction(1, 1000)
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def read_frames(path: Path, count: int) -> list[np.ndarray]:
    """The first `count` frames of a video as RGB arrays."""
    frames = []
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            frames.append(frame.to_ndarray(format="rgb24"))
            if len(frames) == count:
                break
    return frames
