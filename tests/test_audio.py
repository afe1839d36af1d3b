"""engine/audio building blocks: decoding, voice activity, text, pinyin, visemes, coarticulation."""
from __future__ import annotations

import numpy as np
import pytest

from tests.audio_helpers import syllables, write_audio
from engine.audio.coarticulation import PhoneSpan, animate
from engine.audio.io import SAMPLE_RATE, load_audio
from engine.audio.mandarin import pinyin_lexicon
from engine.audio.text import letter_to_sound, normalize_words, read_transcript
from engine.audio.vad import VadOptions, speech_segments
from engine.audio.visemes import (mouth_attribute_mask, mouth_classes, phone_class, phone_viseme,
                                  take_mouth_classes, viseme_table)
from engine.errors import BadInput
from engine.rig.faceboard import load_faceboard

TOLERANCE_DURATION_S = 0.06    # encoder padding/priming of lossy codecs


@pytest.mark.parametrize("suffix,rate,channels", [(".wav", 44100, 2), (".flac", 48000, 1), (".mp3", 44100, 2),
                                                  (".m4a", 22050, 1), (".ogg", 48000, 2)])
def test_any_container_and_rate_decodes_to_16k_mono(tmp_path, suffix, rate, channels):
    seconds = 2.0
    t = np.arange(int(rate * seconds)) / rate
    tone = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    audio = load_audio(write_audio(tmp_path / f"a{suffix}", tone, rate, channels=channels))
    assert audio.rate == SAMPLE_RATE and audio.samples.ndim == 1
    assert audio.source_rate == rate and audio.source_channels == channels
    assert abs(audio.duration - seconds) < TOLERANCE_DURATION_S
    # the 440 Hz tone survives resampling: its spectral peak is where it should be
    spectrum = np.abs(np.fft.rfft(audio.samples[4000:20000]))
    assert abs(np.fft.rfftfreq(16000, 1 / SAMPLE_RATE)[spectrum.argmax()] - 440) < 5


def test_the_sound_track_of_a_video_is_read(shared_data):
    audio = load_audio(shared_data / "video" / "faces" / "driving_d11.mp4")
    assert audio.source_rate == 44100 and abs(audio.duration - 9.0) < 0.1
    # d3 carries a sound track of digital silence: refused as silent, readable when asked
    with pytest.raises(BadInput, match="silent"):
        load_audio(shared_data / "video" / "faces" / "driving_d3.mp4")
    assert load_audio(shared_data / "video" / "faces" / "driving_d3.mp4", check_silence=False).samples.max() == 0


def test_bad_audio_is_refused_with_a_reason(tmp_path, shared_data):
    silent = write_audio(tmp_path / "silent.wav", np.zeros(SAMPLE_RATE * 2, np.float32), SAMPLE_RATE)
    with pytest.raises(BadInput, match="silent"):
        load_audio(silent)
    junk = tmp_path / "junk.mp3"
    junk.write_bytes(np.random.default_rng(0).integers(0, 255, 5000, dtype=np.uint8).tobytes())
    with pytest.raises(BadInput, match="cannot"):
        load_audio(junk)
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    with pytest.raises(BadInput, match="empty"):
        load_audio(empty)
    with pytest.raises(BadInput, match="not found"):
        load_audio(tmp_path / "missing.wav")
    with pytest.raises(BadInput, match="without a sound track"):
        load_audio(shared_data / "video" / "faces" / "driving_d0.mp4")


def test_voice_activity_finds_the_syllables_and_the_pause():
    from engine.audio.io import Audio

    segments = speech_segments(Audio(syllables()))
    assert len(segments) == 2
    assert segments[0].start < 0.1 and 1.1 < segments[0].end < 1.3
    assert 1.7 < segments[1].start < 1.9


def test_steady_noise_and_tones_hold_no_speech():
    from engine.audio.io import Audio

    rng = np.random.default_rng(1)
    assert speech_segments(Audio((0.1 * rng.standard_normal(SAMPLE_RATE * 3)).astype(np.float32))) == []
    t = np.arange(SAMPLE_RATE * 3) / SAMPLE_RATE
    assert speech_segments(Audio((0.3 * np.sin(2 * np.pi * 200 * t)).astype(np.float32))) == []


def test_long_speech_is_split_below_the_limit():
    from engine.audio.io import Audio

    long = syllables(seconds=30.0, pause=(100, 100))
    segments = speech_segments(Audio(long), VadOptions(max_segment_s=8.0))
    assert len(segments) >= 4 and max(s.duration for s in segments) <= 8.0


def test_transcripts_normalise_to_dictionary_words(tmp_path):
    assert normalize_words("Hello, World! It's 42 <unk> degrees.") == ["hello", "world", "it's", "forty", "two",
                                                                         "degrees"]
    script = tmp_path / "t.txt"
    script.write_text("  go forward ten meters \n")
    assert read_transcript(script) == "go forward ten meters"
    assert read_transcript("just text") == "just text" and read_transcript("  ") is None
    assert letter_to_sound("zyxomma").split()[0] == "Z" and "SH" in letter_to_sound("shmoo")


def test_pinyin_maps_to_english_phones():
    words, lexicon = pinyin_lexicon("爸妈福路，是")
    assert words == ["py_ba", "py_ma", "py_fu", "py_lu", "py_shi"]
    assert lexicon["py_ba"] == "B AA" and lexicon["py_ma"] == "M AA" and lexicon["py_fu"] == "F UW"
    assert lexicon["py_shi"] == "SH ER"


def test_the_viseme_set_distinguishes_what_the_face_board_shows():
    assert {phone_viseme(p) for p in ("P", "B", "M")} == {"PBM"}
    assert {phone_viseme(p) for p in ("F", "V")} == {"FV"}
    assert phone_viseme("uw1") == "OO" and phone_viseme("ax") == "AA" and phone_viseme("pau") == "rest"
    assert phone_class("M") == "closed" and phone_class("V") == "labiodental" and phone_class("OW") == "rounded"
    for rig in ("mh4", "legacy"):
        table = viseme_table(rig)
        names = list(table.faceboard_names)
        poses = {v: table.faceboard[table.index(v)] for v in table.names}
        classes = take_mouth_classes(np.stack(list(poses.values())), names)
        for v, cls in zip(poses, classes):   # each pose reads back as its own class
            from engine.audio.visemes import viseme_class

            assert mouth_classes()[cls] == viseme_class(v), (rig, v)
        pbm = poses["PBM"]
        assert pbm[names.index("CTRL_L_mouth_lipsTogetherU.ty")] == pytest.approx(1.0)
        assert pbm[names.index("CTRL_R_mouth_pressD.ty")] > 0.2
        assert poses["FV"][names.index("CTRL_L_mouth_lipBiteD.ty")] > 0.5
        assert poses["TDNL"][names.index("CTRL_C_jaw.ty")] > 0 and np.ptp(poses["TH"]) > 0
        # a pose never moves anything but the mouth, and the rest pose is the face board's default
        board = load_faceboard(rig)
        mouth = mouth_attribute_mask(rig)
        for pose in poses.values():
            np.testing.assert_array_equal(pose[~mouth], board.defaults[~mouth])
        np.testing.assert_allclose(poses["rest"], board.defaults)


def test_the_mouth_set_leaves_eyes_brows_and_cheeks_alone():
    board = load_faceboard("mh4")
    mouth = dict(zip(board.names, mouth_attribute_mask("mh4")))
    assert mouth["CTRL_C_jaw.ty"] and mouth["CTRL_L_mouth_lipsTogetherU.ty"] and mouth["CTRL_C_tongue_inOut.ty"]
    assert mouth["CTRL_C_teethD.ty"] and mouth["CTRL_R_jaw_ChinRaiseD.ty"]
    for name, value in mouth.items():
        if any(k in name for k in ("eye", "brow", "nose", "suckBlow", "neck", "ear_")):
            assert not value, name


def _frames(fb, names, attr):
    return fb[:, names.index(attr)]


def test_coarticulation_keeps_short_closures_and_lets_neighbours_in():
    table = viseme_table("mh4")
    names = list(table.faceboard_names)
    times = np.arange(0, 1.2, 1 / 100)
    # "ah-p-ah" with a 30 ms P, then "t-uw"
    phones = [PhoneSpan(0.0, 0.1, "SIL"), PhoneSpan(0.1, 0.35, "AA"), PhoneSpan(0.35, 0.38, "P"),
              PhoneSpan(0.38, 0.6, "AA"), PhoneSpan(0.6, 0.68, "T"), PhoneSpan(0.68, 0.9, "UW"),
              PhoneSpan(0.9, 1.2, "SIL")]
    fb, arkit = animate(phones, times, table)
    together = _frames(fb, names, "CTRL_L_mouth_lipsTogetherU.ty")
    jaw = _frames(fb, names, "CTRL_C_jaw.ty")
    closure = (times > 0.355) & (times < 0.375)                      # the middle of the 30 ms P
    assert together[closure].max() == pytest.approx(1.0)             # never blended away
    assert jaw[closure].max() <= 0.05
    assert jaw[(times > 0.2) & (times < 0.3)].min() > 0.4            # open vowel
    purse = _frames(fb, names, "CTRL_L_mouth_purseU.ty")
    assert purse[(times >= 0.62) & (times < 0.68)].max() > 0.2        # the T anticipates the rounding
    assert purse[(times > 0.75) & (times < 0.85)].min() > 0.8
    assert np.abs(fb[times > 1.1] - table.faceboard[table.index("rest")]).max() < 1e-3   # silence rests
    assert 0 <= arkit.min() and arkit.max() <= 1


def test_closures_hold_over_the_whole_aligned_phone():
    table = viseme_table("mh4")
    names = list(table.faceboard_names)
    times = np.arange(0, 0.8, 1 / 100)
    phones = [PhoneSpan(0.0, 0.1, "SIL"), PhoneSpan(0.1, 0.3, "AA"), PhoneSpan(0.3, 0.4, "M"),
              PhoneSpan(0.4, 0.6, "AA"), PhoneSpan(0.6, 0.8, "SIL")]
    fb, _ = animate(phones, times, table)
    together = _frames(fb, names, "CTRL_L_mouth_lipsTogetherU.ty")
    assert together[(times >= 0.3) & (times < 0.4)].min() == pytest.approx(1.0)   # lips shut from edge to edge
    assert together[(times > 0.15) & (times < 0.25)].max() < 0.5                   # open on the vowels


def test_quiet_frames_are_topped_up_to_the_noise_floor_and_speech_is_left_alone():
    from engine.audio.recognize import RecognizerOptions, to_pcm

    options = RecognizerOptions()
    t = np.arange(SAMPLE_RATE) / SAMPLE_RATE
    samples = np.where(t < 0.5, 0.0, 0.3 * np.sin(2 * np.pi * 200 * t)).astype(np.float32)
    pcm = np.frombuffer(to_pcm(samples, options), np.int16).astype(np.float64)
    silence, speech = pcm[:SAMPLE_RATE // 2], pcm[SAMPLE_RATE // 2:]
    assert np.sqrt((silence ** 2).mean()) == pytest.approx(options.noise_floor, rel=0.05)
    assert np.abs(speech - np.round(samples[SAMPLE_RATE // 2:] * 32767.0)).max() <= 1
