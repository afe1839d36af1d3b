"""Lip sync on whole recordings with their script: placing the script (sequence alignment of the words heard
to the script's), the deviations it reports, and a synthetic two-voice dialogue end to end."""
from __future__ import annotations

import json

import numpy as np
import pytest

from tests.audio_helpers import festival_or_skip
from engine.audio.io import Audio, frame_rms_db
from engine.audio.lipsync import analyse_speech, animate_speech, animate_speech_blocks
from engine.audio.placement import place_script
from engine.audio.recognize import TimedWord
from engine.audio.script import read_script
from engine.audio.sequence import matching_blocks
from engine.audio.speech_pool import SpeechPool
from engine.audio.vad import Segment
from engine.cli import main
from engine.config import AudioOptions
from engine.export.take import read_curves_csv
from engine.export.text_table import csv_lines, formatted_columns
from engine_dev.lipsync_evaluate import score_take
from engine_dev.long_recordings import Said, assemble, voices_available

# -- sequence alignment ------------------------------------------------------------------------------------

A = "the cat sat on the mat".split()
B = "a dog ran in the park".split()


def test_sequence_alignment_follows_repeated_lines_in_order():
    script = A + B + A + B + A
    heard = A + B + A[:3] + ["hat"] + A[4:] + B + A           # the third line with one word misheard
    assert matching_blocks(script, heard) == [(0, 0, 15), (16, 16, 14)]


def test_sequence_alignment_skips_a_line_said_nowhere():
    script = A + B + A + B + A
    heard = A + B + B + A                                       # the third line skipped
    assert matching_blocks(script, heard) == [(0, 0, 12), (18, 12, 12)]


# -- placing a script ------------------------------------------------------------------------------------

def test_a_script_is_its_lines_or_else_its_sentences():
    by_lines = read_script("Hello there.\n\n  General Kenobi! You are a bold one.\n")
    assert by_lines.lines == (("hello", "there"), ("general", "kenobi", "you", "are", "a", "bold", "one"))
    assert by_lines.word_lines == [0, 0, 1, 1, 1, 1, 1, 1, 1]
    by_sentences = read_script("Hello there. General Kenobi! You are a bold one.")
    assert [len(line) for line in by_sentences.lines] == [2, 2, 5]
    assert by_sentences.texts[1] == "General Kenobi!"


LINES = ["Peter bought a big blue map.", "Five fine women moved over the river.", "Bob made a pumpkin pie.",
         "We were all amazed when the music stopped."]


def _heard(*utterances: list[str], pause: float = 1.0) -> tuple[list[list[TimedWord]], list[list[Segment]]]:
    """Words heard one after another (0.3 s each), each list an utterance with `pause` s between them."""
    heard, spans, t = [], [], 0.5
    for words in utterances:
        start = t
        heard.append([TimedWord(t + 0.3 * k, t + 0.3 * (k + 1), w) for k, w in enumerate(words)])
        t += 0.3 * len(words)
        spans.append([Segment(start - 0.08, t + 0.08)])
        t += pause
    return heard, spans


def _place(lines: list[str], *utterances: list[str]):
    script = read_script("\n".join(lines))
    heard, spans = _heard(*utterances)
    return script, place_script(script, heard, spans, AudioOptions().min_said_word_s, AudioOptions().min_said_phone_s,
                                lambda word: list(word))


def _words(line: str) -> list[str]:
    return read_script(line).words


def test_a_script_said_as_written_places_every_word_in_its_utterance():
    script, placement = _place(LINES, *[_words(line) for line in LINES])
    assert placement.matched == len(script.words) and not placement.deviations
    assert [[placement.placed[i].word for i in placement.in_utterance(k)] for k in range(4)] == \
        [_words(line) for line in LINES]


def test_a_misheard_word_stays_as_scripted():
    heard = [_words(line) for line in LINES]
    heard[1] = ["five", "fine", "woman", "moved", "over", "the", "river"]
    _, placement = _place(LINES, *heard)
    assert not placement.deviations
    assert [placement.placed[i].word for i in placement.in_utterance(1)] == _words(LINES[1])


def test_a_skipped_line_is_not_said_and_its_neighbours_keep_their_words():
    _, placement = _place(LINES, _words(LINES[0]), _words(LINES[2]), _words(LINES[3]))
    [deviation] = placement.deviations
    assert deviation.kind == "not_said" and deviation.lines == (1,) and deviation.words == tuple(_words(LINES[1]))
    assert [placement.placed[i].word for i in placement.in_utterance(1)] == _words(LINES[2])


def test_a_skipped_line_over_noise_where_other_words_were_heard_is_not_said():
    # a breath or room noise kept by the voice-activity detector before the next line's words: time enough
    # for the skipped line's seven words, but the recogniser heard none of them there
    script = read_script("\n".join(LINES))
    heard, spans = _heard(_words(LINES[0]), _words(LINES[2]), _words(LINES[3]))
    spans[1] = [Segment(spans[1][0].start - 1.5, spans[1][0].end)]
    placement = place_script(script, heard, spans, AudioOptions().min_said_word_s, AudioOptions().min_said_phone_s,
                             lambda word: list(word))
    assert [(d.kind, d.lines) for d in placement.deviations] == [("not_said", (1,))]
    # the same time in an utterance where the recogniser heard nothing at all: the line was said there
    heard.insert(1, [])
    spans.insert(1, [Segment(spans[0][0].end + 0.3, spans[0][0].end + 2.8)])
    placement = place_script(script, heard, spans, AudioOptions().min_said_word_s, AudioOptions().min_said_phone_s,
                             lambda word: list(word))
    assert not placement.deviations
    assert [placement.placed[i].word for i in placement.in_utterance(1)] == _words(LINES[1])


def test_an_ad_lib_and_a_repeated_word_are_unscripted_and_left_for_the_aligner():
    heard = [_words(line) for line in LINES]
    heard[0] = ["you", "know", "what", *heard[0]]
    heard[2] = ["bob", "made", "a", "pumpkin", "pumpkin", "pie"]
    _, placement = _place(LINES, *heard)
    kinds = {d.kind: d for d in placement.deviations}
    assert set(kinds) == {"unscripted", "repeated"}
    assert kinds["unscripted"].words == ("you", "know", "what")
    assert kinds["repeated"].words == ("pumpkin",) and kinds["repeated"].lines == (2,)
    assert all(placement.placed[i].uncertain and placement.placed[i].script_index is None
               for d in placement.deviations for i in range(d.first, d.last))


def test_lines_said_in_another_order_are_reported_and_placed_where_they_were_said():
    heard = [_words(LINES[0]), _words(LINES[2]), _words(LINES[1]), _words(LINES[3])]
    _, placement = _place(LINES, *heard)
    [deviation] = placement.deviations
    assert deviation.kind == "reordered"
    assert {tuple(placement.placed[i].word for i in placement.in_utterance(k)) for k in (1, 2)} == \
        {tuple(_words(LINES[1])), tuple(_words(LINES[2]))}
    assert [placement.placed[i].word for i in placement.in_utterance(2)] == _words(LINES[1])


def test_a_lone_common_word_is_no_anchor_across_a_skipped_line():
    # the second line is skipped; the recogniser hears a stray "the" where it would have been
    _, placement = _place(LINES, _words(LINES[0]) + ["the"], _words(LINES[2]), _words(LINES[3]))
    assert {d.kind: d.lines for d in placement.deviations} == {"unscripted": (2,), "not_said": (1,)}


def test_a_skipped_line_beside_an_ad_lib_is_not_said_when_the_ad_lib_leaves_no_time_for_its_phones():
    # three heard words (0.9 s) where the skipped line's seven words would be: time enough at 0.12 s a
    # word, not for its 31 phones (letters here) at 0.06 s each
    _, placement = _place(LINES, _words(LINES[0]), ["few", "know", "while"] + _words(LINES[2]), _words(LINES[3]))
    assert [(d.kind, d.words, d.lines) for d in placement.deviations] == [
        ("not_said", tuple(_words(LINES[1])), (1,)), ("unscripted", ("few", "know", "while"), (2,))]
    assert not any(p.script_index is not None and p.script_index < 13 and p.utterance == 1
                   for p in placement.placed)


def test_the_misheard_end_of_a_line_is_said_and_the_skipped_line_after_it_is_not():
    # "big blue map" heard as "bag glue mop" (time for its letters), then the next line skipped
    heard = _words(LINES[0])[:3] + ["bag", "glue", "mop"]
    _, placement = _place(LINES, heard, _words(LINES[2]), _words(LINES[3]))
    assert [(d.kind, d.lines) for d in placement.deviations] == [("not_said", (1,))]
    said = [p for p in placement.placed if p.utterance == 0]
    assert [p.word for p in said] == _words(LINES[0]) and not any(p.uncertain for p in said)


def test_a_repeated_word_before_a_skipped_line_is_reported_before_it():
    _, placement = _place(LINES, _words(LINES[0]) + ["map"], _words(LINES[2]), _words(LINES[3]))
    assert [(d.kind, d.words) for d in placement.deviations] == [("repeated", ("map",)),
                                                                 ("not_said", tuple(_words(LINES[1])))]


def test_a_word_heard_again_in_place_of_a_word_unlike_it_is_said_twice_and_that_word_left_to_the_aligner():
    # "pale moon moon bumpy" for "pale moon a bumpy": "moon" was said twice, "a" went unheard
    heard = [_words(line) for line in LINES]
    heard[0].append("map")
    heard[1] = heard[1][1:]
    _, placement = _place(LINES, *heard)
    assert [(d.kind, d.words, d.lines) for d in placement.deviations] == [("repeated", ("map",), (0,)),
                                                                          ("not_said", ("five",), (1,))]
    five = next(p for p in placement.placed if p.script_index == 6)
    assert five.word == "five" and five.uncertain


def test_a_repeat_is_not_paired_with_the_script_word_it_displaced():
    # "shiny shiny quiet" for "shiny coin on": the second "shiny" is no mishearing of the next word
    heard = [_words(line) for line in LINES]
    heard[2] = ["bob", "made", "a", "pumpkin", "pumpkin", "bye"]
    _, placement = _place(LINES, *heard)
    assert [(d.kind, d.words) for d in placement.deviations] == [("repeated", ("pumpkin",))]
    assert [p.word for p in placement.placed if p.utterance == 2] == ["bob", "made", "a", "pumpkin", "pumpkin", "pie"]


@pytest.mark.parametrize("copy, kind", [("ap", "repeated"), ("mop", "repeated"), ("mat", "unscripted"),
                                        ("sap", "unscripted")])
def test_a_word_heard_again_as_a_word_sounding_like_it_is_a_repeat_of_it(copy, kind):
    # "wore wore" heard as "wore or" (a phone dropped), "wall wall" as "wall well" (a vowel changed); a
    # consonant changed is another word
    phones = {"map": ["M", "AE", "P"], "ap": ["AE", "P"], "mop": ["M", "AA", "P"], "mat": ["M", "AE", "T"],
              "sap": ["S", "AE", "P"]}
    heard = [_words(line) for line in LINES]
    heard[0].append(copy)
    words, spans = _heard(*heard)
    placement = place_script(read_script("\n".join(LINES)), words, spans, AudioOptions().min_said_word_s,
                             AudioOptions().min_said_phone_s, lambda word: phones.get(word, list(word)))
    [deviation] = placement.deviations
    assert (deviation.kind, deviation.words) == (kind, ("map",) if kind == "repeated" else (copy,))
    assert placement.placed[deviation.first].heard.word == copy


def test_the_next_lines_first_word_is_not_paired_with_an_ad_lib_before_the_pause_it_follows():
    # "hang on" heard as "when aunt" at the end of one utterance; after a pause the next line, its first
    # word "Bob" unheard: "Bob" belongs after the pause with its line, the two words heard are an ad-lib
    heard = [_words(line) for line in LINES]
    heard[1] += ["when", "aunt"]
    heard[2] = heard[2][1:]
    _, placement = _place(LINES, *heard)
    assert [(d.kind, d.words) for d in placement.deviations] == [("unscripted", ("when", "aunt")),
                                                                 ("not_said", ("bob",))]
    bob = next(p for p in placement.placed if p.word == "bob")
    assert bob.utterance == 2 and bob.uncertain


def test_a_pause_inside_an_utterance_also_keeps_the_next_lines_first_word_with_its_line():
    # the same, with the pause too short to cut the utterance: two voice-activity segments of one utterance
    heard = [_words(line) for line in LINES]
    heard[1] += ["when", "aunt"]
    heard[2] = heard[2][1:]
    words, spans = _heard(*heard, pause=0.4)
    words[1:3] = [words[1] + words[2]]
    spans[1:3] = [spans[1] + spans[2]]
    script = read_script("\n".join(LINES))
    placement = place_script(script, words, spans, AudioOptions().min_said_word_s, AudioOptions().min_said_phone_s,
                             lambda word: list(word))
    assert [(d.kind, d.words) for d in placement.deviations] == [("unscripted", ("when", "aunt")),
                                                                 ("not_said", ("bob",))]
    placed = [p.word for p in placement.placed if p.utterance == 1]
    assert placed[placed.index("aunt") + 1:placed.index("made")] == ["bob"]


# -- writing long takes in blocks ---------------------------------------------------------------------------

def test_column_formatting_is_the_same_text_as_percent_formatting():
    values = np.array([[0.0, -0.0, 1.5, np.nan], [0.0, 2.0, 1.5, 1e-9], [0.0, -3.25, 1.5, 1e300]])
    columns = formatted_columns(values, "%.6g")
    assert columns[0] == "0" and columns[2] == "1.5" and isinstance(columns[1], list)
    assert csv_lines(columns, 3) == "".join(",".join("%.6g" % v for v in row) + "\n" for row in values)


def test_frame_levels_of_a_long_recording_match_the_levels_of_its_parts():
    rng = np.random.default_rng(2)
    samples = (0.1 * rng.standard_normal(16000 * 75)).astype(np.float32)     # more than one block of frames
    whole = frame_rms_db(samples)
    assert whole.shape == (7500,)
    np.testing.assert_allclose(whole[:6000], frame_rms_db(samples[:16000 * 60 + 200])[:6000], atol=1e-9)


# -- a two-voice dialogue end to end ------------------------------------------------------------------------

DIALOGUE = ["Peter bought a big blue map of the old moon.", "Bob made a pumpkin pie for his mother.",
            "She sells sea shells by the sea shore.", "Please bring the paper boat back to the beach.",
            "The family moved from Boston to Vermont in May.", "My brother wants to visit the famous museum.",
            "Bring me a warm cup of coffee with milk.", "Everybody thought the puppet show was funny.",
            "Mark put the heavy box above the old fireplace.", "Would you like some more soup before you go?"]
PLAN = [Said(DIALOGUE[0]), Said(f"Come on now, {DIALOGUE[1][0].lower()}{DIALOGUE[1][1:]}", "adlib-start", "come on now"),
        None, Said("Please bring the paper paper boat back to the beach.", "repeated", "paper"),
        Said(DIALOGUE[5]), Said(DIALOGUE[4], "reordered"), Said(DIALOGUE[6]), Said(DIALOGUE[7]), Said(DIALOGUE[8]),
        Said(DIALOGUE[9])]
CODES = {"adlib": "script_unscripted", "skipped": "script_not_said", "repeated": "script_repeated",
         "reordered": "script_reordered"}


@pytest.fixture(scope="module")
def dialogue(tmp_path_factory):
    festival_or_skip()
    folder = tmp_path_factory.mktemp("dialogue")
    recording = assemble(list(zip(DIALOGUE, PLAN)), voices_available(), folder / "lines", np.random.default_rng(4))
    recording.write(folder / "dialogue.wav", folder / "script.txt")
    return folder, recording


def test_a_dialogue_with_deviations_aligns_end_to_end_and_reports_each_where_it_happened(dialogue, capsys):
    folder, recording = dialogue
    code = main(["lipsync", "--audio", str(folder / "dialogue.wav"), "--transcript", str(folder / "script.txt"),
                 "--out", str(folder / "take"), "--progress", "json"])
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert code == 0 and events[-1]["event"] == "result"
    warnings = [e for e in events if e["event"] == "warning"]
    assert not [w for w in warnings if w["code"] == "alignment_failed"]
    for deviation in recording.deviations:       # each one reported, within 0.5 s of where it happened
        near = [w for w in warnings if w["code"] == CODES[deviation.kind]
                and max(w["start"] - deviation.end, deviation.start - w["end"]) <= 0.5]
        assert near, (deviation, warnings)
    assert len([w for w in warnings if w["code"].startswith("script_")]) == len(recording.deviations)
    progress = {e["stage"]: e for e in events if e["event"] == "progress"}    # the last of each stage
    assert progress["script"]["done"] == progress["script"]["total"] > 1     # counted per utterance
    assert progress["speech"]["done"] == progress["speech"]["total"] > 1
    times, names, board = read_curves_csv(folder / "take" / "faceboard.csv")
    hits = frames = found = total = 0
    for a, b in recording.line_spans:       # scored as the single sentences are: each utterance said
        inside = (times >= a) & (times < b)
        s = score_take([p for p in recording.truth if p.end > a and p.start < b], [], times[inside], board[inside],
                       names)
        hits, frames, found, total = hits + s.class_hits, frames + s.class_frames, found + s.closures_found, \
            total + s.closures
    assert hits / frames >= 0.85 and found / total >= 0.95
    meta = json.loads((folder / "take" / "take.json").read_text())
    assert meta["lipsync"]["script"]["deviations"] == {"unscripted": 1, "not_said": 1, "repeated": 1,
                                                       "reordered": 1}


def test_worker_processes_give_the_same_timing_and_blocks_the_same_curves(dialogue):
    folder, recording = dialogue
    audio = Audio(recording.samples)
    here = analyse_speech(audio, AudioOptions(transcript=recording.script, speech_processes=1))
    spread = analyse_speech(audio, AudioOptions(transcript=recording.script, speech_processes=2))
    assert [(p.start, p.end, p.phone) for p in here.phones] == [(p.start, p.end, p.phone) for p in spread.phones]
    times = np.arange(0.0, audio.duration, 1 / 60)
    whole, _ = animate_speech(here, times)
    for rows, board, _ in animate_speech_blocks(here, times, "mh4", 250):
        np.testing.assert_array_equal(board, whole[rows])


def _square(x: int) -> int:
    return x * x


def test_the_speech_pool_returns_results_in_order():
    with SpeechPool(2, {}) as pool:
        seen = []
        assert pool.map(_square, 9, lambda k: k + 1, lambda done, total: seen.append((done, total))) == \
            [(k + 1) ** 2 for k in range(9)]
    assert seen[-1] == (9, 9)


def test_take_files_written_in_blocks_beside_this_process_are_the_take_written_at_once(tmp_path):
    from engine.export.take import TakeCurveFiles, write_take_files
    from engine.rig.faceboard import load_faceboard
    from engine.rig.retarget import RigCurves

    board = load_faceboard("mh4")
    rng = np.random.default_rng(5)
    times = np.arange(0.0, 20.0, 1 / 60)
    faceboard = np.tile(board.defaults, (len(times), 1))
    faceboard[:, :12] = rng.random((len(times), 12))
    curves = RigCurves("mh4", list(board.names), faceboard, list(board.raw_curve_names), board.to_raw(faceboard))
    arkit, head = rng.random((len(times), 52)), np.zeros((len(times), 6))
    (tmp_path / "whole").mkdir()
    (tmp_path / "blocks").mkdir()
    write_take_files(tmp_path / "whole", times, curves, arkit, head, np.zeros(len(times), bool), 60.0)
    with TakeCurveFiles(tmp_path / "blocks", curves.faceboard_names, curves.raw_names, 60.0, beside=True) as files:
        for rows in (slice(0, 500), slice(500, 1100), slice(1100, None)):
            part = RigCurves("mh4", curves.faceboard_names, faceboard[rows], curves.raw_names, curves.raw[rows])
            files.write(times[rows], part, arkit[rows], head[rows], np.zeros(len(times[rows]), bool))
    for name in files.names.values():
        assert (tmp_path / "whole" / name).read_bytes() == (tmp_path / "blocks" / name).read_bytes(), name


def _job_with_speech(loud_spans, choices=(), heard=(), words=("one", "two", "three")):
    """An AlignmentJob over 2 s of audio, loud (a 200 Hz tone at -12 dBFS) within `loud_spans`, else silent."""
    from engine.audio.script_alignment import AlignmentJob
    rate = 16000
    t = np.arange(2 * rate) / rate
    samples = np.zeros_like(t)
    for a, b in loud_spans:
        inside = (t >= a) & (t < b)
        samples[inside] = 0.35 * np.sin(2 * np.pi * 200 * t[inside])
    return AlignmentJob(samples.astype(np.float32), 10.0, list(words), [list(c) for c in choices], set(),
                        300.0, 600.0, 200.0, list(heard), 0.2, 20.0)


def _aligned(*phones, words=()):
    from engine.audio.recognize import Alignment, TimedPhone, TimedWord
    return Alignment([TimedPhone(10.0 + a, 10.0 + b, p) for a, b, p in phones],
                     [TimedWord(10.0 + a, 10.0 + b, w) for a, b, w in words], -10.0)


def test_speech_under_silence_is_unexplained_and_word_edges_are_not():
    from engine.audio.script_alignment import unexplained_speech_s
    job = _job_with_speech([(0.2, 0.6), (0.9, 1.3), (1.5, 1.8)])
    alignment = _aligned((0.0, 0.2, "SIL"), (0.2, 0.6, "W"), (0.6, 1.5, "SIL"), (1.5, 1.8, "AH"), (1.8, 2.0, "SIL"))
    assert unexplained_speech_s(job, alignment, (10.85, 11.4)) == pytest.approx(0.4, abs=0.03)
    # a word aligned 40 ms late leaves its own start uncovered: the aligner's slack, not an ad-lib
    late = _aligned((0.0, 0.24, "SIL"), (0.24, 0.6, "W"), (0.6, 2.0, "SIL"))
    assert unexplained_speech_s(_job_with_speech([(0.2, 0.6)]), late, (10.1, 10.5)) == 0.0
    # quiet audio under silence is a pause, and a filler is not a word
    assert unexplained_speech_s(job, alignment, (10.65, 10.85)) == 0.0
    filler = _aligned((0.0, 0.9, "SIL"), (0.9, 1.3, "+BREATH+"), (1.3, 2.0, "SIL"))
    assert unexplained_speech_s(job, filler, (10.85, 11.4)) == pytest.approx(0.4, abs=0.03)


def test_unscripted_words_left_out_over_speech_are_said_again(monkeypatch):
    """An ad-lib misheard ("hang on" heard as "and pink") fits worse than silence, so the acoustic gain drops
    it; loud audio left to silence where it was heard brings it back. Script words are never judged so."""
    import engine.audio.script_alignment as sa
    said = ([0, 1, 2, 3], _aligned((0.2, 0.6, "W"), (0.9, 1.1, "AE"), (1.1, 1.3, "P"), (1.5, 1.8, "AH"),
                                   words=[(0.2, 0.6, "road"), (0.9, 1.1, "and"), (1.1, 1.3, "pink"),
                                          (1.5, 1.8, "peggy")]))
    tried = []
    monkeypatch.setattr(sa, "_try_alignment", lambda job, samples, start, dropped: tried.append(dropped) or said)
    job = _job_with_speech([(0.2, 0.6), (0.9, 1.3), (1.5, 1.8)], choices=[[1, 2], [3]],
                           heard=[(10.9, 11.3), None], words=("road", "and", "pink", "peggy"))
    best = ([0, 3], _aligned((0.2, 0.6, "W"), (0.6, 1.5, "SIL"), (1.5, 1.8, "AH")))
    assert sa._with_unexplained_speech(job, best) is said and tried == [set()]
    tried.clear()
    covered = ([0, 3], _aligned((0.2, 0.45, "R"), (0.45, 0.7, "OW"), (0.7, 0.95, "D"), (0.95, 1.2, "Z"),
                                (1.2, 1.3, "T"), (1.3, 1.5, "SIL"), (1.5, 1.8, "AH")))
    assert sa._with_unexplained_speech(job, covered) is covered and tried == []
    # one phone held over the ad-lib explains no more than a phone's length of it ("the" stretched over 0.7 s
    # of "come on now")
    stretched = ([0, 3], _aligned((0.2, 1.3, "W"), (1.3, 1.5, "SIL"), (1.5, 1.8, "AH")))
    assert sa._with_unexplained_speech(job, stretched) is said and tried == [set()]
    # the realigned words landing away from where they were heard (a breath left to silence, a word heard
    # over a slow one): not said
    elsewhere = ([0, 1, 2, 3], _aligned((0.2, 0.4, "W"), (0.4, 0.5, "AE"), (0.5, 0.6, "P"), (1.5, 1.8, "AH"),
                                        words=[(0.2, 0.4, "road"), (0.4, 0.5, "and"), (0.5, 0.6, "pink"),
                                               (1.5, 1.8, "peggy")]))
    monkeypatch.setattr(sa, "_try_alignment", lambda job, samples, start, dropped: elsewhere)
    assert sa._with_unexplained_speech(job, best) is best
