"""A transcript as a script: lines of words, and the language model that biases recognition towards it.

A session recording comes with its script: one line of dialogue per text line (a transcript written as one
paragraph is split into sentences instead). Each word keeps the line it belongs to, so that deviations can
be reported per line. The language model is a trigram model of the script's lines (pocketsphinx's own
`ArpaBoLM`), so that recognition prefers the script's word sequences while any script word may still follow
any other (skipped or reordered lines); the most frequent words of the shipped general English model are
added at a low weight, so that short unscripted phrases ("oh well", "hang on") are heard as themselves
rather than as the nearest script words.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

from engine.audio.text import normalize_words

SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


@dataclass(frozen=True)
class Script:
    lines: tuple[tuple[str, ...], ...]       # normalised words of each line, empty lines left out
    texts: tuple[str, ...]                   # each line as written, for reports

    @cached_property
    def words(self) -> list[str]:
        return [w for line in self.lines for w in line]

    @cached_property
    def word_lines(self) -> list[int]:
        """The line of each word of `words`."""
        return [k for k, line in enumerate(self.lines) for _ in line]

    @cached_property
    def vocabulary(self) -> list[str]:
        return sorted(set(self.words))


def read_script(text: str) -> Script:
    """Lines of `text`: its text lines, or its sentences when it is written as a single line."""
    rows = [row.strip() for row in text.splitlines() if row.strip()]
    if len(rows) == 1:
        rows = [s.strip() for s in SENTENCE_END.split(rows[0]) if s.strip()]
    kept = [(tuple(normalize_words(row)), row) for row in rows]
    kept = [(words, row) for words, row in kept if words]
    return Script(tuple(w for w, _ in kept), tuple(r for _, r in kept))


def write_script_language_model(script: Script, path: Path) -> Path:
    """The script's lines as an ARPA trigram model (each line a sentence between <s> and </s>)."""
    from pocketsphinx.lm import ArpaBoLM   # here, not above: pocketsphinx loads only when speech is aligned

    model = ArpaBoLM(text="\n".join(" ".join(line) for line in script.lines), add_start=True)
    model.compute()
    with open(path, "w") as handle:
        model.write(handle)
    return path


COMMON_WORDS = Path(__file__).parent / "data" / "common_words.txt"   # tools/build_common_words.py


@lru_cache(maxsize=4)
def common_words(count: int) -> tuple[str, ...]:
    """The `count` most probable single words of the shipped general English model (plain words only)."""
    return tuple(COMMON_WORDS.read_text().split()[:count])
