"""Throughput of the whole video path against MediaPipe's bare inference loop, and peak memory.

    python bench/throughput.py [--seconds 6] [--long-minutes 5] [--source CLIP]
    python bench/throughput.py --whole-process [--pairs 3] [--durations 15,60] [--sizes 480p,720p,1080p] [--keep DIR]

--whole-process: what a user waits for. `faceretarget-engine run` as a process against the plain loop a user
would write instead (bench/bare_tracker.py: OpenCV decode + Face Landmarker, VIDEO mode, blendshapes and
matrix on), each timed from outside with /usr/bin/time (wall seconds, peak RSS), start-up and model load
included, run alternately (bare, engine, bare, engine, ...) so that machine drift cancels; the median of
the pairs' ratios (bare time / engine time: above 1 the engine is faster) per size and length. Memory flat
in the clip's length: `--whole-process --sizes 720p --durations 60,600 --pairs 1` (peak RSS of each).

For 480p, 720p and 1080p versions of one clip (made here from the generated demo sample, or --source):
  run fps    = frames / wall time of `pipeline.run` (decode, track, solve, retarget, export)
  bare fps   = frames / time of a loop calling FaceLandmarker.detect_for_video on frames already decoded
  ratio      = run / bare (1.0 means the rest of the pipeline costs nothing)
Then the peak resident memory of `faceretarget-engine run` (a child process) on a short and on a long
generated video: streaming means the two should be close.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import psutil

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from engine.config import RunOptions  # noqa: E402
from engine.pipeline import run  # noqa: E402
from engine.protocol import Reporter  # noqa: E402
from engine.track.landmarker import FaceTracker  # noqa: E402

RESOLUTIONS = {"480p": (854, 480), "720p": (1280, 720), "1080p": (1920, 1080)}


def source_frames(source: Path | None, seconds: float, workdir: Path) -> tuple[list[np.ndarray], float]:
    if source is None:
        from engine.demo.sample import default_script, make_sample_clip
        source = workdir / "sample.mp4"
        make_sample_clip(source, default_script(seconds))
    frames = []
    with av.open(str(source)) as container:
        stream = container.streams.video[0]
        fps = float(stream.average_rate)
        for frame in container.decode(stream):
            frames.append(frame.to_ndarray(format="rgb24"))
            if len(frames) >= seconds * fps:
                break
    return frames, fps


def letterbox(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Scale the picture to the target height and centre it on a grey canvas of the target size."""
    w, h = size
    scale = h / image.shape[0]
    scaled = cv2.resize(image, (int(image.shape[1] * scale), h), interpolation=cv2.INTER_LINEAR)
    canvas = np.full((h, w, 3), 90, np.uint8)
    x = (w - scaled.shape[1]) // 2
    canvas[:, x:x + scaled.shape[1]] = scaled[:, : min(scaled.shape[1], w)]
    return canvas


def encode(path: Path, frames, fps: float, size: tuple[int, int]) -> Path:
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=Fraction(fps).limit_denominator(1000), options={"preset": "veryfast", "crf": "20"})
        stream.width, stream.height, stream.pix_fmt = size[0], size[1], "yuv420p"
        for image in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(letterbox(image, size), format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def bare_loop_fps(path: Path) -> tuple[float, int]:
    with av.open(str(path)) as container:
        decoded = [(np.ascontiguousarray(f.to_ndarray(format="rgb24")), float(f.time))  # MediaPipe needs packed rows
                   for f in container.decode(video=0)]
    with FaceTracker() as tracker:
        # MediaPipe alone: detect_for_video on ready frames, no result conversion. Model loading is
        # not counted here (the run pays it, overlapped with decoding).
        landmarker, mp = tracker._landmarker, tracker._mp
        start = time.perf_counter()
        for i, (image, _) in enumerate(decoded):
            landmarker.detect_for_video(mp.Image(image_format=mp.ImageFormat.SRGB, data=image), i * 33)
        elapsed = time.perf_counter() - start
    return len(decoded) / elapsed, len(decoded)


def run_fps(path: Path, workdir: Path) -> float:
    out = workdir / f"take_{path.stem}"
    start = time.perf_counter()
    take = run(RunOptions(video=path, out=out, overwrite=True), Reporter())
    elapsed = time.perf_counter() - start
    return json.loads((take / "take.json").read_text())["frame_count"] / elapsed


def peak_memory_mb(path: Path, workdir: Path) -> tuple[float, float]:
    """Peak RSS (MB) of the engine run as a child process, polled every 50 ms; and its wall time."""
    out = workdir / f"take_mem_{path.stem}"
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "engine", "run", "--video", str(path), "--out", str(out),
                             "--overwrite", "--progress", "json"], cwd=REPO,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    watched = psutil.Process(proc.pid)
    peak = 0
    while proc.poll() is None:
        try:
            peak = max(peak, watched.memory_info().rss)
        except psutil.NoSuchProcess:
            break
        time.sleep(0.05)
    if proc.returncode != 0:
        raise RuntimeError(f"engine failed on {path}")
    return peak / 2**20, time.perf_counter() - start


def timed_process(command: list[str]) -> tuple[float, float]:
    """(wall seconds, peak RSS MB) of one whole process, measured by /usr/bin/time."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as report:
        proc = subprocess.run(["/usr/bin/time", "-f", "%e %M", "-o", report.name, *command], cwd=REPO,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"{command[:3]} failed: {proc.stderr[-800:]}")
        wall, peak_kb = report.read().split()[-2:]
    return float(wall), float(peak_kb) / 1024


def whole_process(args, frames, fps: float, workdir: Path) -> None:
    """Engine `run` vs the bare loop as whole processes, alternated, per size and clip length."""
    from engine.track.model_bundle import resolve_model

    model = str(resolve_model(None))
    bare = [sys.executable, str(REPO / "bench" / "bare_tracker.py")]
    engine_run = [sys.executable, "-m", "engine", "run", "--overwrite", "--out", str(workdir / "take"), "--video"]
    print(f"| input | clip | bare s | engine s | speed ratio (bare / engine), median of {args.pairs} pairs "
          f"| bare peak MB | engine peak MB | engine start-up + model load s (share) |")
    print("|---|---|---|---|---|---|---|---|")
    for seconds in args.durations:
        for label, size in RESOLUTIONS.items():
            if label not in args.sizes:
                continue
            clip = encode(workdir / f"{label}_{seconds:g}s.mp4", looped(frames, int(seconds * fps)), fps, size)
            pairs, fixed = [], []
            for _ in range(args.pairs):
                pairs.append((timed_process([*bare, str(clip), model]), timed_process([*engine_run, str(clip)])))
                fixed.append(start_up_s(workdir / "take"))
            bare_s = float(np.median([b[0] for b, _ in pairs]))
            engine_s = float(np.median([e[0] for _, e in pairs]))
            ratio = float(np.median([b[0] / e[0] for b, e in pairs]))
            print(f"| {label} {size[0]}x{size[1]} | {seconds:g} s | {bare_s:.2f} | {engine_s:.2f} | {ratio:.2f} "
                  f"(min {min(b[0] / e[0] for b, e in pairs):.2f}) | {max(b[1] for b, _ in pairs):.0f} "
                  f"| {max(e[1] for _, e in pairs):.0f} | {np.median(fixed):.2f} ({np.median(fixed) / engine_s:.0%}) |",
                  flush=True)


def start_up_s(take: Path) -> float:
    """The engine's own start-up (imports, arguments) and model load, from the take's timings (take.json)."""
    timings = json.loads((take / "take.json").read_text())["timings"]
    return timings["startup"] + timings["model_load"]


def looped(frames, count):
    for i in range(count):
        yield frames[i % len(frames)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--long-minutes", type=float, default=5.0)
    parser.add_argument("--source", type=Path, default=None)
    parser.add_argument("--whole-process", action="store_true",
                        help="engine `run` vs the bare loop (bench/bare_tracker.py) as whole processes")
    parser.add_argument("--pairs", type=int, default=3, help="--whole-process: alternated pairs per cell")
    parser.add_argument("--durations", default="15,60", help="--whole-process: clip lengths in seconds")
    parser.add_argument("--sizes", default=",".join(RESOLUTIONS),
                        help=f"--whole-process: frame sizes, of {', '.join(RESOLUTIONS)} (default: all)")
    parser.add_argument("--keep", type=Path, default=None, help="keep the generated clips in this folder")
    args = parser.parse_args()
    args.durations = [float(d) for d in args.durations.split(",")]
    args.sizes = [s.strip() for s in args.sizes.split(",")]
    unknown = set(args.sizes) - set(RESOLUTIONS)
    if unknown:
        parser.error(f"unknown sizes {sorted(unknown)}; choose from {', '.join(RESOLUTIONS)}")
    with tempfile.TemporaryDirectory(prefix="fr-bench-") as tmp:
        workdir = args.keep or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        frames, fps = source_frames(args.source, args.seconds, workdir)
        print(f"machine: {platform.machine()}, {os.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.0f} GiB, "
              f"Python {platform.python_version()}; clip: {len(frames)} frames at {fps:g} fps")
        print()
        if args.whole_process:
            whole_process(args, frames, fps, workdir)
            return
        print(f"| input | frames | run fps | bare MediaPipe fps | ratio |")
        print(f"|---|---|---|---|---|")
        for label, size in RESOLUTIONS.items():
            clip = encode(workdir / f"{label}.mp4", frames, fps, size)
            bare, count = bare_loop_fps(clip)
            whole = run_fps(clip, workdir)
            print(f"| {label} {size[0]}x{size[1]} | {count} | {whole:.1f} | {bare:.1f} | {whole / bare:.2f} |", flush=True)
        print()
        print("| video (480p) | frames | peak RSS MB | wall s |")
        print("|---|---|---|---|")
        for minutes in (0.5, args.long_minutes):
            count = int(minutes * 60 * fps)
            clip = encode(workdir / f"long_{minutes:g}min.mp4", looped(frames, count), fps, RESOLUTIONS["480p"])
            peak, wall = peak_memory_mb(clip, workdir)
            print(f"| {minutes:g} min | {count} | {peak:.0f} | {wall:.1f} |", flush=True)


if __name__ == "__main__":
    main()
