"""Long dialogue recordings built from Festival sentences, with their script and ground truth.

A recording is lines spoken in turn by two Festival voices (the HTS voice us-slt and the diphone voice
kal), with pauses between them; every phone's exact time comes from Festival. Script deviations can be
injected at a rate per minute of audio, each with the time it happens:
  adlib      a short unscripted phrase said at the start or end of a line
  skipped    a script line that is not said
  repeated   a word of a line said twice
  reordered  two neighbouring lines said in the opposite order
The script (one line per line of dialogue) is what the actor was given; the audio is what was said.
Used by bench/lipsync.py --long and tests/test_long_audio.py.
"""
from __future__ import annotations

import hashlib
import json
import re
import subprocess
import tempfile
import wave
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from engine.audio.io import SAMPLE_RATE, load_audio
from engine.audio.recognize import TimedPhone, TimedWord
from engine_dev.lipsync_evaluate import FESTIVAL_VOICE, festival_available, read_festival_segs

SECOND_VOICE = "voice_kal_diphone"        # Debian: festvox-kallpc16k
VOICES = (FESTIVAL_VOICE, SECOND_VOICE)
ADLIBS = ("oh well", "you know what", "hang on", "come on now", "right okay", "wait a second")
DEVIATION_KINDS = ("adlib", "skipped", "repeated", "reordered")


def voices_available() -> tuple[str, ...]:
    """The dialogue voices Festival has here (the second one is an optional Debian package)."""
    if not festival_available():
        return ()
    script = f"(print (list (symbol-bound? '{FESTIVAL_VOICE}) (symbol-bound? '{SECOND_VOICE})))"
    out = subprocess.run(["festival", "--pipe"], input=script, capture_output=True, text=True, timeout=60).stdout
    flags = re.findall(r"\bt\b|\bnil\b", out)
    return tuple(v for v, flag in zip(VOICES, flags) if flag == "t") or (FESTIVAL_VOICE,)


@dataclass
class SpokenLine:
    """One synthesised utterance (16 kHz mono) with its phones and words timed from its own start."""
    text: str
    voice: str
    samples: np.ndarray
    phones: list[TimedPhone]
    words: list[TimedWord]

    @property
    def duration(self) -> float:
        return len(self.samples) / SAMPLE_RATE


def speak(text: str, voice: str, cache: Path) -> SpokenLine:
    """`text` said by `voice` (cached by text and voice)."""
    cache.mkdir(parents=True, exist_ok=True)
    stem = hashlib.sha1(f"{voice}|{text}".encode()).hexdigest()[:16]
    wav, truth = cache / f"{stem}.wav", cache / f"{stem}.json"
    if not (wav.exists() and truth.exists()):
        phones, words = _festival(text, voice, wav)
        truth.write_text(json.dumps({"phones": [[p.start, p.end, p.phone] for p in phones],
                                     "words": [[w.start, w.end, w.word] for w in words]}))
    doc = json.loads(truth.read_text())
    return SpokenLine(text, voice, load_audio(wav).samples, [TimedPhone(a, b, p) for a, b, p in doc["phones"]],
                      [TimedWord(a, b, w) for a, b, w in doc["words"]])


def _festival(text: str, voice: str, wav: Path) -> tuple[list[TimedPhone], list[TimedWord]]:
    with tempfile.TemporaryDirectory(prefix="festival-") as tmp:
        segs, words = Path(tmp) / "out.segs", Path(tmp) / "out.words"
        quoted = text.replace("\\", " ").replace('"', " ")
        script = (f'({voice})\n(set! utt1 (Utterance Text "{quoted}"))\n(utt.synth utt1)\n'
                  f'(utt.save.wave utt1 "{wav}" \'riff)\n(utt.save.segs utt1 "{segs}")\n'
                  f'(set! fd (fopen "{words}" "w"))\n'
                  '(mapcar (lambda (w) (format fd "%s %f %f\\n" (item.name w) (item.feat w "word_start") '
                  '(item.feat w "word_end"))) (utt.relation.items utt1 \'Word))\n(fclose fd)\n')
        (Path(tmp) / "say.scm").write_text(script)
        subprocess.run(["festival", "-b", str(Path(tmp) / "say.scm")], check=True, capture_output=True, timeout=120)
        timed = [line.split() for line in words.read_text().splitlines() if line.strip()]
        return read_festival_segs(segs.read_text()), [TimedWord(float(a), float(b), w.lower()) for w, a, b in timed]


@dataclass
class Deviation:
    kind: str                 # one of DEVIATION_KINDS
    start: float              # where it happened in the recording (s); for a skipped line, the pause it left
    end: float
    words: str                # the words concerned (said, or for a skipped line, not said)


@dataclass
class LongRecording:
    samples: np.ndarray                        # 16 kHz mono
    script_lines: list[str]                    # what the actor was given, in order
    truth: list[TimedPhone]                    # every phone said, with its exact time
    line_spans: list[tuple[float, float]]      # first to last phone of each utterance said
    deviations: list[Deviation] = field(default_factory=list)
    voices: tuple[str, ...] = ()
    said: list[tuple[str, str]] = field(default_factory=list)   # (text, voice) of each utterance, in order

    @property
    def duration(self) -> float:
        return len(self.samples) / SAMPLE_RATE

    @property
    def script(self) -> str:
        return "\n".join(self.script_lines) + "\n"

    def write(self, wav: Path, script: Path) -> None:
        with wave.open(str(wav), "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(SAMPLE_RATE)
            out.writeframes(np.clip(np.round(self.samples * 32767), -32768, 32767).astype(np.int16).tobytes())
        script.write_text(self.script)


@dataclass
class Said:
    """One utterance of a plan: what is said, and which deviation it carries."""
    text: str
    deviation: str = ""       # "", "adlib-start", "adlib-end", "repeated", "reordered"
    extra: str = ""           # the ad-lib phrase or the repeated word


def build_recording(sentences: list[str], seconds: float, cache: Path, deviations_per_minute: int = 0,
                    reorder: bool = False, seed: int = 0, voices: tuple[str, ...] | None = None) -> LongRecording:
    """Lines taken in turn from `sentences` (cycling) until the recording reaches `seconds`, alternating
    voices, with pauses of 0.3-1.2 s between lines. With `deviations_per_minute` n, each started minute gets
    n ad-libs, n skipped lines and n repeated words; `reorder` also swaps one pair of lines per minute."""
    rng = np.random.default_rng(seed)
    voices = voices or voices_available()
    plan = _plan_lines(sentences, seconds, voices, cache)
    said = _inject(plan, deviations_per_minute, reorder, rng)
    return assemble(said, voices, cache, rng)


def _plan_lines(sentences, seconds, voices, cache) -> list[str]:
    """Script lines (cycling through `sentences`) whose spoken length reaches `seconds`, pauses included."""
    lines, total, k = [], 0.0, 0
    while total < seconds:
        text = sentences[k % len(sentences)]
        total += speak(text, voices[k % len(voices)], cache).duration + 0.75
        lines.append(text)
        k += 1
    return lines


def _inject(lines: list[str], per_minute: int, reorder: bool, rng) -> list[tuple[str, Said | None]]:
    """(script line, what is said for it or None when skipped), deviations spread over the recording:
    about 24 lines per minute, so each block of 24 lines gets `per_minute` of each kind."""
    said: list[tuple[str, Said | None]] = [(line, Said(line)) for line in lines]
    block = 24
    for first in range(0, len(lines), block):
        slots = list(range(first + 1, min(first + block, len(lines)) - 1))   # never the first or last line
        rng.shuffle(slots)
        kinds = ["adlib", "skipped", "repeated"] * per_minute + (["reordered"] if reorder else [])
        for kind, k in zip(kinds, slots):
            line = lines[k]
            if kind == "skipped":
                said[k] = (line, None)
            elif kind == "adlib":
                phrase = ADLIBS[int(rng.integers(len(ADLIBS)))]
                at_start = bool(rng.integers(2))
                text = f"{phrase.capitalize()}, {line[0].lower()}{line[1:]}" if at_start else \
                    f"{line.rstrip('.?!')}, {phrase}."
                said[k] = (line, Said(text, "adlib-start" if at_start else "adlib-end", phrase))
            elif kind == "repeated":
                words = line.rstrip(".?!").split()
                i = int(rng.integers(1, len(words)))
                text = " ".join(words[:i + 1] + [words[i]] + words[i + 1:]) + line[len(line.rstrip(".?!")):]
                said[k] = (line, Said(text, "repeated", re.sub(r"[^\w']", "", words[i]).lower()))
            elif kind == "reordered" and k + 1 < len(lines) and said[k + 1][1] is not None:
                said[k + 1], said[k] = (lines[k + 1], Said(lines[k], "reordered")), (lines[k], Said(lines[k + 1]))
    return said


def assemble(said: list[tuple[str, Said | None]], voices: tuple[str, ...], cache: Path,
             rng: np.random.Generator) -> LongRecording:
    """The recording of a plan: (script line, what is said for it, or None when it is skipped) in order,
    voices taking turns, pauses of 0.3-1.2 s between utterances."""
    pieces, truth, spans, deviations, said_lines = [], [], [], [], []
    cursor = 0.0
    pending_skip: str | None = None
    voice_turn = 0
    for script_line, utterance in said:
        if utterance is None:
            pending_skip = script_line
            continue
        gap = float(rng.uniform(0.3, 1.2))
        pieces.append(np.zeros(int(gap * SAMPLE_RATE), np.float32))
        voice = voices[voice_turn % len(voices)]
        line = speak(utterance.text, voice, cache)
        said_lines.append((utterance.text, voice))
        voice_turn += 1
        start = cursor + gap
        phones = [TimedPhone(start + p.start, start + p.end, p.phone) for p in line.phones]
        spoken = [p for p in phones if p.phone != "SIL"]
        if pending_skip is not None:
            previous_end = spans[-1][1] if spans else 0.0
            deviations.append(Deviation("skipped", previous_end, spoken[0].start, pending_skip))
            pending_skip = None
        deviations.extend(_deviations_of(utterance, line, start, spans[-1][0] if spans else start))
        truth.extend(phones)
        spans.append((spoken[0].start, spoken[-1].end))
        pieces.append(line.samples)
        cursor = start + line.duration
    pieces.append(np.zeros(int(0.5 * SAMPLE_RATE), np.float32))
    script_lines = [line for line, _ in said]
    return LongRecording(np.concatenate(pieces), script_lines, truth, spans, deviations, tuple(voices), said_lines)


def _deviations_of(utterance: Said, line: SpokenLine, start: float, previous_start: float) -> list[Deviation]:
    """The deviation an utterance carries, timed by Festival's words; a reordered pair spans both lines."""
    words = [w for w in line.words if w.end > w.start]
    if utterance.deviation in ("adlib-start", "adlib-end"):
        n = len(utterance.extra.split())
        part = words[:n] if utterance.deviation == "adlib-start" else words[-n:]
        return [Deviation("adlib", start + part[0].start, start + part[-1].end, utterance.extra)]
    if utterance.deviation == "repeated":
        twice = next(i for i in range(1, len(words)) if words[i].word == words[i - 1].word == utterance.extra)
        return [Deviation("repeated", start + words[twice].start, start + words[twice].end, utterance.extra)]
    if utterance.deviation == "reordered":
        return [Deviation("reordered", previous_start, start + words[-1].end, utterance.text)]
    return []
