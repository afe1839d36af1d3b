"""Syllable peaks: the loudness peaks of the vowels' band, a count of syllables that needs no acoustic model.

The aligner's acoustic model can explain a short word said twice no worse than one word stretched over both,
or than silence (Festival's 80 ms "the" said again scores within 150 of either), but each syllable still
shows as its own peak of loudness with a dip before the next. Loudness is measured 10 ms at a time in the
band of the vowels' formants, 800-3000 Hz: nasals are voiced and as loud as vowels overall, but their murmur
lies below it, so "in the" keeps its dip (5 dB over 300-3000 Hz, 13 dB here); fricatives and breath are quieter
than vowels there.

numpy only, not scipy.signal's filters and find_peaks: that import costs ~0.9 s and ~75 MB in every process
aligning speech, more than the counting itself on a 10-minute recording.
"""
from __future__ import annotations

import numpy as np

from engine.audio.io import SAMPLE_RATE

VOICE_BAND_HZ = (800.0, 3000.0)
PEAK_HOP_S = 0.01
PEAK_WINDOW_S = 0.02           # Hann window: two hops, so a 10-20 ms dip between syllables is kept
BLOCK_FRAMES = 500             # 5 s of frames at a time: ~4 MB of spectra, whatever the length
# the CMU dictionary's vowels (pocketsphinx's en-us phones): each is the nucleus of one syllable
VOWELS = frozenset({"AA", "AE", "AH", "AO", "AW", "AY", "EH", "ER", "EY", "IH", "IY", "OW", "OY", "UH", "UW"})


def syllable_peaks(samples: np.ndarray, start: float, below_peak_db: float, min_prominence_db: float,
                   rate: int = SAMPLE_RATE) -> np.ndarray:
    """Times (s, from `start`) of the vowel band's loudness peaks that rise `min_prominence_db` above the dips
    on either side of them and are within `below_peak_db` of the audio's 90th-percentile level (quieter ones
    are noise or breath, not syllables)."""
    levels = np.round(band_levels_db(samples, rate), 1)   # a steady vowel's ripple (0.01 dB) is one flat top
    if len(levels) < 3:
        return np.zeros(0)
    peaks = prominent_peaks(levels, np.percentile(levels, 90) - below_peak_db, min_prominence_db)
    return start + peaks * PEAK_HOP_S


def band_levels_db(samples: np.ndarray, rate: int = SAMPLE_RATE) -> np.ndarray:
    """Level (dBFS) of VOICE_BAND_HZ in each PEAK_HOP_S frame (a Hann window of PEAK_WINDOW_S centred on it)."""
    hop, win = int(rate * PEAK_HOP_S), int(rate * PEAK_WINDOW_S)
    count = int(np.ceil(len(samples) / hop))
    if count == 0:
        return np.zeros(0)
    padded = np.concatenate([np.zeros(win // 2), np.asarray(samples, np.float64), np.zeros(win)])
    window = np.hanning(win)
    freqs = np.fft.rfftfreq(win, 1.0 / rate)
    band = (freqs >= VOICE_BAND_HZ[0]) & (freqs < VOICE_BAND_HZ[1])
    scale = 2.0 / ((window ** 2).sum() * win)   # one-sided spectrum -> the band's mean power per sample
    levels = np.empty(count)
    for first in range(0, count, BLOCK_FRAMES):
        n = min(BLOCK_FRAMES, count - first)
        frames = np.lib.stride_tricks.sliding_window_view(padded[first * hop:(first + n - 1) * hop + win], win)[::hop]
        power = (np.abs(np.fft.rfft(frames * window, axis=1)[:, band]) ** 2).sum(axis=1) * scale
        levels[first:first + n] = 10.0 * np.log10(power + 1e-12)
    return levels


def prominent_peaks(levels: np.ndarray, height: float, min_prominence: float) -> np.ndarray:
    """Indices of the local maxima of `levels` at least `height` high whose prominence is `min_prominence` or
    more: how far each rises above the higher of the lowest points between it and the nearest higher level on
    either side (or the end), as scipy.signal.peak_prominences defines it, but with ties settled: of two equal
    peaks the first counts and the second stops at it (scipy counts both over the dip between them). A flat top
    counts once, at its start."""
    inner = levels[1:-1]
    maxima = np.flatnonzero((inner > levels[:-2]) & (inner >= levels[2:]) & (inner >= height)) + 1
    found = []
    for p in maxima:
        top = levels[p]
        left = levels[:p][::-1]
        right = levels[p + 1:]
        left_higher, right_higher = np.flatnonzero(left >= top), np.flatnonzero(right > top)
        left_base = left[:left_higher[0]].min() if len(left_higher) else left.min()
        right_base = right[:right_higher[0]].min() if len(right_higher) else right.min()
        if top - max(left_base, right_base) >= min_prominence:
            found.append(p)
    return np.asarray(found, int)
