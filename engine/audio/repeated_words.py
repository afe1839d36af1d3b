"""Words said twice that recognition heard once: found by how long they were aligned.

Recognition biased to the script often hears a repeated word once ("you you" as "you"), and the aligner
then stretches that one word over both. A script word aligned much longer than its phones usually last
(each phone's median over the whole recording's alignments: the speakers' own pace, no table) and fitting
the audio much worse than the words around it is a candidate, it or the word before it (whose copy the
stretched word may have swallowed). Whether the word was really said twice is judged on the audio around it,
as every other deviation is (engine.audio.script_alignment).
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from statistics import median

from engine.audio.recognize import FRAME_S, Alignment, TimedPhone

SILENCE = "SIL"


def typical_phone_durations(alignments: Iterable[Alignment]) -> dict[str, float]:
    """The median length (s) of each phone over `alignments` (silence left out)."""
    lengths: dict[str, list[float]] = defaultdict(list)
    for alignment in alignments:
        for phone in alignment.phones:
            if phone.phone != SILENCE:
                lengths[phone.phone].append(phone.end - phone.start)
    return {phone: median(values) for phone, values in lengths.items()}


def word_phones(alignment: Alignment) -> list[list[TimedPhone]]:
    """The phones of each of `alignment.words`."""
    spoken = [p for p in alignment.phones if p.phone != SILENCE]
    return [[p for p in spoken if p.start >= word.start - 1e-6 and p.end <= word.end + 1e-6]
            for word in alignment.words]


def stretched_words(alignment: Alignment, typical: dict[str, float], min_stretch: float,
                    min_misfit: float) -> list[int]:
    """Positions in `alignment.words` of the words aligned at least `min_stretch` times as long as their
    phones' typical lengths added up, and fitting the audio worse than the utterance does (a mean score per
    frame at least `min_misfit` below the alignment's): one word's phones stretched over two."""
    found = []
    for n, (word, phones) in enumerate(zip(alignment.words, word_phones(alignment))):
        expected = sum(typical.get(p.phone, 0.0) for p in phones)
        frames = sum(round((p.end - p.start) / FRAME_S) for p in phones)
        if expected <= 0 or frames == 0 or word.end - word.start < min_stretch * expected:
            continue
        if sum(p.score for p in phones) / frames <= alignment.score - min_misfit:
            found.append(n)
    return found


def with_copies(words: list[str], twice: list[int]) -> tuple[list[str], list[int], list[int]]:
    """`words` with each word at a position in `twice` said twice (the copy first); where each word of
    `words` went, and where each copy is."""
    out: list[str] = []
    moved: list[int] = []
    copies: list[int] = []
    for n, word in enumerate(words):
        if n in twice:
            copies.append(len(out))
            out.append(word)
        moved.append(len(out))
        out.append(word)
    return out, moved, copies
