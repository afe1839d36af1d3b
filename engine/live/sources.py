"""Where live frames come from: a camera (OpenCV), or a video file played as fast as it decodes or paced
in real time as if it were a camera.

Every source yields `Captured` frames: the source time of the frame (seconds from the first frame) and
the moment it became available to the engine (`time.perf_counter()`), from which latency is measured.
A camera, and a file with `realtime`, never queue: a frame that arrives while the previous one is still
being processed replaces any frame still waiting, which is counted as dropped. Latency then stays at one
frame's processing time instead of growing without bound when processing is slower than the camera.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Iterator

import numpy as np

from engine.errors import BadInput
from engine.media.video import TruncatedVideo, iter_frames, probe, read_ahead

DEFAULT_CAMERA_FPS = 30.0   # when a camera does not report its rate
CAMERA_READ_FAILURES = 30   # consecutive failed reads before a camera is taken as gone


@dataclass
class Captured:
    index: int              # source frame index (file: decode order; camera: frames read)
    time: float             # source time in seconds from the first frame
    image: np.ndarray       # H x W x 3 uint8 RGB
    captured_at: float      # time.perf_counter() when the frame became available


NTSC_RATES = (Fraction(24000, 1001), Fraction(30000, 1001), Fraction(60000, 1001))
NTSC_TOL = 0.01     # fps: a camera or container saying 29.97 means 30000/1001


def rate_fraction(fps: float | None, fallback: float = DEFAULT_CAMERA_FPS) -> Fraction:
    """A frame rate as the fraction Live Link carries (25 -> 25/1, 29.97 -> 30000/1001)."""
    if not fps or fps <= 0 or not np.isfinite(fps):
        fps = fallback
    for rate in NTSC_RATES:
        if abs(fps - float(rate)) < NTSC_TOL:
            return rate
    return Fraction(fps).limit_denominator(1001)


class LatestFrame:
    """A one-frame mailbox between a capturing thread and the consumer; newer frames replace older ones."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._item: Captured | None = None
        self._closed = False
        self._error: BaseException | None = None
        self.dropped = 0

    def put(self, item: Captured) -> None:
        with self._cond:
            if self._item is not None:
                self.dropped += 1
            self._item = item
            self._cond.notify()

    def close(self, error: BaseException | None = None) -> None:
        with self._cond:
            self._closed, self._error = True, error
            self._cond.notify()

    def get(self) -> Captured | None:
        """The newest frame, waiting for one; None once the producer has finished and nothing is left."""
        with self._cond:
            while self._item is None and not self._closed:
                self._cond.wait(0.5)
            item, self._item = self._item, None
            if item is None and self._error is not None:
                raise self._error
            return item


class FrameSource:
    """Iterate to get frames; `close()` stops any capturing thread. `rate` is the nominal frame rate."""

    rate: Fraction
    description: str
    width: int
    height: int

    def __iter__(self) -> Iterator[Captured]:
        raise NotImplementedError

    @property
    def dropped(self) -> int:
        return 0

    def close(self) -> None:
        pass

    def __enter__(self) -> "FrameSource":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class _ThreadedSource(FrameSource):
    """A producer thread that puts frames into a LatestFrame mailbox."""

    def __init__(self) -> None:
        self._box = LatestFrame()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _produce(self) -> None:
        raise NotImplementedError

    def _run(self) -> None:
        try:
            self._produce()
        except BaseException as exc:  # handed to the consumer
            self._box.close(exc)
        else:
            self._box.close()

    def __iter__(self) -> Iterator[Captured]:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name=f"capture-{type(self).__name__}", daemon=True)
            self._thread.start()
        while True:
            item = self._box.get()
            if item is None:
                return
            yield item

    @property
    def dropped(self) -> int:
        return self._box.dropped

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2.0)


class VideoFileSource(_ThreadedSource):
    """A video file: every frame as fast as it decodes, or (`realtime`) each released at its own time."""

    def __init__(self, path: Path, realtime: bool = False):
        super().__init__()
        info = probe(Path(path))             # BadInput for missing, empty or unreadable files
        self.path, self.realtime = info.path, realtime
        self.rate = rate_fraction(info.fps)
        self.width, self.height = info.width, info.height
        self.description = f"{info.path.name} ({info.width}x{info.height}, {float(self.rate):g} fps" + (
            ", real time)" if realtime else ", as fast as possible)")
        self.truncated: TruncatedVideo | None = None

    def __iter__(self) -> Iterator[Captured]:
        if self.realtime:
            yield from super().__iter__()
            return
        frames = read_ahead(iter_frames(self.path))
        try:
            for frame in frames:
                if self._stop.is_set():
                    return
                yield Captured(frame.index, frame.time, frame.image, time.perf_counter())
        except TruncatedVideo as exc:
            self.truncated = exc
        finally:
            _close(frames)

    def _produce(self) -> None:
        start: float | None = None
        frames = read_ahead(iter_frames(self.path), depth=2)
        try:
            for frame in frames:
                if start is None:
                    start = time.perf_counter() - frame.time
                due = start + frame.time
                while not self._stop.is_set():
                    wait = due - time.perf_counter()
                    if wait <= 0:
                        break
                    time.sleep(min(wait, 0.05))
                if self._stop.is_set():
                    return
                self._box.put(Captured(frame.index, frame.time, frame.image, time.perf_counter()))
        except TruncatedVideo as exc:
            self.truncated = exc
        finally:
            _close(frames)


class CameraSource(_ThreadedSource):
    """An OpenCV camera (`cv2.VideoCapture(index)`), read on its own thread so frames never queue up."""

    def __init__(self, index: int, fps: float | None = None):
        super().__init__()
        import cv2

        self._cv2 = cv2
        self.index = index
        capture = _quietly(cv2, lambda: cv2.VideoCapture(index))   # OpenCV logs every backend it tries
        if not capture.isOpened():
            capture.release()
            raise BadInput(f"cannot open camera {index}",
                           "check that a camera is connected and not used by another program, that this "
                           "user may open it (Linux: /dev/video*, the 'video' group; macOS: camera "
                           "permission for the terminal), try another --camera index, or stream a file "
                           "with --video FILE --realtime")
        if fps:
            capture.set(cv2.CAP_PROP_FPS, float(fps))
        capture.set(cv2.CAP_PROP_BUFFERSIZE, 1)   # where supported: no stale frames in the driver
        ok, first = capture.read()
        if not ok or first is None:
            capture.release()
            raise BadInput(f"camera {index} opened but delivers no frames",
                           "close other programs using it, or try another --camera index")
        self._capture = capture
        self._first = first
        reported = capture.get(cv2.CAP_PROP_FPS)
        self.rate = rate_fraction(fps or reported)
        self.height, self.width = first.shape[:2]
        self.description = f"camera {index} ({self.width}x{self.height}, {float(self.rate):g} fps)"

    def _produce(self) -> None:
        cv2 = self._cv2
        start = time.perf_counter()
        self._box.put(Captured(0, 0.0, cv2.cvtColor(self._first, cv2.COLOR_BGR2RGB), start))
        index, failures = 1, 0
        while not self._stop.is_set():
            ok, image = self._capture.read()
            now = time.perf_counter()
            if not ok or image is None:
                failures += 1
                if failures >= CAMERA_READ_FAILURES:
                    raise BadInput(f"camera {self.index} stopped delivering frames", "check its connection")
                time.sleep(0.01)
                continue
            failures = 0
            self._box.put(Captured(index, now - start, cv2.cvtColor(image, cv2.COLOR_BGR2RGB), now))
            index += 1

    def close(self) -> None:
        super().close()
        self._capture.release()


def _close(frames: Iterator) -> None:
    """Stop a decoding generator (and its read-ahead thread) now rather than when it is collected."""
    close = getattr(frames, "close", None)
    if close is not None:
        close()


def _quietly(cv2, make):
    """Call `make` with OpenCV's own logging silenced (our error says what failed), then restore it."""
    logging = getattr(getattr(cv2, "utils", None), "logging", None)
    if logging is None:
        return make()
    level = logging.getLogLevel()
    logging.setLogLevel(logging.LOG_LEVEL_SILENT)
    try:
        return make()
    finally:
        logging.setLogLevel(level)


def open_source(camera: int | None, video: Path | None, realtime: bool, camera_fps: float | None = None) -> FrameSource:
    if (camera is None) == (video is None):
        raise BadInput("give exactly one of --camera INDEX or --video FILE")
    if video is not None:
        return VideoFileSource(Path(video), realtime)
    assert camera is not None
    return CameraSource(camera, camera_fps)
