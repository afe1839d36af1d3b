"""A script on a long recording: recognise each utterance, place the script, align each utterance.

1. The speech is cut into utterances at pauses (`AudioOptions.utterance_pause_s`), each recognised with a
   language model biased to the script (`recognize.recognize_script_words`).
2. The words heard are matched to the script (`placement.place_script`): each utterance gets its script
   words, and deviations from the script are found.
3. Each utterance is force-aligned with its words. Words placed as uncertain (heard but not in the script,
   or script words not heard inside a line) are kept or dropped by what fits the audio better; unscripted
   words are also kept where dropping them leaves loud audio under silence (misheard, they can fit worse
   than silence, but something was said there and the mouth must move). An utterance
   that fails is re-tried together with its next, then its previous neighbour (a word placed on the wrong
   side of a pause), and only then falls back to phone recognition.
4. The deviations the alignment confirms are reported as warnings, timed by the aligned words.
Steps 1 and 3 work on one utterance at a time, spread over the machine's cores (`speech_pool`).
"""
from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from engine.audio.chunks import SpeechSegment, clip_bounds, clip_phones, padded_bounds, padded_samples
from engine.audio.io import SAMPLE_RATE, Audio, frame_rms_db
from engine.audio.placement import Deviation, PlacedWord, Placement, place_script
from engine.audio.recognize import (FRAME_S, Alignment, AlignmentFailed, RecognizerOptions, ScriptRecognition,
                                    TimedPhone, TimedWord, align_words, pronunciation, recognize_phones,
                                    recognize_script_words)
from engine.audio.repeated_words import stretched_words, typical_phone_durations, with_copies, word_phones
from engine.audio.script import Script, common_words
from engine.audio.speech_pool import SHARED, SpeechPool
from engine.audio.syllables import VOWELS, syllable_peaks
from engine.audio.text import letter_to_sound
from engine.audio.vad import Segment, split_at_pauses
from engine.config import AudioOptions
from engine.protocol import Reporter

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
    listening = ScriptRecognition(options.script_frame_skip, options.script_topn, options.script_language_weight,
                                  common_words(options.script_common_words), options.script_common_weight)
    shared = {"script": script, "listening": listening, "recognizer": recognizer}
    with SpeechPool(_processes(options, groups), shared) as pool:
        heard = pool.map(recognise_utterance, len(groups),
                         lambda k: _utterance_audio(audio, segments, groups[k], options.utterance_pad_s),
                         _progress(reporter, "script"))
        placement = place_script(script, heard, groups, options.min_said_word_s, options.min_said_phone_s, _phones_of)
        if placement.matched < options.script_min_heard * len(script.words):
            reporter.warning("alignment_failed", f"the transcript does not match the audio ({placement.matched} "
                             f"of {len(script.words)} script words heard); using phone recognition",
                             start=0.0, end=round(audio.duration, 3))
            stretches = [_recognised_phones(audio, segments, [k], groups, recognizer, "phones-fallback",
                                            options.utterance_pad_s) for k in range(len(groups))]
            return _timing(stretches, placement, script, {})
        aligner = _UtteranceAligner(audio, segments, groups, placement, options, reporter)
        stretches = aligner.run(pool)
    return _timing(stretches, placement, script, _report(placement, script, aligner, reporter))


def _processes(options: AudioOptions, groups: list[list[Segment]]) -> int:
    """How many processes work on the speech: one per core for long speech (starting a worker and loading
    its models costs about a second), else this one."""
    speech_s = sum(s.duration for group in groups for s in group)
    if options.speech_processes > 0:
        return options.speech_processes
    return (os.cpu_count() or 1) if speech_s >= options.parallel_min_s else 1


def _utterance_audio(audio: Audio, segments: list[Segment], group: list[Segment], pad_s: float):
    start, end = padded_bounds(segments, group, pad_s)
    return padded_samples(audio, start, end), start


def recognise_utterance(job) -> list[TimedWord]:
    """(samples, start) -> the words heard (a task of the speech pool)."""
    samples, start = job
    return recognize_script_words(samples, start, SHARED["script"], SHARED["listening"], SHARED["recognizer"])


def _phones_of(word: str) -> list[str]:
    return (pronunciation(word) or letter_to_sound(word)).split()


def _progress(reporter: Reporter, stage: str):
    return lambda done, total: reporter.progress(stage, done, total)


@dataclass(frozen=True)
class HeardRepeat:
    """Words heard repeating the script words beside them: the positions of both, and where each was heard."""
    words: tuple[int, ...]
    heard: tuple[tuple[float, float], ...]

    @property
    def span(self) -> tuple[float, float]:
        return min(a for a, _ in self.heard), max(b for _, b in self.heard)

    def aligned_where_heard(self, aligned: tuple[list[int], Alignment]) -> bool:
        """Whether `aligned` says all these words and puts one of them where each was heard."""
        spans = _spans_said(aligned, self.words)
        return spans is not None and all(any(_mostly_over(w.start, w.end, heard) for w in spans)
                                         for heard in self.heard)


@dataclass
class AlignmentJob:
    """Words to align in one stretch of audio; `choices` are groups of positions in `words` whose saying is
    in doubt, `dropped` the positions left out to begin with (the script as written)."""
    samples: object
    start: float
    words: list[str]
    choices: list[list[int]]
    dropped: set[int]
    min_gain: float            # to say an unscripted group (engine.config.AudioOptions.deviation_min_gain)
    drop_gain: float           # to drop a group of script words (missing_min_gain)
    repeat_gain: float = 0.0   # to say a stretched script word twice (repeat_min_gain)
    heard: list[tuple[float, float] | None] = field(default_factory=list)   # per choice: where its unscripted
                                                                           # words were heard (None: script words)
    min_speech_s: float = float("inf")     # unscripted words leaving this much loud audio to silence are said
    speech_below_peak_db: float = 20.0     # (AudioOptions.unscripted_min_speech_s, speech_below_peak_db)
    repeats_heard: list[HeardRepeat | None] = field(default_factory=list)   # per choice: a group heard
                                                                          # repeating script words (None: not)
    syllable_prominence_db: float = float("inf")           # (AudioOptions.syllable_min_prominence_db)
    repeat_gain_two_syllables: float = float("inf")        # (AudioOptions.repeat_min_gain_two_syllables)


def choose_alignment(job: AlignmentJob) -> tuple[list[int], Alignment] | None:
    """The job's words aligned, each group of doubtful words said or dropped where that raises the acoustic
    score by `min_gain` (`drop_gain` to drop script words); (positions kept, alignment), or None when nothing
    aligns (a task of the speech pool). Starting from the script as written, each group is judged on its own stretch of audio, between
    the words around it (a forced alignment of a whole long utterance prunes its search and can rank
    two near-equal word sequences either way)."""
    dropped = set(job.dropped)
    best = _try_alignment(job, job.samples, job.start, dropped)
    if best is None:      # the script as written does not align: whichever group lets it
        for group in job.choices:
            best = _try_alignment(job, job.samples, job.start, dropped ^ set(group))
            if best is not None:
                dropped ^= set(group)
                break
    if best is None:
        return None
    wanted = [(group, job.min_gain if group[0] in dropped else job.drop_gain) for group in job.choices]
    changed = {n for group, gain in wanted if _local_gain(job, best, dropped, group) >= gain for n in group}
    if changed:
        other = _try_alignment(job, job.samples, job.start, dropped ^ changed)
        best = other or best
    return _with_unexplained_speech(job, best)


def _with_unexplained_speech(job: AlignmentJob, best: tuple[list[int], Alignment]) -> tuple[list[int], Alignment]:
    """`best` with the unscripted groups it leaves out said again where leaving them out puts loud audio
    (speech, whatever the words were) under silence: the mouth must move where the actor spoke. Then, on
    that alignment, a word heard said twice is said where less is left: one syllable without a vowel where
    it and the word it repeats were heard. Either way a group is said only where the alignment with it puts
    it where it was heard (and gives those syllables a vowel): real slow speech left a drawn-out "words" to
    silence next to an "and" heard twice, and the copy of "and" the aligner fitted landed a second away."""
    left_out = set(range(len(job.words))) - set(best[0])
    loud = [(group, span) for group, span in zip(job.choices, job.heard) if span is not None and group[0] in left_out
            and unexplained_speech_s(job, best[1], span) >= job.min_speech_s]
    best = _said_where_they_land(job, best, [
        (set(group), lambda aligned, group=group, span=span: _aligned_over(aligned, group, span))
        for group, span in loud])
    return _said_where_they_land(job, best, [
        (set(heard.words) - set(best[0]), lambda aligned, heard=heard, peaks=peaks: (
            heard.aligned_where_heard(aligned) and _explained_by_vowels(aligned[1], peaks).all()))
        for heard, peaks in _repeats_left_unexplained(job, best)])


def _said_where_they_land(job: AlignmentJob, best: tuple[list[int], Alignment],
                          groups: list[tuple[set[int], Callable]]) -> tuple[list[int], Alignment]:
    """`best` with each group of positions (left out of it) said, where the alignment with them passes the
    group's test; all of them, else once more the ones that passed (their test not asked again)."""
    left_out = set(range(len(job.words))) - set(best[0])
    for _ in range(2):
        if not groups:
            return best
        aligned = _try_alignment(job, job.samples, job.start, left_out - set().union(*(g for g, _ in groups)))
        if aligned is None:
            return best
        landed = [(group, test) for group, test in groups if test(aligned)]
        if len(landed) == len(groups):
            return aligned
        groups = [(group, lambda aligned: True) for group, _ in landed]
    return best


def _aligned_over(aligned: tuple[list[int], Alignment], group: list[int], span: tuple[float, float]) -> bool:
    """Whether `aligned` says the words at `group` and puts them mostly over `span`."""
    words = _spans_said(aligned, group)
    return words is not None and _mostly_over(words[0].start, words[-1].end, span)


def _spans_said(aligned: tuple[list[int], Alignment], positions) -> list[TimedWord] | None:
    """Where `aligned` put the words at `positions`; None when it leaves any of them out."""
    kept, alignment = aligned
    if not all(n in kept for n in positions):
        return None
    return [alignment.words[kept.index(n)] for n in positions]


def _mostly_over(start: float, end: float, span: tuple[float, float]) -> bool:
    """Whether at least half of start..end lies inside `span` (where a word was heard: the recogniser's and
    the aligner's boundaries differ by a few frames, a word heard elsewhere by far more)."""
    return min(end, span[1]) - max(start, span[0]) >= 0.5 * (end - start)


def unexplained_speech_s(job: AlignmentJob, alignment: Alignment, span: tuple[float, float]) -> float:
    """Seconds of loud audio inside `span` that `alignment` gives to no word (silence or a filler), leaving
    out WORD_EDGE_S either side of every word (where an aligned word starts a little late is no ad-lib)."""
    levels = frame_rms_db(np.asarray(job.samples, np.float64), hop_s=LEVEL_HOP_S)
    times = job.start + np.arange(len(levels)) * LEVEL_HOP_S
    loud = levels >= np.percentile(levels, 90) - job.speech_below_peak_db
    inside = (times >= span[0]) & (times < span[1])
    return float(np.count_nonzero(inside & loud & ~_worded(alignment, times))) * LEVEL_HOP_S


def _worded(alignment: Alignment, times: np.ndarray) -> np.ndarray:
    """Which of `times` `alignment` gives to a word, WORD_EDGE_S either side of each (not silence or a filler);
    a phone explains at most MAX_PHONE_S of audio (the aligner stretched "the" over 0.7 s of an ad-lib)."""
    worded = np.zeros(len(times), bool)
    for phone in alignment.phones:
        if phone.phone != "SIL" and not phone.phone.startswith("+"):
            end = min(phone.end, phone.start + MAX_PHONE_S)
            worded |= (times >= phone.start - WORD_EDGE_S) & (times < end + WORD_EDGE_S)
    return worded


def _repeats_left_unexplained(job: AlignmentJob, aligned: tuple[list[int], Alignment]
                              ) -> list[tuple[HeardRepeat, np.ndarray]]:
    """The groups heard repeating the script words beside them and left out of `aligned`, where syllable
    peaks inside the span the group and those words were heard in are left without a vowel by `aligned`;
    with those peaks' times. The recogniser heard the word twice against its script-biased language model,
    and the second syllable is there, given to silence or to a consonant (an 80 ms "the" can fit either
    better than its own phones)."""
    kept, alignment = aligned
    wanted = [(group, heard) for group, heard in zip(job.choices, job.repeats_heard)
              if heard is not None and group[0] not in kept]
    if not wanted:
        return []
    peaks = _syllables(job)
    unexplained = peaks[~_explained_by_vowels(alignment, peaks)]
    inside = [(heard, unexplained[(unexplained >= heard.span[0]) & (unexplained < heard.span[1])])
              for _, heard in wanted]
    return [(heard, lone) for heard, lone in inside if len(lone)]


def _syllables(job: AlignmentJob) -> np.ndarray:
    """The times of the syllable peaks in the job's audio."""
    return syllable_peaks(job.samples, job.start, job.speech_below_peak_db, job.syllable_prominence_db)


def _explained_by_vowels(alignment: Alignment, peaks: np.ndarray) -> np.ndarray:
    """Which syllable peaks `alignment` gives a vowel: each aligned vowel explains the one peak nearest it
    within WORD_EDGE_S of its span (the aligner's boundaries are that uncertain)."""
    explained = np.zeros(len(peaks), bool)
    for phone in alignment.phones:
        if phone.phone in VOWELS:
            distance = np.maximum(phone.start - peaks, peaks - phone.end).clip(min=0.0)
            free = np.flatnonzero(~explained & (distance <= WORD_EDGE_S))
            if len(free):
                explained[free[np.argmin(distance[free])]] = True
    return explained


LEVEL_HOP_S = 0.01     # 10 ms frames of loudness
WORD_EDGE_S = 0.05     # the aligner's word boundaries are this uncertain
MAX_PHONE_S = 0.25     # the most audio one phone explains (with WORD_EDGE_S either side: Festival's longest
                       # phone, a drawn-out OY of 0.29 s, is inside that)


NEIGHBOURS = 2    # words either side of a doubtful group that frame the audio it is judged on


def _local_gain(job: AlignmentJob, aligned: tuple[list[int], Alignment], dropped: set[int],
                group: list[int]) -> float:
    """How much toggling `group` (saying it if dropped, dropping it if said) raises the acoustic score of
    the audio from NEIGHBOURS words before it to NEIGHBOURS words after it (the whole job's audio where it
    has fewer)."""
    kept, alignment = aligned
    spans = dict(zip(kept, alignment.words))
    # words left out of the alignment leave their audio to the words after them (a repeated "watched
    # watched the" aligned as "watched the" puts "the" on the second "watched"): look that many further
    reach = NEIGHBOURS + (len(group) if group[0] in dropped else 0)
    before = [n for n in kept if n < group[0] and n not in group][-NEIGHBOURS:]
    after = [n for n in kept if n > group[-1] and n not in group][:reach]
    job_end = job.start + len(job.samples) / SAMPLE_RATE
    start = spans[before[0]].start if len(before) == NEIGHBOURS and before[0] in spans else job.start
    end = spans[after[-1]].end if len(after) == reach and after[-1] in spans else job_end
    a, b = int(round((start - job.start) * SAMPLE_RATE)), int(round((end - job.start) * SAMPLE_RATE))
    samples = job.samples[a:b]
    frame = set(before) | set(after)
    outside = set(range(len(job.words))) - frame - set(group)
    now = _try_alignment(job, samples, start, outside | (dropped & set(group)))
    toggled = _try_alignment(job, samples, start, outside | (set(group) - dropped))
    if now is None or toggled is None:      # the stretch is too short to align: judge on the whole job
        samples, start = job.samples, job.start
        now, toggled = aligned, _try_alignment(job, samples, start, dropped ^ set(group))
    if toggled is None:
        return float("-inf")
    return (toggled[1].score - now[1].score) * len(samples) / (SAMPLE_RATE * FRAME_S)


def _try_alignment(job: AlignmentJob, samples, start: float, dropped: set[int]) -> tuple[list[int], Alignment] | None:
    """The job's words but `dropped` aligned on `samples` (from `start`), or None when they do not align."""
    kept = [i for i in range(len(job.words)) if i not in dropped]
    if not kept:
        return None
    try:
        return kept, align_words(samples, start, [job.words[i] for i in kept], None, SHARED["recognizer"], fresh=True)
    except AlignmentFailed:
        return None


@dataclass
class RepeatJob:
    """An utterance's alignment, and the positions of its words aligned long enough to have been said twice
    or beside a single heard word it left out (`confirm_repeats` adds the words either side of a syllable the
    alignment leaves to silence)."""
    utterance: int
    job: AlignmentJob
    chosen: tuple[list[int], Alignment]
    candidates: list[int]
    repeatable: set[int]                     # positions of script words said (not in doubt)
    peaks: np.ndarray | None = None          # the job's syllable peaks, once counted
    beside_silence: list[int] = field(default_factory=list)   # words after a syllable aligned to silence

    def syllables(self) -> np.ndarray:
        if self.peaks is None:
            self.peaks = _syllables(self.job)
        return self.peaks


@dataclass
class Repeats:
    """Words said twice: the alignment with them (`words` without the copies, in step with `kept`)."""
    kept: list[int]
    alignment: Alignment
    copies: list[tuple[int, TimedWord]]      # (position of the word said twice, where its copy was said)


def confirm_repeats(task: RepeatJob) -> Repeats | None:
    """The candidates whose saying twice raises the acoustic score around them by the job's `min_gain`, the
    job aligned with them; None when there are none (a task of the speech pool)."""
    job = task.job
    lone = [n for n in task.beside_silence if n not in task.candidates]
    tested = [(n, False) for n in task.candidates] + [(n, True) for n in lone]
    twice = sorted({m for m in (_best_repeat(task, n, beside) for n, beside in tested) if m is not None})
    if not twice:
        return None
    words, moved, copies = with_copies(job.words, twice)
    # the words the chosen alignment left out stay out (not the job's starting guess: an ad-lib it said stays)
    left_out = {moved[n] for n in range(len(job.words)) if n not in task.chosen[0]}
    realigned = _try_alignment(replace(job, words=words), job.samples, job.start, left_out)
    if realigned is None:
        return None
    spans = dict(zip(realigned[0], realigned[1].words))
    original = {m: n for n, m in enumerate(moved)}
    alignment = replace(realigned[1], words=[spans[m] for m in realigned[0] if m in original])
    return Repeats([original[m] for m in realigned[0] if m in original], alignment,
                   [(n, spans[c]) for n, c in zip(twice, copies)])


def _best_repeat(task: RepeatJob, n: int, beside_lone_syllable: bool = False) -> int | None:
    """Position n or the one before it, whichever gains more by being said twice, if it gains enough: the
    job's `repeat_gain`, or `repeat_gain_two_syllables` where a syllable is there without a vowel of its own
    (the two words are either side of one the alignment left to silence, or one of the word's vowels holds
    two: the aligner stretched one vowel over both)."""
    tried = [m for m in (n, n - 1) if m in task.repeatable]
    gains = sorted(((_repeat_gain(task.job, task.chosen, m), m) for m in tried), reverse=True)
    for gain, m in gains:
        if gain >= task.job.repeat_gain or (gain >= task.job.repeat_gain_two_syllables and (
                beside_lone_syllable or _vowel_holds_two_syllables(task, m))):
            return m
    return None


def _beside_a_word_left_out(job: AlignmentJob, chosen: tuple[list[int], Alignment]) -> list[int]:
    """For each single unscripted word `chosen` leaves out, its position and the one after it: a word said twice
    whose copy the recogniser heard as another word ("of of old" heard as "of the old"), to test the words
    either side of it said twice (`_best_repeat` tries a position and the one before it)."""
    kept = set(chosen[0])
    return [n for group, span, repeat in zip(job.choices, job.heard, job.repeats_heard)
            if len(group) == 1 and span is not None and repeat is None and group[0] not in kept
            for n in (group[0], group[0] + 1)]


def _vowel_holds_two_syllables(task: RepeatJob, m: int) -> bool:
    """Whether a vowel of the word at position m, as `task.chosen` aligned it, holds two syllable peaks."""
    kept, alignment = task.chosen
    peaks = task.syllables()
    vowels = [p for p in word_phones(alignment)[kept.index(m)] if p.phone in VOWELS]
    return any(np.count_nonzero((peaks >= p.start) & (peaks < p.end)) >= 2 for p in vowels)


def _beside_syllables_left_to_silence(task: RepeatJob) -> list[int]:
    """For each syllable peak that `task.chosen` aligns to silence (or a filler), the position of the word
    after it (or one past the word before it, at the end): a word said again where the aligner found no room
    for it (Festival's "fog fog" put the second under 0.4 s of silence). On the exact 10-minute Festival
    recordings no syllable is left to silence."""
    kept, alignment = task.chosen
    peaks = task.syllables()
    lone = peaks[~_explained_by_vowels(alignment, peaks)]
    silent = [p for p in lone if any(ph.start <= p < ph.end and (ph.phone == "SIL" or ph.phone.startswith("+"))
                                     for ph in alignment.phones)]
    found = []
    for p in silent:
        after = [i for i, word in enumerate(alignment.words) if word.start > p]
        if after:
            found.append(kept[after[0]])
        elif kept:
            found.append(kept[-1] + 1)
    return sorted(set(found))


def _repeat_gain(job: AlignmentJob, chosen: tuple[list[int], Alignment], n: int) -> float:
    """How much saying the word at position n twice raises the acoustic score around it (`_local_gain`)."""
    words, moved, (copy,) = with_copies(job.words, [n])
    kept, alignment = chosen
    dropped = {moved[d] for d in range(len(job.words)) if d not in kept} | {copy}
    return _local_gain(replace(job, words=words), ([moved[k] for k in kept], alignment), dropped, [copy])


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
                 options: AudioOptions, reporter: Reporter):
        self.audio, self.segments, self.groups = audio, segments, groups
        self.placement, self.reporter = placement, reporter
        self.gains = (options.deviation_min_gain, options.missing_min_gain, options.repeat_min_gain)
        self.stretch = (options.repeat_min_stretch, options.repeat_min_misfit)
        self.speech = (options.unscripted_min_speech_s, options.speech_below_peak_db)
        self.syllables = (options.syllable_min_prominence_db, options.repeat_min_gain_two_syllables)
        self.repeats: dict[int, list[tuple[int, TimedWord]]] = {}   # utterance -> (placed word said twice, copy)
        self.pad_s = options.utterance_pad_s
        self.aligned: dict[int, TimedWord] = {}       # placed word -> its aligned span, for the words said
        self.tried: set[int] = set()                  # placed words of stretches that aligned (said or not)

    def run(self, pool: SpeechPool) -> list[_Stretch]:
        """Every utterance aligned on its own (spread over the pool), then the ones that failed re-tried with
        their neighbours here."""
        worded = [k for k in range(len(self.groups)) if self.placement.in_utterance(k)]
        alone = dict(zip(worded, pool.map(choose_alignment, len(worded), lambda n: self._job([worded[n]]),
                                          _progress(self.reporter, "speech"))))
        self._confirm_repeats(pool, alone)
        done: list[_Stretch] = []
        k = 0
        while k < len(self.groups):
            stretch = self._stretch([k], alone[k]) if alone.get(k) else self._retried(k, done)
            if stretch.utterances[0] < k:        # aligned together with the previous utterance
                self._forget(done.pop())
            done.append(stretch)
            self.aligned.update(zip(stretch.words, stretch.spans))
            if stretch.method in ("align", "words"):
                self.tried.update(i for u in stretch.utterances for i in self.placement.in_utterance(u))
            k = stretch.utterances[-1] + 1
        return done

    def _confirm_repeats(self, pool: SpeechPool, alone: dict) -> None:
        """Script words aligned long enough to have been said twice, or beside a heard word left out or a
        syllable left to silence, tested (spread over the pool); the utterances where some were take the
        alignment with them."""
        typical = typical_phone_durations(chosen[1] for chosen in alone.values() if chosen)
        # one utterance's audio at a time: the tasks keep it only where there is something to test
        tasks = [task for task in (self._repeat_job(k, chosen, typical) for k, chosen in alone.items() if chosen)
                 if task.candidates or task.beside_silence]
        results = pool.map(confirm_repeats, len(tasks), lambda n: tasks[n], lambda done, total: None)
        for task, repeats in zip(tasks, results):
            if repeats is not None:
                k = task.utterance
                placed = self.placement.in_utterance(k)
                alone[k] = (repeats.kept, repeats.alignment)
                self.repeats[k] = [(placed[n], span) for n, span in repeats.copies]

    def _repeat_job(self, k: int, chosen: tuple[list[int], Alignment], typical: dict[str, float]) -> RepeatJob:
        """Utterance k's alignment, with its script words aligned long enough to have been said twice, those
        beside a single heard word it leaves out, and those beside a syllable it leaves to silence."""
        kept, alignment = chosen
        placed = [self.placement.placed[i] for i in self.placement.in_utterance(k)]
        repeatable = {n for n in kept if placed[n].script_index is not None and not placed[n].uncertain}
        job = self._job([k])
        candidates = [kept[n] for n in stretched_words(alignment, typical, *self.stretch) if kept[n] in repeatable]
        candidates += _beside_a_word_left_out(job, chosen)
        task = RepeatJob(k, job, chosen, sorted(set(candidates)), repeatable)
        task.beside_silence = _beside_syllables_left_to_silence(task)
        return task

    def _retried(self, k: int, done: list[_Stretch]) -> _Stretch:
        if not self.placement.in_utterance(k):
            return _recognised_phones(self.audio, self.segments, [k], self.groups, SHARED["recognizer"], "phones",
                                      self.pad_s)
        tries = []
        if k + 1 < len(self.groups):
            tries.append([k, k + 1])
        if done and done[-1].utterances == [k - 1] and done[-1].method == "align":
            tries.append([k - 1, k])
        for utterances in tries:
            chosen = choose_alignment(self._job(utterances))
            if chosen is not None:
                return self._stretch(utterances, chosen)
        return self._fallback(k)

    def _job(self, utterances: list[int]) -> AlignmentJob:
        placed = [i for k in utterances for i in self.placement.in_utterance(k)]
        position = {i: n for n, i in enumerate(placed)}
        uncertain = _uncertain_groups(placed, self.placement)
        choices = [[position[i] for i in group] for _, group in uncertain]
        words = [self.placement.placed[i] for i in placed]
        repeats_heard = [_heard_repeat(words, group) if kind == "repeated" else None
                         for (kind, _), group in zip(uncertain, choices)]
        # start from the script as written (unscripted words out, unheard script words in): a deviation
        # stands only where it fits the audio better
        dropped = {n for group in choices for n in group if self.placement.placed[placed[n]].script_index is None}
        start, end = padded_bounds(self.segments, self._chunk(utterances), self.pad_s)
        heard = [_heard_span([self.placement.placed[placed[n]] for n in group]) for group in choices]
        return AlignmentJob(padded_samples(self.audio, start, end), start, [w.word for w in words], choices, dropped,
                            *self.gains, heard, *self.speech, repeats_heard, *self.syllables)

    def _chunk(self, utterances: list[int]) -> list[Segment]:
        return [s for k in utterances for s in self.groups[k]]

    def _stretch(self, utterances: list[int], chosen: tuple[list[int], Alignment]) -> _Stretch:
        positions, alignment = chosen
        placed = [i for k in utterances for i in self.placement.in_utterance(k)]
        kept = [placed[n] for n in positions]
        owned = clip_bounds(self.segments, self._chunk(utterances), self.audio.duration)
        scripted = any(self.placement.placed[i].script_index is not None for i in kept)
        return _Stretch(utterances, clip_phones(alignment.phones, *owned), "align" if scripted else "words",
                        *owned, kept, alignment.words, round(alignment.score, 3))

    def _forget(self, stretch: _Stretch) -> None:
        for i in stretch.words:
            self.aligned.pop(i, None)
        for k in stretch.utterances:
            self.repeats.pop(k, None)

    def _fallback(self, k: int) -> _Stretch:
        stretch = _recognised_phones(self.audio, self.segments, [k], self.groups, SHARED["recognizer"],
                                     "phones-fallback", self.pad_s)
        stretch.note = "the script words placed here could not be aligned"
        self.reporter.warning("alignment_failed", f"transcript alignment failed for {stretch.start:.2f}-"
                              f"{stretch.end:.2f}s, also with the neighbouring lines; using phone recognition there",
                              start=round(stretch.start, 3), end=round(stretch.end, 3))
        return stretch


def _heard_span(words: list[PlacedWord]) -> tuple[float, float] | None:
    """Where a group of unscripted words was heard; None for a group with script words."""
    if any(w.script_index is not None or w.heard is None for w in words):
        return None
    return min(w.heard.start for w in words), max(w.heard.end for w in words)


def _uncertain_groups(placed: list[int], placement: Placement) -> list[tuple[str, list[int]]]:
    """The uncertain placed words among `placed`, one group per deviation that carries them, with its kind."""
    inside = set(placed)
    groups = [(d.kind, [i for i in range(d.first, d.last) if i in inside and placement.placed[i].uncertain])
              for d in placement.deviations]
    return [(kind, g) for kind, g in groups if g]


def _heard_repeat(words: list[PlacedWord], group: list[int]) -> HeardRepeat | None:
    """The heard words at `group` and the script words they repeat (right before them, else right after them:
    engine.audio.placement's prefix and suffix repeats); None when those are not beside them or not heard."""
    said = [words[n].word for n in group]
    for twin in (range(group[0] - len(group), group[0]), range(group[-1] + 1, group[-1] + 1 + len(group))):
        if twin.start >= 0 and twin.stop <= len(words) and [words[n].word for n in twin] == said:
            both = (*group, *twin)
            heard = [words[n].heard for n in both]
            if all(w is not None for w in heard):
                return HeardRepeat(tuple(both), tuple((w.start, w.end) for w in heard))
    return None


def _recognised_phones(audio: Audio, segments: list[Segment], utterances: list[int], groups: list[list[Segment]],
                       recognizer: RecognizerOptions, method: str, pad_s: float) -> _Stretch:
    chunk = [s for k in utterances for s in groups[k]]
    start, end = padded_bounds(segments, chunk, pad_s)
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
    for i, copy in (pair for pairs in aligner.repeats.values() for pair in pairs):
        word = placement.placed[i]
        deviation = Deviation("repeated", (word.word,), (script.word_lines[word.script_index],), i, i + 1)
        code, message = _describe(deviation, script, copy.start, copy.end)
        reporter.warning(code, message, start=round(copy.start, 3), end=round(copy.end, 3), words=word.word,
                         lines=[k + 1 for k in deviation.lines])
        counts["repeated"] = counts.get("repeated", 0) + 1
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
