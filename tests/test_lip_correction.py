"""engine/audio/correction.py's pure helpers: the frame-by-frame jaw agreement behind `--lip-correction auto`."""
from __future__ import annotations

import numpy as np

from engine.audio.correction import local_jaw_correlation


def test_local_jaw_correlation_finds_the_hidden_stretch():
    """The video's jaw follows the audio's, then stays still for a second (a hand over the mouth), then follows
    again: agreement ~1 where it follows, 0 where it is still while the audio moves."""
    t = np.arange(0, 4, 1 / 25)
    audio = 0.2 + 0.15 * np.sin(2 * np.pi * 3 * t)
    video = audio.copy()
    hidden = (t >= 1.5) & (t < 2.5)
    video[hidden] = 0.02
    local = local_jaw_correlation(audio, video, half=5)
    assert np.all(local[t < 1.2] > 0.99) and np.all(local[t > 2.8] > 0.99)
    assert np.all(local[(t >= 1.75) & (t < 2.25)] == 0.0)     # the window lies wholly in the hidden stretch
    # the hidden mouth's last traces (the chin still moves a little, in step): no agreement either
    video[hidden] = 0.02 + 0.1 * (audio[hidden] - 0.2)
    traced = local_jaw_correlation(audio, video, half=5)
    assert np.all(traced[(t >= 1.75) & (t < 2.25)] == 0.0) and np.all(traced[t < 1.2] > 0.99)


def test_local_jaw_correlation_says_nothing_where_neither_moves_and_sees_opposition():
    t = np.arange(0, 2, 1 / 30)
    still = np.full(len(t), 0.1)
    assert np.isnan(local_jaw_correlation(still, still, half=6)).all()
    assert np.isnan(local_jaw_correlation(still + 0.01 * (t > 1), still, half=6)).all()   # below moving_std
    wave = 0.3 + 0.2 * np.sin(2 * np.pi * 2 * t)
    assert (local_jaw_correlation(wave, 0.6 - wave, half=6) < -0.99).all()            # opening against closing
    assert len(local_jaw_correlation(wave[:2], wave[:2], half=6)) == 2                 # short input: defined length
