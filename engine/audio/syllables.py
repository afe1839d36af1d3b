"""Syllable peaks: the loudness peaks of the voice band, a count of syllables that needs no acoustic model.

The aligner's acoustic model can explain a short word said twice no worse than one word stretched over both,
or than silence (Festival's 80 ms "the" said again scores within 150 of either), but each syllable still
shows as its own peak of loudness with a dip before the next. Loudness is measured 10 ms at a time in the
band of the vowels' formants, 800-3000 Hz: nasals are voiced and as loud as vowels overall, but their murmur
lies below it, so "in the" keeps its dip (5 dB over 300-3000 Hz, 13 dB here); fricatives and breath are quieter
than vowels there.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from engine.audio.io import SAMPLE_RATE, frame_rms_db

VOICE_BAND_HZ = (800.0, 3000.0)
PEAK_HOP_S = 0.01
# the CMU dictionary's vowels (pocketsphinx's en-us phones): each is the nucleus of one syllable
VOWELS = frozenset({"AA", "AE", "AH", "AO", "AW", "AY", "EH", "ER", "EY", "IH", "IY", "OW", "OY", "UH", "UW"})


@lru_cache(maxsize=4)
def _voice_band(rate: int):
    from scipy.signal import butter

    return butter(4, VOICE_BAND_HZ, btype="band", fs=rate, output="sos")


def syllable_peaks(samples: np.ndarray, start: float, below_peak_db: float, min_prominence_db: float,
                   rate: int = SAMPLE_RATE) -> np.ndarray:
    """Times (s, from `start`) of the voice band's loudness peaks that rise `min_prominence_db` above the dips
    on either side of them and are within `below_peak_db` of the audio's 90th-percentile level (quieter ones
    are noise or breath, not syllables)."""
    # scipy.signal here, not above: it adds ~75 MB to a process, and few recordings need syllables counted
    from scipy.signal import find_peaks, sosfiltfilt

    if len(samples) < 64:      # too short to filter (and to hold a syllable)
        return np.zeros(0)
    voiced = sosfiltfilt(_voice_band(rate), np.asarray(samples, np.float64))
    levels = frame_rms_db(voiced, rate, hop_s=PEAK_HOP_S, win_s=PEAK_HOP_S)
    peaks, _ = find_peaks(levels, height=np.percentile(levels, 90) - below_peak_db, prominence=min_prominence_db)
    return start + peaks * PEAK_HOP_S
