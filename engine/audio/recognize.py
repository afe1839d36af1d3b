"""Speech timing with pocketsphinx 5 (its wheel ships the en-us acoustic model, dictionary and phone LM).

* Forced alignment: `set_align_text` + one decoding pass gives words, `set_alignment` + a second pass
  gives phones. The aligning decoder is created with `bestpath=False` (the best-path search breaks
  sub-word alignment). Each call aligns one chunk of speech (the caller splits long audio at pauses).
* Phone recognition: an `allphone` decoder with the shipped phone language model.
* Recognition biased to a script (`recognize_script_words`): the script's own trigram model and the most
  frequent English words, to place a script on a long recording (engine.audio.script_alignment).

A chunk's alignment is judged by its mean acoustic score per frame (from the phone alignment): a
transcript that does not match the audio scores several times worse than a matching one, and such a
chunk is reported as failed so that the caller falls back to phone recognition.
"""
from __future__ import annotations

import re
import tempfile
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from engine.audio.io import SAMPLE_RATE
from engine.audio.script import Script, write_script_language_model
from engine.audio.text import letter_to_sound
from engine.errors import ModelMissing

FRAME_S = 0.01


@dataclass
class RecognizerOptions:
    # Mean acoustic score per frame (pocketsphinx log units): matching transcripts score
    # about -8..-26, transcripts of other speech about -60; below this an alignment counts as failed.
    min_align_score: float = -40.0
    # A noise floor under the audio before decoding: digital or near-digital silence (synthetic or gated
    # audio) makes the aligner swallow leading pauses into the first phone. Each 10 ms frame quieter than
    # this level is topped up with white noise to it; louder frames (speech, a real recording's own
    # noise floor) are left as they are, because noise added there blurs weak consonants.
    noise_floor: float = 24.0       # RMS in 16-bit sample units (about -63 dBFS)
    # allphone decoding (values from pocketsphinx's own phoneme test)
    phone_lw: float = 2.0
    phone_pip: float = 0.3
    phone_beam: float = 1e-60
    phone_pbeam: float = 1e-40
    # Pronunciation variants: the aligner picks among a word's dictionary variants by acoustics, which
    # suits content words (bought = B AA T / B AO T) but turns reduced function words into full vowels
    # ("the" = DH IY everywhere reads as a spread mouth). These words keep their first (reduced) form;
    # first_pronunciation_only=True applies that to every word.
    reduced_words: tuple[str, ...] = ()          # e.g. ("a", "the", "to", "of"): measured worse on real speech
    first_pronunciation_only: bool = False


@dataclass
class TimedPhone:
    start: float
    end: float
    phone: str
    word: str = ""
    score: float = 0.0


class AlignmentFailed(Exception):
    pass


_lock = threading.Lock()


# Beams of the aligner: pocketsphinx's defaults first; when they lose the path (long or noisy
# utterances), once more with wide beams (slower, so only then).
ALIGN_BEAMS = ({}, {"beam": 1e-120, "wbeam": 1e-100, "pbeam": 1e-100})


@lru_cache(maxsize=None)
def _align_decoder(attempt: int = 0):
    from pocketsphinx import Decoder

    try:
        return Decoder(bestpath=False, lm=None, loglevel="FATAL", **ALIGN_BEAMS[attempt])
    except (RuntimeError, ValueError) as exc:  # pragma: no cover - a broken install
        raise ModelMissing(f"pocketsphinx could not load its en-us model: {exc}",
                           "reinstall the engine's requirements (pip install -r requirements.txt)") from exc


@lru_cache(maxsize=None)
def _phone_decoder(lw: float, pip: float, beam: float, pbeam: float):
    from pocketsphinx import Decoder, get_model_path

    return Decoder(allphone=get_model_path("en-us/en-us-phone.lm.bin"), lm=None, lw=lw, pip=pip, beam=beam,
                   pbeam=pbeam, loglevel="FATAL")


@lru_cache(maxsize=None)
def _word_decoder():
    from pocketsphinx import Decoder

    return Decoder(loglevel="FATAL")    # the shipped en-us acoustic model, 3-gram LM and dictionary


def recognize_words(samples: np.ndarray, options: RecognizerOptions | None = None) -> list[str]:
    """Words heard in `samples` by large-vocabulary recognition (fillers and noise left out)."""
    options = options or RecognizerOptions()
    with _lock:
        decoder = _word_decoder()
        _decode(decoder, to_pcm(samples, options))
        words = [_word_name(seg.word) for seg in decoder.seg()]
    return [w for w in words if w and not w.startswith(("<", "[", "+"))]


def warm_up(options: RecognizerOptions | None = None, words: bool = True) -> None:
    """Load the models now (they are cached for the life of the process)."""
    options = options or RecognizerOptions()
    if words:
        _word_decoder()
    _align_decoder()
    _phone_decoder(options.phone_lw, options.phone_pip, options.phone_beam, options.phone_pbeam)


def to_pcm(samples: np.ndarray, options: RecognizerOptions, seed: int = 0) -> bytes:
    """16-bit PCM for pocketsphinx, every 10 ms frame topped up to `options.noise_floor` with white noise
    (a frame of RMS r gets noise of RMS sqrt(floor^2 - r^2); frames at or above the floor get none)."""
    rng = np.random.default_rng(seed)
    x = samples.astype(np.float64) * 32767.0
    hop = int(round(FRAME_S * SAMPLE_RATE))
    frames = np.concatenate([x, np.zeros(-len(x) % hop)]).reshape(-1, hop)
    level = np.sqrt((frames ** 2).mean(axis=1))
    noise_rms = np.sqrt(np.maximum(options.noise_floor ** 2 - level ** 2, 0.0))
    x += np.repeat(noise_rms, hop)[:len(x)] * rng.normal(0.0, 1.0, len(x))
    return np.clip(np.round(x), -32768, 32767).astype(np.int16).tobytes()


def _decode(decoder, pcm: bytes) -> None:
    decoder.start_utt()
    decoder.process_raw(pcm, no_search=False, full_utt=True)
    decoder.end_utt()


ALIAS_MARK = "__fr"


def _word_name(name: str) -> str:
    return re.sub(r"\(\d+\)$", "", name).replace(ALIAS_MARK, "")


def pronunciation(word: str) -> str | None:
    return _align_decoder().lookup_word(word)


def align(samples: np.ndarray, offset: float, words: list[str], lexicon: dict[str, str] | None = None,
          options: RecognizerOptions | None = None) -> tuple[list[TimedPhone], float]:
    """Phones of `words` aligned in `samples` (16 kHz), times shifted by `offset`; and the mean score
    per frame. Raises AlignmentFailed when the words cannot be aligned or do not match the audio."""
    aligned = align_words(samples, offset, words, lexicon, options)
    return aligned.phones, aligned.score


@dataclass
class TimedWord:
    start: float
    end: float
    word: str


@dataclass
class Alignment:
    phones: list[TimedPhone]
    words: list[TimedWord]      # every aligned word of the text, in order (silence and fillers left out)
    score: float                # mean acoustic score per frame


def align_words(samples: np.ndarray, offset: float, words: list[str], lexicon: dict[str, str] | None = None,
                options: RecognizerOptions | None = None, fresh: bool = False) -> Alignment:
    """`align`, also giving each word's span (a word said twice is two spans). `fresh`: the decoder's noise
    estimate starts over (pocketsphinx carries it from the audio it decoded before, so without this the
    result depends on what was aligned earlier in the process)."""
    options = options or RecognizerOptions()
    if not words:
        raise AlignmentFailed("no words to align")
    for attempt in range(len(ALIGN_BEAMS)):
        try:
            return _align_once(samples, offset, words, lexicon, options, attempt, fresh)
        except NoPath:
            if attempt == len(ALIGN_BEAMS) - 1:
                raise
    raise AssertionError("unreachable")


class NoPath(AlignmentFailed):
    pass


def _add_pronunciations(decoder, words: list[str], lexicon: dict[str, str] | None,
                        options: RecognizerOptions) -> dict[str, str]:
    """The dictionary entry (alias) each word is aligned with, adding the ones the decoder lacks."""
    aliases: dict[str, str] = {}
    missing: dict[str, str] = {}
    for word in dict.fromkeys(words):
        known = decoder.lookup_word(word)
        wanted = (lexicon or {}).get(word) or known or letter_to_sound(word)
        first_only = options.first_pronunciation_only or word in options.reduced_words
        alias = f"{word}{ALIAS_MARK}" if first_only or wanted != known else word
        if decoder.lookup_word(alias) != wanted:
            missing[alias] = wanted
        aliases[word] = alias
    for i, (alias, phones) in enumerate(missing.items()):
        try:   # one dictionary update for all new words, with the last one
            decoder.add_word(alias, phones, i == len(missing) - 1)
        except RuntimeError as exc:
            raise AlignmentFailed(f"cannot add {alias!r} ({phones}) to the dictionary: {exc}") from exc
    return aliases


def _align_once(samples, offset, words, lexicon, options: RecognizerOptions, attempt: int,
                fresh: bool = False) -> Alignment:
    with _lock:
        decoder = _align_decoder(attempt)
        if fresh:
            decoder.reinit_feat()        # (start_stream, which did this, is deprecated)
        aliases = _add_pronunciations(decoder, words, lexicon, options)
        pcm = to_pcm(samples, options)
        try:
            decoder.set_align_text(" ".join(aliases[w] for w in words))
            _decode(decoder, pcm)
            if decoder.hyp() is None:
                raise NoPath("the aligner found no path through the transcript")
            decoder.set_alignment()
            _decode(decoder, pcm)
            alignment = decoder.get_alignment()
        except RuntimeError as exc:
            raise AlignmentFailed(str(exc)) from exc
        if alignment is None:
            raise AlignmentFailed("no alignment")
        phones, spans = _timed_alignment(alignment, offset)
    frames = sum(round((p.end - p.start) / FRAME_S) for p in phones)
    score = sum(p.score for p in phones) / max(frames, 1)
    if not any(p.phone != "SIL" for p in phones):
        raise AlignmentFailed("the alignment holds no phones")
    if score < options.min_align_score:
        raise AlignmentFailed(f"the transcript does not match the audio (score {score:.1f} per frame, "
                              f"expected above {options.min_align_score:.0f})")
    return Alignment(phones, spans, score)


def _timed_alignment(alignment, offset: float) -> tuple[list[TimedPhone], list[TimedWord]]:
    phones: list[TimedPhone] = []
    spans: list[TimedWord] = []
    for word in alignment:
        name = _word_name(word.name)
        spoken = not name.startswith(("<", "[", "+"))
        first = len(phones)
        for phone in word:
            start = offset + phone.start * FRAME_S
            phones.append(TimedPhone(start, start + phone.duration * FRAME_S, phone.name,
                                     "" if name.startswith("<") else name, float(phone.score)))
        if spoken and len(phones) > first:
            spans.append(TimedWord(phones[first].start, phones[-1].end, name))
    return phones, spans


@dataclass(frozen=True)
class ScriptRecognition:
    """How `recognize_script_words` listens (engine.config.AudioOptions.script_* hold the defaults)."""
    frame_skip: int            # the acoustic model evaluated every this many frames ...
    topn: int                  # ... with this many Gaussians per codebook
    language_weight: float
    common_words: tuple[str, ...]   # frequent English words heard besides the script's (script.common_words) ...
    common_weight: float            # ... at this weight relative to a uniform unigram


def recognize_script_words(samples: np.ndarray, offset: float, script: Script, listening: ScriptRecognition,
                           options: RecognizerOptions | None = None) -> list[TimedWord]:
    """Words heard in `samples` by recognition biased to `script` (times shifted by `offset`): its lines'
    word sequences are likely, any of its words may follow any other, and frequent English words are
    possible at a low weight. This pass only places the script (the aligner times it), so it listens
    coarsely (`listening`)."""
    options = options or RecognizerOptions()
    with _lock:
        decoder = _script_decoder(script, listening)
        decoder.reinit_feat()           # the noise estimate starts over: the words heard depend on this audio only
        _decode(decoder, to_pcm(samples, options))
        segments = [(seg.start_frame, seg.end_frame, _word_name(seg.word)) for seg in decoder.seg()]
    return [TimedWord(offset + a * FRAME_S, offset + (b + 1) * FRAME_S, w) for a, b, w in segments
            if not w.startswith(("<", "[", "+"))]


@lru_cache(maxsize=1)
def _script_decoder(script: Script, listening: ScriptRecognition):
    from pocketsphinx import Decoder, NGramModel   # here, not above: loads only when speech is aligned

    known = set(script.vocabulary)
    extra = [w for w in listening.common_words if w not in known]
    with tempfile.TemporaryDirectory(prefix="faceretarget-script-") as tmp:
        dictionary = Path(tmp) / "script.dict"
        dictionary.write_text("".join(_dictionary_entries(w) for w in [*script.vocabulary, *extra]))
        model_file = write_script_language_model(script, Path(tmp) / "script.arpa")
        decoder = Decoder(lm=None, dict=str(dictionary), fwdflat=False, ds=listening.frame_skip, topn=listening.topn,
                          lw=listening.language_weight, loglevel="FATAL")
        model = NGramModel(decoder.config, decoder.logmath, str(model_file))
    for word in extra:
        model.add_word(word, listening.common_weight)
    decoder.add_lm("script", model)
    decoder.activate_search("script")
    return decoder


MAX_VARIANTS = 4


def _dictionary_entries(word: str) -> str:
    """`word`'s pronunciations as dictionary lines (the shipped dictionary's variants, else letter to sound)."""
    reference = _align_decoder()
    variants = [reference.lookup_word(word if k == 1 else f"{word}({k})") for k in range(1, MAX_VARIANTS + 1)]
    variants = [v for v in variants if v] or [letter_to_sound(word)]
    return "".join(f"{word if k == 0 else f'{word}({k + 1})'} {phones}\n" for k, phones in enumerate(variants))


def recognize_phones(samples: np.ndarray, offset: float, options: RecognizerOptions | None = None
                     ) -> list[TimedPhone]:
    """Phone recognition with the shipped phone language model (no transcript needed)."""
    options = options or RecognizerOptions()
    with _lock:
        decoder = _phone_decoder(options.phone_lw, options.phone_pip, options.phone_beam, options.phone_pbeam)
        _decode(decoder, to_pcm(samples, options))
        phones = [TimedPhone(offset + seg.start_frame * FRAME_S, offset + (seg.end_frame + 1) * FRAME_S,
                             seg.word) for seg in decoder.seg()]
    return phones


def chunk_samples(samples: np.ndarray, start: float, end: float) -> np.ndarray:
    return samples[int(round(start * SAMPLE_RATE)):int(round(end * SAMPLE_RATE))]
