"""`compare`: an original video beside a render made elsewhere (Maya playblast, Unreal movie).

The left video leads: one output frame per left frame, at its time; the right side shows the right
video's frame at the same time (its last frame at or before t - offset; black before it starts, its last
frame held after it ends). Both sides are scaled to the output height; each is labelled. The audio is
the left video's (or the right's when asked, or when the left has none).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from engine.config.preview import CompareOptions
from engine.errors import BadInput
from engine.media.files import check_output_file
from engine.media.video import TruncatedVideo, iter_frames, probe, read_ahead
from engine.preview.encode import AudioSource, VideoEncoder, check_encoder, source_audio
from engine.protocol import Reporter

FONT = cv2.FONT_HERSHEY_SIMPLEX


def _even(x: float) -> int:
    return max(2, int(round(x / 2)) * 2)


def _next(frames):
    """The next frame, or None at the end (a truncated render just ends early)."""
    try:
        return next(frames, None)
    except TruncatedVideo:
        return None


def _label(image: np.ndarray, text: str) -> None:
    scale = max(0.5, image.shape[0] / 900)
    (w, h), base = cv2.getTextSize(text, FONT, scale, 1)
    cv2.rectangle(image, (8, 8), (20 + w, 18 + h + base), (0, 0, 0), -1)
    cv2.putText(image, text, (14, 12 + h), FONT, scale, (255, 255, 255), 1, cv2.LINE_AA)


def compare_videos(left: Path, right: Path, out: Path, options: CompareOptions | None = None,
                   reporter: Reporter | None = None) -> Path:
    options = options or CompareOptions()
    reporter = reporter or Reporter()
    check_output_file(out, (left, right), "comparison video")
    if options.height < 64:
        raise BadInput(f"--height {options.height} is too small", "use e.g. 720")
    check_encoder(options.codec)
    left_info, right_info = probe(left), probe(right)
    h = _even(options.height)
    lw = _even(left_info.width * h / left_info.height)
    rw = _even(right_info.width * h / right_info.height)
    audio = None
    order = {"left": (left, right), "right": (right, left), "none": ()}[options.audio]
    for candidate in order:
        audio = source_audio(candidate)
        if audio is not None:
            if candidate == right and options.offset:
                audio.close()

                v0, a0 = AudioSource.start_time(right)
                audio = AudioSource(right, offset=(a0 or 0.0) - (v0 or 0.0) + options.offset)
            break
    total = left_info.frame_count
    tmp = Path(out).with_name(f".{Path(out).stem}.tmp-{os.getpid()}{Path(out).suffix}")
    canvas = np.zeros((h, lw + rw, 3), np.uint8)
    right_frames = read_ahead(iter_frames(right))
    current = None              # the right frame on screen
    upcoming = _next(right_frames)
    written = 0
    try:
        with VideoEncoder(tmp, lw + rw, h, left_info.fps, audio, codec=options.codec, crf=options.crf) as encoder:
            try:
                for frame in read_ahead(iter_frames(left)):
                    t_right = frame.time - options.offset
                    while upcoming is not None and upcoming.time <= t_right + 1e-4:
                        current, upcoming = upcoming, _next(right_frames)
                    canvas[:, :lw] = cv2.resize(frame.image, (lw, h), interpolation=cv2.INTER_AREA
                                                if frame.image.shape[0] > 2 * h else cv2.INTER_LINEAR)
                    if current is None:
                        canvas[:, lw:] = 0
                    else:
                        canvas[:, lw:] = cv2.resize(current.image, (rw, h), interpolation=cv2.INTER_LINEAR)
                    _label(canvas[:, :lw], options.labels[0])
                    _label(canvas[:, lw:], options.labels[1])
                    cv2.putText(canvas, f"{frame.time:7.2f}s", (lw - 110, h - 12), FONT, 0.5, (255, 255, 255), 1,
                                cv2.LINE_AA)
                    encoder.write(canvas, frame.time)
                    written += 1
                    reporter.progress("compare", written, total)
            except TruncatedVideo as exc:
                reporter.warning("compare_truncated", f"{Path(left).name} ended early: {exc}")
        os.replace(tmp, out)
    finally:
        right_frames.close()
        if tmp.exists():
            tmp.unlink()
    reporter.progress("compare", written, written)
    return Path(out)
