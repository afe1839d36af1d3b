"""Words said twice that recognition heard once: candidates by aligned length and fit, and the word list
with copies (engine/audio/repeated_words.py); found end to end on a Festival sentence."""
from __future__ import annotations

import numpy as np
import pytest

from engine.audio.io import Audio
from engine.audio.lipsync import analyse_speech
from engine.audio.recognize import Alignment, TimedPhone, TimedWord
from engine.audio.repeated_words import stretched_words, typical_phone_durations, with_copies
from engine.config import AudioOptions
from engine.protocol import Reporter
from engine_dev.lipsync_evaluate import FESTIVAL_VOICE
from engine_dev.long_recordings import SECOND_VOICE, Said, assemble, voices_available
from tests.audio_helpers import festival_or_skip


def _alignment(words: list[tuple[str, list[tuple[str, float, float]]]], score: float) -> Alignment:
    """An alignment of (word, [(phone, seconds, score per frame)]) said one after another."""
    phones, spans, t = [TimedPhone(0.0, 0.1, "SIL")], [], 0.1
    for word, parts in words:
        start = t
        for phone, seconds, per_frame in parts:
            phones.append(TimedPhone(t, t + seconds, phone, word, per_frame * round(seconds / 0.01)))
            t += seconds
        spans.append(TimedWord(start, t, word))
    return Alignment(phones, spans, score)


PLAIN = [("the", [("DH", 0.04, -10), ("AH", 0.06, -10)]), ("cat", [("K", 0.06, -10), ("AE", 0.1, -10),
                                                                   ("T", 0.05, -10)])]


def test_typical_phone_durations_are_medians_without_silence():
    typical = typical_phone_durations([_alignment(PLAIN, -10), _alignment([("the", [("DH", 0.08, -10),
                                                                                   ("AH", 0.06, -10)])], -10)])
    assert "SIL" not in typical
    assert typical["DH"] == pytest.approx(0.06) and typical["AH"] == pytest.approx(0.06)


def test_a_word_stretched_over_two_and_fitting_badly_is_a_candidate():
    typical = typical_phone_durations([_alignment(PLAIN, -10)])
    stretched_badly = [("the", [("DH", 0.04, -10), ("AH", 0.16, -40)]), *PLAIN[1:]]
    assert stretched_words(_alignment(stretched_badly, -15), typical, 1.3, 15.0) == [0]
    # long but fitting as well as the rest (a word said slowly), or fitting badly but not long: not candidates
    slow = [("the", [("DH", 0.08, -12), ("AH", 0.12, -12)]), *PLAIN[1:]]
    assert stretched_words(_alignment(slow, -11), typical, 1.3, 15.0) == []
    short_and_bad = [("the", [("DH", 0.04, -40), ("AH", 0.06, -40)]), *PLAIN[1:]]
    assert stretched_words(_alignment(short_and_bad, -20), typical, 1.3, 15.0) == []


def test_copies_go_before_their_word_and_every_word_is_traced():
    words, moved, copies = with_copies(["a", "b", "c"], [1, 2])
    assert words == ["a", "b", "b", "c", "c"]
    assert moved == [0, 2, 4] and copies == [1, 3]
    assert with_copies(["a"], []) == (["a"], [0], [])


@pytest.mark.parametrize("line, said, word", [
    ("I think we should leave before it rains.", "I think we should leave before it it rains.", "it"),
    ("The vase broke when it fell off the table.", "The vase broke when it fell off the the table.", "the")])
def test_a_short_word_said_twice_and_heard_once_is_reported_as_repeated(tmp_path, line, said, word):
    """Said by the kal voice, the biased recogniser hears one "it" / "the" (as on festival-dev)."""
    festival_or_skip()
    if SECOND_VOICE not in voices_available():
        pytest.skip("needs Festival's kal voice (Debian festvox-kallpc16k)")
    lines = ["The train leaves at nine in the morning.", line, "Put your boots by the back door."]
    plan = [Said(lines[0]), Said(said, "repeated", word), Said(lines[2])]
    recording = assemble(list(zip(lines, plan)), (SECOND_VOICE,), tmp_path / "lines", np.random.default_rng(1))
    reporter = Reporter()
    analyse_speech(Audio(recording.samples), AudioOptions(transcript=recording.script), reporter)
    reported = [w for w in reporter.warnings if w["code"].startswith("script_")]
    (truth,) = recording.deviations
    assert [(w["code"], w["words"]) for w in reported] == [("script_repeated", word)]
    assert max(reported[0]["start"] - truth.end, truth.start - reported[0]["end"]) <= 0.5


def test_a_repeated_the_too_short_for_the_acoustic_model_is_found_by_its_syllable(tmp_path):
    """The HTS voice says "in the, the morning" with an 80 ms second "the" after a pause: silence fits it about as
    well as its own phones do, so no acoustic gain finds it; its syllable, left without a vowel, does
    (engine.audio.syllables; a festival-dev sentence)."""
    festival_or_skip()
    lines = ["We walked to the station in the rain.", "The train leaves at nine in the morning.",
             "Put your boots by the back door."]
    plan = [Said(lines[0]), Said("The train leaves at nine in the the morning.", "repeated", "the"), Said(lines[2])]
    recording = assemble(list(zip(lines, plan)), (FESTIVAL_VOICE,), tmp_path / "lines", np.random.default_rng(1))
    reporter = Reporter()
    analyse_speech(Audio(recording.samples), AudioOptions(transcript=recording.script), reporter)
    reported = [w for w in reporter.warnings if w["code"].startswith("script_")]
    (truth,) = recording.deviations
    assert [(w["code"], w["words"]) for w in reported] == [("script_repeated", "the")]
    assert max(reported[0]["start"] - truth.end, truth.start - reported[0]["end"]) <= 0.5
