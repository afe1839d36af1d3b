"""Transcripts: normalisation to the aligner's words, and pronunciations for words the dictionary lacks.

pocketsphinx's dictionary (cmudict, ~130k words) covers ordinary English; numbers are spelled out, and any
other unknown word gets a rough letter-to-sound pronunciation so that alignment never fails on a name.
"""
from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from engine.errors import BadInput

TRANSCRIPT_SUFFIXES = (".txt", ".lab", ".json", ".srt", ".text")   # a --transcript ending so is a file
MAX_TRANSCRIPT_BYTES = 1 << 20          # a whole feature film's dialogue is ~100 KB
MAX_WORDS_PER_SECOND = 8.0              # fast speech is ~4-5; more text than this cannot be this audio's

_ONES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
         "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"]
_TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]


def read_transcript(value: str | Path | None) -> str | None:
    """A transcript given as a file path or as the text itself; None/empty text -> None. A value that names a
    file (an existing one, or one line ending in .txt, .lab, ...) must be a readable, non-empty file."""
    if value is None:
        return None
    text = str(value)
    candidate = Path(text)
    if looks_like_a_file(text):
        if not candidate.is_file():
            raise BadInput(f"transcript file not found: {text}",
                           "give the transcript's path, or the text itself in quotes")
        if candidate.stat().st_size > MAX_TRANSCRIPT_BYTES:
            raise BadInput(f"transcript file {candidate.name} is {candidate.stat().st_size / 2**20:.1f} MB: "
                           f"not a transcript", "give the text of this recording only")
        text = candidate.read_text(encoding="utf-8", errors="replace").strip()
        if not text:
            raise BadInput(f"transcript file {candidate.name} is empty",
                           "write the spoken words into it, or leave --transcript out to recognise them")
        return text
    return text.strip() or None


def looks_like_a_file(text: str) -> bool:
    if "\n" in text or len(text) > 4096:
        return False
    try:
        if Path(text).is_file():
            return True
    except OSError:
        return False
    return text.lower().endswith(TRANSCRIPT_SUFFIXES)


def check_transcript_length(text: str, seconds: float) -> None:
    """Refuse a transcript far longer than the audio could hold (aligning it would take minutes and GBs)."""
    words = len(text.split())
    if words > MAX_WORDS_PER_SECOND * seconds + 20:
        raise BadInput(f"the transcript has {words} words for {seconds:.1f} s of audio",
                       "give the transcript of this recording only")


def number_words(n: int) -> list[str]:
    if n < 20:
        return [_ONES[n]]
    if n < 100:
        return [_TENS[n // 10]] + ([_ONES[n % 10]] if n % 10 else [])
    if n < 1000:
        return [_ONES[n // 100], "hundred"] + (number_words(n % 100) if n % 100 else [])
    if n < 1_000_000:
        return number_words(n // 1000) + ["thousand"] + (number_words(n % 1000) if n % 1000 else [])
    return [w for digit in str(n) for w in number_words(int(digit))]


def normalize_words(text: str) -> list[str]:
    """Lower-case words of an English transcript, numbers spelled out, punctuation dropped."""
    text = unicodedata.normalize("NFKC", text).replace("\u2019", "'").replace("\u2018", "'").lower()
    text = re.sub(r"<[^>]*>", " ", text)          # markup such as <cutoff-...> or <unk>
    words: list[str] = []
    for token in re.findall(r"[0-9]+|[a-z]+(?:'[a-z]+)*", text):
        if token.isdigit():
            words.extend(number_words(int(token)))
        else:
            words.append(token)
    return words


# Letter-to-sound fallback: longest match first. Crude, but only names and rare words ever reach it.
_LTS = [
    ("tch", "CH"), ("sch", "S K"), ("tion", "SH AH N"), ("sion", "ZH AH N"), ("ough", "AO"), ("augh", "AO"),
    ("igh", "AY"), ("eigh", "EY"), ("th", "TH"), ("sh", "SH"), ("ch", "CH"), ("ph", "F"), ("wh", "W"),
    ("ck", "K"), ("ng", "NG"), ("qu", "K W"), ("gh", "G"), ("kn", "N"), ("wr", "R"),
    ("ee", "IY"), ("ea", "IY"), ("oo", "UW"), ("ou", "AW"), ("ow", "OW"), ("oa", "OW"), ("oi", "OY"),
    ("oy", "OY"), ("ai", "EY"), ("ay", "EY"), ("au", "AO"), ("aw", "AO"), ("ei", "EY"), ("ey", "IY"),
    ("ie", "IY"), ("ue", "UW"), ("ew", "UW"), ("ar", "AA R"), ("er", "ER"), ("ir", "ER"), ("ur", "ER"),
    ("or", "AO R"),
    ("a", "AE"), ("b", "B"), ("c", "K"), ("d", "D"), ("e", "EH"), ("f", "F"), ("g", "G"), ("h", "HH"),
    ("i", "IH"), ("j", "JH"), ("k", "K"), ("l", "L"), ("m", "M"), ("n", "N"), ("o", "AA"), ("p", "P"),
    ("r", "R"), ("s", "S"), ("t", "T"), ("u", "AH"), ("v", "V"), ("w", "W"), ("x", "K S"), ("y", "IY"),
    ("z", "Z"),
]


def letter_to_sound(word: str) -> str:
    """A rough ARPAbet pronunciation of an English-looking word (no stress marks)."""
    letters = re.sub(r"[^a-z]", "", word.lower())
    if letters.endswith("e") and len(letters) > 3 and letters[-2] not in "aeiou":
        letters = letters[:-1]  # silent final e
    phones: list[str] = []
    i = 0
    while i < len(letters):
        for graph, sound in _LTS:
            if letters.startswith(graph, i):
                if not (phones and phones[-1] == sound):  # doubled consonants sound once
                    phones.append(sound)
                i += len(graph)
                break
        else:
            i += 1
    return " ".join(phones) or "AH"
