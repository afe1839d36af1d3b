"""An audio-only take: the same folder format as a video take, mouth/jaw/tongue from speech, neutral
elsewhere, plus phones.csv, visemes.csv and the 16 kHz audio as audio.wav."""
from __future__ import annotations

import csv
import time
from pathlib import Path

import numpy as np

from engine.audio.io import Audio, load_audio, write_wav
from engine.audio.lipsync import Speech, analyse_speech, animate_speech_blocks, phone_rows, viseme_rows
from engine.config import AudioOptions
from engine.config.rigs import DEFAULT_RIG, check_rig
from engine.errors import BadInput
from engine.export.take import HEAD_POSE_COLUMNS, TakeCurveFiles, TakeWriter, file_sha256, take_record
from engine.protocol import Reporter
from engine.rig.faceboard import load_faceboard
from engine.rig.retarget import RigCurves

AUDIO_TAKE_FILES = {"phones": "phones.csv", "visemes": "visemes.csv", "audio": "audio.wav"}


def write_phone_files(folder: Path, speech: Speech) -> None:
    with open(folder / AUDIO_TAKE_FILES["phones"], "w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["start", "end", "phone", "word", "method"])
        for start, end, phone, word, method in phone_rows(speech):
            out.writerow([f"{start:.3f}", f"{end:.3f}", phone, word, method])
    with open(folder / AUDIO_TAKE_FILES["visemes"], "w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["start", "end", "viseme", "mouth_class", "phones"])
        for start, end, viseme, cls, phones in viseme_rows(speech):
            out.writerow([f"{start:.3f}", f"{end:.3f}", viseme, cls, phones])


def lipsync_take(audio_path: Path, out: Path, options: AudioOptions, rig: str = DEFAULT_RIG, overwrite: bool = False,
                 reporter: Reporter | None = None) -> Path:
    """Write an audio-only take folder for `audio_path` at `out` and return its path."""
    reporter = reporter or Reporter()
    check_rig(rig)
    if not 1 <= options.fps <= 1000:
        raise BadInput(f"--fps {options.fps} is out of range", "use a rate such as 24, 30 or 60")
    timings: dict[str, float] = {}
    with TakeWriter(out, overwrite) as writer:
        t0 = time.perf_counter()
        audio = load_audio(audio_path)
        timings["decode"] = round(time.perf_counter() - t0, 4)
        reporter.progress("audio", 1, 1)
        speech = analyse_speech(audio, options, reporter)
        timings.update(speech.timings)
        t0 = time.perf_counter()
        times = np.arange(0.0, audio.duration + 1e-9, 1.0 / options.fps)
        files = write_curves(writer.path, speech, times, rig, options.fps, timings,
                             beside=audio.duration >= options.parallel_min_s)
        write_phone_files(writer.path, speech)
        write_wav(writer.path / AUDIO_TAKE_FILES["audio"], audio)
        timings["export"] = round(time.perf_counter() - t0 - timings["animate"], 4)
        reporter.progress("export", 1, 1)
        meta = take_record(
            kind="audio", rig=rig, times=times, fps=options.fps, source_fps=None, source_frame_count=len(times),
            fps_out=options.fps, rig_fps=options.fps, inputs={"audio": audio_input_json(audio_path, audio)},
            options={k: (str(v) if isinstance(v, Path) else v) for k, v in vars(options).items()},
            tracking={"source": "audio"}, lipsync=speech.summary(), timings=timings, warnings=reporter.warnings,
            files={**files, **AUDIO_TAKE_FILES},
            files_absent={"landmarks": "an audio-only take has no image landmarks"})
        return writer.commit(meta)


BLOCK_S = 30.0     # a long take is animated and written this many seconds at a time (memory stays flat)


def write_curves(folder: Path, speech: Speech, times: np.ndarray, rig: str, fps: float,
                 timings: dict[str, float], beside: bool = False) -> dict[str, str]:
    """The take's curve files, animated and written a block at a time; no head (the pose stays at rest, no
    frame is 'detected': nothing was seen). `beside`: a helper process writes the raw-curve files. Adds the
    time spent animating to `timings`."""
    board = load_faceboard(rig)
    timings["animate"] = 0.0
    with TakeCurveFiles(folder, list(board.names), list(board.raw_curve_names), fps, beside=beside) as files:
        started = time.perf_counter()
        for rows, faceboard, arkit in animate_speech_blocks(speech, times, rig, max(int(BLOCK_S * fps), 1)):
            curves = RigCurves(rig, list(board.names), faceboard, list(board.raw_curve_names),
                               board.to_raw(faceboard))
            timings["animate"] = round(timings["animate"] + time.perf_counter() - started, 4)
            n = len(faceboard)
            files.write(times[rows], curves, arkit, np.zeros((n, len(HEAD_POSE_COLUMNS))), np.zeros(n, bool))
            started = time.perf_counter()
    return files.names


def audio_input_json(path: Path, audio: Audio) -> dict:
    return {"path": str(Path(path).absolute()), "sha256": file_sha256(path), "sample_rate": audio.source_rate,
            "channels": audio.source_channels, "duration": round(audio.duration, 4)}
