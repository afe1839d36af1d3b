"""Stretches of a recording aligned on their own: padding, the time each owns, and their record."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.audio.io import Audio
from engine.audio.recognize import TimedPhone
from engine.audio.vad import Segment

CHUNK_PAD_S = 0.25      # the aligner needs ~0.2 s of pause before the first phone to place it


@dataclass
class SpeechSegment:
    start: float
    end: float
    method: str
    words: str = ""
    score: float | None = None
    note: str = ""


def padded_samples(audio: Audio, start: float, end: float) -> np.ndarray:
    """audio.samples[start:end], padded with silence where the span reaches past the recording."""
    rate = audio.rate
    a, b = int(round(start * rate)), int(round(end * rate))
    inside = audio.samples[max(a, 0):min(b, len(audio.samples))]
    return np.concatenate([np.zeros(max(0, -a), np.float32), inside,
                           np.zeros(max(0, b - len(audio.samples)), np.float32)])


def clip_phones(phones: list[TimedPhone], start: float, end: float) -> list[TimedPhone]:
    out = []
    for p in phones:
        a, b = max(p.start, start), min(p.end, end)
        if b > a + 1e-6:
            out.append(TimedPhone(a, b, p.phone, p.word, p.score))
    return out


def clip_bounds(segments: list[Segment], chunk: list[Segment], duration: float) -> tuple[float, float]:
    """A chunk owns the time up to the middle of the pauses that separate it from its neighbours."""
    before, after = _pause_middles(segments, chunk)
    return (0.0 if before is None else before), (duration if after is None else after)


def padded_bounds(segments: list[Segment], chunk: list[Segment], pad_s: float = CHUNK_PAD_S) -> tuple[float, float]:
    """The audio a chunk is aligned on: `pad_s` of pause around it, but only its own half of a shorter pause
    to a neighbour (the aligner then sees none of the neighbour's speech)."""
    before, after = _pause_middles(segments, chunk)
    start, end = chunk[0].start - pad_s, chunk[-1].end + pad_s
    return (start if before is None else max(start, before)), (end if after is None else min(end, after))


def _pause_middles(segments: list[Segment], chunk: list[Segment]) -> tuple[float | None, float | None]:
    i, j = segments.index(chunk[0]), segments.index(chunk[-1])
    before = (segments[i - 1].end + chunk[0].start) / 2 if i > 0 else None
    after = (chunk[-1].end + segments[j + 1].start) / 2 if j + 1 < len(segments) else None
    return before, after
