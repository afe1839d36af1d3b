"""A script on a long recording: recognise each utterance, place the script, align each utterance.

1. The speech is cut into utterances at pauses (`AudioOptions.utterance_pause_s`), each recognised with a
   language model biased to the script (`recognize.recognize_script_words`).
2. The words heard are matched to the script (`placement.place_script`): each utterance gets its script
   words, and deviations from the script are found.
3. Each utterance is force-aligned with its words. Words placed as uncertain (heard but not in the script,
   or script words not heard inside a line) are kept or dropped by what fits the audio better. An utterance
   that fails is re-tried together with its next, then its previous neighbour (a word placed on the wrong
   side of a pause), and only then falls back to phone recognition.
4. The deviations the alignment confirms are reported as warnings, timed by the aligned words.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from engine.audio.chunks import SpeechSegment, clip_bounds, clip_phones, padded_bounds, padded_samples
from engine.audio.io import Audio
from engine.audio.placement import Deviation, Placement, place_script
from engine.audio.recognize import (FRAME_S, Alignment, AlignmentFailed, RecognizerOptions, TimedPhone, TimedWord,
                                    ScriptRecognition, align_words, pronunciation, recognize_phones,
                                    recognize_script_words)
from engine.audio.script import Script
from engine.audio.text import letter_to_sound
from engine.audio.vad import Segment, split_at_pauses
from engine.config import AudioOptions
from engine.protocol import Reporter

# Below this share of the script heard as itself, the transcript is not this recording's.
MIN_MATCHED_SHARE = 0.3


@dataclass
class ScriptTiming:
    phones: list[TimedPhone]
    methods: list[str]                        # the method of each phone
    segments: list[SpeechSegment]
    summary: dict


def align_script(audio: Audio, segments: list[Segment], script: Script, options: AudioOptions,
                 recognizer: RecognizerOptions, reporter: Reporter) -> ScriptTiming:
    """Phones of `script` on `audio`, whose voice-activity `segments` are given; deviations reported."""
    groups = split_at_pauses(segments, options.utterance_pause_s, options.max_align_s)
    heard = [_recognise(audio, padded_bounds(segments, group), script, options, recognizer)
             for group in _progress(groups, "script", reporter)]
    placement = place_script(script, heard, groups, options.min_said_word_s, _phones_of)
    if placement.matched < MIN_MATCHED_SHARE * len(script.words):
        reporter.warning("alignment_failed", f"the transcript does not match the audio ({placement.matched} of "
                         f"{len(script.words)} script words heard); using phone recognition",
                         start=0.0, end=round(audio.duration, 3))
        stretches = [_recognised_phones(audio, segments, [k], groups, recognizer, "phones-fallback")
                     for k in _progress(range(len(groups)), "speech", reporter)]
        return _timing(stretches, placement, script, {})
    aligner = _UtteranceAligner(audio, segments, groups, placement, recognizer, reporter, options.deviation_min_gain)
    stretches = aligner.run()
    return _timing(stretches, placement, script, _report(placement, script, aligner, reporter))


def _phones_of(word: str) -> list[str]:
    return (pronunciation(word) or letter_to_sound(word)).split()


def _progress(items, stage: str, reporter: Reporter):
    items = list(items)
    for done, item in enumerate(items):
        yield item
        reporter.progress(stage, done + 1, len(items))


def _recognise(audio: Audio, bounds: tuple[float, float], script: Script, options: AudioOptions,
               recognizer: RecognizerOptions) -> list[TimedWord]:
    start, end = bounds
    listening = ScriptRecognition(options.script_frame_skip, options.script_topn, options.script_language_weight,
                                  options.script_common_words, options.script_common_weight)
    return recognize_script_words(padded_samples(audio, start, end), start, script, listening, recognizer)


@dataclass
class _Stretch:
    """Consecutive utterances aligned (or recognised) together."""
    utterances: list[int]
    phones: list[TimedPhone]
    method: str
    start: float
    end: float
    words: list[int] = field(default_factory=list)    # the placed words aligned
    spans: list[TimedWord] = field(default_factory=list)   # ... and where each was aligned
    score: float | None = None
    note: str = ""


class _UtteranceAligner:
    def __init__(self, audio: Audio, segments: list[Segment], groups: list[list[Segment]], placement: Placement,
                 recognizer: RecognizerOptions, reporter: Reporter, min_gain: float):
        self.audio, self.segments, self.groups = audio, segments, groups
        self.min_gain = min_gain
        self.placement, self.recognizer, self.reporter = placement, recognizer, reporter
        self.aligned: dict[int, TimedWord] = {}       # placed word -> its aligned span, for the words said
        self.tried: set[int] = set()                  # placed words of stretches that aligned (said or not)

    def run(self) -> list[_Stretch]:
        done: list[_Stretch] = []
        k = 0
        while k < len(self.groups):
            stretch = self._first_that_aligns(k, done)
            if stretch is None:
                stretch = self._fallback(k)
            elif stretch.utterances[0] < k:        # aligned together with the previous utterance
                self._forget(done.pop())
            done.append(stretch)
            self.aligned.update(zip(stretch.words, stretch.spans))
            if stretch.method in ("align", "words"):
                self.tried.update(i for k in stretch.utterances for i in self.placement.in_utterance(k))
            k = stretch.utterances[-1] + 1
            self.reporter.progress("speech", k, len(self.groups))
        return done

    def _first_that_aligns(self, k: int, done: list[_Stretch]) -> _Stretch | None:
        if not self.placement.in_utterance(k):
            return _recognised_phones(self.audio, self.segments, [k], self.groups, self.recognizer, "phones")
        tries = [[k]]
        if k + 1 < len(self.groups):
            tries.append([k, k + 1])
        if done and done[-1].utterances == [k - 1] and done[-1].method == "align":
            tries.append([k - 1, k])
        for utterances in tries:
            stretch = self._align(utterances)
            if stretch is not None:
                return stretch
        return None

    def _align(self, utterances: list[int]) -> _Stretch | None:
        """The utterances aligned with their placed words; each group of uncertain words kept or dropped by
        whichever fits the audio better, one group at a time. None when no choice aligns."""
        placed = [i for k in utterances for i in self.placement.in_utterance(k)]
        groups = _uncertain_groups(placed, self.placement)
        chunk = [s for k in utterances for s in self.groups[k]]
        start, end = padded_bounds(self.segments, chunk)
        samples = padded_samples(self.audio, start, end)
        # start from the script as written (unscripted words out, unheard script words in); a deviation
        # stands only where it fits the audio better
        dropped = {i for group in groups for i in group if self.placement.placed[i].script_index is None}
        best = self._try(samples, start, placed, dropped)
        frames = len(samples) / (self.audio.rate * FRAME_S)
        for group in groups:
            trial = dropped ^ set(group)
            other = self._try(samples, start, placed, trial)
            if other is not None and (best is None or (other[1].score - best[1].score) * frames >= self.min_gain):
                best, dropped = other, trial
        if best is None:
            return None
        kept, alignment = best
        owned = clip_bounds(self.segments, chunk, self.audio.duration)
        scripted = any(self.placement.placed[i].script_index is not None for i in kept)
        return _Stretch(utterances, clip_phones(alignment.phones, *owned), "align" if scripted else "words",
                        *owned, kept, alignment.words, round(alignment.score, 3))

    def _try(self, samples, start: float, placed: list[int], dropped: set[int]
             ) -> tuple[list[int], Alignment] | None:
        kept = [i for i in placed if i not in dropped]
        if not kept:
            return None
        try:
            alignment = align_words(samples, start, [self.placement.placed[i].word for i in kept], None,
                                    self.recognizer)
        except AlignmentFailed:
            return None
        return kept, alignment

    def _forget(self, stretch: _Stretch) -> None:
        for i in stretch.words:
            self.aligned.pop(i, None)

    def _fallback(self, k: int) -> _Stretch:
        stretch = _recognised_phones(self.audio, self.segments, [k], self.groups, self.recognizer, "phones-fallback")
        stretch.note = "the script words placed here could not be aligned"
        self.reporter.warning("alignment_failed", f"transcript alignment failed for {stretch.start:.2f}-"
                              f"{stretch.end:.2f}s, also with the neighbouring lines; using phone recognition there",
                              start=round(stretch.start, 3), end=round(stretch.end, 3))
        return stretch


def _uncertain_groups(placed: list[int], placement: Placement) -> list[list[int]]:
    """The uncertain placed words among `placed`, one group per deviation that carries them."""
    inside = set(placed)
    groups = [[i for i in range(d.first, d.last) if i in inside and placement.placed[i].uncertain]
              for d in placement.deviations]
    return [g for g in groups if g]


def _recognised_phones(audio: Audio, segments: list[Segment], utterances: list[int], groups: list[list[Segment]],
                       recognizer: RecognizerOptions, method: str) -> _Stretch:
    chunk = [s for k in utterances for s in groups[k]]
    start, end = padded_bounds(segments, chunk)
    phones = recognize_phones(padded_samples(audio, start, end), start, recognizer)
    owned = clip_bounds(segments, chunk, audio.duration)
    return _Stretch(utterances, clip_phones(phones, *owned), method, *owned)


def _timing(stretches: list[_Stretch], placement: Placement, script: Script, reported: dict[str, int]) -> ScriptTiming:
    phones: list[TimedPhone] = []
    methods: list[str] = []
    records = []
    for s in stretches:
        phones.extend(s.phones)
        methods.extend([s.method] * len(s.phones))
        records.append(SpeechSegment(round(s.start, 4), round(s.end, 4), s.method,
                                     " ".join(placement.placed[i].word for i in s.words), s.score, s.note))
    summary = {"lines": len(script.lines), "words": len(script.words), "heard_as_scripted": placement.matched,
               "deviations": reported}
    return ScriptTiming(phones, methods, records, summary)


def _report(placement: Placement, script: Script, aligner: _UtteranceAligner, reporter: Reporter) -> dict[str, int]:
    """Warnings for the deviations the alignment confirms; their count per kind."""
    counts: dict[str, int] = {}
    for deviation in placement.deviations:
        times = _deviation_times(deviation, placement, aligner)
        if times is None:
            continue
        code, message = _describe(deviation, script, *times)
        reporter.warning(code, message, start=round(times[0], 3), end=round(times[1], 3),
                         words=" ".join(deviation.words), lines=[k + 1 for k in deviation.lines])
        counts[deviation.kind] = counts.get(deviation.kind, 0) + 1
    return counts


def _deviation_times(deviation: Deviation, placement: Placement, aligner: _UtteranceAligner
                     ) -> tuple[float, float] | None:
    """Where the deviation happened, or None when the alignment found the words were said as the script has
    them after all."""
    carried = range(deviation.first, deviation.last)
    said = [aligner.aligned[i] for i in carried if i in aligner.aligned]
    if deviation.kind == "not_said":
        if said:
            return None
        return _gap(placement, aligner.aligned, deviation.first, deviation.last)
    if said:
        return said[0].start, said[-1].end
    heard = [placement.placed[i].heard for i in carried if placement.placed[i].heard is not None]
    if any(i in aligner.tried for i in carried) or not heard:
        return None                                # the aligner dropped them: not really said
    return heard[0].start, heard[-1].end           # their stretch fell back to phones: as heard


def _gap(placement: Placement, aligned: dict[int, TimedWord], first: int, last: int) -> tuple[float, float]:
    """From the end of the last word said before placed[first] to the start of the first said from placed[last]."""
    before = next((aligned[i].end for i in range(first - 1, -1, -1) if i in aligned), None)
    after = next((aligned[i].start for i in range(last, len(placement.placed)) if i in aligned), None)
    if before is None and after is None:
        return 0.0, 0.0
    return (before if before is not None else after), (after if after is not None else before)


def _describe(deviation: Deviation, script: Script, start: float, end: float) -> tuple[str, str]:
    words = " ".join(deviation.words)
    lines = ", ".join(str(k + 1) for k in deviation.lines)
    whole = [script.texts[k] for k in deviation.lines if len(script.lines[k]) == len(deviation.words)]
    said = f"'{whole[0]}'" if len(whole) == 1 else f"'{words}'"
    if deviation.kind == "not_said":
        return "script_not_said", f"not said (line {lines}): {said}, expected at {start:.2f}-{end:.2f}s"
    if deviation.kind == "repeated":
        return "script_repeated", f"said again at {start:.2f}-{end:.2f}s (line {lines}): '{words}'"
    if deviation.kind == "reordered":
        return "script_reordered", f"said out of order at {start:.2f}-{end:.2f}s (line {lines}): {said}"
    return "script_unscripted", f"not in the script, at {start:.2f}-{end:.2f}s (near line {lines}): '{words}'"
