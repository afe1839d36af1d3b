"""Speed of the preview video (decode + draw four panels + H.264 encode + audio mux), 1280x720 output.

    python bench/preview.py [--seconds 8] [--clips ../shared/data/video/faces] [--head-model ICT.npz]
    python bench/preview.py --readme-png docs/preview.png   # also save a frame of the sample's preview

A take is made from the generated demo sample (no shared data needed); then `render_preview` is timed:
  - on the 512x512 sample, with the built-in head on OpenGL (EGL) and on the software renderer;
  - on the same frames stretched to a 1280x720 source (the take's curves and landmarks still fit, as
    landmarks are normalised), so source decoding and scaling cost what a 720p clip costs;
  - with the ICT-FaceKit head if --head-model is given (or found in ../shared/data);
  - on every clip in --clips (each retarget with `run`, then previewed), if given.
fps = output frames / wall time of render_preview; cpu ms = CPU time (all threads, this process) per
frame, which depends much less on what else runs on the machine; the panel columns are the drawing time
per frame (ms, wall) of the source overlay, the head render, the face board and the curve strip; the rest
is decode and encode (on their own threads). The target is >= 30 fps at 1280x720 on 2 cores.
"""
from __future__ import annotations

import argparse
import os
import resource
import platform
import sys
import tempfile
import time
from pathlib import Path

import av
import cv2

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from engine.config import RunOptions  # noqa: E402
from engine.pipeline import run  # noqa: E402
from engine.config.preview import PreviewOptions  # noqa: E402
from engine.preview.preview import render_preview  # noqa: E402
from engine.protocol import Reporter  # noqa: E402

SHARED = REPO.parent / "shared" / "data"


def machine() -> str:
    cpu = platform.processor() or "cpu"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}"


def stretched_copy(src: Path, dst: Path, size=(1280, 720)) -> None:
    with av.open(str(src)) as inp, av.open(str(dst), "w") as out:
        stream = inp.streams.video[0]
        vs = out.add_stream("libx264", rate=stream.average_rate)
        vs.width, vs.height, vs.pix_fmt = size[0], size[1], "yuv420p"
        vs.options = {"crf": "18", "preset": "veryfast"}
        for frame in inp.decode(stream):
            image = cv2.resize(frame.to_ndarray(format="rgb24"), size, interpolation=cv2.INTER_LINEAR)
            new = av.VideoFrame.from_ndarray(image, format="rgb24")
            new.pts, new.time_base = frame.pts, frame.time_base
            for packet in vs.encode(new):
                out.mux(packet)
        for packet in vs.encode(None):
            out.mux(packet)


def save_frame(video: Path, at: float, png: Path) -> None:
    with av.open(str(video)) as c:
        stream = c.streams.video[0]
        for frame in c.decode(stream):
            if float(frame.pts * stream.time_base) >= at - 1e-3:
                cv2.imwrite(str(png), frame.to_ndarray(format="bgr24"), [cv2.IMWRITE_PNG_COMPRESSION, 9])
                return


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def timed_preview(take: Path, out: Path, options: PreviewOptions):
    start = cpu_seconds()
    result = render_preview(take, out, options, Reporter())
    result.cpu_ms = 1000 * (cpu_seconds() - start) / max(result.frames, 1)
    return result


def row(name: str, source: str, result) -> str:
    per = {k: 1000 * v / max(result.frames, 1) for k, v in result.timings.items()}
    return (f"| {name} | {source} | {result.head}/{result.head_backend} | {result.frames} | "
            f"{result.seconds:.2f} | **{result.fps:.1f}** | {result.cpu_ms:.1f} | {per['source']:.1f} | "
            f"{per['head']:.1f} | "
            f"{per['board']:.1f} | {per['strip']:.1f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0, help="length of the generated sample")
    parser.add_argument("--clips", type=Path, default=None, help="also preview every clip in this folder")
    parser.add_argument("--head-model", type=Path, default=None, help="ICT-FaceKit npz (default: shared data's)")
    parser.add_argument("--repeat", type=int, default=2, help="runs per case; the best is reported")
    parser.add_argument("--readme-png", type=Path, default=None,
                        help="save the frame at --readme-time of the sample's preview (built-in head) as a PNG")
    parser.add_argument("--readme-time", type=float, default=6.1, help="seconds (default: the big open mouth)")
    args = parser.parse_args()
    ict = args.head_model or (SHARED / "ict-facekit" / "ict_facekit_light_expr.npz")

    print(f"machine: {machine()}; load average before: {os.getloadavg()[0]:.2f}")
    print()
    print("| case | source | head/renderer | frames | seconds | fps | cpu ms | source ms | head ms | board ms | "
          "strip ms |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory(prefix="bench-preview-") as tmp:
        tmp = Path(tmp)
        from engine.demo.sample import default_script, make_sample_clip

        clip = tmp / "sample.mp4"
        make_sample_clip(clip, default_script(args.seconds))
        take = run(RunOptions(video=clip, out=tmp / "take"), Reporter())
        wide = tmp / "sample_720p.mp4"
        stretched_copy(clip, wide)
        cases = [("built-in head, GL", None, PreviewOptions()),
                 ("built-in head, software", None, PreviewOptions(head_renderer="soft")),
                 ("built-in head, GL", wide, PreviewOptions(video=wide))]
        if ict.is_file():
            cases.append(("ICT head, GL", None, PreviewOptions(head_model=ict)))
        for name, source, options in cases:
            best = None
            for _ in range(args.repeat):
                result = timed_preview(take, tmp / "preview.mp4", options)
                if best is None or result.seconds < best.seconds:
                    best = result
            label = "1280x720 (stretched sample)" if source else "512x512 sample"
            print(row(name, label, best), flush=True)
            if args.readme_png and source is None and options.head_model is None and best.head_backend == "gl":
                save_frame(best.path, args.readme_time, args.readme_png)
                args.readme_png = None
        if args.clips:
            for video in sorted(args.clips.glob("*.mp4")):
                t0 = time.perf_counter()
                clip_take = run(RunOptions(video=video, out=tmp / video.stem), Reporter())
                track_s = time.perf_counter() - t0
                result = timed_preview(clip_take, tmp / f"{video.stem}.mp4", PreviewOptions())
                with av.open(str(video)) as c:
                    v = c.streams.video[0]
                    label = f"{video.name} {v.width}x{v.height} (run {track_s:.1f}s)"
                print(row("shared clip", label, result), flush=True)
    print()
    print(f"load average after: {os.getloadavg()[0]:.2f} (other work on the 2 cores slows every figure)")


if __name__ == "__main__":
    main()
