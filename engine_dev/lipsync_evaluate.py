"""Measuring lip sync: ground-truth phone readers (Festival, TextGrid, pocketsphinx JSON), Festival
synthesis with exact phone times, and the benchmark's metrics. Used by bench/lipsync.py and the tests."""
from __future__ import annotations

import difflib
import json
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.audio.recognize import TimedPhone
from engine.audio.visemes import (closure_attributes, closure_threshold, mouth_classes, normalize_phone,
                                  phone_class, take_mouth_classes)

FESTIVAL_VOICE = "voice_cmu_us_slt_arctic_hts"   # Debian: festival + festvox-us-slt-hts


def festival_available() -> bool:
    return shutil.which("festival") is not None


def festival_synthesize(text: str, wav: Path, voice: str = FESTIVAL_VOICE) -> list[TimedPhone]:
    """Speak `text` into `wav` with Festival and return its phones with exact times (utt.save.segs)."""
    wav = Path(wav)
    with tempfile.TemporaryDirectory(prefix="festival-") as tmp:
        segs = Path(tmp) / "out.segs"
        words = Path(tmp) / "out.words"
        script = Path(tmp) / "say.scm"
        quoted = text.replace("\\", " ").replace('"', " ")
        script.write_text(f'({voice})\n(set! utt1 (Utterance Text "{quoted}"))\n(utt.synth utt1)\n'
                          f'(utt.save.wave utt1 "{wav}" \'riff)\n(utt.save.segs utt1 "{segs}")\n'
                          f'(utt.save.words utt1 "{words}")\n')
        subprocess.run(["festival", "-b", str(script)], check=True, capture_output=True, timeout=120)
        return read_festival_segs(segs.read_text())


def read_festival_segs(text: str) -> list[TimedPhone]:
    """Festival's segment file: after a '#' line, 'end_time 100 phone' per line."""
    phones: list[TimedPhone] = []
    started, previous = False, 0.0
    for line in text.splitlines():
        if line.strip() == "#":
            started = True
            continue
        parts = line.split()
        if started and len(parts) >= 3:
            end = float(parts[0])
            phones.append(TimedPhone(previous, end, normalize_phone(parts[2])))
            previous = end
    return phones


def read_textgrid_phones(path: Path, tier: str = "phones") -> list[TimedPhone]:
    """Intervals of a TextGrid's phone tier (Praat's long or short text format)."""
    text = Path(path).read_text(encoding="utf-8", errors="replace")
    text = re.sub(r"\[\d+\]", " ", text)
    tokens = [t[1:-1] if t.startswith('"') else t
              for t in re.findall(r'"(?:[^"]|"")*"|(?<![\w.])-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?(?![\w.])', text)]
    # tokens: "ooTextFile" "TextGrid" xmin xmax ntiers, then per tier: class name xmin xmax n (xmin xmax text)*n
    pos = 5
    for _ in range(int(float(tokens[4]))):
        name, count = tokens[pos + 1], int(float(tokens[pos + 4]))
        body = tokens[pos + 5: pos + 5 + 3 * count]
        pos += 5 + 3 * count
        if name == tier:
            return [TimedPhone(float(body[i]), float(body[i + 1]), normalize_phone(body[i + 2]))
                    for i in range(0, len(body), 3)]
    raise ValueError(f"{path}: no tier named {tier!r}")


def read_pocketsphinx_json(path: Path) -> list[TimedPhone]:
    """pocketsphinx's alignment JSON (`{"w": [{"t": word, "w": [{"b", "d", "t": phone}]}]}`)."""
    doc = json.loads(Path(path).read_text())
    phones = []
    for word in doc["w"]:
        for p in word.get("w", []):
            phones.append(TimedPhone(p["b"], p["b"] + p["d"], normalize_phone(p["t"]), word["t"]))
    return phones


@dataclass
class Scores:
    onset_errors: np.ndarray        # seconds, per matched phone
    matched_share: float            # truth phones matched by label in sequence
    class_hits: int
    class_frames: int
    closures_found: int
    closures: int

    @property
    def class_accuracy(self) -> float:
        return self.class_hits / max(self.class_frames, 1)

    @property
    def closure_recall(self) -> float:
        return self.closures_found / max(self.closures, 1)


def speech_phones(phones: list[TimedPhone]) -> list[TimedPhone]:
    return [p for p in phones if normalize_phone(p.phone) != "SIL"]


def onset_errors(truth: list[TimedPhone], predicted: list[TimedPhone]) -> tuple[np.ndarray, float]:
    """|onset difference| of the phones that match by label in a sequence alignment, and the share of
    truth phones matched."""
    t, p = speech_phones(truth), speech_phones(predicted)
    matcher = difflib.SequenceMatcher(a=[x.phone for x in t], b=[normalize_phone(x.phone) for x in p],
                                      autojunk=False)
    errors = [abs(t[i + k].start - p[j + k].start) for i, j, n in matcher.get_matching_blocks() for k in range(n)]
    return np.array(errors), len(errors) / max(len(t), 1)


def truth_classes(truth: list[TimedPhone], times: np.ndarray) -> np.ndarray:
    classes = mouth_classes()
    out = np.full(len(times), classes.index("other"))
    for p in truth:
        inside = (times >= p.start) & (times < p.end)
        out[inside] = classes.index(phone_class(p.phone))
    return out


def utterance_frames(truth: list[TimedPhone], times: np.ndarray) -> np.ndarray:
    """Frames from the first to the last spoken phone."""
    spoken = speech_phones(truth)
    return (times >= spoken[0].start) & (times < spoken[-1].end)


def closure_recall(truth: list[TimedPhone], times: np.ndarray, closed: np.ndarray,
                   tolerance_s: float = 0.02) -> tuple[int, int]:
    """(found, total) P/B/M phones during which (within `tolerance_s`) some frame has the lips closed."""
    found = total = 0
    for p in truth:
        if normalize_phone(p.phone) in ("P", "B", "M"):
            total += 1
            window = (times >= p.start - tolerance_s) & (times <= p.end + tolerance_s)
            found += bool(closed[window].any())
    return found, total


def score_take(truth: list[TimedPhone], predicted: list[TimedPhone], times: np.ndarray,
               faceboard: np.ndarray, names: list[str]) -> Scores:
    errors, matched = onset_errors(truth, predicted) if predicted else (np.array([]), 0.0)
    predicted_classes = take_mouth_classes(faceboard, names)
    return score_classes(truth, times, predicted_classes, closed_mask(faceboard, names), errors, matched)


def closed_mask(faceboard: np.ndarray, names: list[str]) -> np.ndarray:
    index = {n: i for i, n in enumerate(names)}
    cols = [index[a] for a in closure_attributes() if a in index]
    return faceboard[:, cols].mean(axis=1) >= closure_threshold()


def score_classes(truth, times, predicted_classes, closed, errors=np.array([]), matched=0.0) -> Scores:
    frames = utterance_frames(truth, times)
    hits = int((truth_classes(truth, times)[frames] == predicted_classes[frames]).sum())
    found, total = closure_recall(truth, times, closed)
    return Scores(errors, matched, hits, int(frames.sum()), found, total)


# Rhubarb Lip Sync's mouth shapes (A-H, X) in the benchmark's classes.
RHUBARB_CLASSES = {"A": "closed", "B": "other", "C": "open", "D": "open", "E": "rounded", "F": "rounded",
                   "G": "labiodental", "H": "other", "X": "other"}


def rhubarb_frame_classes(cues: list[dict], times: np.ndarray) -> np.ndarray:
    """Class per frame from Rhubarb's cues (a later cue overrides an earlier one where they overlap)."""
    classes = mouth_classes()
    out = np.full(len(times), classes.index("other"))
    for cue in sorted(cues, key=lambda c: c["start"]):
        inside = (times >= cue["start"]) & (times < cue["end"])
        out[inside] = classes.index(RHUBARB_CLASSES.get(cue["value"], "other"))
    return out
