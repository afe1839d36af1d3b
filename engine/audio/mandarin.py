"""Mandarin transcripts for the English aligner: hanzi -> pinyin (pypinyin) -> approximate ARPAbet.

pocketsphinx ships no Mandarin model, but the English acoustic model times Mandarin syllables well enough
for lip sync when each syllable is spelled with the nearest English phones: the mouth shapes that matter
(closures on b/p/m, f, rounding on u/o/ü, open a) survive the approximation.
"""
from __future__ import annotations

import re

INITIALS = {
    "b": "B", "p": "P", "m": "M", "f": "F", "d": "D", "t": "T", "n": "N", "l": "L", "g": "G", "k": "K",
    "h": "HH", "j": "JH", "q": "CH", "x": "SH", "zh": "JH", "ch": "CH", "sh": "SH", "r": "ZH", "z": "Z",
    "c": "T S", "s": "S", "": "",
}
FINALS = {
    "a": "AA", "o": "AO", "e": "AH", "i": "IY", "u": "UW", "v": "Y UW", "ai": "AY", "ei": "EY", "ao": "AW",
    "ou": "OW", "an": "AA N", "en": "AH N", "ang": "AA NG", "eng": "AH NG", "ong": "UH NG", "er": "ER",
    "ia": "Y AA", "ie": "Y EH", "iao": "Y AW", "iou": "Y OW", "ian": "Y EH N", "in": "IY N",
    "iang": "Y AA NG", "ing": "IY NG", "iong": "Y UH NG", "ua": "W AA", "uo": "W AO", "uai": "W AY",
    "uei": "W EY", "uan": "W AA N", "uen": "W AH N", "uang": "W AA NG", "ueng": "W AH NG", "ve": "Y UW EH",
    "van": "Y UW AA N", "vn": "Y UW N", "io": "Y AO", "ê": "EH", "m": "M", "n": "N", "ng": "NG",
}
# -i after the sibilants (zi, ci, si / zhi, chi, shi, ri) is not [i]
APICAL = {"z": "IH", "c": "IH", "s": "IH", "zh": "ER", "ch": "ER", "sh": "ER", "r": "ER"}


def syllables(text: str) -> list[tuple[str, str, str]]:
    """(toneless pinyin, initial, final) for each Chinese character of `text`."""
    from pypinyin import Style, lazy_pinyin

    hanzi = "".join(re.findall(r"[\u3400-\u9fff]", text))
    names = lazy_pinyin(hanzi, style=Style.NORMAL, errors="ignore")
    initials = lazy_pinyin(hanzi, style=Style.INITIALS, strict=True, errors="ignore")
    finals = lazy_pinyin(hanzi, style=Style.FINALS, strict=True, errors="ignore")
    return list(zip(names, initials, finals))


def syllable_phones(initial: str, final: str) -> str:
    if final == "i" and initial in APICAL:
        vowel = APICAL[initial]
    else:
        vowel = FINALS.get(final) or FINALS.get(final.rstrip("r"), "AH")
    return " ".join(p for p in (INITIALS.get(initial, ""), vowel) if p)


def has_hanzi(text: str) -> bool:
    return re.search(r"[\u3400-\u9fff]", text) is not None


def pinyin_lexicon(text: str) -> tuple[list[str], dict[str, str]]:
    """Aligner words (one per syllable, `py_<pinyin>`) and their pronunciations."""
    words, lexicon = [], {}
    for name, initial, final in syllables(text):
        word = f"py_{name}"
        words.append(word)
        lexicon[word] = syllable_phones(initial, final)
    return words, lexicon
