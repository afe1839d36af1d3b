"""bench/lip_fusion.py's articulatory-script truth (--truth script) on hand-made phone sequences: the
mouth it renders must close on P/B/M, rest in silence, round and spread where phonetics says, come out the
same for the same sentence, and never lean on the engine's own viseme path (which it exists to judge)."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

from engine.audio.recognize import TimedPhone
from engine.rig.arkit import ARKIT_INDEX

_spec = importlib.util.spec_from_file_location("bench_lip_fusion",
                                               Path(__file__).parents[1] / "bench" / "lip_fusion.py")
bench = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = bench          # its dataclasses look their module up
_spec.loader.exec_module(bench)

PHONE_S = 0.2       # long enough that a target, jittered by up to 40 ms, stays inside its phone


def _phones(*names: str, lead: float = 0.5) -> list[TimedPhone]:
    """The phones one after another, PHONE_S each, after `lead` seconds of silence (left as a gap)."""
    return [TimedPhone(lead + i * PHONE_S, lead + (i + 1) * PHONE_S, p) for i, p in enumerate(names)]


def _inside(phones: list[TimedPhone], k: int, times: np.ndarray) -> np.ndarray:
    return (times >= phones[k].start) & (times < phones[k].end)


PHONES = _phones("P", "AA", "B", "IY", "M", "UW", "F", "AA", "S", "IY")
TIMES = np.arange(0.0, PHONES[-1].end + 0.6, 0.005)


@pytest.fixture(scope="module")
def features() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    return bench.script_features(bench.script_keys(bench.phone_spans(PHONES), rng), TIMES)


def test_lips_seal_on_p_b_m_and_open_on_the_vowels(features):
    close = features["close"]
    for k in (0, 2, 4):       # P, B, M
        assert close[_inside(PHONES, k, TIMES)].max() > 0.8, PHONES[k].phone
        assert features["press"][_inside(PHONES, k, TIMES)].max() > 0.1, PHONES[k].phone
    for k in (1, 3, 5, 7, 9):  # the vowels (AA between P and B opens its lips for a moment only)
        assert close[_inside(PHONES, k, TIMES)].min() < 0.1, PHONES[k].phone
    # the jaw is nearly shut on the closures, open on AA
    jaw = features["jaw"]
    assert jaw[_inside(PHONES, 1, TIMES)].max() > 3 * jaw[_inside(PHONES, 0, TIMES)].min()


def test_rounding_spread_and_bite_where_phonetics_puts_them(features):
    uw, iy, f = _inside(PHONES, 5, TIMES), _inside(PHONES, 3, TIMES), _inside(PHONES, 6, TIMES)
    assert features["round"][uw].max() > 0.5 > features["round"][iy].max()
    assert features["spread"][iy].max() > 0.3 > features["spread"][uw].max()
    assert features["bite"][f].max() > 0.8 and features["bite"][_inside(PHONES, 7, TIMES)].min() < 0.05


def test_jaw_rests_in_silence():
    arkit = bench.script_truth(PHONES, TIMES, "a sentence")
    jaw = arkit[:, ARKIT_INDEX["jawOpen"]]
    lead, tail = TIMES < PHONES[0].start - 0.15, TIMES > PHONES[-1].end + 0.15
    assert np.abs(jaw[lead]).max() < 0.01 and np.abs(jaw[tail]).max() < 0.01
    assert jaw[_inside(PHONES, 7, TIMES)].max() > 0.2        # ... and moves in speech


def test_the_same_sentence_gives_the_same_face_and_another_a_different_one():
    a = bench.script_truth(PHONES, TIMES, "a sentence")
    assert np.array_equal(a, bench.script_truth(PHONES, TIMES, "a sentence"))
    assert np.abs(a - bench.script_truth(PHONES, TIMES, "another sentence")).max() > 0.01
    assert (a >= 0).all() and (a <= 1).all()
    close, jaw = a[:, ARKIT_INDEX["mouthClose"]], a[:, ARKIT_INDEX["jawOpen"]]
    assert (close <= jaw + 1e-12).all()       # ARKit: the lips cannot close over more than the jaw opens


def test_the_script_does_not_use_the_engines_viseme_path(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the script truth must not use the engine's viseme path")
    for name in ("viseme_table", "animate", "loudness_track"):
        monkeypatch.setattr(bench, name, refuse)
    clip = {"truth": PHONES, "text": "a sentence"}
    arkit, visemes = bench.truth_curves("script", clip, None, TIMES)
    assert visemes is None and arkit.shape == (len(TIMES), 52)
    with pytest.raises(AssertionError):
        bench.truth_curves("engine", clip, None, TIMES)
