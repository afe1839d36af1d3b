"""Lip sync from speech: timing against ground truth, the lipsync command's take, Mandarin, bad input."""
from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from tests.audio_helpers import festival_or_skip, syllables, write_audio
from engine.audio.io import SAMPLE_RATE, load_audio
from engine.audio.lipsync import NoSpeechFound, analyse_speech, animate_speech
from engine.audio.recognize import AlignmentFailed, RecognizerOptions, align
from engine.audio.visemes import mouth_attribute_mask, viseme_table
from engine.cli import main
from engine.config import AudioOptions
from engine.export.take import TAKE_KEYS, read_curves_csv
from engine.protocol import Reporter
from engine.rig.faceboard import load_faceboard
from engine_dev.lipsync_evaluate import (festival_synthesize, read_pocketsphinx_json, score_take, speech_phones)

SENTENCES = ["Bob made a pumpkin pie for his mother.", "Five fine women moved over the frozen river.",
             "Would you like some more soup before you go?"]
# Stated tolerances (three Festival sentences; bench/lipsync.py measures the full set)
MIN_CLASS_ACCURACY_TRANSCRIPT = 0.85
MIN_CLASS_ACCURACY_NO_TRANSCRIPT = 0.75
MIN_CLOSURE_RECALL = 0.95
MAX_MEDIAN_ONSET_S = 0.02
FPS = 60.0


@pytest.fixture(scope="module")
def festival_clips(tmp_path_factory):
    festival_or_skip()
    folder = tmp_path_factory.mktemp("festival")
    return [(folder / f"s{i}.wav", text, festival_synthesize(text, folder / f"s{i}.wav"))
            for i, text in enumerate(SENTENCES)]


def _score(clips, with_text: bool):
    names = list(viseme_table("mh4").faceboard_names)
    scores = []
    for wav, text, truth in clips:
        audio = load_audio(wav)
        speech = analyse_speech(audio, AudioOptions(transcript=text if with_text else None))
        times = np.arange(0, audio.duration, 1 / FPS)
        faceboard, _ = animate_speech(speech, times)
        scores.append(score_take(truth, speech.phones, times, faceboard, names))
    hits = sum(s.class_hits for s in scores) / sum(s.class_frames for s in scores)
    closures = sum(s.closures_found for s in scores) / sum(s.closures for s in scores)
    return scores, hits, closures


def test_transcript_alignment_matches_festival_timing(festival_clips):
    scores, accuracy, closure_recall = _score(festival_clips, True)
    errors = np.concatenate([s.onset_errors for s in scores])
    assert np.median(errors) <= MAX_MEDIAN_ONSET_S
    assert np.mean(errors <= 0.05) >= 0.9
    assert accuracy >= MIN_CLASS_ACCURACY_TRANSCRIPT
    assert closure_recall >= MIN_CLOSURE_RECALL


def test_without_transcript_the_mouth_is_still_right_most_of_the_time(festival_clips):
    _, accuracy, closure_recall = _score(festival_clips, False)
    assert accuracy >= MIN_CLASS_ACCURACY_NO_TRANSCRIPT
    assert closure_recall >= 0.7


def test_phone_recognition_alone_runs_and_says_so(festival_clips):
    wav, _, _ = festival_clips[0]
    speech = analyse_speech(load_audio(wav), AudioOptions(recognizer="phones"))
    assert {s.method for s in speech.segments} == {"phones"}
    assert sum(p.phone != "SIL" for p in speech.phones) > 10


def test_alignment_reproduces_pocketsphinx_reference(shared_data):
    """pocketsphinx's own alignment test: "feels like these days go on forever"."""
    audio = load_audio(shared_data / "audio" / "forever" / "input_2_16k.wav")
    phones, score = align(audio.samples, 0.0, "feels like these days go on forever".split(), None,
                          RecognizerOptions(first_pronunciation_only=False))
    assert [p.phone for p in speech_phones(phones)] == (
        "F IY L Z L AY K DH IY Z D EY Z G OW AO N F ER EH V ER".split())
    assert score > -30


def test_librivox_phones_match_the_expected_alignment(shared_data):
    folder = shared_data / "audio" / "librivox"
    name = "sense_and_sensibility_01_austen_64kb-0880"
    expected = speech_phones(read_pocketsphinx_json(folder / f"{name}.phone.json"))
    speech = analyse_speech(load_audio(folder / f"{name}.wav"), AudioOptions(transcript=str(folder / f"{name}.txt")),
                            recognizer=RecognizerOptions(first_pronunciation_only=False))
    got = speech_phones(speech.phones)
    assert [p.phone for p in got] == [p.phone for p in expected]
    onsets = np.abs(np.array([g.start - e.start for g, e in zip(got, expected)]))
    assert np.mean(onsets <= 0.02) >= 0.9


def test_a_transcript_that_does_not_match_falls_back_with_a_warning(shared_data):
    folder = shared_data / "audio" / "librivox"
    reporter = Reporter()
    speech = analyse_speech(load_audio(folder / "sense_and_sensibility_01_austen_64kb-0870.wav"),
                            AudioOptions(transcript=str(folder / "sense_and_sensibility_01_austen_64kb-0920.txt")),
                            reporter)
    assert {s.method for s in speech.segments} == {"phones-fallback"}
    assert any(w["code"] == "alignment_failed" for w in reporter.warnings)
    assert sum(p.phone != "SIL" for p in speech.phones) > 20     # still animated, from phone recognition
    with pytest.raises(AlignmentFailed):
        align(np.zeros(SAMPLE_RATE, np.float32), 0.0, [])


def test_lipsync_command_writes_an_audio_only_take(festival_clips, tmp_path, capsys):
    wav, text, truth = festival_clips[0]
    mp3 = write_audio(tmp_path / "line.mp3", load_audio(wav).samples, SAMPLE_RATE)   # any codec goes
    transcript = tmp_path / "line.txt"
    transcript.write_text(text)
    out = tmp_path / "take"
    code = main(["lipsync", "--audio", str(mp3), "--transcript", str(transcript), "--out", str(out),
                 "--progress", "json"])
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert code == 0 and events[-1]["event"] == "result" and events[-1]["take"] == str(out)
    meta = json.loads((out / "take.json").read_text())
    assert meta["kind"] == "audio" and meta["files"]["audio"] == "audio.wav"
    assert tuple(meta) == TAKE_KEYS, set(meta) ^ set(TAKE_KEYS)   # every kind of take: the same take.json keys
    assert meta["lipsync"]["method"] == "align" and meta["lipsync"]["segment_methods"] == {"align": 1}
    for name in meta["files"].values():
        assert (out / name).is_file(), name
    assert load_audio(out / "audio.wav").rate == SAMPLE_RATE
    times, names, values = read_curves_csv(out / "faceboard.csv")
    board = load_faceboard("mh4")
    assert names == board.names and np.allclose(np.diff(times), 1 / 60, atol=1e-5)
    mouth = mouth_attribute_mask("mh4")
    np.testing.assert_allclose(values[:, ~mouth], np.tile(board.defaults[~mouth], (len(times), 1)))
    assert values[:, names.index("CTRL_C_jaw.ty")].max() > 0.3
    assert values[:, names.index("CTRL_L_mouth_lipsTogetherU.ty")].max() > 0.9
    assert (values >= board.mins - 1e-9).all() and (values <= board.maxs + 1e-9).all()
    with open(out / "phones.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["start", "end", "phone", "word", "method"]
    assert [r["word"] for r in rows if r["phone"] == "B"][0] == "bob" and {r["method"] for r in rows} == {"align"}
    with open(out / "visemes.csv") as handle:
        visemes = list(csv.DictReader(handle))
    assert {"PBM", "AA"} <= {v["viseme"] for v in visemes}
    arkit_header = (out / "arkit.csv").read_text().splitlines()[0].split(",")
    assert arkit_header[:3] == ["Timecode", "BlendShapeCount", "EyeBlinkLeft"]


def test_lipsync_without_speech_fails_with_a_clear_error(tmp_path, capsys):
    rng = np.random.default_rng(3)
    noise = write_audio(tmp_path / "noise.wav", (0.05 * rng.standard_normal(SAMPLE_RATE * 2)).astype(np.float32),
                        SAMPLE_RATE)
    code = main(["lipsync", "--audio", str(noise), "--out", str(tmp_path / "t"), "--progress", "json"])
    error = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert code == 2 and error["event"] == "error" and "no speech" in error["message"] and error["hint"]
    assert not (tmp_path / "t").exists()
    silent = write_audio(tmp_path / "silent.flac", np.zeros(SAMPLE_RATE, np.float32), SAMPLE_RATE)
    assert main(["lipsync", "--audio", str(silent), "--out", str(tmp_path / "t")]) == 2
    with pytest.raises(NoSpeechFound):
        from engine.audio.io import Audio

        analyse_speech(Audio(np.full(SAMPLE_RATE, 0.1, np.float32)), AudioOptions())


def _jaw_and_loudness(speech, duration):
    times = np.arange(0, duration, 1 / 100)
    faceboard, _ = animate_speech(speech, times)
    jaw = faceboard[:, list(viseme_table("mh4").faceboard_names).index("CTRL_C_jaw.ty")]
    loud = np.interp(times, speech.loudness_times, speech.loudness)
    return times, jaw, loud


def _quiet_runs(loud, frames=15):
    """Frames inside runs of at least `frames` (150 ms) of silence."""
    quiet = loud <= 0.02
    out = np.zeros_like(quiet)
    start = None
    for i, q in enumerate(np.append(quiet, False)):
        if q and start is None:
            start = i
        elif not q and start is not None:
            if i - start >= frames:
                out[start + 5:i - 5] = True      # away from the edges
            start = None
    return out


@pytest.mark.parametrize("clip,transcript,method", [
    ("nst_ID001", "nst_ID001.txt", "align-pinyin"),
    ("nst_ID002", "nst_ID002.txt", "align-pinyin"),
    ("aishell-BAC009S0724W0121", None, "energy"),
    ("nst_ID001", None, "energy"),
])
def test_mandarin_gives_a_plausible_mouth(shared_data, clip, transcript, method):
    folder = shared_data / "audio" / "mandarin"
    audio = load_audio(folder / f"{clip}.wav")
    options = AudioOptions(language="zh", transcript=str(folder / transcript) if transcript else None)
    speech = analyse_speech(audio, options)
    assert speech.method == method
    times, jaw, loud = _jaw_and_loudness(speech, audio.duration)
    # the jaw opens with the syllables' loudness ...
    smooth = np.convolve(loud, np.ones(15) / 15, mode="same")
    assert np.corrcoef(np.convolve(jaw, np.ones(15) / 15, mode="same"), smooth)[0, 1] >= 0.5
    assert jaw.max() > 0.3
    # ... and is closed in the pauses (a stop's silent closure may keep it a crack open: 0.1 of 1)
    quiet = _quiet_runs(loud)
    assert quiet.any() and jaw[quiet].max() <= 0.1 and jaw[quiet].mean() <= 0.03
    if method == "align-pinyin":
        assert {p.word for p in speech.phones if p.word}.issubset({f"py_{w}" for w in _pinyin(folder / transcript)})


def _pinyin(path):
    from pypinyin import lazy_pinyin

    return lazy_pinyin(path.read_text(encoding="utf-8"), errors="ignore")


def test_other_languages_use_the_loudness_track():
    from engine.audio.io import Audio

    audio = Audio(syllables(seconds=3.0))
    speech = analyse_speech(audio, AudioOptions(language="fr", transcript="bonjour"))
    assert speech.method == "energy" and speech.phones == []
    times, jaw, loud = _jaw_and_loudness(speech, audio.duration)
    assert np.corrcoef(jaw, loud)[0, 1] > 0.8
    assert jaw[(times > 1.35) & (times < 1.65)].max() <= 0.02
