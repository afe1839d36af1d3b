"""The most probable single words of pocketsphinx's shipped English language model, for the script
recogniser's ad-lib vocabulary (engine.audio.script.common_words reads the first N of them).

Run when the pocketsphinx model changes:  python tools/build_common_words.py
Writes engine/audio/data/common_words.txt: plain words (letters, one apostrophe part at most) of the shipped
dictionary, most probable first by the shipped model's unigram probability.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

from pocketsphinx import Config, LogMath, NGramModel, get_model_path

OUT = Path(__file__).resolve().parents[1] / "engine" / "audio" / "data" / "common_words.txt"
COUNT = 1000


def ranked_words() -> list[str]:
    model_dir = get_model_path()
    model = NGramModel(Config(), LogMath(), os.path.join(model_dir, "en-us", "en-us.lm.bin"))
    with open(os.path.join(model_dir, "en-us", "cmudict-en-us.dict"), encoding="utf-8") as handle:
        words = {line.split(" ", 1)[0] for line in handle}
    plain = sorted(w for w in words if re.fullmatch(r"[a-z]+(?:'[a-z]+)?", w))
    return sorted(plain, key=lambda w: model.prob([w]), reverse=True)


def main() -> None:
    OUT.write_text("".join(f"{word}\n" for word in ranked_words()[:COUNT]))
    print(f"wrote {OUT} ({COUNT} words)")


if __name__ == "__main__":
    main()
