"""Lip sync benchmark: phone timing, mouth classes and closures against ground truth, and speed.

    python bench/lipsync.py [--no-rhubarb] [--sets festival,mfa,librivox] [--fps 60]
                            [--paths transcript,no-transcript] [--diagnose]
    python bench/lipsync.py --long [--long-seconds 80,600] [--long-kinds exact,deviations,real] [--long-seeds 1]

--long scores whole recordings instead: two-voice dialogues of the Festival sentences with their script,
the whole command timed (bench/lipsync_long.py says how).

Ground truth:
  festival  64 sentences synthesised here with Festival (Debian `festival` + `festvox-us-slt-hts`); its
            segment file gives every phone's exact time
  festival-dev  48 other sentences, the same way: the set to tune and diagnose on (not run by default)
  mfa       ../shared/data/audio/mfa: real speech with Montreal Forced Aligner phone TextGrids
  librivox  ../shared/data/audio/librivox: read speech with pocketsphinx's own expected alignments
            (the transcript path is close to its own reference there: a consistency check, not a score)
Per set and path (transcript, no transcript, and the peer Rhubarb Lip Sync with and without its dialog
text), the table shows: phone-onset error (median ms, share within 20 / 50 ms) of the phones that match
the truth by label in sequence; mouth-class frame accuracy (closed P/B/M, labiodental F/V, rounded,
open, other) over the utterance at --fps; closure recall (P/B/M during which the take's lips-together
controls close, 20 ms tolerance); speed as audio seconds per CPU second of the engine process (decoders
loaded once) in CPU time, because the 2-core machines are shared and wall time swings with their load
(pocketsphinx is single-threaded, so CPU time is the wall time of an idle core), and in wall time.
Rhubarb is timed (wall) inside node around each call.

--diagnose adds, per set and FaceRetarget path, where the class errors fall: a confusion matrix of truth
class (rows) against take class (columns) in frames; the accuracy of classes read straight from the
aligned phones (no animation: the ceiling the phone labels and boundaries allow); the take's accuracy
if every aligned phone boundary within 10 / 20 / 50 ms of the truth boundary between the same two
phones were moved onto it (what more precise boundaries alone could buy; wrong labels stay wrong); and
the most frequent (truth phone -> aligned phone) pairs on the frames the take gets wrong, with a word
they fall on.
"""
from __future__ import annotations

import argparse
import dataclasses
import datetime
import difflib
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from engine.audio.io import load_audio  # noqa: E402
from engine.audio.lipsync import analyse_speech, animate_speech  # noqa: E402
from engine.audio.recognize import TimedPhone, warm_up  # noqa: E402
from engine.audio.visemes import mouth_classes, normalize_phone, take_mouth_classes, viseme_table  # noqa: E402
from engine.config import AudioOptions  # noqa: E402
import lipsync_long  # noqa: E402  (bench/lipsync_long.py, beside this file)
from engine_dev.lipsync_evaluate import (Scores, festival_available, festival_synthesize,  # noqa: E402
                                         read_pocketsphinx_json, read_textgrid_phones, rhubarb_frame_classes,
                                         score_classes, score_take, truth_classes, utterance_frames)

SENTENCES = [
    "Peter bought a big blue map of the old moon.",
    "Five fine women moved over the frozen river.",
    "Bob made a pumpkin pie for his mother.",
    "We were all amazed when the music stopped.",
    "Few of the boys knew about the new school rules.",
    "Please bring the paper boat back to the beach.",
    "The family moved from Boston to Vermont in May.",
    "My brother wants to visit the famous museum.",
    "She sells sea shells by the sea shore.",
    "Bring me a warm cup of coffee with milk.",
    "Everybody thought the puppet show was funny.",
    "Wood burns above the valley of the blue moon.",
    "Mark put the heavy box above the old fireplace.",
    "Would you like some more soup before you go?",
    "A quiet voice answered from behind the wall.",
    "Maybe the phone will ring before noon tomorrow.",
    # 48 more (2026-11-30), written before any was scored, so that one sentence moves the set's figure
    # by about 0.001 instead of 0.006 (the first 16 alone: a per-sentence sd of ~0.03)
    "The captain steered the ship into the harbour.", "Fresh fish is sold at the market on Fridays.",
    "My aunt keeps her money in a metal box.", "The boy threw the ball over the fence.",
    "We ate lunch under a big oak tree.", "Please open the window, it is warm in here.",
    "The police found the missing purple van.", "Ten people voted for the new plan.",
    "She poured hot water over the tea leaves.", "The baby fell asleep in her father's arms.",
    "Bill mopped the floor before the guests arrived.", "A thick fog covered the whole city.",
    "The teacher wrote the answer on the board.", "Bears sleep through most of the winter.",
    "Don't forget to feed the fish tonight.", "Many birds build their nests in spring.",
    "The musician played a very old tune.", "Could you move your car, please?",
    "We painted the boat white and blue.", "The wolf howled at the pale moon.",
    "A bumpy road leads up to the farm.", "He keeps his photos in a brown folder.",
    "The soup was too hot to eat.", "Five boys waved from the top of the bridge.",
    "Pam bought a pair of warm woollen mittens.", "The rain stopped just before the parade.",
    "Our family visits the beach every summer.", "Mary wore a pink ribbon in her hair.",
    "The cook stirred the beans with a wooden spoon.", "Few things are better than a quiet morning.",
    "The movers lifted the heavy sofa upstairs.", "Bees buzzed around the purple flowers.",
    "Please wipe your feet on the mat.", "The fire truck raced down the main road.",
    "Peggy found a shiny coin on the pavement.", "We booked a room with a view of the lake.",
    "The buffalo grazed near the river bank.", "Vera made a bowl of pumpkin soup.",
    "The library closes at five on Sundays.", "Who took the last piece of pie?",
    "Bob whistled a funny tune while he worked.", "The mouse ran under the wooden floor.",
    "Please bring a map and a warm blanket.", "The band played music until midnight.",
    "My boss moved the meeting to Wednesday.", "A brave knight rode over the hill.",
    "The big balloon floated above the field.", "Ruth opened the box of old photos.",
]
# Development sentences: for tuning and diagnosis (`--sets festival-dev`), never part of the measured set above.
DEV_SENTENCES = [
    "The kitchen window was open all night.", "He bought fresh bread at the corner shop.",
    "Please put the blue cup on the top shelf.", "Our neighbours painted their fence bright green.",
    "The children laughed at the funny clown.", "I think we should leave before it rains.",
    "Mother baked a cake for the birthday party.", "The old man walked slowly along the beach.",
    "Five brown foxes jumped over the muddy pond.", "We watched the boats move across the bay.",
    "Her voice was soft and very calm.", "They found a map hidden in the book.",
    "The train leaves at nine in the morning.", "Put your boots by the back door.",
    "My phone fell into the swimming pool.", "Both of them wore woolly hats in the snow.",
    "A small bird sang from the maple tree.", "Could you pass me the butter, please?",
    "The movie was much better than the book.", "Good food makes people happy.",
    "Paul moved to a farm in the valley.", "The vase broke when it fell off the table.",
    "I will meet you at the museum at noon.", "Bright lights flashed above the stage.",
    "The pilot flew the plane through the storm.", "We need more milk and some bananas.",
    "Victor offered to fix the broken bike.", "Whales swim in the deep blue ocean.",
    "The doctor told him to rest for a week.", "Fill the bucket with warm soapy water.",
    "Birds fly south when the weather turns cold.", "Please remember to lock the front gate.",
    "The museum opens early on Mondays.", "Every Friday we play football in the park.",
    "A few people waited outside the theatre.", "She wrote a long letter to her brother.",
    "The bakery sells muffins and apple pie.", "Move the piano away from the wall.",
    "Mike plays the violin in a small band.", "The wind blew the papers off my desk.",
    "Which way is the nearest bus stop?", "Pour the soup into the big brown bowl.",
    "The farmer keeps sheep and two old cows.", "Bob forgot his umbrella at the office.",
    "We heard a loud boom from the harbour.", "Maybe you could bring some food for the picnic.",
    "The puppy chewed my favourite blue shoe.", "Move over, there is room for one more.",
]
RHUBARB_PACKAGE = "rhubarb-lip-sync-wasm@0.1.8"


def shared_data() -> Path:
    return Path(os.environ.get("FACERETARGET_SHARED_DATA", REPO.parent / "shared" / "data"))


def festival_set(cache: Path, sentences: list[str] = SENTENCES) -> list[dict]:
    if not festival_available():
        print("festival not found (apt-get install festival festvox-us-slt-hts): skipping the synthetic set",
              file=sys.stderr)
        return []
    cache.mkdir(parents=True, exist_ok=True)
    clips = []
    for i, text in enumerate(sentences):
        stem = f"festival_{i:02d}_{hashlib.sha1(text.encode()).hexdigest()[:8]}"   # a new text, a new file
        wav, truth_file = cache / f"{stem}.wav", cache / f"{stem}.json"
        if not (wav.exists() and truth_file.exists()):
            truth = festival_synthesize(text, wav)
            truth_file.write_text(json.dumps([[p.start, p.end, p.phone] for p in truth]))
        truth = [TimedPhone(a, b, p) for a, b, p in json.loads(truth_file.read_text())]
        clips.append({"name": wav.stem, "audio": wav, "text": text, "truth": truth})
    return clips


def mfa_set(root: Path) -> list[dict]:
    folder = root / "audio" / "mfa"
    refs = dict(line.split("\t", 1) for line in (folder / "reference_transcripts.tsv").read_text().splitlines()
                if "\t" in line)
    clips = []
    for grid in sorted(folder.glob("*.TextGrid")):
        audio = next((folder / f"{grid.stem}{ext}" for ext in (".wav", ".flac") if (folder / f"{grid.stem}{ext}").exists()), None)
        lab = folder / f"{grid.stem}.lab"
        text = lab.read_text().strip() if lab.exists() else refs.get(grid.stem, "").strip()
        try:
            truth = read_textgrid_phones(grid)
        except ValueError:      # a transcript-only TextGrid (no phone tier)
            continue
        if audio and text:
            clips.append({"name": grid.stem, "audio": audio, "text": text, "truth": truth})
    return clips


def librivox_set(root: Path) -> list[dict]:
    folder = root / "audio" / "librivox"
    return [{"name": j.name.split(".")[0][-4:], "audio": j.with_name(j.name.replace(".phone.json", ".wav")),
             "text": j.with_name(j.name.replace(".phone.json", ".txt")).read_text().strip(),
             "truth": read_pocketsphinx_json(j)} for j in sorted(folder.glob("*.phone.json"))]


class Diagnosis:
    """Frame-level error bookkeeping for --diagnose (see the module docstring)."""

    def __init__(self) -> None:
        n = len(mouth_classes())
        self.confusion = np.zeros((n, n), int)
        self.label_hits = 0
        self.frames = 0
        self.pairs: dict[tuple[str, str], list] = {}
        self.snapped_hits = {tolerance: 0 for tolerance in SNAP_TOLERANCES_S}

    def add(self, truth, speech, times: np.ndarray, faceboard: np.ndarray, names: list[str]) -> None:
        predicted = speech.phones
        frames = utterance_frames(truth, times)
        want = truth_classes(truth, times)[frames]
        got = take_mouth_classes(faceboard, names)[frames]
        np.add.at(self.confusion, (want, got), 1)
        self.label_hits += int((truth_classes(predicted, times)[frames] == want).sum())
        self.frames += int(frames.sum())
        truth_phone = phone_at(truth, times[frames])
        aligned = phone_at(predicted, times[frames])
        for k in np.flatnonzero(want != got):
            key = (truth_phone[k][0], aligned[k][0])
            entry = self.pairs.setdefault(key, [0, {}])
            entry[0] += 1
            word = aligned[k][1] or "-"
            entry[1][word] = entry[1].get(word, 0) + 1
        for tolerance in SNAP_TOLERANCES_S:
            snapped = dataclasses.replace(speech, phones=snap_boundaries(truth, predicted, tolerance))
            board, _ = animate_speech(snapped, times, "mh4")
            self.snapped_hits[tolerance] += int((take_mouth_classes(board, names)[frames] == want).sum())

    def report(self, title: str, top: int = 25) -> str:
        classes = mouth_classes()
        lines = [f"\n## {title}: truth class (rows) x take class (columns), frames", "",
                 "| truth \\ take | " + " | ".join(classes) + " | recall |",
                 "|---|" + "---|" * (len(classes) + 1)]
        for i, name in enumerate(classes):
            row_total = max(self.confusion[i].sum(), 1)
            lines.append(f"| {name} | " + " | ".join(str(v) for v in self.confusion[i])
                         + f" | {self.confusion[i, i] / row_total:.3f} |")
        acc = np.trace(self.confusion) / max(self.confusion.sum(), 1)
        lines += ["", f"take accuracy {acc:.3f}; classes read from the aligned phones "
                  f"{self.label_hits / max(self.frames, 1):.3f}",
                  "take accuracy with the aligned boundaries within " + ", ".join(
                      f"{t * 1000:.0f} ms: {hits / max(self.frames, 1):.3f}" for t, hits in self.snapped_hits.items())
                  + " of the truth's moved onto them", "",
                  "| truth phone | aligned phone | error frames | words (frames) |", "|---|---|---|---|"]
        for (want, got), (count, words) in sorted(self.pairs.items(), key=lambda kv: -kv[1][0])[:top]:
            common = ", ".join(f"{w} ({c})" for w, c in sorted(words.items(), key=lambda kv: -kv[1])[:4])
            lines.append(f"| {want} | {got} | {count} | {common} |")
        return "\n".join(lines)


SNAP_TOLERANCES_S = (0.01, 0.02, 0.05)


def snap_boundaries(truth: list[TimedPhone], predicted: list[TimedPhone], tolerance_s: float) -> list[TimedPhone]:
    """`predicted` with each boundary between two adjacent phones moved onto the truth's boundary between
    the same two phones (matched in sequence) when it lies within `tolerance_s` of it."""
    def boundaries(phones):
        return [(normalize_phone(a.phone), normalize_phone(b.phone)) for a, b in zip(phones[:-1], phones[1:])]

    out = [dataclasses.replace(p) for p in predicted]
    matcher = difflib.SequenceMatcher(a=boundaries(truth), b=boundaries(predicted), autojunk=False)
    for i, j, n in matcher.get_matching_blocks():
        for k in range(n):
            want, left, right = truth[i + k + 1].start, out[j + k], out[j + k + 1]
            if abs(left.end - right.start) < 1e-6 and abs(want - right.start) <= tolerance_s:
                left.end = right.start = want
    return out


def phone_at(phones, times: np.ndarray) -> list[tuple[str, str]]:
    """(phone, word) at each time; SIL between phones."""
    out = [("SIL", "")] * len(times)
    for p in phones:
        for k in np.flatnonzero((times >= p.start) & (times < p.end)):
            out[k] = (normalize_phone(p.phone), p.word)
    return out


def run_engine(clips: list[dict], with_text: bool, fps: float, diagnosis: Diagnosis | None = None
               ) -> tuple[list[Scores], float, float, float]:
    scores, audio_s, busy_s, wall_s = [], 0.0, 0.0, 0.0
    board_names = list(viseme_table("mh4").faceboard_names)
    for clip in clips:
        audio = load_audio(clip["audio"])
        t0, w0 = time.process_time(), time.perf_counter()
        speech = analyse_speech(audio, AudioOptions(transcript=clip["text"] if with_text else None))
        times = np.arange(0.0, audio.duration, 1.0 / fps)
        faceboard, _ = animate_speech(speech, times, "mh4")
        busy_s += time.process_time() - t0
        wall_s += time.perf_counter() - w0
        audio_s += audio.duration
        scores.append(score_take(clip["truth"], speech.phones, times, faceboard, board_names))
        if diagnosis is not None:
            diagnosis.add(clip["truth"], speech, times, faceboard, board_names)
    return scores, audio_s, busy_s, wall_s


def ensure_rhubarb(cache: Path) -> Path | None:
    if shutil.which("node") is None or shutil.which("npm") is None:
        return None
    modules = cache / "node_modules" / "rhubarb-lip-sync-wasm"
    if not modules.exists():
        cache.mkdir(parents=True, exist_ok=True)
        result = subprocess.run(["npm", "install", "--prefix", str(cache), "--no-audit", "--no-fund",
                                 RHUBARB_PACKAGE], capture_output=True, text=True)
        if result.returncode != 0:
            print(f"npm install {RHUBARB_PACKAGE} failed:\n{result.stderr[-2000:]}", file=sys.stderr)
            return None
    script = cache / "rhubarb_run.mjs"
    shutil.copy(REPO / "bench" / "rhubarb_run.mjs", script)
    return script


def run_rhubarb(script: Path, clips: list[dict], with_text: bool, fps: float) -> tuple[list[Scores], float, float]:
    with tempfile.TemporaryDirectory(prefix="rhubarb-") as tmp:
        jobs, durations = [], []
        for i, clip in enumerate(clips):
            audio = load_audio(clip["audio"])
            pcm = Path(tmp) / f"{i}.pcm"
            pcm.write_bytes(audio.pcm16().tobytes())
            jobs.append({"pcm": str(pcm), "text": clip["text"] if with_text else ""})
            durations.append(audio.duration)
        result = subprocess.run(["node", str(script)], input=json.dumps(jobs), capture_output=True, text=True,
                                cwd=script.parent)
        if result.returncode != 0:
            raise RuntimeError(f"rhubarb failed: {result.stderr[-2000:]}")
        outputs = json.loads(result.stdout.strip().splitlines()[-1])
    closed_index = mouth_classes().index("closed")
    scores = []
    for clip, out, duration in zip(clips, outputs, durations):
        times = np.arange(0.0, duration, 1.0 / fps)
        classes = rhubarb_frame_classes(out["cues"], times)
        scores.append(score_classes(clip["truth"], times, classes, classes == closed_index))
    return scores, sum(durations), None, sum(o["seconds"] for o in outputs)


def row(set_name: str, path: str, clips: list[dict], scores: list[Scores], audio_s: float, busy_s: float | None,
        wall_s: float) -> str:
    errors = np.concatenate([s.onset_errors for s in scores]) if scores else np.array([])
    hits = sum(s.class_hits for s in scores)
    frames = sum(s.class_frames for s in scores)
    found = sum(s.closures_found for s in scores)
    total = sum(s.closures for s in scores)
    if len(errors):
        onset = f"{np.median(errors) * 1000:.0f} | {np.mean(errors <= 0.02):.2f} | {np.mean(errors <= 0.05):.2f}"
        matched = np.mean([s.matched_share for s in scores])
        onset += f" | {matched:.2f}"
    else:
        onset = "- | - | - | -"
    return (f"| {set_name} | {path} | {len(clips)} | {audio_s:.1f} | {onset} | {hits / max(frames, 1):.3f} | "
            f"{found}/{total} = {found / max(total, 1):.3f} | "
            f"{'-' if busy_s is None else f'{audio_s / max(busy_s, 1e-9):.1f}x'} | {audio_s / max(wall_s, 1e-9):.1f}x |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sets", default="festival,mfa,librivox")
    parser.add_argument("--fps", type=float, default=AudioOptions().fps)
    parser.add_argument("--no-rhubarb", action="store_true")
    parser.add_argument("--paths", default="transcript,no-transcript",
                        help="FaceRetarget paths to run: transcript, no-transcript or both")
    parser.add_argument("--diagnose", action="store_true",
                        help="after the table, where the mouth-class errors fall (confusions, phones, words)")
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "faceretarget-bench-lipsync")
    parser.add_argument("--long", action="store_true",
                        help="whole recordings instead (bench/lipsync_long.py): two-voice dialogues of the Festival "
                             "sentences with their script, the whole command timed")
    parser.add_argument("--long-seconds", default="80,600", help="--long: the recordings' lengths (s)")
    parser.add_argument("--long-kinds", default="exact,deviations,real",
                        help="--long: exact (said as scripted), deviations (one ad-lib, skipped line and repeated "
                             "word per minute), real (the shared MFA and LibriVox clips in one recording; with "
                             "deviations also with a Festival line not said after every other clip)")
    parser.add_argument("--long-seeds", default="1",
                        help="--long: the deviation recordings to make (each seed places its deviations elsewhere)")
    args = parser.parse_args()
    if args.long:
        print(f"# Lip sync on whole recordings ({datetime.date.today()}, {platform.node()}, {os.cpu_count()} cores, "
              f"{platform.processor() or platform.machine()}, Python {platform.python_version()})")
        root = shared_data()
        clips = (mfa_set(root) + librivox_set(root)) if (root / "audio" / "mfa").is_dir() and "real" in \
            args.long_kinds.split(",") else None
        lipsync_long.main([float(s) for s in args.long_seconds.split(",")], args.long_kinds.split(","), args.cache,
                          args.fps, SENTENCES, [int(s) for s in args.long_seeds.split(",")], clips)
        return
    root = shared_data()
    sets = {}
    for name in args.sets.split(","):
        if name == "festival":
            sets[name] = festival_set(args.cache / "festival")
        elif name == "festival-dev":
            sets[name] = festival_set(args.cache / "festival-dev", DEV_SENTENCES)
        elif name == "mfa" and (root / "audio" / "mfa").is_dir():
            sets[name] = mfa_set(root)
        elif name == "librivox" and (root / "audio" / "librivox").is_dir():
            sets[name] = librivox_set(root)
    warm_up()
    rhubarb = None if args.no_rhubarb else ensure_rhubarb(args.cache / "rhubarb")
    print(f"# Lip sync benchmark ({datetime.date.today()}, {platform.node()}, {os.cpu_count()} cores, "
          f"{platform.processor() or platform.machine()}, Python {platform.python_version()})\n")
    print("| set | path | clips | audio s | onset median ms | <=20 ms | <=50 ms | phones matched | "
          "mouth-class acc | closure recall | speed (CPU) | speed (wall) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    paths = [(True, "FaceRetarget, transcript"), (False, "FaceRetarget, no transcript")]
    wanted = set(args.paths.split(","))
    paths = [p for p in paths if ("transcript" if p[0] else "no-transcript") in wanted]
    diagnoses = []
    for name, clips in sets.items():
        if not clips:
            continue
        for with_text, label in paths:
            diagnosis = Diagnosis() if args.diagnose else None
            print(row(name, label, clips, *run_engine(clips, with_text, args.fps, diagnosis)), flush=True)
            if diagnosis is not None:
                diagnoses.append((f"{name}, {label}", diagnosis))
        if rhubarb is not None:
            for with_text, label in ((True, "Rhubarb, dialog text"), (False, "Rhubarb, no text")):
                print(row(name, label, clips, *run_rhubarb(rhubarb, clips, with_text, args.fps)), flush=True)
    for title, diagnosis in diagnoses:
        print(diagnosis.report(title))


if __name__ == "__main__":
    main()
