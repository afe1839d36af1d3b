"""H.264 MP4 writing with PyAV: video frames stamped with their source times, audio muxed as AAC.

- `check_encoder(codec)` fails early, before any decoding, with the fix when the PyAV build has no
  such encoder (PyPI's `av` wheels bundle libx264; a PyAV built against a system FFmpeg may not).
- `VideoEncoder.write(rgb, t)` converts RGB to yuv420p with OpenCV and encodes on a worker thread,
  so encoding (which releases the GIL) overlaps with drawing the next frame.
- `AudioSource` streams audio from a file (the take's audio, or the source video's audio track),
  resampled to float planar 1024-sample frames, aligned so that its t = 0 is the video's first frame;
  the encoder pulls it up to each video frame's time, so the MP4 stays interleaved and memory flat.
"""
from __future__ import annotations

import queue
import threading
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from engine.errors import EXIT_MODEL_MISSING, BadInput, EngineError
from engine.media.files import open_media

AAC_FRAME = 1024
AUDIO_RATES = (48000, 44100, 32000, 24000, 22050, 16000)


class EncoderMissing(EngineError):
    """A video or audio encoder this PyAV build lacks (a missing component, like a missing model)."""

    exit_code = EXIT_MODEL_MISSING


def check_encoder(codec: str = "libx264") -> None:
    try:
        av.codec.Codec(codec, "w")
    except Exception as exc:  # UnknownCodecError or a build without encoders
        raise EncoderMissing(
            f"the encoder {codec!r} is not available in this PyAV/FFmpeg build ({exc})",
            "install PyPI's PyAV wheel, which bundles FFmpeg with libx264: "
            "`.venv/bin/pip install --force-reinstall --only-binary=:all: av`; or pass --codec mpeg4 "
            "(larger files, plays everywhere)") from exc


def stream_rate(fps: float) -> Fraction:
    """A frame rate as a small fraction (29.97 -> 30000/1001)."""
    return Fraction(fps).limit_denominator(1001) if fps > 0 else Fraction(30)


class AudioSource:
    """Decoded, resampled audio of `path` (its first audio stream), starting `offset` seconds into the
    output (negative: that much of the audio's start is cut)."""

    def __init__(self, path: Path, offset: float = 0.0):
        self.path = Path(path)
        self.container = open_media(self.path)
        self.stream = self.container.streams.audio[0]
        rate = self.stream.rate or 48000
        self.rate = rate if rate in AUDIO_RATES else 48000
        channels = self.stream.channels or 1
        self.layout = "stereo" if channels >= 2 else "mono"
        self.channels = 2 if channels >= 2 else 1
        self.resampler = av.AudioResampler(format="fltp", layout=self.layout, rate=self.rate)
        self.skip = max(0, int(round(-offset * self.rate)))         # samples to drop at the start
        self.pad = max(0, int(round(offset * self.rate)))           # silence to put first
        self._frames = self._decode()
        self._buffer = np.zeros((self.channels, self.pad), np.float32)
        self._done = False

    @staticmethod
    def start_time(path: Path) -> tuple[float | None, float | None]:
        """(first video frame time, first audio frame time) in seconds, from the container."""
        with open_media(path) as c:
            def first(stream):
                if stream is None:
                    return None
                for packet in c.demux(stream):
                    if packet.pts is not None:
                        return float(packet.pts * stream.time_base)
                return None
            v = first(c.streams.video[0] if c.streams.video else None)
            c.seek(0)
            a = first(c.streams.audio[0] if c.streams.audio else None)
        return v, a

    def _decode(self):
        for frame in self.container.decode(self.stream):
            frame.pts = None
            for out in self.resampler.resample(frame):
                yield out.to_ndarray().reshape(self.channels, -1)
        for out in self.resampler.resample(None):
            yield out.to_ndarray().reshape(self.channels, -1)

    def read(self, n: int) -> np.ndarray | None:
        """Up to n samples (channels, n) float32, or None at the end."""
        while self._buffer.shape[1] < n and not self._done:
            try:
                chunk = next(self._frames)
            except StopIteration:
                self._done = True
                break
            if self.skip:
                cut = min(self.skip, chunk.shape[1])
                chunk, self.skip = chunk[:, cut:], self.skip - cut
            self._buffer = np.concatenate([self._buffer, chunk], axis=1)
        if self._buffer.shape[1] == 0:
            return None
        out, self._buffer = self._buffer[:, :n], self._buffer[:, n:]
        return np.ascontiguousarray(out, dtype=np.float32)

    def close(self) -> None:
        self.container.close()


def source_audio(video: Path | None) -> AudioSource | None:
    """The audio track of a video, aligned to its first video frame; None when it has none."""
    if video is None or not Path(video).is_file():
        return None
    try:
        with open_media(video) as c:
            if not c.streams.audio:
                return None
        v0, a0 = AudioSource.start_time(video)
        return AudioSource(video, offset=(a0 or 0.0) - (v0 or 0.0))
    except av.error.FFmpegError:
        return None


class VideoEncoder:
    """`with VideoEncoder(path, w, h, fps, audio) as enc: enc.write(rgb, t)`; the file is complete on exit."""

    def __init__(self, path: Path, width: int, height: int, fps: float, audio: AudioSource | None = None,
                 codec: str = "libx264", crf: int = 23, preset: str = "veryfast", queue_depth: int = 6):
        if width % 2 or height % 2:
            raise BadInput(f"the output size must be even, got {width}x{height}", "use e.g. 1280x720")
        check_encoder(codec)
        self.path = Path(path)
        self.width, self.height = width, height
        self.container = av.open(str(self.path), mode="w")
        self.rate = stream_rate(fps)
        self.video = self.container.add_stream(codec, rate=self.rate)
        self.video.width, self.video.height = width, height
        self.video.pix_fmt = "yuv420p"
        self.video.time_base = 1 / self.rate
        if codec == "libx264":
            self.video.options = {"crf": str(crf), "preset": preset, "movflags": "+faststart"}
        else:                                   # e.g. mpeg4: no constant-quality mode, give it bits
            self.video.bit_rate = int(width * height * float(self.rate) * 0.15)
        self.audio = self._audio_source = audio
        self.audio_stream = None
        self._audio_samples = 0
        if audio is not None:
            self.audio_stream = self.container.add_stream("aac", rate=audio.rate, layout=audio.layout)
            self.audio_stream.time_base = Fraction(1, audio.rate)
        self._last_pts = -1
        self.frames = 0
        self.end_time = 0.0
        self._queue: queue.Queue = queue.Queue(maxsize=queue_depth)
        self._error: BaseException | None = None
        self._worker = threading.Thread(target=self._run, name="encode", daemon=True)
        self._worker.start()

    def __enter__(self) -> "VideoEncoder":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.close(abort=exc_type is not None)

    def write(self, rgb: np.ndarray, t: float) -> None:
        """Queue one RGB frame shown from time t (seconds from the first frame)."""
        if self._error is not None:
            raise self._error
        pts = max(int(round(t * self.rate)), self._last_pts + 1)
        self._last_pts = pts
        self.frames += 1
        self.end_time = (pts + 1) / float(self.rate)
        yuv = cv2.cvtColor(rgb, cv2.COLOR_RGB2YUV_I420)
        self._queue.put((yuv, pts))

    def _run(self) -> None:
        try:
            while True:
                item = self._queue.get()
                if item is None:
                    return
                yuv, pts = item
                frame = av.VideoFrame.from_ndarray(yuv, format="yuv420p")
                frame.pts = pts
                for packet in self.video.encode(frame):
                    self.container.mux(packet)
                self._feed_audio(pts / float(self.rate))
        except BaseException as exc:  # handed to the producer
            self._error = exc
            while True:   # drain so the producer never blocks
                try:
                    if self._queue.get(timeout=0.5) is None:
                        return
                except queue.Empty:
                    continue

    def _feed_audio(self, until: float) -> None:
        source = self.audio
        if source is None:
            return
        limit = int(round(until * source.rate))
        while self._audio_samples < limit:      # whole AAC frames: may run < 1024 samples past `until`
            chunk = source.read(AAC_FRAME)
            if chunk is None or chunk.shape[1] < AAC_FRAME:
                self.audio = None                # the audio ended (a short last frame is allowed once)
            if chunk is None:
                return
            frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout=source.layout)
            frame.sample_rate = source.rate
            frame.pts = self._audio_samples
            self._audio_samples += chunk.shape[1]
            for packet in self.audio_stream.encode(frame):
                self.container.mux(packet)

    def close(self, abort: bool = False) -> None:
        if self._worker.is_alive():
            self._queue.put(None)
            self._worker.join()
        try:
            if not abort and self._error is None:
                self._feed_audio(self.end_time)
                for packet in self.video.encode(None):
                    self.container.mux(packet)
                if self.audio_stream is not None:
                    for packet in self.audio_stream.encode(None):
                        self.container.mux(packet)
        finally:
            self.container.close()
            if self._audio_source is not None:
                self._audio_source.close()
        if self._error is not None:
            raise self._error
