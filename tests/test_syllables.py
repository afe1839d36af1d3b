"""Syllable peaks (engine/audio/syllables.py) and the places the script aligner counts on them: a word heard
said twice whose second syllable the alignment leaves without a vowel, a stretched word one of whose vowels
holds two syllables, and the words beside a syllable aligned to silence (engine/audio/script_alignment.py)."""
from __future__ import annotations

import numpy as np
import pytest

from engine.audio.recognize import Alignment, TimedPhone, TimedWord
from engine.audio.syllables import syllable_peaks

RATE = 16000


def _speech(vowels, nasals=(), seconds=1.5):
    """`seconds` of audio: vowel-like bursts (harmonics of 150 Hz up to 3 kHz, loud in the voice band) at the
    (start, end) spans in `vowels`, and nasal murmur (150 and 300 Hz only, as loud) at `nasals`."""
    t = np.arange(int(seconds * RATE)) / RATE
    out = np.zeros_like(t)
    vowel = sum(np.sin(2 * np.pi * 150 * k * t) / k for k in range(1, 21))
    nasal = np.sin(2 * np.pi * 150 * t) + np.sin(2 * np.pi * 300 * t)
    for spans, sound in ((vowels, vowel), (nasals, nasal)):
        for a, b in spans:
            inside = (t >= a) & (t < b)
            out[inside] = 0.2 * sound[inside] / np.abs(sound).max()
    return out.astype(np.float32)


def test_each_syllable_is_one_peak_and_a_nasal_between_them_is_a_dip():
    two = syllable_peaks(_speech([(0.2, 0.3), (0.34, 0.42)]), 10.0, 20.0, 10.0)
    assert len(two) == 2 and 10.2 <= two[0] < 10.3 and 10.34 <= two[1] < 10.42
    assert len(syllable_peaks(_speech([(0.2, 0.5)]), 10.0, 20.0, 10.0)) == 1
    # "in the": the nasal is voiced and as loud, but quiet above 800 Hz where the vowels are loud
    joined = syllable_peaks(_speech([(0.2, 0.28), (0.36, 0.44)], nasals=[(0.28, 0.36)]), 0.0, 20.0, 10.0)
    assert len(joined) == 2


def test_prominence_is_scipys_and_equal_peaks_count_once():
    from scipy.signal import find_peaks

    from engine.audio.syllables import prominent_peaks
    rng = np.random.default_rng(0)
    for _ in range(100):       # random walks: no two levels equal, so the definitions agree exactly
        levels = np.cumsum(rng.normal(size=300))
        height = float(np.median(levels))
        expected, _ = find_peaks(levels, height=height, prominence=3.0)
        assert prominent_peaks(levels, height, 3.0).tolist() == expected.tolist()
    # two equal tops 2 dB apart: one syllable (scipy would count both, each measured over the other)
    assert prominent_peaks(np.array([-60.0, -20, -22, -20, -60]), -40.0, 10.0).tolist() == [1]


def test_quiet_sounds_and_silence_hold_no_syllable():
    loud_and_faint = _speech([(0.2, 0.4), (0.8, 1.0)])
    loud_and_faint[int(0.8 * RATE):] *= 0.01          # 40 dB down: breath or noise, not a syllable
    assert len(syllable_peaks(loud_and_faint, 0.0, 20.0, 10.0)) == 1
    assert len(syllable_peaks(np.zeros(RATE, np.float32), 0.0, 20.0, 10.0)) == 0
    assert len(syllable_peaks(np.zeros(10, np.float32), 0.0, 20.0, 10.0)) == 0


def _aligned(*phones, words=()):
    return Alignment([TimedPhone(10.0 + a, 10.0 + b, p, w) for a, b, p, w in phones],
                     [TimedWord(10.0 + a, 10.0 + b, w) for a, b, w in words], -10.0)


def test_each_aligned_vowel_explains_one_syllable_near_it():
    from engine.audio.script_alignment import _explained_by_vowels
    alignment = _aligned((0.0, 0.2, "SIL", ""), (0.2, 0.25, "DH", "the"), (0.25, 0.4, "AH", "the"),
                         (0.4, 0.7, "SIL", ""), (0.7, 0.8, "N", "no"), (0.8, 0.9, "OW", "no"))
    peaks = 10.0 + np.array([0.3, 0.35, 0.55, 0.75, 0.93])
    # the second peak in AH, the one under silence and the one in N are left; OW explains one 30 ms after it
    assert _explained_by_vowels(alignment, peaks).tolist() == [True, False, False, False, True]


HEARD_TWICE = ((10.25, 10.42), (10.58, 10.68))     # where the recogniser heard the copy and the script "the"


def _repeat_job(samples, heard=HEARD_TWICE, words=("in", "the", "the", "morning")):
    from engine.audio.script_alignment import AlignmentJob, HeardRepeat
    repeat = None if heard is None else HeardRepeat((1, 2), heard)
    return AlignmentJob(samples, 10.0, list(words), [[1]], {1}, 300.0, 600.0, 200.0, [heard[0] if heard else None],
                        0.2, 20.0, [repeat], 10.0, 100.0)


_IN_THE_MORNING = [(0.0, 0.1, "SIL", ""), (0.1, 0.18, "IH", "in"), (0.18, 0.25, "N", "in"),
                  (0.25, 0.28, "DH", "the"), (0.28, 0.42, "AH", "the")]
_ONCE = ([0, 2, 3], _aligned(*_IN_THE_MORNING, (0.42, 0.7, "SIL", ""), (0.7, 0.75, "M", "morning"),
                             (0.75, 0.9, "AO", "morning"),
                             words=[(0.1, 0.25, "in"), (0.25, 0.42, "the"), (0.7, 0.9, "morning")]))


_TWICE = ([0, 1, 2, 3], _aligned(*_IN_THE_MORNING, (0.42, 0.58, "SIL", ""), (0.58, 0.6, "DH", "the"),
                                 (0.6, 0.68, "AH", "the"), (0.7, 0.75, "M", "morning"), (0.75, 0.9, "AO", "morning"),
                                 words=[(0.1, 0.25, "in"), (0.25, 0.42, "the"), (0.58, 0.68, "the"),
                                        (0.7, 0.9, "morning")]))


def test_a_word_heard_twice_is_said_where_its_second_syllable_is_left_without_a_vowel(monkeypatch):
    """Festival's 80 ms "the" said again after a pause fits silence better than its own phones (gain -130),
    so the acoustic gain drops it; the recogniser heard it, and its syllable is left to silence."""
    import engine.audio.script_alignment as sa
    twice = _TWICE
    tried = []
    monkeypatch.setattr(sa, "_try_alignment", lambda job, samples, start, dropped: tried.append(dropped) or twice)
    samples = _speech([(0.1, 0.18), (0.25, 0.4), (0.6, 0.66), (0.75, 0.9)])
    assert sa._with_unexplained_speech(_repeat_job(samples), _ONCE) is twice
    assert tried == [set()]
    tried.clear()
    # no second syllable there (a chance word heard), or a group not heard as a repeat: left out
    single = _speech([(0.1, 0.18), (0.25, 0.4), (0.75, 0.9)])
    assert sa._with_unexplained_speech(_repeat_job(single), _ONCE) is _ONCE
    assert sa._with_unexplained_speech(_repeat_job(samples, heard=None), _ONCE) is _ONCE
    assert tried == []


def test_a_copy_that_does_not_take_the_lone_syllable_is_not_said(monkeypatch):
    """Real slow speech: a word drawn out over a second is left to silence next to an "and" the recogniser heard
    twice; the realigned copy lands beside the first "and", not on the slow word, so it would only be a false
    report."""
    import engine.audio.script_alignment as sa
    elsewhere = ([0, 1, 2, 3], _aligned(*_IN_THE_MORNING, (0.42, 0.5, "DH", "the"), (0.5, 0.55, "AH", "the"),
                                        (0.55, 0.7, "SIL", ""), (0.7, 0.75, "M", "morning"),
                                        (0.75, 0.9, "AO", "morning"),
                                        words=[(0.1, 0.25, "in"), (0.25, 0.42, "the"), (0.42, 0.55, "the"),
                                               (0.7, 0.9, "morning")]))
    monkeypatch.setattr(sa, "_try_alignment", lambda job, samples, start, dropped: elsewhere)
    samples = _speech([(0.1, 0.18), (0.25, 0.4), (0.6, 0.66), (0.75, 0.9)])
    assert sa._with_unexplained_speech(_repeat_job(samples), _ONCE) is _ONCE


def test_a_copy_aligned_away_from_where_it_was_heard_is_not_said(monkeypatch):
    """Real speech: the recogniser heard an "and" twice, one of them a second before the other, over a word
    drawn out slowly; the copy the aligner fits takes a breath's syllable instead, nowhere near either."""
    import engine.audio.script_alignment as sa
    monkeypatch.setattr(sa, "_try_alignment", lambda job, samples, start, dropped: _TWICE)
    samples = _speech([(0.1, 0.18), (0.25, 0.4), (0.6, 0.66), (0.75, 0.9)], seconds=2.0)
    far = ((10.25, 10.42), (11.3, 11.45))
    assert sa._with_unexplained_speech(_repeat_job(samples, heard=far), _ONCE) is _ONCE


@pytest.mark.parametrize("gain, vowel_peaks, said", [(137.0, 2, True), (137.0, 1, False), (250.0, 1, True),
                                                      (40.0, 2, False)])
def test_a_stretched_word_whose_vowel_holds_two_syllables_needs_less_gain(monkeypatch, gain, vowel_peaks, said):
    """ "threw the the ball": one stretched AH over both copies gains 137 said twice, under the 200 asked of a
    stretched word alone; the two syllables inside its one vowel make up the difference (100)."""
    import engine.audio.script_alignment as sa
    monkeypatch.setattr(sa, "_repeat_gain", lambda job, chosen, n: gain if n == 1 else -500.0)
    vowels = [(0.1, 0.25), (0.33, 0.4), (0.46, 0.52)][:1 + vowel_peaks]
    job = _repeat_job(_speech(vowels), [], words=("threw", "the", "ball"))
    chosen = ([0, 1, 2], _aligned((0.0, 0.1, "TH", "threw"), (0.1, 0.25, "UW", "threw"), (0.25, 0.3, "DH", "the"),
                                  (0.3, 0.55, "AH", "the"), (0.6, 0.7, "B", "ball"), (0.7, 0.9, "AO", "ball"),
                                  words=[(0.0, 0.25, "threw"), (0.25, 0.55, "the"), (0.6, 0.9, "ball")]))
    task = sa.RepeatJob(0, job, chosen, [1], {0, 1, 2})
    assert sa._best_repeat(task, 1) == (1 if said else None)


def test_confirming_a_repeat_keeps_the_unscripted_words_the_utterance_said(monkeypatch):
    """ "Right okay, a brave knight": the ad-lib (heard "right oak") starts out dropped and is said by the
    loud-audio test; saying "a" twice must realign with it still said, not from the job's starting guess."""
    import engine.audio.script_alignment as sa
    monkeypatch.setattr(sa, "_repeat_gain", lambda job, chosen, n: 500.0 if n == 2 else -500.0)
    tried = []
    monkeypatch.setattr(sa, "_try_alignment", lambda job, samples, start, dropped: tried.append(dropped) or None)
    job = _repeat_job(_speech([(0.1, 0.3)]), heard=None, words=("right", "oak", "a", "brave"))
    job.dropped = {0, 1}
    chosen = ([0, 1, 2, 3], _aligned((0.0, 0.2, "R", "right"), (0.2, 0.4, "OW", "oak"), (0.4, 0.5, "AH", "a"),
                                     (0.5, 0.8, "B", "brave"),
                                     words=[(0.0, 0.2, "right"), (0.2, 0.4, "oak"), (0.4, 0.5, "a"),
                                            (0.5, 0.8, "brave")]))
    assert sa.confirm_repeats(sa.RepeatJob(0, job, chosen, [2], {2, 3})) is None   # (the realignment is faked)
    assert tried == [set()]


def test_the_words_either_side_of_a_syllable_aligned_to_silence_are_tested_said_twice():
    """ "fog fog": the second "fog" (0.4 s) aligned as silence; the word after the silence is the candidate
    (its copy, or the word before it, is then tried). A syllable inside a word, or silence with none, gives
    no candidate."""
    import engine.audio.script_alignment as sa
    fog_covered = ([0, 1, 2], _aligned((0.0, 0.1, "F", "thick"), (0.1, 0.25, "AA", "thick"), (0.25, 0.35, "F", "fog"),
                                       (0.35, 0.5, "AA", "fog"), (0.5, 1.0, "SIL", ""), (1.0, 1.1, "K", "covered"),
                                       (1.1, 1.3, "AH", "covered"),
                                       words=[(0.0, 0.25, "thick"), (0.25, 0.5, "fog"), (1.0, 1.3, "covered")]))
    job = _repeat_job(_speech([(0.12, 0.24), (0.37, 0.5), (0.62, 0.8), (1.12, 1.3)]), heard=None,
                      words=("thick", "fog", "covered"))
    assert sa._beside_syllables_left_to_silence(sa.RepeatJob(0, job, fog_covered, [], {0, 1, 2})) == [2]
    quiet = _repeat_job(_speech([(0.12, 0.24), (0.37, 0.5), (1.12, 1.3)]), heard=None,
                        words=("thick", "fog", "covered"))
    assert sa._beside_syllables_left_to_silence(sa.RepeatJob(0, quiet, fog_covered, [], {0, 1, 2})) == []


def test_the_words_beside_one_heard_word_the_alignment_left_out_are_tested_said_twice(monkeypatch):
    """ "box of of old" heard as "box of the old": the "the" fits no better than the script as written and is
    left out, but it stood where a copy was said: "of" said twice gains 564 on the Festival recording."""
    import engine.audio.script_alignment as sa
    job = _repeat_job(_speech([(0.1, 0.25), (0.3, 0.4), (0.45, 0.55), (0.6, 0.8)]), heard=None,
                      words=("box", "of", "the", "old"))
    job.choices, job.dropped, job.heard, job.repeats_heard = [[2]], {2}, [(10.42, 10.58)], [None]
    chosen = ([0, 1, 3], _aligned((0.0, 0.1, "B", "box"), (0.1, 0.3, "AA", "box"), (0.3, 0.4, "AH", "of"),
                                  (0.4, 0.58, "V", "of"), (0.6, 0.8, "OW", "old"),
                                  words=[(0.0, 0.3, "box"), (0.3, 0.58, "of"), (0.6, 0.8, "old")]))
    assert sa._beside_a_word_left_out(job, chosen) == [2, 3]
    monkeypatch.setattr(sa, "_repeat_gain", lambda job, chosen, n: 564.0 if n == 1 else -300.0)
    task = sa.RepeatJob(0, job, chosen, sa._beside_a_word_left_out(job, chosen), {0, 1, 3})
    assert [sa._best_repeat(task, n) for n in task.candidates] == [1, None]
    # the word said (kept), a word heard as a repeat of its neighbour, or two words heard: no candidates
    assert sa._beside_a_word_left_out(job, ([0, 1, 2, 3], chosen[1])) == []
    job.repeats_heard = [sa.HeardRepeat((2, 1), ((10.42, 10.58), (10.3, 10.42)))]
    assert sa._beside_a_word_left_out(job, chosen) == []
    job.repeats_heard, job.choices = [None], [[1, 2]]
    assert sa._beside_a_word_left_out(job, ([0, 3], chosen[1])) == []
