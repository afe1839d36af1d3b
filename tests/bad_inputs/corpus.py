"""The bad-input corpus: files a user could hand any command, made here (no committed media), and the
cases that run them. Each case is a command line, the exit code the README documents for it, and words its
one-line message must hold. `tests/test_bad_inputs.py` runs every case as a subprocess.

    python -m tests.bad_inputs.corpus DIR     # writes the files (the test does this in a temporary folder)
"""
from __future__ import annotations

import json
import os
import sys
import wave
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import numpy as np

EXIT_BAD_INPUT, EXIT_NO_FACE = 2, 3


@dataclass(frozen=True)
class Case:
    id: str
    argv: tuple[str, ...]          # after `faceretarget-engine`; {d} is the corpus folder
    exit_code: int = EXIT_BAD_INPUT
    words: tuple[str, ...] = ()    # each must appear in the error message (case-insensitive)
    outputs: tuple[str, ...] = field(default=("out",))   # names under {d} that must not exist afterwards

    def command(self, folder: Path) -> list[str]:
        return [arg.replace("{d}", str(folder)) for arg in self.argv]


def _tiny_video(path: Path, frames: int = 12, size=(96, 64), metadata_encoding: str = "utf-8",
                title: str | None = None) -> None:
    import av

    with av.open(str(path), "w", metadata_encoding=metadata_encoding) as out:
        if title is not None:
            out.metadata["title"] = title
        stream = out.add_stream("libx264", rate=Fraction(25))
        stream.width, stream.height, stream.pix_fmt = size[0], size[1], "yuv420p"
        for i in range(frames):
            image = np.full((size[1], size[0], 3), 40 + 10 * i, np.uint8)   # a grey card: no face
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)


def _wav(path: Path, samples: np.ndarray, rate: int = 16000) -> None:
    with wave.open(str(path), "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(rate)
        handle.writeframes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())


def _take(folder: Path, take_json: str | None = None, faceboard: str | None = None) -> None:
    """A whole take (the engine's own writer, 30 frames at rest), then optionally one of its files damaged."""
    from engine.export.take import TAKE_FILES, write_take_files
    from engine.rig.retarget import retarget

    folder.mkdir(exist_ok=True)
    times = np.arange(30) / 30.0
    arkit = np.zeros((30, 52))
    files = write_take_files(folder, times, retarget(arkit, "mh4", times, None), arkit, np.zeros((30, 6)),
                             np.ones(30, bool), 30.0)
    (folder / "take.json").write_text(take_json if take_json is not None else json.dumps(
        {"format": "faceretarget-take/1", "kind": "video", "rig": "mh4", "fps": 30.0, "frame_count": 30,
         "files": files}))
    if faceboard is not None:
        (folder / TAKE_FILES["faceboard"]).write_text(faceboard)


def make_corpus(d: Path) -> None:
    """Every input file the cases name, in folder `d`."""
    d.mkdir(parents=True, exist_ok=True)
    _tiny_video(d / "grey.mp4")                                             # a valid video without a face
    (d / "truncated.mp4").write_bytes((d / "grey.mp4").read_bytes()[:600])
    (d / "random.mp4").write_bytes(np.random.default_rng(0).integers(0, 256, 20000, np.uint8).tobytes())
    (d / "empty.mp4").write_bytes(b"")
    (d / "text.mp4").write_text("this is not a video\n")
    _tiny_video(d / "gbk_title.mp4", metadata_encoding="gbk", title="中文标题")   # metadata not UTF-8
    import cv2

    cv2.imwrite(str(d / "still.jpg"), np.full((64, 96, 3), 128, np.uint8))
    if hasattr(os, "mkfifo") and not (d / "fifo.mp4").exists():
        os.mkfifo(d / "fifo.mp4")
    (d / "folder.mp4").mkdir(exist_ok=True)
    t = np.arange(16000 * 2) / 16000
    _wav(d / "silent.wav", np.zeros_like(t))
    _wav(d / "tone.wav", 0.3 * np.sin(2 * np.pi * 440 * t))
    (d / "corrupt.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEfmt garbage")
    (d / "empty.txt").write_text("")
    (d / "huge.txt").write_text("word " * 300_000)                         # 1.5 MB for a 2 s recording
    (d / "notutf8.csv").write_bytes("video,output\nvidéo.mp4,t\n".encode("latin-1"))
    (d / "unknown_column.csv").write_text("video,output,colour\ngrey.mp4,t,red\n")
    (d / "empty.csv").write_text("")
    (d / "manifest.json").write_text("{not json")
    (d / "nan_arkit.csv").write_text("time,jawOpen,eyeBlinkLeft\n0,nan,0\n0.033,0.5,0\n0.066,0.2,0\n")
    (d / "garbage_arkit.csv").write_text("a,b,c\n1,2,3\n")
    (d / "faceboard.csv").write_text("time,CTRL_C_jaw.ty\n0,0.1\n0.033,0.2\n0.066,inf\n")
    np.save(d / "objects.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    np.savez(d / "objects.npz", expr=np.array([{"a": 1}], dtype=object))
    np.savez(d / "nan_flame.npz", expr=np.full((10, 50), np.nan), jaw_pose=np.zeros((10, 3)))
    (d / "actor_bad.json").write_text("{\"format\": 1")
    _take(d / "take_bad_json", take_json="{broken")
    _take(d / "take_bad_csv", faceboard="time,CTRL_C_jaw.ty\nnot,numbers\n")
    _take(d / "take_ok")
    (d / "plot_dir").mkdir(exist_ok=True)
    (d / "mapping_bad.json").write_text("{\"kind\": ")
    (d / "garbage.task").write_bytes(b"PK\x03\x04 not really a model bundle")
    (d / "nan_smoothing.csv").write_text("video,output,smoothing\ngrey.mp4,t,nan\n")
    (d / "binary.txt").write_bytes(bytes(range(256)) * 4)


V = "{d}/grey.mp4"
CASES: tuple[Case, ...] = (
    # run: the video
    Case("run-missing-video", ("run", "--video", "{d}/nope.mp4", "--out", "{d}/out"), words=("not found",)),
    Case("run-empty-video", ("run", "--video", "{d}/empty.mp4", "--out", "{d}/out"), words=("empty",)),
    Case("run-random-bytes", ("run", "--video", "{d}/random.mp4", "--out", "{d}/out"), words=("random.mp4",)),
    Case("run-truncated", ("run", "--video", "{d}/truncated.mp4", "--out", "{d}/out"), words=("truncated.mp4",)),
    Case("run-text-as-video", ("run", "--video", "{d}/text.mp4", "--out", "{d}/out"), words=("text.mp4",)),
    Case("run-folder-as-video", ("run", "--video", "{d}/folder.mp4", "--out", "{d}/out"), words=("folder",)),
    Case("run-fifo-as-video", ("run", "--video", "{d}/fifo.mp4", "--out", "{d}/out"), words=("regular file",)),
    Case("run-still-image", ("run", "--video", "{d}/still.jpg", "--out", "{d}/out"), words=("still image",)),
    Case("run-no-face", ("run", "--video", V, "--out", "{d}/out"), exit_code=EXIT_NO_FACE, words=("no face",)),
    Case("run-gbk-metadata-no-face", ("run", "--video", "{d}/gbk_title.mp4", "--out", "{d}/out"),
         exit_code=EXIT_NO_FACE, words=("no face",)),
    # run: numbers and paths
    Case("run-smoothing-nan", ("run", "--video", V, "--out", "{d}/out", "--smoothing", "nan"), words=("finite",)),
    Case("run-fps-out-zero", ("run", "--video", V, "--out", "{d}/out", "--fps-out", "0"), words=("out of range",)),
    Case("run-audio-offset-inf", ("run", "--video", V, "--out", "{d}/out", "--audio", "{d}/tone.wav",
                                  "--audio-offset", "inf"), words=("finite",)),
    Case("run-neutral-time-negative", ("run", "--video", V, "--out", "{d}/out", "--neutral-time", "-1"),
         words=("out of range",)),
    Case("run-unknown-flag", ("run", "--video", V, "--out", "{d}/out", "--colour", "red"),
         words=("unrecognized",)),
    Case("run-out-is-a-file", ("run", "--video", V, "--out", "{d}/empty.txt", "--overwrite"),
         words=("not a take folder",), outputs=()),
    Case("run-out-too-long", ("run", "--video", V, "--out", "{d}/" + "x" * 250), words=("too long",), outputs=()),
    Case("run-missing-transcript-file", ("run", "--video", V, "--out", "{d}/out", "--audio", "{d}/tone.wav",
                                         "--transcript", "{d}/nope.txt"), words=("transcript file not found",)),
    Case("run-empty-transcript-file", ("run", "--video", V, "--out", "{d}/out", "--audio", "{d}/tone.wav",
                                       "--transcript", "{d}/empty.txt"), words=("empty",)),
    Case("run-corrupt-audio", ("run", "--video", V, "--out", "{d}/out", "--audio", "{d}/corrupt.wav"),
         words=("corrupt.wav",)),
    Case("run-missing-actor", ("run", "--video", V, "--out", "{d}/out", "--actor", "{d}/nope.json"),
         words=("nope.json",)),
    Case("run-corrupt-actor", ("run", "--video", V, "--out", "{d}/out", "--actor", "{d}/actor_bad.json"),
         words=("actor_bad.json",)),
    Case("run-arkit-nan", ("run", "--arkit", "{d}/nan_arkit.csv", "--out", "{d}/out"), words=("nan_arkit.csv",)),
    Case("run-arkit-garbage", ("run", "--arkit", "{d}/garbage_arkit.csv", "--out", "{d}/out"),
         words=("garbage_arkit.csv",)),
    Case("run-flame-objects", ("run", "--flame-params", "{d}/objects.npz", "--flame-model", "{d}/objects.npy",
                               "--flame-target", "arkit:{d}/objects.npz", "--out", "{d}/out"), words=("objects",)),
    Case("run-flame-nan", ("run", "--flame-params", "{d}/nan_flame.npz", "--flame-model", "{d}/objects.npy",
                           "--flame-target", "arkit:{d}/objects.npz", "--out", "{d}/out"), words=("nan_flame.npz", "non-finite")),
    # lipsync
    Case("lipsync-silent", ("lipsync", "--audio", "{d}/silent.wav", "--out", "{d}/out"), words=("silent",)),
    Case("lipsync-corrupt", ("lipsync", "--audio", "{d}/corrupt.wav", "--out", "{d}/out"), words=("corrupt.wav",)),
    Case("lipsync-video-without-sound", ("lipsync", "--audio", V, "--out", "{d}/out"), words=("sound",)),
    Case("lipsync-huge-transcript", ("lipsync", "--audio", "{d}/tone.wav", "--transcript", "{d}/huge.txt",
                                     "--out", "{d}/out"), words=("huge.txt",)),
    Case("lipsync-fps-nan", ("lipsync", "--audio", "{d}/tone.wav", "--fps", "nan", "--out", "{d}/out"),
         words=("finite",)),
    # calibrate
    Case("calibrate-no-face", ("calibrate", "--video", V, "--out", "{d}/out.json"), exit_code=EXIT_NO_FACE,
         words=("no face",), outputs=("out.json",)),
    Case("calibrate-corrupt", ("calibrate", "--video", "{d}/random.mp4", "--out", "{d}/out.json"),
         words=("random.mp4",), outputs=("out.json",)),
    Case("calibrate-time-nan", ("calibrate", "--video", V, "--time", "nan", "--out", "{d}/out.json"),
         words=("finite",), outputs=("out.json",)),
    # preview / compare / plot
    Case("preview-not-a-take", ("preview", "{d}/plot_dir"), words=("plot_dir",), outputs=()),
    Case("preview-bad-take-json", ("preview", "{d}/take_bad_json", "--out", "{d}/out.mp4"),
         words=("take.json",), outputs=("out.mp4",)),
    Case("preview-crf-out-of-range", ("preview", "{d}/take_ok", "--crf", "-50", "--out", "{d}/out.mp4"),
         words=("out of range",), outputs=("out.mp4",)),
    Case("compare-out-is-an-input", ("compare", "--left", V, "--right", "{d}/gbk_title.mp4", "--out", V),
         words=("input",), outputs=()),
    Case("compare-height-huge", ("compare", "--left", V, "--right", V, "--height", "100000", "--out",
                                 "{d}/out.mp4"), words=("out of range",), outputs=("out.mp4",)),
    Case("plot-bad-csv", ("plot", "{d}/take_bad_csv", "--out", "{d}/out.png"), words=("faceboard.csv",),
         outputs=("out.png",)),
    Case("plot-out-is-a-folder", ("plot", "{d}/take_ok", "--out", "{d}/plot_dir"), words=("folder",), outputs=()),
    Case("plot-dpi-huge", ("plot", "{d}/take_ok", "--dpi", "100000", "--out", "{d}/out.png"),
         words=("out of range",), outputs=("out.png",)),
    Case("plot-start-nan", ("plot", "{d}/take_ok", "--start", "nan", "--out", "{d}/out.png"), words=("finite",),
         outputs=("out.png",)),
    # batch
    Case("batch-not-utf8", ("batch", "{d}/notutf8.csv"), words=("notutf8.csv",), outputs=()),
    Case("batch-unknown-column", ("batch", "{d}/unknown_column.csv"), words=("colour",), outputs=()),
    Case("batch-empty-manifest", ("batch", "{d}/empty.csv"), words=("empty",), outputs=()),
    Case("batch-bad-json", ("batch", "{d}/manifest.json"), words=("json",), outputs=()),
    Case("batch-workers-zero", ("batch", "{d}/unknown_column.csv", "--workers", "0"), words=("out of range",),
         outputs=()),
    Case("batch-videos-without-out", ("batch", V, "{d}/gbk_title.mp4"), words=("--out",), outputs=()),
    # fit-mapping
    Case("fit-mapping-nan", ("fit-mapping", "--arkit", "{d}/nan_arkit.csv", "--faceboard", "{d}/faceboard.csv",
                             "--out", "{d}/out.json"), words=("nan_arkit.csv",), outputs=("out.json",)),
    Case("fit-mapping-ridge-negative", ("fit-mapping", "--arkit", "{d}/nan_arkit.csv", "--faceboard",
                                        "{d}/faceboard.csv", "--ridge", "-1", "--out", "{d}/out.json"),
         words=("out of range",), outputs=("out.json",)),
    Case("fit-mapping-bound-zero", ("fit-mapping", "--arkit", "{d}/nan_arkit.csv", "--faceboard",
                                    "{d}/faceboard.csv", "--bound", "0", "--out", "{d}/out.json"),
         words=("out of range",), outputs=("out.json",)),
    # blendshapes
    Case("blendshapes-info-objects", ("blendshapes", "info", "arkit:{d}/objects.npz"), words=("objects",),
         outputs=()),
    Case("blendshapes-convert-objects", ("blendshapes", "convert", "--source", "flame:{d}/objects.npy",
                                         "--target", "arkit:{d}/objects.npz", "--params", "{d}/objects.npy",
                                         "--out", "{d}/out.csv"), words=("objects",), outputs=("out.csv",)),
    # train, live, demo
    Case("train-batch-size-zero", ("train", "video", "--data", "{d}", "--out", "{d}/out.pt", "--batch-size", "0"),
         words=("out of range",), outputs=("out.pt",)),
    Case("train-window-huge", ("train", "video", "--data", "{d}", "--out", "{d}/out.pt", "--window", "1000"),
         words=("out of range",), outputs=("out.pt",)),
    Case("live-timecode-nan", ("live", "--video", V, "--timecode-start", "nan"), words=("finite",), outputs=()),
    # more of what a user could hand each command
    Case("run-corrupt-mapping", ("run", "--video", V, "--out", "{d}/out", "--mapping", "{d}/mapping_bad.json"),
         words=("mapping_bad.json",)),
    Case("run-garbage-model", ("run", "--video", V, "--out", "{d}/out", "--model", "{d}/garbage.task"),
         exit_code=4, words=("garbage.task",)),
    Case("run-binary-transcript", ("run", "--video", V, "--out", "{d}/out", "--audio", "{d}/tone.wav",
                                   "--transcript", "{d}/binary.txt"), exit_code=EXIT_NO_FACE, words=("no face",)),
    Case("lipsync-audio-folder", ("lipsync", "--audio", "{d}/folder.mp4", "--out", "{d}/out"), words=("folder",)),
    Case("calibrate-range-corrupt", ("calibrate", "--video", V, "--range", "{d}/random.mp4", "--out",
                                     "{d}/out.json"), words=("random.mp4",), outputs=("out.json",)),
    Case("live-corrupt-video", ("live", "--video", "{d}/random.mp4", "--livelink", "127.0.0.1:11111"),
         words=("random.mp4",),
         outputs=()),
    Case("live-bad-address", ("live", "--video", V, "--livelink", "nohost:99999"), words=("99999",), outputs=()),
    Case("batch-nan-smoothing", ("batch", "{d}/nan_smoothing.csv"), words=("smoothing",), outputs=()),
    Case("batch-report-is-a-folder", ("batch", "{d}/nan_smoothing.csv", "--report", "{d}/plot_dir"),
         words=("smoothing",), outputs=()),
    Case("fit-mapping-arkit-folder", ("fit-mapping", "--arkit", "{d}/plot_dir", "--faceboard", "{d}/faceboard.csv",
                                      "--out", "{d}/out.json"), words=("plot_dir",), outputs=("out.json",)),
    Case("plot-unknown-channel", ("plot", "{d}/take_ok", "--channels", "CTRL_nothing.ty", "--out", "{d}/out.png"),
         words=("CTRL_nothing.ty",), outputs=("out.png",)),
    Case("compare-right-corrupt", ("compare", "--left", V, "--right", "{d}/random.mp4", "--out", "{d}/out.mp4"),
         words=("random.mp4",), outputs=("out.mp4",)),
    Case("preview-video-corrupt", ("preview", "{d}/take_ok", "--video", "{d}/random.mp4", "--out", "{d}/out.mp4"),
         words=("random.mp4",), outputs=("out.mp4",)),
    Case("demo-seconds-zero", ("demo", "--seconds", "0", "--out", "{d}/out"), words=("out of range",)),
)


if __name__ == "__main__":
    make_corpus(Path(sys.argv[1]))
