"""An audio-only take: the same folder format as a video take, mouth/jaw/tongue from speech, neutral
elsewhere, plus phones.csv, visemes.csv and the 16 kHz audio as audio.wav."""
from __future__ import annotations

import csv
import platform
import time
from pathlib import Path

import numpy as np

import engine
from engine.audio.io import Audio, load_audio, write_wav
from engine.audio.lipsync import Speech, analyse_speech, animate_speech, phone_rows, viseme_rows
from engine.config import AudioOptions
from engine.errors import BadInput
from engine.export.livelink import write_livelink_csv
from engine.export.take import TAKE_FILES, TakeWriter, file_sha256, write_curves_csv
from engine.protocol import Reporter
from engine.rig.faceboard import RIG_GENERATIONS, load_faceboard
from engine.solve.head_pose import HEAD_POSE_COLUMNS

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


def lipsync_take(audio_path: Path, out: Path, options: AudioOptions, rig: str = "mh4", overwrite: bool = False,
                 reporter: Reporter | None = None) -> Path:
    """Write an audio-only take folder for `audio_path` at `out` and return its path."""
    reporter = reporter or Reporter()
    if rig not in RIG_GENERATIONS:
        raise BadInput(f"unknown rig {rig!r}", f"use one of: {', '.join(RIG_GENERATIONS)}")
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
        faceboard, arkit = animate_speech(speech, times, rig)
        timings["animate"] = round(time.perf_counter() - t0, 4)
        t0 = time.perf_counter()
        board = load_faceboard(rig)
        write_curves_csv(writer.path / TAKE_FILES["faceboard"], times, list(board.names), faceboard)
        write_curves_csv(writer.path / TAKE_FILES["raw_curves"], times, list(board.raw_curve_names),
                         board.to_raw(faceboard))
        write_livelink_csv(writer.path / TAKE_FILES["arkit"], times, arkit)
        write_curves_csv(writer.path / TAKE_FILES["head_pose"], times, ["detected", *HEAD_POSE_COLUMNS],
                         np.zeros((len(times), 1 + len(HEAD_POSE_COLUMNS))))
        if "rigmapper" in TAKE_FILES:   # the take format's RigMapper CSV (engine/export/rigmapper)
            from engine.export.rigmapper import write_rigmapper_csv

            write_rigmapper_csv(writer.path / TAKE_FILES["rigmapper"], times, list(board.raw_curve_names),
                                board.to_raw(faceboard), options.fps)
        write_phone_files(writer.path, speech)
        write_wav(writer.path / AUDIO_TAKE_FILES["audio"], audio)
        timings["export"] = round(time.perf_counter() - t0, 4)
        reporter.progress("export", 1, 1)
        files = {k: v for k, v in TAKE_FILES.items() if (writer.path / v).is_file()}
        files.update(AUDIO_TAKE_FILES)
        meta = {
            "kind": "audio",
            "rig": rig,
            "fps": options.fps,
            "frame_count": len(times),
            "duration": float(times[-1]) if len(times) else 0.0,
            "time_sampling": f"uniform {options.fps} fps",
            "inputs": {"audio": audio_input_json(audio_path, audio)},
            "options": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(options).items()},
            "engine": {"version": engine.__version__, "python": platform.python_version()},
            "lipsync": speech.summary(),
            "timings": timings,
            "warnings": reporter.warnings,
            "files": files,
        }
        return writer.commit(meta)


def audio_input_json(path: Path, audio: Audio) -> dict:
    return {"path": str(Path(path).absolute()), "sha256": file_sha256(path), "sample_rate": audio.source_rate,
            "channels": audio.source_channels, "duration": round(audio.duration, 4)}
