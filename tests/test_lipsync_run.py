"""`run --audio`: the speech's mouth blended into a video take, everything else exactly the video's."""
from __future__ import annotations

import json

import numpy as np
import pytest

from tests.audio_helpers import write_audio
from engine.audio.io import SAMPLE_RATE, load_audio
from engine.audio.lipsync import analyse_speech, animate_speech
from engine.audio.visemes import arkit_mouth_mask, mouth_attribute_mask
from engine.cli import main
from engine.config import AudioOptions, RunOptions
from engine.export.livelink import read_livelink_csv
from engine.export.take import read_curves_csv
from engine.pipeline import run
from engine.protocol import Reporter

CLIP = "driving_d0.mp4"              # 3.1 s, no sound track of its own
SPEECH = "sense_and_sensibility_01_austen_64kb-0880"   # 3.0 s of read speech with its transcript


@pytest.fixture(scope="module")
def inputs(shared_data):
    folder = shared_data / "audio" / "librivox"
    return shared_data / "video" / "faces" / CLIP, folder / f"{SPEECH}.wav", folder / f"{SPEECH}.txt"


@pytest.fixture(scope="module")
def video_take(inputs, tmp_path_factory):
    video, _, _ = inputs
    return run(RunOptions(video=video, out=tmp_path_factory.mktemp("v") / "take"), Reporter())


def _faceboard(take):
    return read_curves_csv(take / "faceboard.csv")


def test_audio_take_keeps_eyes_and_brows_and_corrects_the_mouth(inputs, video_take, tmp_path, capsys):
    video, speech, transcript = inputs
    out = tmp_path / "take"
    assert main(["run", "--video", str(video), "--out", str(out), "--audio", str(speech),
                 "--transcript", str(transcript), "--progress", "json"]) == 0
    capsys.readouterr()
    times_v, names, values_v = _faceboard(video_take)
    times_a, names_a, values_a = _faceboard(out)
    assert names_a == names
    np.testing.assert_array_equal(times_a, times_v)
    mouth = mouth_attribute_mask("mh4")
    np.testing.assert_array_equal(values_a[:, ~mouth], values_v[:, ~mouth])      # eyes, brows, cheeks: identical
    for attr in ("CTRL_L_eye_blink.ty", "CTRL_R_brow_down.ty", "CTRL_L_eye_cheekRaise.ty"):
        assert names.index(attr) in np.flatnonzero(~mouth)
    assert np.abs(values_a[:, mouth] - values_v[:, mouth]).max() > 0.2            # the mouth moved
    jaw = names.index("CTRL_C_jaw.ty")
    together = names.index("CTRL_L_mouth_lipsTogetherU.ty")
    assert values_a[:, together].max() >= 0.5                                     # the audio's closures are in
    # raw curves and ARKit follow the same split
    raw_v = read_curves_csv(video_take / "raw_curves.csv")
    raw_a = read_curves_csv(out / "raw_curves.csv")
    eye_raw = [i for i, n in enumerate(raw_v[1]) if "eye" in n or "brow" in n]
    np.testing.assert_array_equal(raw_a[2][:, eye_raw], raw_v[2][:, eye_raw])
    ak_v, ak_a = read_livelink_csv(video_take / "arkit.csv").arkit(), read_livelink_csv(out / "arkit.csv").arkit()
    np.testing.assert_allclose(ak_a[:, ~arkit_mouth_mask()], ak_v[:, ~arkit_mouth_mask()], atol=1e-9)
    meta = json.loads((out / "take.json").read_text())
    lipsync = meta["lipsync"]
    assert lipsync["lip_correction"] == "auto" and lipsync["speech"]["method"] == "align"
    assert lipsync["decisions"] and all({"weight", "decision", "jaw_correlation", "visible_share"} <= set(d)
                                        for d in lipsync["decisions"])
    assert meta["files"]["phones"] == "phones.csv" and (out / "phones.csv").is_file()
    assert (out / "audio.wav").is_file() and values_a[:, jaw].max() > 0.2


def test_replace_takes_the_audio_mouth_at_the_offset_time(inputs, video_take, tmp_path):
    video, speech, transcript = inputs
    offset = 0.25
    audio_options = AudioOptions(audio=speech, transcript=str(transcript), lip_correction="replace",
                                 audio_offset=offset)
    out = run(RunOptions(video=video, out=tmp_path / "take", audio=audio_options), Reporter())
    times, names, values = _faceboard(out)
    expected, _ = animate_speech(analyse_speech(load_audio(speech), audio_options), times + offset)
    mouth = mouth_attribute_mask("mh4")
    covered = (times + offset) <= load_audio(speech).duration
    inner = covered & (times > 0.2) & (times < times[covered][-1] - 0.2)
    np.testing.assert_allclose(values[inner][:, mouth], expected[inner][:, mouth], atol=1e-5)
    assert json.loads((out / "take.json").read_text())["lipsync"]["audio_offset"] == offset


def test_audio_much_shorter_or_longer_than_the_video(inputs, video_take, tmp_path):
    video, speech, _ = inputs
    samples = load_audio(speech).samples
    short = write_audio(tmp_path / "short.wav", samples[: SAMPLE_RATE], SAMPLE_RATE)          # 1 s of 3.1
    reporter = Reporter()
    out = run(RunOptions(video=video, out=tmp_path / "short", audio=AudioOptions(audio=short, lip_correction="replace")),
              reporter)
    assert any(w["code"] == "audio_length" for w in reporter.warnings)
    times, names, values = _faceboard(out)
    _, _, values_v = _faceboard(video_take)
    late = times > 1.0 + 0.2                                     # past the audio (and its ramp): the video's mouth
    np.testing.assert_allclose(values[late], values_v[late], atol=1e-9)
    long = write_audio(tmp_path / "long.wav", np.tile(samples, 4), SAMPLE_RATE)               # 12 s of 3.1
    reporter = Reporter()
    out = run(RunOptions(video=video, out=tmp_path / "long", audio=AudioOptions(audio=long, recognizer="phones")),
              reporter)
    assert any(w["code"] == "audio_length" for w in reporter.warnings)
    assert len(_faceboard(out)[0]) == len(values_v)


def test_silent_or_missing_audio_keeps_the_video_take(inputs, video_take, tmp_path):
    video, _, _ = inputs
    silent = write_audio(tmp_path / "silent.wav", np.zeros(SAMPLE_RATE * 3, np.float32), SAMPLE_RATE)
    reporter = Reporter()
    out = run(RunOptions(video=video, out=tmp_path / "silent", audio=AudioOptions(audio=silent)), reporter)
    assert any(w["code"] == "no_audio" for w in reporter.warnings)
    np.testing.assert_array_equal(_faceboard(out)[2], _faceboard(video_take)[2])
    assert json.loads((out / "take.json").read_text())["lipsync"] is None
    # no --audio and a video without a sound track: warned, not failed
    reporter = Reporter()
    run(RunOptions(video=video, out=tmp_path / "own", audio=AudioOptions(lip_correction="auto")), reporter)
    assert any(w["code"] == "no_audio" for w in reporter.warnings)


def test_unreadable_audio_fails_before_tracking(inputs, tmp_path, capsys):
    video, _, _ = inputs
    junk = tmp_path / "junk.wav"
    junk.write_bytes(b"RIFF not really a wave file" * 10)
    code = main(["run", "--video", str(video), "--out", str(tmp_path / "t"), "--audio", str(junk),
                 "--progress", "json"])
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert code == 2 and events[-1]["event"] == "error" and "junk.wav" in events[-1]["message"]
    assert not any(e.get("stage") == "track" for e in events)
    assert not (tmp_path / "t").exists()


def test_without_audio_a_correction_mode_uses_the_video_sound_track(shared_data, tmp_path):
    video = shared_data / "video" / "faces" / "driving_d11.mp4"     # 9 s with a sound track
    options = RunOptions(video=video, out=tmp_path / "take", fps_out=30.0,
                         audio=AudioOptions(lip_correction="blend", recognizer="phones"))
    out = run(options, Reporter())
    lipsync = json.loads((out / "take.json").read_text())["lipsync"]
    assert lipsync["audio_is_video_track"] and lipsync["lip_correction"] == "blend"
    assert lipsync["audio"]["path"] == str(video) and 0 < lipsync["mean_audio_weight"] <= 0.7
    assert (out / "audio.wav").is_file()


def test_auto_decides_per_segment_from_visibility_and_agreement(inputs, tmp_path):
    """Two sentences: the face is seen and its jaw follows the speech in the first, lost in the second."""
    from types import SimpleNamespace

    from engine.audio.correction import PreparedAudio, apply_correction
    from engine.audio.io import Audio
    from engine.rig.arkit import ARKIT_INDEX
    from engine.rig.retarget import retarget

    _, speech_path, transcript = inputs
    sentence = load_audio(speech_path).samples
    audio = Audio(np.concatenate([sentence, np.zeros(SAMPLE_RATE, np.float32), sentence]))
    text = transcript.read_text()
    speech = analyse_speech(audio, AudioOptions(transcript=f"{text} {text}"))
    times = np.arange(0, audio.duration, 1 / 30)
    _, audio_arkit = animate_speech(speech, times)
    video_arkit = np.zeros((len(times), len(ARKIT_INDEX)))
    video_arkit[:, ARKIT_INDEX["jawOpen"]] = audio_arkit[:, ARKIT_INDEX["jawOpen"]]   # the video agrees
    video_arkit[:, ARKIT_INDEX["eyeBlinkLeft"]] = 0.5
    second = times > sentence.size / SAMPLE_RATE + 0.5
    detected = ~second                                                                 # ... then loses the face
    solved = SimpleNamespace(times=times, arkit=video_arkit.copy(), detected=detected,
                             head_pose=np.zeros((len(times), 6)))
    curves = retarget(video_arkit, "mh4")
    before = curves.faceboard.copy()
    options = RunOptions(audio=AudioOptions(audio=speech_path, lip_correction="auto"))
    meta = apply_correction(PreparedAudio("auto", speech_path, audio, speech), options, solved, curves, tmp_path,
                            Reporter())
    decisions = meta["decisions"]
    assert len(decisions) >= 2
    first = [d for d in decisions if d["end"] < sentence.size / SAMPLE_RATE + 0.3]
    last = [d for d in decisions if d["start"] > sentence.size / SAMPLE_RATE + 0.5]
    assert all(d["weight"] == 0.35 and d["jaw_correlation"] > 0.9 for d in first)
    assert all(d["weight"] == 1.0 and d["visible_share"] == 0.0 for d in last)
    mouth = mouth_attribute_mask("mh4")
    np.testing.assert_array_equal(curves.faceboard[:, ~mouth], before[:, ~mouth])
    assert (solved.arkit[:, ARKIT_INDEX["eyeBlinkLeft"]] == 0.5).all()
    assert (tmp_path / "phones.csv").is_file() and (tmp_path / "audio.wav").is_file()


def test_loudness_only_audio_never_overrides_a_visible_mouth(inputs, tmp_path):
    """A language without a recogniser (the loudness track): where the face is seen the video's mouth stays
    (mean absolute difference <= 0.05 on the mouth controls), where it is lost the audio's mouth moves it."""
    from types import SimpleNamespace

    from engine.audio.correction import PreparedAudio, apply_correction
    from engine.audio.io import Audio
    from engine.rig.arkit import ARKIT_INDEX
    from engine.rig.retarget import retarget

    _, speech_path, _ = inputs
    sentence = load_audio(speech_path).samples
    audio = Audio(np.concatenate([sentence, np.zeros(SAMPLE_RATE, np.float32), sentence]))
    speech = analyse_speech(audio, AudioOptions(language="other"))
    assert {part.method for part in speech.speech_parts()} == {"energy"}
    times = np.arange(0, audio.duration, 1 / 30)
    rng = np.random.default_rng(3)
    video_arkit = np.zeros((len(times), len(ARKIT_INDEX)))
    video_arkit[:, ARKIT_INDEX["jawOpen"]] = np.clip(0.3 + 0.2 * rng.standard_normal(len(times)), 0, 1)
    second = times > sentence.size / SAMPLE_RATE + 0.5
    solved = SimpleNamespace(times=times, arkit=video_arkit.copy(), detected=~second,
                             head_pose=np.zeros((len(times), 6)))
    curves = retarget(video_arkit, "mh4")
    before = curves.faceboard.copy()
    options = RunOptions(audio=AudioOptions(audio=speech_path, lip_correction="auto", language="other"))
    meta = apply_correction(PreparedAudio("auto", speech_path, audio, speech), options, solved, curves, tmp_path,
                            Reporter())
    mouth = mouth_attribute_mask("mh4")
    seen = ~second & (times < sentence.size / SAMPLE_RATE - 0.2)
    change = np.abs(curves.faceboard - before)[:, mouth]
    assert change[seen].mean() <= 0.05, change[seen].mean()
    jaw = curves.faceboard_names.index("CTRL_C_jaw.ty")
    assert np.abs(curves.faceboard - before)[second, jaw].max() > 0.1   # the lost face: the loudness track moves it
    kept = [d for d in meta["decisions"] if d["weight"] == 0.0]
    assert kept and all(d["audio_reliability"] == 0.0 for d in kept)



def test_recognised_speech_never_overrides_a_visible_mouth_it_contradicts(inputs, tmp_path):
    """Audio without a transcript (recognised words: a guess) against a seen face whose jaw moves against
    it: the video's mouth stays, closures included; the same audio with its transcript aligned leads."""
    import dataclasses
    from types import SimpleNamespace

    from engine.audio.correction import PreparedAudio, apply_correction
    from engine.rig.arkit import ARKIT_INDEX
    from engine.rig.retarget import retarget

    _, speech_path, transcript = inputs
    audio = load_audio(speech_path)
    aligned = analyse_speech(audio, AudioOptions(transcript=transcript.read_text()))
    guessed = dataclasses.replace(aligned, segments=[dataclasses.replace(s, method="words") for s in aligned.segments])
    times = np.arange(0, audio.duration, 1 / 30)
    _, audio_arkit = animate_speech(aligned, times)
    video_arkit = np.zeros((len(times), len(ARKIT_INDEX)))
    video_arkit[:, ARKIT_INDEX["jawOpen"]] = 0.6 - audio_arkit[:, ARKIT_INDEX["jawOpen"]]   # against the speech
    changes = {}
    for name, speech in (("words", guessed), ("align", aligned)):
        solved = SimpleNamespace(times=times, arkit=video_arkit.copy(), detected=np.ones(len(times), bool),
                                 head_pose=np.zeros((len(times), 6)))
        curves = retarget(video_arkit, "mh4")
        before = curves.faceboard.copy()
        options = RunOptions(audio=AudioOptions(audio=speech_path, lip_correction="auto"))
        (tmp_path / name).mkdir()
        meta = apply_correction(PreparedAudio("auto", speech_path, audio, speech), options, solved, curves,
                                tmp_path / name, Reporter())
        changes[name] = (np.abs(curves.faceboard - before)[:, mouth_attribute_mask("mh4")].max(), meta["decisions"])
    change, decisions = changes["words"]
    assert change < 1e-6 and all(d["weight"] == 0.0 and d["audio_reliability"] < 0.8 for d in decisions)
    change, decisions = changes["align"]
    assert change > 0.2 and all(d["weight"] > 0.5 for d in decisions)
