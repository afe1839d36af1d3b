"""Voice-activity segmentation from the level of 10 ms frames.

The threshold adapts to the recording: it sits between the noise floor (a low percentile of the frame
levels) and the speech level (a high percentile). Short dips are bridged, short blips dropped, segments
padded, and segments longer than `max_segment_s` are split at their quietest frame, because pocketsphinx's
aligner degrades on long utterances. A recording without enough contrast between its loud and quiet
frames (steady noise, a tone, silence) has no speech.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.audio.io import Audio, frame_rms_db

HOP_S = 0.01


@dataclass
class VadOptions:
    floor_percentile: float = 10.0
    speech_percentile: float = 95.0
    threshold_share: float = 0.3       # threshold = floor + share * (speech - floor) ...
    min_margin_db: float = 6.0         # ... and at least this far above the floor
    min_contrast_db: float = 12.0      # speech level must stand this far above the floor
    min_speech_s: float = 0.08
    min_silence_s: float = 0.25        # shorter pauses are bridged
    pad_s: float = 0.08
    max_segment_s: float = 20.0


@dataclass(frozen=True)
class Segment:
    start: float
    end: float

    @property
    def duration(self) -> float:
        return self.end - self.start


def speech_segments(audio: Audio, options: VadOptions | None = None) -> list[Segment]:
    """Speech segments of `audio` (seconds), empty when it has no speech."""
    options = options or VadOptions()
    db = frame_rms_db(audio.samples, audio.rate, HOP_S)
    floor = float(np.percentile(db, options.floor_percentile))
    speech = float(np.percentile(db, options.speech_percentile))
    if speech - floor < options.min_contrast_db:
        return []
    threshold = floor + max(options.min_margin_db, options.threshold_share * (speech - floor))
    active = db > threshold
    runs = _runs(active)
    # bridge short pauses, then drop short blips
    merged: list[list[int]] = []
    for a, b in runs:
        if merged and (a - merged[-1][1]) * HOP_S < options.min_silence_s:
            merged[-1][1] = b
        else:
            merged.append([a, b])
    kept = [(a, b) for a, b in merged if (b - a) * HOP_S >= options.min_speech_s]
    duration = audio.duration
    segments: list[Segment] = []
    for a, b in kept:
        start = max(0.0, a * HOP_S - options.pad_s)
        end = min(duration, b * HOP_S + options.pad_s)
        if segments and start < segments[-1].end:
            start = segments[-1].end
        for piece in _split_long(db, start, end, options.max_segment_s):
            segments.append(piece)
    return segments


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    edges = np.flatnonzero(np.diff(np.concatenate([[0], mask.astype(np.int8), [0]])))
    return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2])]


def _split_long(db: np.ndarray, start: float, end: float, max_s: float) -> list[Segment]:
    if end - start <= max_s:
        return [Segment(start, end)]
    # split at the quietest 100 ms window in the middle half of the segment
    a, b = int((start + (end - start) * 0.25) / HOP_S), int((start + (end - start) * 0.75) / HOP_S)
    window = np.convolve(db[a:b], np.ones(10) / 10, mode="same")
    cut = (a + int(np.argmin(window))) * HOP_S
    return _split_long(db, start, cut, max_s) + _split_long(db, cut, end, max_s)


def group_segments(segments: list[Segment], max_chunk_s: float) -> list[list[Segment]]:
    """Consecutive segments grouped into chunks no longer than `max_chunk_s` from first start to last
    end, cut at the longest pauses first."""
    if not segments:
        return []
    span = segments[-1].end - segments[0].start
    if span <= max_chunk_s or len(segments) == 1:
        return [segments]
    pauses = [segments[i + 1].start - segments[i].end for i in range(len(segments) - 1)]
    cut = int(np.argmax(pauses)) + 1
    return group_segments(segments[:cut], max_chunk_s) + group_segments(segments[cut:], max_chunk_s)


def split_at_pauses(segments: list[Segment], min_pause_s: float, max_chunk_s: float) -> list[list[Segment]]:
    """Consecutive segments grouped into utterances: cut at every pause of at least `min_pause_s`, and
    utterances longer than `max_chunk_s` cut further at their longest pauses (`group_segments`)."""
    runs: list[list[Segment]] = []
    for segment in segments:
        if runs and segment.start - runs[-1][-1].end < min_pause_s:
            runs[-1].append(segment)
        else:
            runs.append([segment])
    return [chunk for run in runs for chunk in group_segments(run, max_chunk_s)]
