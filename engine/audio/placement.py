"""Where a script's words were said in a long recording: words heard per utterance, matched to the script.

As long-audio aligners do (CMU Sphinx's long-audio aligner, gentle, aeneas), every utterance is first
recognised with a language model biased to the script (`recognize.recognize_script_words`), then the words
heard are matched to the script's words in sequence (difflib's longest matching blocks, as gentle does).
The matches anchor the script in time; what lies between two anchors is decided here:
  * script words heard as other words (a substitution) stay: they were said and misheard, where the audio
    has time for them; where it has not, the words heard were said instead (an ad-lib beside a skipped
    line), unless it has time for the part continuing a heard line (that part was misheard, the rest of
    the lines skipped);
  * script words with nothing heard in their place were said where the audio leaves time for them (the
    recogniser missed them), and not said (`not_said`) where it does not, or where more than two of them
    went unheard among words that were heard; a run of one or two words inside a line is left for the
    aligner to decide (`uncertain`);
  * words heard with no script words in their place are unscripted (an ad-lib; `repeated` when they repeat
    the script words next to them or sound like them, also where they stand in place of script words
    unlike them); the aligner decides whether they were really said (`uncertain`);
  * a next line's first script words are not paired with words heard before the pause that comes before
    the rest of their line;
  * heard words matching script words that were missing elsewhere: a line said out of order (`reordered`).
Each utterance is then aligned with the words placed in it (`engine.audio.script_alignment`).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from difflib import SequenceMatcher

from engine.audio.recognize import TimedWord
from engine.audio.script import Script
from engine.audio.sequence import matching_blocks
from engine.audio.syllables import VOWELS
from engine.audio.vad import Segment

Pronounce = Callable[[str], list[str]]    # a word's phones

MIN_REORDERED_WORDS = 3          # a shorter run is too likely to match by chance
MIN_REORDERED_SIMILARITY = 0.6   # difflib ratio of the heard run to the script run said out of order
MAX_UNCERTAIN_MISSING = 2        # longer runs of unheard script words are not misrecognitions
# A heard word is a script word said again when their phones nearly match: one phone dropped or added
# (difflib's ratio at least this: "or" against "wore" 0.8, where "a" against "the" is 0.67), or one vowel
# changed in a word of three phones or more (the recogniser's commonest slip: "wall wall" heard as "wall
# well"; "pink", heard for many a breath, against "spring" is neither).
MIN_REPEAT_SIMILARITY = 0.8
MIN_PHONES_FOR_VOWEL_SLIP = 3
# At the edges of a stretch of speech, this much is the voice-activity detector's padding and the
# recogniser's own silence, not room for missed words.
EDGE_SLACK_S = 0.1


@dataclass
class PlacedWord:
    word: str
    utterance: int
    script_index: int | None         # None: heard, not in the script
    heard: TimedWord | None = None   # what the recogniser heard there (None: it heard nothing)
    uncertain: bool = False          # the aligner decides whether it was said (see the module docstring)


@dataclass
class Deviation:
    """A deviation from the script, carried by placed[first:last]: unscripted, repeated and reordered words
    count when the aligner keeps them as said; a not_said run when it keeps none of them (first == last:
    nothing placed, the place in the placed words where the missing words would have been)."""
    kind: str                        # not_said | unscripted | repeated | reordered
    words: tuple[str, ...]
    lines: tuple[int, ...]           # the script lines concerned (for unscripted words, the nearest one)
    first: int
    last: int


@dataclass
class Placement:
    placed: list[PlacedWord] = field(default_factory=list)
    deviations: list[Deviation] = field(default_factory=list)
    matched: int = 0                 # script words heard as themselves
    _by_utterance: dict[int, list[int]] = field(default_factory=dict, repr=False)
    _indexed: int = field(default=-1, repr=False)

    def in_utterance(self, k: int) -> list[int]:
        """The placed words of utterance k, in order."""
        if self._indexed != len(self.placed):          # (indexed again only while words are being placed)
            self._by_utterance = {}
            for i, p in enumerate(self.placed):
                self._by_utterance.setdefault(p.utterance, []).append(i)
            self._indexed = len(self.placed)
        return self._by_utterance.get(k, [])


def place_script(script: Script, heard: list[list[TimedWord]], utterances: list[list[Segment]],
                 min_said_word_s: float, min_said_phone_s: float, pronounce: Pronounce) -> Placement:
    """The script's words placed in the utterances (`heard[k]`: the words heard in utterance k, whose
    voice-activity segments are `utterances[k]`)."""
    words = script.words
    flat = [(w, k) for k, ws in enumerate(heard) for w in ws]
    ops = _opcodes(_anchors(words, [w.word for w, _ in flat]), len(words), len(flat))
    moved = _reordered_runs(ops, words, flat)
    builder = _PlacementBuilder(script, flat, utterances, (min_said_word_s, min_said_phone_s), pronounce)
    for n, (tag, i1, i2, j1, j2) in enumerate(ops):
        if tag == "equal":
            builder.matched(i1, i2, j1)
            continue
        said_elsewhere = any(source == n for source, _ in moved.values())
        if n in moved:
            builder.reordered(moved[n][1], j1, j2)
            if not said_elsewhere and i2 > i1:
                builder.missing(i1, i2, j2)
        elif tag == "replace" and not said_elsewhere:
            before, after = builder.repeats_around(i1, i2, j1, j2)
            builder.repeat(j1, j1 + before, i1 - before)
            for part in builder.split_at_next_line(i1, i2, j1 + before, j2 - after):
                _place_between(builder, *part)
            builder.repeat(j2 - after, j2, i2)
        else:
            _place_between(builder, i1, i2, j1, j2, said_elsewhere)
    return builder.placement


def _place_between(builder: _PlacementBuilder, i1: int, i2: int, j1: int, j2: int, said_elsewhere: bool = False
                   ) -> None:
    """Script words i1..i2 and heard words j1..j2 between two anchors (`said_elsewhere`: those script words
    were said out of order, elsewhere)."""
    if i2 > i1 and j2 - j1 > i2 - i1 and not said_elsewhere:   # more heard than scripted: some extra
        builder.paired(i1, i2, j1, j2)
    elif i2 > i1 and j2 > j1 and not said_elsewhere and builder.leaves_time(i1, i2, j2):
        builder.substituted(i1, i2, j1, j2)
    elif i2 > i1 and j2 > j1 and not said_elsewhere:     # too little time: (some) other words
        builder.replaced(i1, i2, j1, j2)
    elif i2 > i1 and not said_elsewhere:
        builder.missing(i1, i2, j1)
    elif j2 > j1:
        builder.unscripted(j1, j2, i1)


def _anchors(script_words: list[str], heard_words: list[str]) -> list[tuple[int, int, int]]:
    """Matching blocks (script start, heard start, size; `sequence.matching_blocks`), without single-word
    matches that stand alone between longer mismatches: a lone "the" matched across a skipped line is
    chance, not an anchor."""
    blocks = matching_blocks(script_words, heard_words)
    kept = []
    for k, (i, j, n) in enumerate(blocks):
        before = kept[-1] if kept else (0, 0, 0)
        after = blocks[k + 1] if k + 1 < len(blocks) else (len(script_words), len(heard_words), 0)
        gaps = (i - before[0] - before[2], j - before[1] - before[2], after[0] - i - n, after[1] - j - n)
        if n >= 2 or max(gaps) <= MAX_UNCERTAIN_MISSING:
            kept.append((i, j, n))
    return kept


def _opcodes(blocks: list[tuple[int, int, int]], n_script: int, n_heard: int) -> list[tuple[str, int, int, int, int]]:
    """difflib-style opcodes (tag, i1, i2, j1, j2) between matching blocks."""
    ops, i, j = [], 0, 0
    for bi, bj, n in [*blocks, (n_script, n_heard, 0)]:
        if bi > i or bj > j:
            ops.append(("replace" if bi > i and bj > j else "delete" if bi > i else "insert", i, bi, j, bj))
        if n:
            ops.append(("equal", bi, bi + n, bj, bj + n))
        i, j = bi + n, bj + n
    return ops


def _reordered_runs(ops, words, flat) -> dict[int, tuple[int, tuple[int, int]]]:
    """{op whose heard words are a line said out of order: (op the script words came from, their span)}."""
    script_runs = [(n, i1, i2) for n, (tag, i1, i2, _, _) in enumerate(ops)
                   if tag in ("delete", "replace") and i2 - i1 >= MIN_REORDERED_WORDS]
    found: dict[int, tuple[int, tuple[int, int]]] = {}
    used: set[int] = set()
    for n, (tag, _, _, j1, j2) in enumerate(ops):
        if tag not in ("insert", "replace") or j2 - j1 < MIN_REORDERED_WORDS:
            continue
        said = [w.word for w, _ in flat[j1:j2]]
        best = max(((SequenceMatcher(a=words[i1:i2], b=said, autojunk=False).ratio(), m, i1, i2)
                    for m, i1, i2 in script_runs if m != n and m not in used), default=None)
        if best and best[0] >= MIN_REORDERED_SIMILARITY:
            found[n] = (best[1], (best[2], best[3]))
            used.add(best[1])
    return found


class _PlacementBuilder:
    def __init__(self, script: Script, flat, utterances: list[list[Segment]], min_said: tuple[float, float],
                 pronounce: Pronounce):
        self.script = script
        self.pronounce = pronounce
        self.lines = script.word_lines
        self.flat = flat
        self.utterances = utterances
        self.min_said_word_s, self.min_said_phone_s = min_said
        self.heard_in = {k for _, k in flat}
        self.placement = Placement()

    @property
    def placed(self) -> list[PlacedWord]:
        return self.placement.placed

    def matched(self, i1: int, i2: int, j1: int) -> None:
        for k in range(i2 - i1):
            word, utterance = self.flat[j1 + k]
            self.placed.append(PlacedWord(self.script.words[i1 + k], utterance, i1 + k, word))
        self.placement.matched += i2 - i1

    def substituted(self, i1: int, i2: int, j1: int, j2: int) -> None:
        """Script words misheard as other words: said, in the utterances where those were heard."""
        for k in range(i2 - i1):
            _, utterance = self.flat[j1 + k * (j2 - j1) // (i2 - i1)]
            self.placed.append(PlacedWord(self.script.words[i1 + k], utterance, i1 + k))

    def reordered(self, run: tuple[int, int], j1: int, j2: int) -> None:
        first = len(self.placed)
        self.substituted(run[0], run[1], j1, j2)
        self._deviation("reordered", first, len(self.placed), run)

    def unscripted(self, j1: int, j2: int, next_script: int) -> None:
        """Heard words with no script words in their place; a part that repeats the script words right
        before (or after) it is its own deviation, so that each is kept or dropped on its own."""
        said = [w.word for w, _ in self.flat[j1:j2]]
        before = self._repeated_prefix(said, next_script)
        after = self._repeated_suffix(said[before:], next_script)
        words = self.script.words
        parts = [(j1, j1 + before, "repeated", words[next_script - before:next_script]),
                 (j1 + before, j2 - after, "unscripted", None),
                 (j2 - after, j2, "repeated", words[next_script:next_script + after])]
        for a, b, kind, repeated in parts:
            if b > a:
                near = next_script - (b - a) if kind == "repeated" and a == j1 else next_script
                self._heard_run(a, b, kind, near, repeated)

    def repeats_around(self, i1: int, i2: int, j1: int, j2: int) -> tuple[int, int]:
        """Of the words heard (j1..j2) in place of script words i1..i2, how many at the start repeat the script
        words before them and how many at the end the ones after them, without sounding like the script
        words they stand in for: "pale moon moon bumpy" for "pale moon a bumpy" is "moon" said twice (and "a"
        unheard), not "a" misheard as "moon"."""
        said = [w.word for w, _ in self.flat[j1:j2]]
        words = self.script.words
        before = self._repeated_prefix(said, i1)
        after = self._repeated_suffix(said[before:], i2)
        before = before if not self._repeats(said[:before], words[i1:i1 + before]) else 0
        after = after if not self._repeats(said[len(said) - after:], words[i2 - after:i2]) else 0
        return before, after

    def split_at_next_line(self, i1: int, i2: int, j1: int, j2: int) -> list[tuple[int, int, int, int]]:
        """Script words i1..i2 and the words heard in their place (j1..j2), as one part, or two where a pause
        lies between the heard words and the next line's words heard after them (j2) and i1..i2 hold that
        line's first words: those were said after the pause, with the rest of their line, and what was heard
        before it is the previous line's or an ad-lib ("hang on" heard as "when aunt", a pause, then "Bob made
        a pumpkin pie": "Bob" paired with "when" put it before the pause, over the ad-lib)."""
        lines = self.lines
        if j2 >= len(self.flat) or j2 == j1 or i2 >= len(lines):
            return [(i1, i2, j1, j2)]
        after_pause = self._voiced_at(j2)
        i_next = next((i for i in range(i1, i2) if lines[i] == lines[i2]), None)
        if (self._voiced_at(j1) == after_pause or i_next is None
                or (i_next == i1 and i1 > 0 and lines[i1 - 1] == lines[i2])):
            return [(i1, i2, j1, j2)]
        j_next = next((j for j in range(j1, j2) if self._voiced_at(j) == after_pause), j2)
        return [(i1, i_next, j1, j_next), (i_next, i2, j_next, j2)]

    def _voiced_at(self, j: int) -> tuple[int, int]:
        """The stretch of voice heard word j lies in: its utterance, and the voice-activity segment of it that
        the word overlaps most (the recogniser often stretches a word over the pause before or after it:
        "don't" heard as "pink" from 0.7 s before it was said)."""
        word, k = self.flat[j]
        overlaps = [min(word.end, s.end) - max(word.start, s.start) for s in self.utterances[k]]
        return k, max(range(len(overlaps)), key=overlaps.__getitem__)

    def repeat(self, j1: int, j2: int, i1: int) -> None:
        """Heard words j1..j2 that repeat script words i1.. (said twice, one copy heard in their place)."""
        if j2 > j1:
            self._heard_run(j1, j2, "repeated", i1, self.script.words[i1:i1 + j2 - j1])

    def _heard_run(self, j1: int, j2: int, kind: str, near: int, repeated: list[str] | None = None) -> None:
        """Places heard words j1..j2 as one deviation; a repeat is placed as the script words it repeats
        (heard "wore or": the second "wore" was said, not an "or")."""
        first = len(self.placed)
        for k, (word, utterance) in enumerate(self.flat[j1:j2]):
            self.placed.append(PlacedWord(repeated[k] if repeated else word.word, utterance, None, word,
                                          uncertain=True))
        said = tuple(w.word for w in self.placed[first:])
        lines = tuple(self.lines[k] for k in (near, near - 1) if 0 <= k < len(self.lines))[:1]
        self.placement.deviations.append(Deviation(kind, said, lines, first, len(self.placed)))

    def _repeated_prefix(self, said: list[str], next_script: int) -> int:
        """How many words at the start of `said` repeat the script words right before it."""
        words = self.script.words
        return max((n for n in range(1, len(said) + 1)
                    if next_script >= n and self._repeats(said[:n], words[next_script - n:next_script])), default=0)

    def _repeated_suffix(self, said: list[str], next_script: int) -> int:
        """How many words at the end of `said` repeat the script words right after it."""
        words = self.script.words
        return max((n for n in range(1, len(said) + 1)
                    if self._repeats(said[len(said) - n:], words[next_script:next_script + n])), default=0)

    def _repeats(self, said: list[str], script_words: list[str]) -> bool:
        """Whether heard words are the script words said again: the same words, or words that sound like
        them (biased to the script and its common words, the recogniser heard "wore wore" as "wore or")."""
        return len(said) == len(script_words) and all(
            h == s or _sounds_like(self.pronounce(h), self.pronounce(s)) for h, s in zip(said, script_words))

    def replaced(self, i1: int, i2: int, j1: int, j2: int) -> None:
        """Script words i1..i2 with other words heard in their place, in too little time for all of them.
        When only the part of a line continuing its heard neighbour's has time, that part was said (misheard
        as those words) and the rest of the lines were not ("on the board" heard as "the ball worked", the
        next line skipped). Else the heard words are unscripted: a repeat of the words before them comes
        first, then the script words not said, then the rest (an ad-lib more often leads into the next line
        than it follows a skipped one)."""
        said_part = self._part_with_time(i1, i2, j2)
        previous = self._last_heard()
        if said_part is not None and said_part[0] == i1:        # a line's misheard end, then lines skipped
            self.substituted(i1, said_part[1], j1, j2)
            self.not_said(said_part[1], i2, previous, self._heard_at(j2))
        elif said_part is not None:                             # lines skipped, then a line's misheard start
            self.not_said(i1, said_part[0], previous, self.flat[j1])
            self.substituted(said_part[0], i2, j1, j2)
        else:
            said = [w.word for w, _ in self.flat[j1:j2]]
            split = j1 + self._repeated_prefix(said, i1)
            self.unscripted(j1, split, i1)
            self.missing(i1, i2, split)
            self.unscripted(split, j2, i2)

    def _part_with_time(self, i1: int, i2: int, j_next: int) -> tuple[int, int] | None:
        """Of script words i1..i2, longer than a misrecognition and over two or more lines, the part that
        continues the line of the word heard before (or after) them, when the time between those has room
        for it; None if neither or both do."""
        parts = self._line_parts(i1, i2)
        if i2 - i1 <= MAX_UNCERTAIN_MISSING or len(parts) < 2:
            return None
        room = self._room_to(j_next)
        continues = [part for part, neighbour in ((parts[0], i1 - 1), (parts[-1], i2))
                     if 0 <= neighbour < len(self.lines) and self.lines[neighbour] == self.lines[part[0]]
                     and room >= self._needed_s(*part)]
        return continues[0] if len(continues) == 1 else None

    def _needed_s(self, i1: int, i2: int) -> float:
        """The least time script words i1..i2 take said: min_said_word_s a word and, for a run too long to be
        a misrecognition of one or two words, min_said_phone_s a phone. (Short runs are judged by word:
        their room is measured between recognised word edges, each some tens of milliseconds off, and
        "poured" heard as "car" left 0.27 s for four phones.)"""
        needed = (i2 - i1) * self.min_said_word_s
        if i2 - i1 > MAX_UNCERTAIN_MISSING:
            phones = sum(len(self.pronounce(word)) for word in self.script.words[i1:i2])
            needed = max(needed, phones * self.min_said_phone_s)
        return needed

    def leaves_time(self, i1: int, i2: int, j_next: int) -> bool:
        """Whether the audio from the last word placed to the next word heard has time for the script words
        i1..i2 (whatever was heard in between; `_needed_s`). Seven script words heard as three other words
        in the time of those three are a skipped line beside an ad-lib, not a mishearing."""
        return self._room_to(j_next) >= self._needed_s(i1, i2)

    def _room_to(self, j_next: int) -> float:
        """Seconds of speech from the last word heard and placed to the j_next-th word heard (`_room`)."""
        return self._room(self._last_heard(), self._heard_at(j_next))[0]

    def _heard_at(self, j: int):
        """The j-th word heard and its utterance; None past the last."""
        return self.flat[j] if j < len(self.flat) else None

    def _last_heard(self) -> PlacedWord | None:
        return next((p for p in reversed(self.placed) if p.heard is not None), None)

    def paired(self, i1: int, i2: int, j1: int, j2: int) -> None:
        """More words heard than script words between two anchors: each script word takes the heard word
        that sounds most like it (in order); the heard words left over are unscripted."""
        heard = [w.word for w, _ in self.flat[j1:j2]]
        pairs = dict(zip(_pair_by_sound(self.script.words[i1:i2], heard, self.pronounce), range(i1, i2)))
        run_start = None
        for j in range(j1, j2 + 1):
            if j < j2 and j - j1 not in pairs:
                run_start = j if run_start is None else run_start
                continue
            if run_start is not None:
                self.unscripted(run_start, j, pairs.get(j - j1, i2))
                run_start = None
            if j < j2:
                i = pairs[j - j1]
                self.placed.append(PlacedWord(self.script.words[i], self.flat[j][1], i))

    def missing(self, i1: int, i2: int, j_next: int) -> None:
        """Script words with nothing heard in their place: said where the audio leaves time for them; else,
        per line, one or two words next to a heard word of their line are left to the aligner, and the rest
        were not said. More than two words none of which was heard, in utterances where other words were,
        were not said either: biased to the script, the recogniser hears some of a line that was said (on
        the exact Festival and real-speech recordings it missed at most two in a row), and noise or a breath
        left in a pause is no room for a line skipped there."""
        previous = self._last_heard()
        following = self._heard_at(j_next)
        room, homes = self._room(previous, following)
        listened = i2 - i1 > MAX_UNCERTAIN_MISSING and all(u in self.heard_in for u in homes)
        if room >= (i2 - i1) * self.min_said_word_s and homes and not listened:
            for k in range(i1, i2):
                self.placed.append(PlacedWord(self.script.words[k], self._home(k, homes, previous), k))
            return
        self.not_said(i1, i2, previous, following)

    def not_said(self, i1: int, i2: int, previous: PlacedWord | None, following) -> None:
        """Script words i1..i2 not said, per line; one or two words next to a heard word of their line are
        left to the aligner."""
        for a, b in self._line_parts(i1, i2):
            home = self._same_line_neighbour(a, b, i2, previous, following)
            first = len(self.placed)
            if b - a <= MAX_UNCERTAIN_MISSING and home is not None:
                for k in range(a, b):
                    self.placed.append(PlacedWord(self.script.words[k], home, k, uncertain=True))
            self._deviation("not_said", first, len(self.placed), (a, b))

    def _line_parts(self, i1: int, i2: int) -> list[tuple[int, int]]:
        cuts = [i for i in range(i1 + 1, i2) if self.lines[i] != self.lines[i - 1]]
        edges = [i1, *cuts, i2]
        return list(zip(edges[:-1], edges[1:]))

    def _same_line_neighbour(self, a: int, b: int, next_script: int, previous: PlacedWord | None,
                             following) -> int | None:
        """The utterance of the word heard next to script words a..b in their own line, if there is one."""
        if previous is not None and previous.script_index is not None \
                and self.lines[previous.script_index] == self.lines[a]:
            return previous.utterance
        if following is not None and b == next_script and next_script < len(self.lines) \
                and self.lines[next_script] == self.lines[b - 1]:
            return following[1]
        return None

    def _room(self, previous: PlacedWord | None, following) -> tuple[float, list[int]]:
        """Seconds of speech (voice activity, its padding left out) between the last word heard and the next
        one, and the utterances holding it."""
        after = previous.heard.end if previous is not None else float("-inf")
        before = following[0].start if following is not None else float("inf")
        first = previous.utterance if previous is not None else 0
        last = following[1] if following is not None else len(self.utterances) - 1
        room, homes = 0.0, []
        for k in range(first, last + 1):
            inside = sum(max(0.0, min(before, s.end - EDGE_SLACK_S) - max(after, s.start + EDGE_SLACK_S))
                         for s in self.utterances[k])
            if inside > 0:
                room += inside
                homes.append(k)
        return room, homes

    def _home(self, k: int, homes: list[int], previous: PlacedWord | None) -> int:
        """The utterance a missed word goes to: one with no heard words if there is one (the recogniser
        heard nothing there), else the previous word's when it continues that word's line, else the next."""
        empty = [u for u in homes if previous is None or u != previous.utterance]
        quiet = [u for u in empty if u not in self.heard_in]
        if quiet:
            return quiet[0]
        if previous is not None and previous.script_index is not None \
                and self.lines[previous.script_index] == self.lines[k]:
            return previous.utterance
        return homes[-1]

    def _deviation(self, kind: str, first: int, last: int, run: tuple[int, int]) -> None:
        words = tuple(self.script.words[run[0]:run[1]])
        lines = tuple(dict.fromkeys(self.lines[run[0]:run[1]]))
        self.placement.deviations.append(Deviation(kind, words, lines, first, last))


def _pair_by_sound(script_words: list[str], heard_words: list[str], pronounce: Pronounce) -> list[int]:
    """For each script word, in order, the position of a distinct heard word, chosen to maximise the summed
    similarity of their phones (a small dynamic programme; len(heard_words) >= len(script_words)); ties go
    to the earlier heard word."""
    n, m = len(script_words), len(heard_words)
    similar = [[_similarity(pronounce(s), pronounce(h)) for h in heard_words] for s in script_words]
    best = [[0.0] * (m + 1)] + [[float("-inf")] * (m + 1) for _ in range(n)]
    for i in range(1, n + 1):
        for j in range(i, m + 1):
            best[i][j] = max(best[i][j - 1], best[i - 1][j - 1] + similar[i - 1][j - 1])
    pairs, j = [], m
    for i in range(n, 0, -1):
        while best[i][j] == best[i][j - 1] and j > i:
            j -= 1
        pairs.append(j - 1)
        j -= 1
    return pairs[::-1]


def _similarity(phones: list[str], other: list[str]) -> float:
    """difflib's ratio of two words' phones: 1 for homophones, 0.8 for "or" against "wore"."""
    return SequenceMatcher(a=phones, b=other, autojunk=False).ratio()


def _sounds_like(phones: list[str], other: list[str]) -> bool:
    """Whether two words' phones nearly match (MIN_REPEAT_SIMILARITY, MIN_PHONES_FOR_VOWEL_SLIP)."""
    if _similarity(phones, other) >= MIN_REPEAT_SIMILARITY:
        return True
    changed = [(a, b) for a, b in zip(phones, other) if a != b]
    return (len(phones) == len(other) >= MIN_PHONES_FOR_VOWEL_SLIP and len(changed) == 1
            and all(p in VOWELS for p in changed[0]))
