"""Lip sync benchmark: phone timing, mouth classes and closures against ground truth, and speed.

    python bench/lipsync.py [--no-rhubarb] [--sets festival,mfa,librivox] [--fps 60]

Ground truth:
  festival  sentences synthesised here with Festival (Debian `festival` + `festvox-us-slt-hts`); its
            segment file gives every phone's exact time
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
"""
from __future__ import annotations

import argparse
import datetime
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

from engine.audio.evaluate import (Scores, festival_available, festival_synthesize, read_pocketsphinx_json,  # noqa: E402
                                   read_textgrid_phones, rhubarb_frame_classes, score_classes, score_take)
from engine.audio.io import load_audio  # noqa: E402
from engine.audio.lipsync import analyse_speech, animate_speech  # noqa: E402
from engine.audio.recognize import warm_up  # noqa: E402
from engine.audio.visemes import mouth_classes, viseme_table  # noqa: E402
from engine.config import AudioOptions  # noqa: E402

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
]
RHUBARB_PACKAGE = "rhubarb-lip-sync-wasm@0.1.8"


def shared_data() -> Path:
    return Path(os.environ.get("FACERETARGET_SHARED_DATA", REPO.parent / "shared" / "data"))


def festival_set(cache: Path) -> list[dict]:
    if not festival_available():
        print("festival not found (apt-get install festival festvox-us-slt-hts): skipping the synthetic set",
              file=sys.stderr)
        return []
    cache.mkdir(parents=True, exist_ok=True)
    clips = []
    for i, text in enumerate(SENTENCES):
        wav = cache / f"festival_{i:02d}.wav"
        truth_file = cache / f"festival_{i:02d}.json"
        if not (wav.exists() and truth_file.exists()):
            truth = festival_synthesize(text, wav)
            truth_file.write_text(json.dumps([[p.start, p.end, p.phone] for p in truth]))
        from engine.audio.recognize import TimedPhone

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


def run_engine(clips: list[dict], with_text: bool, fps: float) -> tuple[list[Scores], float, float, float]:
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
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "faceretarget-bench-lipsync")
    args = parser.parse_args()
    root = shared_data()
    sets = {}
    for name in args.sets.split(","):
        if name == "festival":
            sets[name] = festival_set(args.cache / "festival")
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
    for name, clips in sets.items():
        if not clips:
            continue
        for with_text, label in ((True, "FaceRetarget, transcript"), (False, "FaceRetarget, no transcript")):
            print(row(name, label, clips, *run_engine(clips, with_text, args.fps)), flush=True)
        if rhubarb is not None:
            for with_text, label in ((True, "Rhubarb, dialog text"), (False, "Rhubarb, no text")):
                print(row(name, label, clips, *run_rhubarb(rhubarb, clips, with_text, args.fps)), flush=True)


if __name__ == "__main__":
    main()
