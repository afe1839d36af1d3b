"""Track a whole video: stream frames (decode overlapped with inference) into a FaceTrack."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from engine.media.video import ReadAhead, TruncatedVideo, VideoInfo, iter_frames
from engine.protocol import Reporter
from engine.track.facetrack import FaceTrack, LandmarkSink
from engine.track.landmarker import FaceTracker, TrackerOptions

STAGE = "track"
READ_AHEAD_FRAMES = 8     # decoded frames buffered ahead of the tracker (memory: 8 x 6 MB at 1080p)


def expected_frames(info: VideoInfo) -> int | None:
    if info.frame_count:
        return info.frame_count
    if info.duration and info.fps:
        return int(round(info.duration * info.fps))
    return None


def _loaded_tracker(options: TrackerOptions | None, timer) -> FaceTracker:
    """A FaceTracker, its load timed as `model_load` when there is a timer."""
    if timer is None:
        return FaceTracker(options)
    with timer.stage("model_load"):
        return FaceTracker(options)


class RowBlocks:
    """Per-frame rows appended into fixed-size blocks: a long clip costs its rows' bytes, not a numpy object
    (and a list slot) per frame, which also leaves the heap less fragmented. Rows are kept in `dtype`
    (float32 for MediaPipe's float32 scores: half the bytes); a row that `dtype` cannot hold exactly widens
    what is kept, so no value is ever rounded."""

    BLOCK_FRAMES = 1024

    def __init__(self, shape: tuple[int, ...] = (), dtype=np.float64):
        self.shape, self.dtype = shape, np.dtype(dtype)
        self.blocks: list[np.ndarray] = []
        self.count = 0

    def append(self, row) -> None:
        row = np.asarray(row)
        if not np.can_cast(row.dtype, self.dtype):
            self.dtype = np.result_type(self.dtype, row.dtype)
            self.blocks = [block.astype(self.dtype) for block in self.blocks]
        at = self.count % self.BLOCK_FRAMES
        if at == 0:
            self.blocks.append(np.empty((self.BLOCK_FRAMES, *self.shape), self.dtype))
        self.blocks[-1][at] = row
        self.count += 1

    def array(self, dtype=None) -> np.ndarray:
        """Every row, in `dtype` (default: as kept)."""
        out = np.empty((self.count, *self.shape), dtype or self.dtype)
        for n, block in enumerate(self.blocks):
            start = n * self.BLOCK_FRAMES
            out[start:start + self.BLOCK_FRAMES] = block[:min(self.BLOCK_FRAMES, self.count - start)]
        return out


def track_video(info: VideoInfo, landmarks_path: Path, reporter: Reporter,
                options: TrackerOptions | None = None, timer=None) -> FaceTrack:
    """Run the face tracker over every frame of the video; frames without a face are kept as gaps.
    timer: a StageTimer-like object (engine.pipeline.stages) that gets the model's load time as `model_load`."""
    times, detected, confidence = RowBlocks(), RowBlocks(dtype=bool), RowBlocks()
    scores, poses = RowBlocks((52,), np.float32), RowBlocks((4, 4))
    total = expected_frames(info)
    sink = LandmarkSink(landmarks_path)
    no_scores = np.full(52, np.nan, np.float32)
    no_pose = np.full((4, 4), np.nan)
    try:
        # Decoding starts before the model loads, so the two overlap.
        with ReadAhead(iter_frames(info.path), depth=READ_AHEAD_FRAMES) as frames, \
                _loaded_tracker(options, timer) as tracker:
            try:
                for frame in frames:
                    result = tracker.track(frame.image, frame.time)
                    times.append(frame.time)
                    detected.append(result.detected)
                    scores.append(result.arkit if result.detected else no_scores)
                    poses.append(result.head_pose if result.detected else no_pose)
                    confidence.append(result.confidence)
                    sink.append(result.landmarks)
                    reporter.progress(STAGE, times.count, max(total or 0, times.count) or None)
            except TruncatedVideo as exc:
                reporter.warning("video_truncated", f"the video ends early: {exc}", frames_read=exc.frames_read)
        reporter.progress(STAGE, times.count, times.count)
        path = sink.finish()
    except BaseException:
        sink.abort()
        raise
    return FaceTrack(times.array(), detected.array(), scores.array(np.float64), poses.array(), confidence.array(), path,
                     image_size=(info.width, info.height))
