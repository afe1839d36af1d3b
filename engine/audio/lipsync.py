"""Lip sync from speech: `analyse_speech` (timing) then `animate_speech` (curves at any sample times).

    audio = load_audio("line.wav")
    speech = analyse_speech(audio, AudioOptions(transcript="hello world"), reporter)
    faceboard, arkit = animate_speech(speech, times, rig="mh4")

Which path ran is recorded per speech segment (`SpeechSegment.method`):
  align          pocketsphinx forced alignment of the transcript
  align-pinyin   the same for a Mandarin transcript spelled with approximate English phones
  words          no transcript: words recognised with the shipped en-us language model, then aligned
  phones         phone recognition with the shipped phone language model (no transcript, or no words heard)
  phones-fallback  phone recognition where the transcript could not be aligned (a warning says why)
  energy         loudness/spectral mouth track (languages without a recogniser)
"""
from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field

import numpy as np

from engine.audio.chunks import CHUNK_PAD_S, SpeechSegment, clip_bounds, clip_phones, padded_samples
from engine.audio.coarticulation import CoarticulationOptions, PhoneSpan, animate
from engine.audio.energy import EnergyOptions, EnergyTracks, animate_energy, energy_tracks, loudness_track
from engine.audio.io import Audio
from engine.audio.mandarin import has_hanzi, pinyin_lexicon
from engine.audio.recognize import (AlignmentFailed, RecognizerOptions, TimedPhone, align,
                                    pronunciation, recognize_phones, recognize_words)
from engine.audio.script import read_script
from engine.audio.script_alignment import align_script
from engine.audio.text import check_transcript_length, letter_to_sound, normalize_words, read_transcript
from engine.audio.vad import Segment, VadOptions, group_segments, speech_segments
from engine.audio.visemes import normalize_phone, phone_class, phone_viseme, viseme_table
from engine.config import AudioOptions
from engine.errors import BadInput
from engine.protocol import Reporter

LANGUAGES_WITH_RECOGNIZER = ("en",)


class NoSpeechFound(BadInput):
    pass


@dataclass
class Speech:
    """The timing of the speech in one recording."""
    duration: float
    language: str
    method: str                                  # the path that ran (most of the speech)
    segments: list[SpeechSegment]
    phones: list[TimedPhone]                     # with SIL spans; empty for the energy path
    phone_methods: list[str]                     # method of each phone
    loudness_times: np.ndarray
    loudness: np.ndarray
    energy: EnergyTracks | None = None
    timings: dict[str, float] = field(default_factory=dict)
    vad: list[Segment] = field(default_factory=list)   # the voice-activity segments
    script: dict | None = None                   # a script on a long recording: lines, words heard, deviations

    def speech_parts(self) -> list[SpeechSegment]:
        """The voice-activity segments, each with the method of the chunk that holds it."""
        out = []
        for v in self.vad or [Segment(s.start, s.end) for s in self.segments]:
            owner = next((s for s in self.segments if s.start <= (v.start + v.end) / 2 <= s.end), None)
            out.append(SpeechSegment(round(v.start, 4), round(v.end, 4), owner.method if owner else "energy"))
        return out

    def summary(self) -> dict:
        methods: dict[str, int] = {}
        for s in self.segments:
            methods[s.method] = methods.get(s.method, 0) + 1
        return {"method": self.method, "language": self.language, "duration": round(self.duration, 4),
                "segment_methods": methods,
                "segments": [{k: (round(v, 4) if isinstance(v, float) else v) for k, v in asdict(s).items()}
                             for s in self.segments],
                "phone_count": sum(1 for p in self.phones if p.phone != "SIL"),
                "recognizer": _recognizer_version(), **({"script": self.script} if self.script else {})}


def _recognizer_version() -> str:
    try:
        from importlib.metadata import version

        return f"pocketsphinx {version('pocketsphinx')} en-us"
    except Exception:  # pragma: no cover
        return "pocketsphinx en-us"


def analyse_speech(audio: Audio, options: AudioOptions, reporter: Reporter | None = None,
                   vad: VadOptions | None = None, recognizer: RecognizerOptions | None = None) -> Speech:
    """Speech timing of `audio`: phones per segment by the best path the inputs allow."""
    reporter = reporter or Reporter()
    recognizer = recognizer or RecognizerOptions()
    started = time.perf_counter()
    transcript = read_transcript(options.transcript)   # a bad transcript is refused even without speech
    if transcript:
        check_transcript_length(transcript, audio.duration)
    segments = speech_segments(audio, vad)
    if not segments:
        raise NoSpeechFound("no speech found in the audio",
                            "the recording holds only silence, steady noise or a tone; check the file")
    times, loud = loudness_track(audio)
    language = (options.language or "en").lower()
    if language == "zh" and transcript and not has_hanzi(transcript):
        reporter.warning("transcript_not_chinese", "language zh but the transcript has no Chinese characters; "
                         "using the loudness mouth track")
        transcript = None
    if language not in LANGUAGES_WITH_RECOGNIZER and not (language == "zh" and transcript):
        tracks = energy_tracks(audio, EnergyOptions())
        segs = [SpeechSegment(s.start, s.end, "energy") for s in segments]
        return Speech(audio.duration, language, "energy", segs, [], [], times, loud, tracks,
                      {"speech": round(time.perf_counter() - started, 4)}, segments)
    chunks = group_segments(segments, options.max_align_s)
    script = read_script(transcript) if transcript and language == "en" else None
    lines_of_text = len([row for row in (transcript or "").splitlines() if row.strip()])
    if script is not None and script.lines and (lines_of_text > 1 or len(chunks) > 1):
        # a session recording with its script (lines of dialogue, or more speech than one chunk): the script
        # is placed before it is aligned (engine.audio.script_alignment)
        timing = align_script(audio, segments, script, options, recognizer, reporter)
        return _speech(audio, language, timing.segments, timing.phones, timing.methods, times, loud, segments,
                       started, timing.summary)
    phones: list[TimedPhone] = []
    methods: list[str] = []
    records: list[SpeechSegment] = []
    words_per_chunk: list[list[str]] | None = None
    lexicon: dict[str, str] = {}
    align_method = "align"
    if transcript:
        if language == "zh":
            words, lexicon = pinyin_lexicon(transcript)
            align_method = "align-pinyin"
        else:
            words = normalize_words(transcript)
        if not words:
            reporter.warning("empty_transcript", "the transcript holds no words; recognising phones instead")
        else:
            words_per_chunk = distribute_words(words, chunks, lexicon)
    work = [(chunk, words_per_chunk[k] if words_per_chunk is not None else None) for k, chunk in enumerate(chunks)]
    done = 0
    while work:
        chunk, chunk_words = work.pop(0)
        start, end = chunk[0].start - CHUNK_PAD_S, chunk[-1].end + CHUNK_PAD_S
        samples = padded_samples(audio, start, end)
        method, score, note = "phones", None, ""
        got: list[TimedPhone] = []
        if chunk_words is not None:
            try:
                got, score = align(samples, start, chunk_words, lexicon, recognizer)
                method = align_method
            except AlignmentFailed as exc:
                if len(chunk) > 1:
                    # long utterances defeat the aligner: split at the longest pause and try the halves
                    halves = group_segments(chunk, (chunk[-1].end - chunk[0].start) * 0.6)
                    heard = recognize_phones(samples, start, recognizer)
                    parts = split_words_at(chunk_words, lexicon, [h[0].start for h in halves[1:]], heard) \
                        or distribute_words(chunk_words, halves, lexicon)
                    work[:0] = list(zip(halves, parts))
                    continue
                method, note = "phones-fallback", str(exc)
                reporter.warning("alignment_failed",
                                 f"transcript alignment failed for {max(start, 0):.2f}-{end:.2f}s ({exc}); "
                                 "using phone recognition there", start=round(max(start, 0), 3), end=round(end, 3))
        if not got and chunk_words is None and options.recognizer == "words" and language == "en":
            heard = recognize_words(samples, recognizer)
            try:
                got, score = align(samples, start, heard, None, recognizer)
                method, chunk_words = "words", heard
            except AlignmentFailed:
                got = []
        if not got:
            got = recognize_phones(samples, start, recognizer)
        start, end = clip_bounds(segments, chunk, audio.duration)
        got = clip_phones(got, start, end)
        phones.extend(got)
        methods.extend([method] * len(got))
        records.append(SpeechSegment(round(start, 4), round(end, 4), method, " ".join(chunk_words or []),
                                     None if score is None else round(score, 3), note))
        done += 1
        reporter.progress("speech", done, done + len(work))
    return _speech(audio, language, records, phones, methods, times, loud, segments, started)


def _speech(audio: Audio, language: str, records: list[SpeechSegment], phones: list[TimedPhone], methods: list[str],
            times: np.ndarray, loud: np.ndarray, segments: list[Segment], started: float,
            script: dict | None = None) -> Speech:
    """The Speech of aligned or recognised stretches: the main method is the one covering the most time."""
    speech_time = {m: 0.0 for m in {r.method for r in records}}
    for r in records:
        speech_time[r.method] += r.end - r.start
    main = max(speech_time, key=speech_time.get)
    records.sort(key=lambda r: r.start)
    phones, methods = quiet_to_silence(phones, methods, times, loud)
    return Speech(audio.duration, language, main, records, phones, methods, times, loud, None,
                  {"speech": round(time.perf_counter() - started, 4)}, segments, script)


STOPS = {"P", "B", "T", "D", "K", "G", "CH", "JH"}
QUIET_LOUDNESS = 0.02
MIN_QUIET_S = 0.12


def quiet_to_silence(phones: list[TimedPhone], methods: list[str], times: np.ndarray, loud: np.ndarray
                     ) -> tuple[list[TimedPhone], list[str]]:
    """Where a phone (other than a stop, whose closure is silent) spans at least MIN_QUIET_S of near
    silence, that stretch becomes a pause: aligners stretch phones over pauses (most of all the English
    model on other languages), and the mouth must close there."""
    quiet = loud <= QUIET_LOUDNESS
    step = float(times[1] - times[0]) if len(times) > 1 else 0.01
    out_p: list[TimedPhone] = []
    out_m: list[str] = []
    for p, m in zip(phones, methods):
        name = normalize_phone(p.phone)
        a, b = np.searchsorted(times, p.start), np.searchsorted(times, p.end)
        if name == "SIL" or name in STOPS or (b - a) * step < MIN_QUIET_S:
            out_p.append(p)
            out_m.append(m)
            continue
        edges = np.flatnonzero(np.diff(np.concatenate([[0], quiet[a:b].astype(np.int8), [0]])))
        runs = [(times[a + i], times[min(a + j, len(times) - 1)]) for i, j in zip(edges[::2], edges[1::2])
                if (j - i) * step >= MIN_QUIET_S]
        cursor = p.start
        for qa, qb in runs:
            qa, qb = max(qa, p.start), min(qb, p.end)
            if qa - cursor > 1e-6:
                out_p.append(TimedPhone(cursor, qa, p.phone, p.word, p.score))
                out_m.append(m)
            out_p.append(TimedPhone(qa, qb, "SIL", "", p.score))
            out_m.append(m)
            cursor = qb
        if p.end - cursor > 1e-6:
            out_p.append(TimedPhone(cursor, p.end, p.phone, p.word, p.score))
            out_m.append(m)
    return out_p, out_m


def split_words_at(words: list[str], lexicon: dict[str, str], boundaries: list[float],
                   heard: list[TimedPhone]) -> list[list[str]] | None:
    """Split the transcript at pause times, using recognised phones as anchors: the transcript's phones
    are matched to the recognised ones in sequence, and each pause falls after the last word whose
    matched phones come before it. None when there are too few anchors."""
    import difflib

    expected: list[tuple[str, int]] = []
    for w, word in enumerate(words):
        for phone in (lexicon.get(word) or pronunciation(word) or letter_to_sound(word)).split():
            expected.append((phone, w))
    spoken = [p for p in heard if normalize_phone(p.phone) != "SIL"]
    matcher = difflib.SequenceMatcher(a=[e[0] for e in expected], b=[normalize_phone(p.phone) for p in spoken],
                                      autojunk=False)
    anchors = [(expected[i + k][1], spoken[j + k].start) for i, j, n in matcher.get_matching_blocks()
               for k in range(n)]
    if len(anchors) < max(3, len(expected) // 5):
        return None
    cuts, first = [], 0
    for t in boundaries:
        before = [w for w, at in anchors if at < t]
        cut = max(before) + 1 if before else first
        cut = min(max(cut, first), len(words))
        cuts.append(cut)
        first = cut
    edges = [0, *cuts, len(words)]
    return [list(words[a:b]) for a, b in zip(edges[:-1], edges[1:])]


def distribute_words(words: list[str], chunks: list[list[Segment]], lexicon: dict[str, str]) -> list[list[str]]:
    """Split the transcript over the chunks in proportion to their speaking time (counted in phones)."""
    if len(chunks) == 1:
        return [list(words)]
    sizes = np.array([len((lexicon.get(w) or pronunciation(w) or letter_to_sound(w)).split()) for w in words],
                     float)
    cum_phones = np.cumsum(sizes) / sizes.sum()
    durations = np.array([sum(s.duration for s in chunk) for chunk in chunks])
    cum_time = np.cumsum(durations) / durations.sum()
    out, first = [], 0
    for k in range(len(chunks)):
        last = len(words) if k == len(chunks) - 1 else int(np.searchsorted(cum_phones, cum_time[k] - 1e-9)) + 1
        last = min(max(last, first), len(words))
        out.append(list(words[first:last]))
        first = last
    return out


def timeline(speech: Speech) -> list[PhoneSpan]:
    """Phone spans covering the whole recording: the gaps between and around phones are silence."""
    spans: list[PhoneSpan] = []
    cursor = 0.0
    for p in sorted(speech.phones, key=lambda p: p.start):
        if p.start > cursor + 1e-6:
            spans.append(PhoneSpan(cursor, p.start, "SIL"))
        spans.append(PhoneSpan(p.start, p.end, normalize_phone(p.phone)))
        cursor = max(cursor, p.end)
    if cursor < speech.duration:
        spans.append(PhoneSpan(cursor, speech.duration, "SIL"))
    return spans


def animate_speech(speech: Speech, times: np.ndarray, rig: str = "mh4",
                   options: CoarticulationOptions | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(face board (N, attrs), ARKit (N, 52)) at `times` (seconds on the audio's clock). Times outside the
    recording get the rest pose."""
    return _animated(speech, timeline(speech), np.asarray(times, float), rig, options)


def animate_speech_blocks(speech: Speech, times: np.ndarray, rig: str, block_frames: int,
                          options: CoarticulationOptions | None = None
                          ) -> Iterator[tuple[slice, np.ndarray, np.ndarray]]:
    """`animate_speech` block by block: (rows of `times`, their face board, their ARKit), so that a long
    recording's curves need not all be in memory at once. Each block is animated with a margin of frames
    on either side (a phone reaches `window_s` beyond its ends; a closure too short to hold a frame takes
    its nearest one), so that it comes out as in one whole `animate_speech`."""
    options = options or CoarticulationOptions()
    times = np.asarray(times, float)
    spans = timeline(speech)
    starts = np.array([s.start for s in spans])
    ends = np.array([s.end for s in spans])
    for first in range(0, len(times), block_frames):
        rows = slice(first, min(first + block_frames, len(times)))
        a = max(np.searchsorted(times, times[first] - options.window_s) - 1, 0)
        b = min(np.searchsorted(times, times[rows.stop - 1] + options.window_s, side="right") + 1, len(times))
        near = spans[np.searchsorted(ends, times[a] - options.window_s):
                     np.searchsorted(starts, times[b - 1] + options.window_s, side="right")]
        faceboard, arkit = _animated(speech, near, times[a:b], rig, options)
        inside = slice(first - a, rows.stop - a)
        yield rows, faceboard[inside], arkit[inside]


def _animated(speech: Speech, spans: list[PhoneSpan], times: np.ndarray, rig: str,
              options: CoarticulationOptions | None) -> tuple[np.ndarray, np.ndarray]:
    table = viseme_table(rig)
    if speech.energy is not None:
        faceboard, arkit = animate_energy(speech.energy, times, table)
    else:
        loud = np.interp(times, speech.loudness_times, speech.loudness)
        faceboard, arkit = animate(spans, times, table, loud, options)
    outside = (times < 0) | (times > speech.duration)
    faceboard[outside] = table.faceboard[table.index("rest")]
    arkit[outside] = 0.0
    return faceboard, arkit


def phone_rows(speech: Speech) -> list[tuple[float, float, str, str, str]]:
    """phones.csv rows: start, end, phone, word, method."""
    return [(p.start, p.end, normalize_phone(p.phone), p.word, m) for p, m in zip(speech.phones, speech.phone_methods)]


def viseme_rows(speech: Speech) -> list[tuple[float, float, str, str, str]]:
    """visemes.csv rows: start, end, viseme, mouth class, phones (consecutive phones of one viseme merged)."""
    rows: list[list] = []
    for span in timeline(speech):
        viseme = phone_viseme(span.phone)
        if rows and rows[-1][2] == viseme and abs(rows[-1][1] - span.start) < 1e-6:
            rows[-1][1] = span.end
            rows[-1][4] += " " + span.phone
        else:
            rows.append([span.start, span.end, viseme, phone_class(span.phone), span.phone])
    if speech.energy is not None:
        return []
    return [tuple(r) for r in rows]
