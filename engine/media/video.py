"""Streaming video decode with real timestamps (PyAV).

Frames are yielded one at a time with their presentation time in seconds, so variable-frame-rate phone
videos keep their real timing; rotation metadata (phones record sideways and tag the stream) is applied so
that faces are upright. A background thread decodes ahead into a small bounded queue so that decoding
overlaps with face tracking on the other core, and memory stays flat whatever the video's length.
"""
from __future__ import annotations

import queue
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import av
import numpy as np

from engine.errors import BadInput
from engine.media.files import STILL_IMAGE_FORMATS, check_input_file, open_media


@dataclass(frozen=True)
class VideoInfo:
    path: Path
    width: int            # after rotation
    height: int
    rotation: int         # degrees counter-clockwise applied to decoded frames
    fps: float            # average rate (informational; timestamps are the truth)
    duration: float | None
    frame_count: int | None   # container's estimate; None when unknown
    still: bool = False       # a single picture (jpg, png, ...), not a recording


@dataclass
class Frame:
    index: int
    time: float           # seconds from the stream start
    image: np.ndarray     # H x W x 3 uint8 RGB, upright


def probe(path: Path) -> VideoInfo:
    """Open `path` and describe its first video stream, or raise BadInput with a clear reason."""
    path = check_input_file(path, "video")
    try:
        with open_media(path) as container:
            if not container.streams.video:
                raise BadInput(f"no video stream in {path.name}", "give a video file (mp4, mov, mkv, webm, avi)")
            stream = container.streams.video[0]
            first = _first_frame(container, stream)
            rotation = _rotation_of(first)
            h, w = first.height, first.width
            if rotation % 180:
                w, h = h, w
            duration = float(stream.duration * stream.time_base) if stream.duration else (
                container.duration / 1e6 if container.duration else None)
            fps = float(stream.average_rate) if stream.average_rate else 0.0
            still = container.format.name in STILL_IMAGE_FORMATS
            return VideoInfo(path, w, h, rotation, fps, duration, stream.frames or None, still)
    except BadInput:
        raise
    except (av.error.FFmpegError, UnicodeDecodeError, ValueError) as exc:
        raise BadInput(f"cannot read {path.name} as a video: {exc}",
                       "the file is corrupt, truncated or not a video; re-export it") from exc


def _first_frame(container, stream):
    try:
        for frame in container.decode(stream):
            return frame
    except av.error.FFmpegError as exc:
        raise BadInput(f"cannot decode any frame of {Path(container.name).name}: {exc}",
                       "the file is corrupt or truncated; re-export it") from exc
    raise BadInput(f"the video {Path(container.name).name} has no frames", "the file is truncated or empty")


def _rotation_of(frame) -> int:
    """Degrees counter-clockwise to turn the decoded picture upright (from the display matrix)."""
    try:
        return int(round(frame.rotation)) % 360
    except (AttributeError, TypeError):
        return 0


def _upright(image: np.ndarray, rotation: int) -> np.ndarray:
    turns = (rotation // 90) % 4
    return np.ascontiguousarray(np.rot90(image, k=turns)) if turns else image


def iter_frames(path: Path, max_width: int | None = None) -> Iterator[Frame]:
    """Decode `path` frame by frame in presentation order (no read-ahead thread)."""
    with open_media(path) as container:
        stream = container.streams.video[0]
        # One decoding thread: decoding already runs beside the tracker (ReadAhead), and ffmpeg's own
        # frame threads would compete with MediaPipe for the two cores (measured: 1080p run 87 -> 99 fps).
        stream.thread_count = 1
        start = None
        index = 0
        last_time = -1.0
        try:
            for frame in container.decode(stream):
                if frame.pts is None:
                    t = last_time + (1.0 / float(stream.average_rate or 30))
                else:
                    t = float(frame.pts * stream.time_base)
                if start is None:
                    start = t
                t -= start
                if t <= last_time:            # duplicate or out-of-order timestamp: keep time monotonic
                    t = last_time + 1e-3
                last_time = t
                image = frame.to_ndarray(format="rgb24")
                image = _upright(image, _rotation_of(frame))
                yield Frame(index, t, image)
                index += 1
        except av.error.FFmpegError as exc:
            if index == 0:
                raise BadInput(f"cannot decode {Path(path).name}: {exc}", "the file is corrupt; re-export it") from exc
            raise TruncatedVideo(index, str(exc)) from exc


class TruncatedVideo(Exception):
    """Decoding stopped early; the frames before it are good."""

    def __init__(self, frames_read: int, reason: str):
        super().__init__(f"decoding stopped after {frames_read} frames: {reason}")
        self.frames_read = frames_read
        self.reason = reason


_END = object()


class ReadAhead:
    """Decode on a background thread, buffering at most `depth` frames; iterate to consume.

    The thread starts at construction, so decoding the first frames overlaps whatever the caller does
    next (loading the face model). PyAV releases the GIL while decoding, so decode also overlaps
    inference on the other core. Decoder exceptions are re-raised in the consumer; `close()` (or leaving
    a `with` block) stops the thread.
    """

    def __init__(self, frames: Iterator[Frame], depth: int = 8):
        self._buffer: queue.Queue = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._frames = frames
        self._worker = threading.Thread(target=self._produce, name="decode", daemon=True)
        self._worker.start()

    def _produce(self) -> None:
        try:
            for item in self._frames:
                if not self._put(item):
                    return
            self._put(_END)
        except BaseException as exc:  # handed to the consumer, which re-raises it
            self._put(exc)

    def _put(self, item) -> bool:
        while not self._stop.is_set():
            try:
                self._buffer.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def __iter__(self) -> Iterator[Frame]:
        try:
            while True:
                item = self._buffer.get()
                if item is _END:
                    return
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            self.close()

    def close(self) -> None:
        self._stop.set()
        while self._worker.is_alive():
            try:
                self._buffer.get_nowait()
            except queue.Empty:
                self._worker.join(timeout=0.05)

    def __enter__(self) -> "ReadAhead":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def read_ahead(frames: Iterator[Frame], depth: int = 8) -> Iterator[Frame]:
    """`frames` decoded on a background thread (see ReadAhead)."""
    return iter(ReadAhead(frames, depth))
