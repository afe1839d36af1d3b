"""The live loop: capture -> track -> online solve -> Live Link UDP packet, one frame at a time.

Latency is measured per frame from the moment the frame became available (`Captured.captured_at`: a
camera frame read, or a file frame released at its due time with `--realtime`) to the moment its datagram
left the socket.
"""
from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass, field
from typing import Callable, TextIO

import numpy as np

from engine.errors import BadInput
from engine.config.live import LiveOptions
from engine.live.sender import LiveLinkSender, parse_address
from engine.live.solver import OnlineSolver
from engine.live.sources import Captured, FrameSource, VideoFileSource, open_source
from engine.protocol import Reporter
from engine.track.landmarker import FaceTracker, TrackerOptions
from engine.media.video import probe
from engine.track.run_tracker import expected_frames

STAGE = "live"


@dataclass
class FrameRecord:
    index: int            # source frame index
    time: float           # source time (s)
    frame: int            # Live Link frame number sent
    detected: bool
    latency_ms: float     # capture -> send
    track_ms: float       # of which the tracker
    sent_at: float = 0.0  # time.perf_counter() when the datagram left


@dataclass
class LiveStats:
    source: str
    rate: float
    frames: list[FrameRecord] = field(default_factory=list)
    dropped: int = 0
    wall_s: float = 0.0
    interrupted: bool = False

    @property
    def sent(self) -> int:
        return len(self.frames)

    def summary(self) -> dict:
        latency = np.array([f.latency_ms for f in self.frames]) if self.frames else np.zeros(1)
        track = np.array([f.track_ms for f in self.frames]) if self.frames else np.zeros(1)
        span = self.frames[-1].time - self.frames[0].time if len(self.frames) > 1 else 0.0
        sending = self.frames[-1].sent_at - self.frames[0].sent_at if len(self.frames) > 1 else 0.0
        return {
            "source": self.source,
            "rate": self.rate,
            "frames_sent": self.sent,
            "frames_dropped": self.dropped,
            "face_found": sum(f.detected for f in self.frames),
            "latency_median_ms": round(float(np.median(latency)), 2),
            "latency_p95_ms": round(float(np.percentile(latency, 95)), 2),
            "latency_max_ms": round(float(latency.max()), 2),
            "track_median_ms": round(float(np.median(track)), 2),
            "send_fps": round((self.sent - 1) / sending, 2) if sending > 0 else 0.0,
            "source_fps": round((self.sent - 1) / span, 2) if span > 0 else 0.0,
            "wall_s": round(self.wall_s, 3),
            "interrupted": self.interrupted,
        }


class FrameLog:
    """One line per frame on stdout: text for a person, a JSON event with --progress json."""

    def __init__(self, mode: str, enabled: bool, stream: TextIO | None = None):
        self.json = mode == "json"
        self.enabled = enabled
        self.stream = stream or sys.stdout

    def frame(self, record: FrameRecord) -> None:
        if not self.enabled:
            return
        if self.json:
            line = json.dumps({"event": "frame", "index": record.index, "time": round(record.time, 4),
                               "frame": record.frame, "detected": record.detected,
                               "latency_ms": round(record.latency_ms, 2), "track_ms": round(record.track_ms, 2)})
        else:
            face = "face" if record.detected else "----"
            line = (f"frame {record.frame:>9d}  t={record.time:8.3f}s  {face}  latency {record.latency_ms:6.1f} ms"
                    f"  (track {record.track_ms:5.1f} ms)")
        self.stream.write(line + "\n")
        self.stream.flush()

    def summary(self, stats: LiveStats) -> None:
        doc = stats.summary()
        if self.json:
            self.stream.write(json.dumps({"event": "live_summary", **doc}) + "\n")
        else:
            self.stream.write(
                f"\nsent {doc['frames_sent']} frames ({doc['frames_dropped']} dropped, face in "
                f"{doc['face_found']}) from {doc['source']}\n"
                f"latency capture->send: median {doc['latency_median_ms']} ms, p95 {doc['latency_p95_ms']} ms, "
                f"max {doc['latency_max_ms']} ms (tracker median {doc['track_median_ms']} ms); "
                f"{doc['send_fps']} frames/s sent\n")
        self.stream.flush()


def validate(options: LiveOptions) -> None:
    if (options.camera is None) == (options.video is None):
        raise BadInput("give exactly one of --camera INDEX or --video FILE")
    if options.realtime and options.video is None:
        raise BadInput("--realtime paces a --video file; a camera is always real time")
    parse_address(options.livelink)
    if not options.subject:
        raise BadInput("the Live Link subject name is empty", "pass --subject NAME")
    if options.max_seconds is not None and options.max_seconds <= 0:
        raise BadInput(f"--seconds {options.max_seconds} must be positive")
    if options.neutral_window_s <= 0:
        raise BadInput("the neutral window must be positive")


def _expected_frames(source: FrameSource, max_seconds: float | None) -> int | None:
    if isinstance(source, VideoFileSource):
        total = expected_frames(probe(source.path))
        if total and max_seconds:
            total = min(total, int(max_seconds * float(source.rate)) + 1)
        return total
    return None


def stream(options: LiveOptions, reporter: Reporter,
           on_frame: Callable[[Captured, np.ndarray, FrameRecord], None] | None = None) -> LiveStats:
    """Stream until the source ends, `max_seconds` pass, or Ctrl+C; return what was sent and how fast."""
    validate(options)
    log = FrameLog(options.progress, options.frame_log)
    show_progress = options.progress == "json" or not options.frame_log
    with open_source(options.camera, options.video, options.realtime, options.camera_fps) as source, \
            LiveLinkSender(options.livelink, options.subject, options.device_id, source.rate,
                           options.timecode_start_s) as sender, \
            FaceTracker(TrackerOptions(model_path=options.model_path)) as tracker:
        stats = LiveStats(source.description, float(source.rate))
        total = _expected_frames(source, options.max_seconds)
        solver = OnlineSolver(options.solve, options.neutral_window_s)
        # The first inference initialises the graph (tens of ms): do it before the clock starts.
        tracker.track(np.zeros((source.height, source.width, 3), np.uint8), 0.0)
        started = time.perf_counter()
        try:
            for captured in source:
                if options.max_seconds is not None and captured.time > options.max_seconds:
                    break
                before = time.perf_counter()
                result = tracker.track(captured.image, captured.time)
                tracked = time.perf_counter()
                values = solver.update(captured.time, result)
                packet = sender.send(captured.time, values)
                sent = time.perf_counter()
                record = FrameRecord(captured.index, captured.time, packet.frame, result.detected,
                                     (sent - captured.captured_at) * 1e3, (tracked - before) * 1e3, sent)
                stats.frames.append(record)
                if on_frame is not None:
                    on_frame(captured, values, record)
                log.frame(record)
                if show_progress:
                    reporter.progress(STAGE, stats.sent, total)
        except KeyboardInterrupt:
            stats.interrupted = True
        stats.wall_s = time.perf_counter() - started
        stats.dropped = source.dropped
        truncated = getattr(source, "truncated", None)
        if truncated is not None:
            reporter.warning("video_truncated", f"the video ends early: {truncated}",
                             frames_read=truncated.frames_read)
    if show_progress:
        reporter.progress(STAGE, stats.sent, stats.sent)
    if stats.dropped:
        reporter.warning("frames_dropped", f"{stats.dropped} frames were dropped because processing was "
                         "slower than the source", dropped=stats.dropped)
    if not stats.frames:
        raise BadInput("no frame was streamed", "check the source shows frames")
    log.summary(stats)
    return stats
