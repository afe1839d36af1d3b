"""Live streaming: capture-to-send latency, send rate, and agreement with `run`'s takes.

    python bench/live.py [--clips driving_d0 driving_d12 ...] [--no-compare] [--data ../shared/data]

For each shared face clip, `faceretarget-engine live --video CLIP --realtime` is run in-process to a UDP
receiver on 127.0.0.1, and the receiver's packets are decoded:
  latency    = capture -> send per frame (median / p95 / max, ms); the goal is under one frame at 30 fps
  track      = the tracker's share of it (median, ms)
  send fps   = packets per second of wall time (should equal the clip's rate)
  dropped    = frames the real-time source dropped because the previous one was still being processed
  unpaced    = frames per second when the same clip is streamed as fast as possible (the headroom)
Then (unless --no-compare) the packets' ARKit values against the take `run` writes for the clip:
  correlation on jawOpen and the blinks, and the mean absolute difference over all 52 channels.
"""
from __future__ import annotations

import argparse
import contextlib
import datetime
import os
import platform
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from engine.config import RunOptions  # noqa: E402
from engine.export.livelink import LiveLinkTake, read_livelink_csv  # noqa: E402
from engine.config.live import LiveOptions  # noqa: E402
from engine.live.stream import stream  # noqa: E402
from engine.pipeline import run  # noqa: E402
from engine.protocol import Reporter  # noqa: E402
from engine.rig.arkit import ARKIT_INDEX  # noqa: E402
from engine_dev.livelink_receiver import LoopbackReceiver  # noqa: E402

DEFAULT_CLIPS = ["driving_d0", "driving_d12", "driving_d11", "driving_d3", "driving_d13"]


def stream_clip(video: Path, realtime: bool) -> tuple[dict, list]:
    receiver = LoopbackReceiver()
    try:
        with open(os.devnull, "w") as quiet, contextlib.redirect_stdout(quiet):   # the stream's own summary
            stats = stream(LiveOptions(video=video, realtime=realtime, livelink=f"127.0.0.1:{receiver.port}",
                                       timecode_start_s=0.0, frame_log=False, progress="json"), Reporter())
    finally:
        receiver.stop()
    return stats.summary(), receiver.packets()


def compare(video: Path, packets: list, workdir: Path) -> dict:
    take = run(RunOptions(video=video, out=workdir / video.stem), Reporter())
    offline = read_livelink_csv(take / "arkit.csv", timecode_fps=60)
    frames = np.array([p.frame for p in packets])
    live = LiveLinkTake(times=frames.astype(float), values=np.array([p.values for p in packets]))
    a, b = offline.arkit()[frames].astype(float), live.arkit().astype(float)
    corr = {n: float(np.corrcoef(a[:, ARKIT_INDEX[n]], b[:, ARKIT_INDEX[n]])[0, 1])
            for n in ("jawOpen", "eyeBlinkLeft", "eyeBlinkRight")}
    return {**corr, "mad": float(np.abs(a - b).mean()),
            "head_yaw": float(np.corrcoef(offline.head()[frames, 0], live.head()[:, 0])[0, 1])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clips", nargs="+", default=DEFAULT_CLIPS)
    parser.add_argument("--data", type=Path, default=Path(os.environ.get(
        "FACERETARGET_SHARED_DATA", REPO.parent / "shared" / "data")))
    parser.add_argument("--no-compare", action="store_true", help="skip the comparison with run's takes")
    args = parser.parse_args()

    print(f"# Live streaming bench ({datetime.date.today()}, {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} CPUs, Python {platform.python_version()})\n")
    rows, agreement, all_latency = [], [], []
    with tempfile.TemporaryDirectory(prefix="bench-live-") as tmp:
        for name in args.clips:
            video = args.data / "video" / "faces" / f"{name}.mp4"
            paced, packets = stream_clip(video, realtime=True)
            unpaced, _ = stream_clip(video, realtime=False)
            rows.append((name, paced, unpaced, len(packets)))
            if not args.no_compare:
                agreement.append((name, compare(video, packets, Path(tmp))))
            print(f"... {name} done", file=sys.stderr)

    print("| clip | source | packets | dropped | latency median | p95 | max | track median | send fps | unpaced fps |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, s, u, received in rows:
        source = s["source"].split("(", 1)[1].split(", real")[0]
        print(f"| {name} | {source} | {received} | {s['frames_dropped']} | {s['latency_median_ms']:.1f} ms "
              f"| {s['latency_p95_ms']:.1f} ms | {s['latency_max_ms']:.1f} ms | {s['track_median_ms']:.1f} ms "
              f"| {s['send_fps']:.2f} | {u['send_fps']:.0f} |")
        all_latency.append(s["latency_median_ms"])
    print(f"\nmedian of the clips' median latencies: {np.median(all_latency):.1f} ms "
          f"(one frame at 30 fps = 33.3 ms)")
    if agreement:
        print("\n| clip | corr jawOpen | corr eyeBlinkLeft | corr eyeBlinkRight | corr head yaw | mean abs diff (52 ch) |")
        print("|---|---:|---:|---:|---:|---:|")
        for name, c in agreement:
            print(f"| {name} | {c['jawOpen']:.3f} | {c['eyeBlinkLeft']:.3f} | {c['eyeBlinkRight']:.3f} "
                  f"| {c['head_yaw']:.3f} | {c['mad']:.4f} |")


if __name__ == "__main__":
    main()
