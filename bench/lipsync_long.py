"""Lip sync on whole recordings (`bench/lipsync.py --long`): long two-voice dialogues built from the Festival
sentences, with their script, scored as the single sentences are, and the whole command timed.

Each recording (engine_dev/long_recordings.py) is lines said in turn by Festival's us-slt HTS voice and its
kal diphone voice with pauses between them, cycling through the measured sentences until it reaches its
length; `exact` is said as scripted, `deviations` has, per started minute, one ad-lib, one skipped line and
one repeated word (with the script unchanged); `real` puts the shared real-speech clips (the mfa and
librivox sets, several speakers) one after another with their transcripts as the script's lines (with
`deviations` too, once more with a Festival line added to the script after every other clip and not
said). `faceretarget-engine lipsync --audio --transcript --progress json` runs as its own process: wall
time from process start to take written, CPU time of the process and its workers, and peak resident
memory (summed over the process and its workers, sampled every 50 ms; the largest single process beside
it). Scores, on the take's face board:
  mouth-class accuracy and closure recall  over every utterance said (first to last phone), as the single
                                           sentences are scored; "one by one" scores the same sentences
                                           (the same voice's audio) aligned alone, weighted as they occur
  alignment failures                       `alignment_failed` warnings
  deviations                               found = a warning of the deviation's kind (script_unscripted,
                                           script_not_said, script_repeated) whose span lies within 0.5 s
                                           of where it happened (in brackets: a warning of any of these
                                           kinds there, e.g. a repeated word heard as another word, so
                                           reported as unscripted); the largest such distance; warnings of
                                           these kinds matching no injected deviation are "false reports"
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from engine.audio.io import Audio, load_audio  # noqa: E402
from engine.audio.lipsync import analyse_speech, animate_speech  # noqa: E402
from engine.audio.recognize import TimedPhone  # noqa: E402
from engine.audio.text import read_transcript  # noqa: E402
from engine.audio.visemes import viseme_table  # noqa: E402
from engine.config import AudioOptions  # noqa: E402
from engine.export.take import read_curves_csv  # noqa: E402
from engine_dev.lipsync_evaluate import score_take  # noqa: E402
from engine_dev.long_recordings import (Deviation, LongRecording, build_recording, speak,  # noqa: E402
                                        voices_available)

REPORT_CODES = {"adlib": "script_unscripted", "skipped": "script_not_said", "repeated": "script_repeated",
                "reordered": "script_reordered"}
MAX_REPORT_ERROR_S = 0.5


@dataclass
class Run:
    wall_s: float
    cpu_s: float
    peak_rss_mb: float          # the process and its workers together
    largest_rss_mb: float       # the largest one of them
    events: list[dict]
    take: Path


def run_command(recording: LongRecording, folder: Path, name: str) -> Run:
    """`faceretarget-engine lipsync` on the recording, as a process of its own, measured."""
    import psutil   # bench only: the process tree's memory

    folder.mkdir(parents=True, exist_ok=True)
    wav, script, take = folder / f"{name}.wav", folder / f"{name}.txt", folder / f"{name}_take"
    recording.write(wav, script)
    command = [sys.executable, "-m", "engine", "lipsync", "--audio", str(wav), "--transcript", str(script),
               "--out", str(take), "--overwrite", "--progress", "json"]
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                               env={**os.environ, "PYTHONPATH": str(REPO)})
    peaks = _sample_memory(psutil.Process(process.pid))
    out = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    peaks["done"] = True
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{name}: the lipsync command failed: {out[-2000:]}")
    return Run(wall, usage.ru_utime + usage.ru_stime, peaks["sum"] / 2**20, peaks["largest"] / 2**20,
               [json.loads(line) for line in out.splitlines() if line.strip()], take)


def _sample_memory(root) -> dict:
    """Peak resident memory of `root` and its children, sampled on a thread until peaks["done"] is set."""
    peaks = {"sum": 0, "largest": 0, "done": False}

    def sample() -> None:
        while not peaks["done"]:
            try:
                sizes = [p.memory_info().rss for p in [root, *root.children(recursive=True)]]
            except Exception:      # the process ended between the listing and the reading
                sizes = []
            peaks["sum"] = max(peaks["sum"], sum(sizes))
            peaks["largest"] = max([peaks["largest"], *sizes])
            time.sleep(0.05)

    threading.Thread(target=sample, daemon=True).start()
    return peaks


def take_scores(recording: LongRecording, take: Path) -> tuple[int, int, int, int]:
    """(class hits, frames, closures found, closures) of the take's face board over the utterances said."""
    times, names, board = read_curves_csv(take / "faceboard.csv")
    return _scores(recording.truth, recording.line_spans, times, board, names)


def _scores(truth: list[TimedPhone], spans, times, board, names) -> tuple[int, int, int, int]:
    hits = frames = found = total = 0
    for a, b in spans:
        inside = (times >= a) & (times < b)
        said = [p for p in truth if p.end > a and p.start < b]
        s = score_take(said, [], times[inside], board[inside], names)
        hits, frames = hits + s.class_hits, frames + s.class_frames
        found, total = found + s.closures_found, total + s.closures
    return hits, frames, found, total


def one_by_one(recording: LongRecording, cache: Path, fps: float) -> tuple[int, int, int, int]:
    """The same scores with every line aligned alone (its own audio and text, as the single sentences are),
    summed over the lines as they occur in the recording."""
    names = list(viseme_table("mh4").faceboard_names)
    memo: dict[tuple[str, str], tuple[int, int, int, int]] = {}
    total = np.zeros(4, int)
    for text, voice in recording.said:
        if (text, voice) not in memo:
            line = speak(text, voice, cache)
            speech = analyse_speech(Audio(line.samples), AudioOptions(transcript=text))
            times = np.arange(0.0, line.duration, 1.0 / fps)
            board, _ = animate_speech(speech, times)
            spoken = [p for p in line.phones if p.phone != "SIL"]
            memo[(text, voice)] = _scores(line.phones, [(spoken[0].start, spoken[-1].end)], times, board, names)
        total += memo[(text, voice)]
    return tuple(int(v) for v in total)


def deviation_errors(recording: LongRecording, events: list[dict], any_kind: bool = False
                     ) -> tuple[list[float | None], int]:
    """For each injected deviation, the distance (s) from where it happened to the nearest warning of its
    kind (`any_kind`: of any script_* kind; None: none within MAX_REPORT_ERROR_S); and the number of such
    warnings that match no deviation."""
    warnings = [e for e in events if e.get("event") == "warning" and e["code"] in REPORT_CODES.values()]
    used: set[int] = set()
    errors: list[float | None] = []
    for deviation in recording.deviations:
        best = None
        for k, w in enumerate(warnings):
            if (w["code"] != REPORT_CODES[deviation.kind] and not any_kind) or k in used:
                continue
            distance = max(0.0, w["start"] - deviation.end, deviation.start - w["end"])
            if distance <= MAX_REPORT_ERROR_S and (best is None or distance < best[0]):
                best = (distance, k)
        if best is not None:
            used.add(best[1])
        errors.append(None if best is None else best[0])
    return errors, len(warnings) - len(used)


def clips_recording(clips: list[dict]) -> tuple[LongRecording, tuple[int, int, int, int]]:
    """The shared real-speech clips (bench/lipsync.py's mfa and librivox sets) one after another with 0.8 s
    between them, the script one line per clip; and the scores of the clips aligned one by one."""
    names = list(viseme_table("mh4").faceboard_names)
    pieces, truth, spans, lines, one = [], [], [], [], np.zeros(4, int)
    cursor = 0.0
    for clip in clips:
        audio = load_audio(clip["audio"])
        cursor += PAUSE_S
        pieces += [np.zeros(int(PAUSE_S * audio.rate), np.float32), audio.samples]
        shifted = [TimedPhone(p.start + cursor, p.end + cursor, p.phone) for p in clip["truth"]]
        spoken = [p for p in shifted if p.phone != "SIL"]
        truth += shifted
        spans.append((spoken[0].start, spoken[-1].end))
        text = read_transcript(clip["text"])
        lines.append(" ".join(text.split()))
        speech = analyse_speech(audio, AudioOptions(transcript=text))
        times = np.arange(0.0, audio.duration, 1.0 / 60)
        board, _ = animate_speech(speech, times)
        spoken_truth = [p for p in clip["truth"] if p.phone != "SIL"]
        one += _scores(clip["truth"], [(spoken_truth[0].start, spoken_truth[-1].end)], times, board, names)
        cursor += audio.duration
    samples = np.concatenate([*pieces, np.zeros(int(PAUSE_S * 16000), np.float32)])
    return LongRecording(samples, lines, truth, spans), tuple(int(v) for v in one)


PAUSE_S = 0.8


def with_lines_not_said(recording: LongRecording, lines: list[str]) -> LongRecording:
    """`recording` with `lines` added to its script after every other utterance (the first, third, ...),
    none of them said: lines skipped between real ones, each a deviation where the pause it left is."""
    script, deviations, extra = [], [], iter(lines)
    for k, line in enumerate(recording.script_lines):
        script.append(line)
        skipped = next(extra, None) if k % 2 == 0 and k + 1 < len(recording.script_lines) else None
        if skipped:
            script.append(skipped)
            deviations.append(Deviation("skipped", recording.line_spans[k][1], recording.line_spans[k + 1][0],
                                        skipped))
    return replace(recording, script_lines=script, deviations=deviations)


def main(lengths: list[float], kinds: list[str], cache: Path, fps: float, sentences: list[str],
         seeds: list[int], clips: list[dict] | None = None) -> None:
    voices = voices_available()
    print(f"\n## Whole recordings (voices: {', '.join(v.replace('voice_', '') for v in voices)})\n")
    print("| recording | audio s | lines | alignment failures | mouth-class acc (one by one) | closure recall | "
          "deviations found within 0.5 s (as any kind) | largest report error s | false reports | wall s | "
          "speed (wall) | speed (CPU) | peak RSS MB (largest process) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    # a 10-minute take is ~0.5 GB: each recording's files are removed once it is scored
    with tempfile.TemporaryDirectory(prefix="faceretarget-long-") as scratch:
        for seconds in lengths:
            for kind in [k for k in kinds if k in ("exact", "deviations")]:
                for seed in seeds if kind == "deviations" else [0]:
                    recording = build_recording(sentences, seconds, cache / "lines",
                                                1 if kind == "deviations" else 0, seed=seed, voices=voices)
                    label = f"{kind}{f' (seed {seed})' if kind == 'deviations' else ''}, {seconds / 60:.3g} min"
                    print(_scored_row(label, recording, Path(scratch) / f"{kind}_{int(seconds)}_{seed}", cache, fps),
                          flush=True)
        if clips:
            recording, baseline = clips_recording(clips)
            print(_scored_row(f"real speech ({len(clips)} clips, exact)", recording, Path(scratch) / "real_speech",
                              cache, fps, baseline), flush=True)
            if "deviations" in kinds:
                skipped = with_lines_not_said(recording, sentences[-len(clips) // 2:])
                print(_scored_row(f"real speech ({len(clips)} clips, {len(skipped.deviations)} lines not said)",
                                  skipped, Path(scratch) / "real_skipped", cache, fps), flush=True)


def _scored_row(label: str, recording: LongRecording, folder: Path, cache: Path, fps: float,
                baseline_scores: tuple[int, int, int, int] | None = None) -> str:
    """The recording's row, its audio, script and take made in `folder` and removed afterwards."""
    try:
        return _row(label, recording, run_command(recording, folder, "recording"), cache, fps, baseline_scores)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _row(label: str, recording: LongRecording, run: Run, cache: Path, fps: float,
         baseline_scores: tuple[int, int, int, int] | None = None) -> str:
    hits, frames, found, total = take_scores(recording, run.take)
    failures = sum(1 for e in run.events if e.get("code") == "alignment_failed")
    if recording.deviations:
        errors, false_reports = deviation_errors(recording, run.events)
        hit = [e for e in errors if e is not None]
        anywhere = [e for e in deviation_errors(recording, run.events, any_kind=True)[0] if e is not None]
        deviations = f"{len(hit)}/{len(errors)} ({len(anywhere)})"
        largest = f"{max(hit):.2f}" if hit else "-"
        baseline = "-"
    else:
        _, false_reports = deviation_errors(recording, run.events)
        deviations, largest = "-", "-"
        b = baseline_scores or one_by_one(recording, cache / "lines", fps)
        baseline = f"{b[0] / max(b[1], 1):.3f}"
    return (f"| {label} | {recording.duration:.1f} | {len(recording.line_spans)} | {failures} | "
            f"{hits / max(frames, 1):.3f} ({baseline}) | {found}/{total} = {found / max(total, 1):.3f} | "
            f"{deviations} | {largest} | {false_reports} | {run.wall_s:.1f} | "
            f"{recording.duration / run.wall_s:.1f}x | {recording.duration / run.cpu_s:.1f}x | "
            f"{run.peak_rss_mb:.0f} ({run.largest_rss_mb:.0f}) |")
