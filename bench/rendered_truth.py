"""Tracking + solving accuracy against rendered ground truth (the ICT-FaceKit head at known ARKit weights).

    .venv/bin/python bench/rendered_truth.py [--split test|dev|all] [--quick] [--ict DIR] [--cache DIR]

Renders clips of the ICT head (../shared/data/ict-facekit, MIT; or --ict / $FACERETARGET_ICT) headless with
moderngl/EGL: every ARKit channel alone at two strengths, realistic combinations, speech-like mouth
sequences, blinks and gaze, several identities from ICT's identity PCA, head yaw/pitch up to 25 degrees,
three lightings and several image sizes. Each frame goes through the engine's tracker (FaceTracker, the
one `run` uses, VIDEO mode) into a FaceTrack, which the engine's `solve` turns into curves.

Printed (markdown): per ARKit channel the mean absolute error and correlation of (a) MediaPipe's raw
scores and (b) the engine's solved curves against the rendered weights; per face-region group; the
curves on rest frames; the weak channels; head yaw/pitch/roll. The `test` split's identities are never
used to tune anything (`dev` is for that). Tracked clips are cached (--cache) so re-running the solve is fast.

By default every clip is solved with an actor profile made from a rendered neutral capture of its identity
(`--neutral capture`: what a user does with `calibrate`); `--neutral population` solves without one.
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from engine.config import SolveOptions  # noqa: E402
from engine.rig.arkit import ARKIT_NAMES  # noqa: E402
from engine.rig.retarget import retarget  # noqa: E402
from engine.solve.solver import solve  # noqa: E402
from engine.track.landmarker import TrackerOptions  # noqa: E402
from engine_dev.render.ict_head import RENDERED_CHANNELS, IctHead  # noqa: E402
from engine_dev.render.metrics import (GROUPS, WEAK_CHANNELS, channel_scores, correlation, group_of,  # noqa: E402
                                        rest_frames)
from engine_dev.render.renderer import Camera, Look, TruthRenderer  # noqa: E402
from engine_dev.render.sequences import HeadMotion  # noqa: E402
from engine_dev.render.truth import ClipSpec, RenderedClip, load_clip, render_and_track, save_clip  # noqa: E402

NATURAL = ("singles", "expressions", "speech")
TARGETED_SCRIPT = "weak"     # the script that marks a weak-channel clip (bench tables, training tool)
WEAK = (TARGETED_SCRIPT, "expressions")


def generated_clips(prefix: str, first: int, identity: int, seed: int, scripts: tuple[str, ...], rows
                    ) -> tuple[ClipSpec, ...]:
    """Clips of `scripts`, one per row of (skin, eyes, light, width, height, distance_cm, yaw, pitch, roll,
    period_s), numbered from `first` with identities and seeds counting up."""
    return tuple(ClipSpec(f"{prefix}{first + i}", identity + i, look=Look(skin, eyes, light),
                          camera=Camera(w, h, distance_cm=dist), motion=HeadMotion(yaw, pitch, roll, period_s=period),
                          scripts=scripts, seed=seed + i)
                 for i, (skin, eyes, light, w, h, dist, yaw, pitch, roll, period) in enumerate(rows))


TEST_CLIPS = (
    ClipSpec("t0_mean", None, look=Look("light", "brown", "studio"), camera=Camera(512, 512),
             motion=HeadMotion(10, 6, 3), seed=10),
    ClipSpec("t1", 1, look=Look("medium", "green", "left_key"), camera=Camera(640, 480, distance_cm=58),
             motion=HeadMotion(25, 10, 5), seed=11),
    ClipSpec("t2", 2, look=Look("dark", "brown", "top_soft"), camera=Camera(480, 640, distance_cm=66),
             motion=HeadMotion(15, 20, 0), seed=12),
    ClipSpec("t3", 3, look=Look("light", "blue", "left_key"), camera=Camera(384, 384, distance_cm=70),
             motion=HeadMotion(25, 15, 6, period_s=9), seed=13),
    ClipSpec("t4", 4, look=Look("medium", "brown", "studio"), camera=Camera(720, 540, distance_cm=55),
             motion=HeadMotion(20, 25, 8, period_s=11), seed=14),
    # t5-t8: the weak-channel script on unseen identities. The natural clips above show each weak channel in
    # only 20-40 frames a clip, too few for its correlation to mean much; these give each hundreds.
    *generated_clips("t", 5, 5, 15, WEAK, (
        ("medium", "green", "studio", 560, 560, 62, 18, 15, 5, 9),
        ("dark", "blue", "left_key", 480, 600, 60, 25, 10, 3, 8),
        ("light", "brown", "top_soft", 640, 480, 66, 12, 22, 6, 10),
        ("medium", "blue", "left_key", 512, 512, 58, 22, 18, 4, 11),
    )),
)
DEV_CLIPS = (
    ClipSpec("d0", 101, look=Look("medium", "brown", "studio"), camera=Camera(512, 512),
             motion=HeadMotion(20, 12, 4), seed=20),
    ClipSpec("d1", 102, look=Look("light", "green", "top_soft"), camera=Camera(640, 480, distance_cm=60),
             motion=HeadMotion(25, 20, 6), seed=21),
    ClipSpec("d2", 103, look=Look("dark", "blue", "left_key"), camera=Camera(480, 480, distance_cm=64),
             motion=HeadMotion(12, 25, 0, period_s=8), seed=22),
    ClipSpec("d3", 104, look=Look("light", "brown", "left_key"), camera=Camera(512, 512, distance_cm=56),
             motion=HeadMotion(18, 8, 5, period_s=6), seed=23),
    ClipSpec("d4", 105, look=Look("medium", "blue", "top_soft"), camera=Camera(640, 480, distance_cm=64),
             motion=HeadMotion(8, 18, 3, period_s=10), seed=24),
    ClipSpec("d5", 106, look=Look("dark", "green", "studio"), camera=Camera(448, 448, distance_cm=60),
             motion=HeadMotion(25, 12, 6, period_s=7), seed=25),
    ClipSpec("d6", 107, look=Look("light", "green", "studio"), camera=Camera(480, 640, distance_cm=68),
             motion=HeadMotion(15, 22, 4, period_s=9), seed=26),
    ClipSpec("d7", 108, look=Look("medium", "brown", "left_key"), camera=Camera(576, 432, distance_cm=58),
             motion=HeadMotion(22, 15, 7, period_s=8), seed=27),
    ClipSpec("d8", 109, look=Look("dark", "brown", "top_soft"), camera=Camera(512, 384, distance_cm=62),
             motion=HeadMotion(10, 10, 2, period_s=12), seed=28),
    ClipSpec("d9", 110, look=Look("light", "blue", "studio"), camera=Camera(640, 640, distance_cm=72),
             motion=HeadMotion(20, 18, 5, period_s=9), seed=29),
    ClipSpec("d10", 111, look=Look("medium", "green", "left_key"), camera=Camera(480, 360, distance_cm=57),
             motion=HeadMotion(14, 22, 3, period_s=7), seed=30),
    ClipSpec("d11", 112, look=Look("dark", "blue", "studio"), camera=Camera(560, 560, distance_cm=66),
             motion=HeadMotion(24, 8, 6, period_s=10), seed=31),
    ClipSpec("d12", 113, look=Look("light", "brown", "top_soft"), camera=Camera(400, 520, distance_cm=60),
             motion=HeadMotion(6, 14, 2, period_s=8), seed=32),
    ClipSpec("d13", 114, look=Look("medium", "blue", "left_key"), camera=Camera(600, 450, distance_cm=68),
             motion=HeadMotion(18, 12, 7, period_s=11), seed=33),
    # d30-d37: more natural identities (listed with the natural clips), several with the head pitched 20-25 degrees
    *generated_clips("d", 30, 131, 50, NATURAL, (
        ("dark", "green", "top_soft", 480, 640, 64, 14, 22, 2, 9),
        ("light", "blue", "studio", 720, 540, 56, 20, 25, 6, 11),
        ("medium", "brown", "left_key", 512, 512, 60, 25, 18, 4, 8),
        ("dark", "blue", "studio", 600, 450, 66, 10, 20, 0, 10),
        ("light", "green", "left_key", 448, 560, 62, 22, 14, 7, 12),
        ("medium", "green", "top_soft", 640, 480, 58, 16, 24, 3, 9),
        ("dark", "brown", "left_key", 384, 384, 70, 24, 10, 5, 7),
        ("light", "brown", "top_soft", 560, 560, 63, 12, 16, 8, 10),
    )),
    # d14-d29: mostly the weak channels (few frames of them in singles/expressions/speech)
    *generated_clips("d", 14, 115, 34, WEAK, (
        ("light", "blue", "top_soft", 512, 512, 60, 20, 10, 4, 8),
        ("dark", "brown", "left_key", 640, 480, 62, 12, 22, 5, 9),
        ("medium", "green", "studio", 480, 560, 66, 25, 14, 3, 7),
        ("light", "brown", "studio", 560, 420, 58, 16, 18, 6, 10),
        ("dark", "green", "top_soft", 448, 448, 64, 22, 8, 2, 11),
        ("medium", "blue", "left_key", 600, 600, 70, 10, 25, 5, 8),
        ("light", "green", "left_key", 400, 520, 57, 24, 12, 7, 9),
        ("medium", "brown", "top_soft", 576, 432, 61, 14, 20, 4, 12),
        ("dark", "blue", "studio", 520, 520, 63, 25, 16, 5, 9),
        ("light", "green", "top_soft", 640, 480, 59, 18, 24, 3, 10),
        ("medium", "brown", "left_key", 480, 600, 67, 12, 10, 6, 7),
        ("dark", "green", "left_key", 600, 450, 60, 22, 18, 4, 11),
        ("light", "blue", "studio", 448, 560, 65, 8, 22, 2, 8),
        ("medium", "green", "top_soft", 560, 560, 56, 25, 12, 7, 12),
        ("dark", "brown", "studio", 512, 384, 62, 16, 25, 5, 9),
        ("light", "brown", "left_key", 420, 420, 69, 20, 14, 3, 10),
    )),
)


def default_cache() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "faceretarget" / "rendered_truth"


def get_clips(specs, head: IctHead, cache: Path, log, tracker_options: TrackerOptions | None = None
              ) -> list[RenderedClip]:
    clips = []
    renderer = None
    try:
        for spec in specs:
            path = cache / f"{spec.name}.npz"
            clip = load_clip(spec, path)
            if clip is None:
                renderer = renderer or TruthRenderer(head)
                start = time.perf_counter()
                clip = render_and_track(spec, head, cache, renderer, tracker_options,
                                        progress=lambda n: n % 300 == 0 and log(f"  {spec.name}: {n} frames"))
                save_clip(clip, path)
                log(f"rendered + tracked {spec.name}: {len(clip.times)} frames in {time.perf_counter() - start:.0f}s")
            clips.append(clip)
    finally:
        if renderer is not None:
            renderer.close()
    return clips


def neutral_captures(clips: list[RenderedClip], head: IctHead, cache: Path, log,
                     tracker_options: TrackerOptions | None = None) -> dict[str, Path]:
    """Per clip, an actor profile made as a user makes one: `calibrate` on a neutral capture of the same
    identity, look and camera (1.6 s at rest, head still), rendered and tracked like the clip."""
    from engine.solve.actor import build_profile, save_profile

    specs = [replace(c.spec, name=c.spec.name + "_neutral", scripts=("rest",), motion=HeadMotion()) for c in clips]
    profiles = {}
    for clip, capture in zip(clips, get_clips(specs, head, cache, log, tracker_options)):
        path = cache / f"{clip.spec.name}.actor.json"
        save_profile(build_profile(capture.track, name=clip.spec.name, rig="mh4"), path)
        profiles[clip.spec.name] = path
    return profiles


def evaluate(clips: list[RenderedClip], options: SolveOptions, actors: dict[str, Path] | None = None) -> dict:
    """Solve every clip (with its actor profile where `actors` names one) and score it against the truth."""
    truth, raw, solved, rest, head_true, head_est, timing, detected, targeted = [], [], [], [], [], [], [], [], []
    ranges_ok = True
    for clip in clips:
        start = time.perf_counter()
        take = solve(clip.track, replace(options, actor=actors[clip.spec.name]) if actors else options)
        timing.append((time.perf_counter() - start) / len(clip.times))
        curves = retarget(take.arkit, "mh4")
        ranges_ok &= bool(np.all(np.isfinite(curves.faceboard)))
        truth.append(clip.truth)
        raw.append(np.nan_to_num(clip.track.arkit))
        solved.append(take.arkit)
        rest.append(rest_frames(clip.truth))
        head_true.append(clip.head)
        head_est.append(take.head_pose[:, 3:6])
        detected.append(clip.track.detected)
        targeted.append(np.full(len(clip.times), TARGETED_SCRIPT in clip.spec.scripts))
    cat = {k: np.concatenate(v) for k, v in dict(truth=truth, raw=raw, solved=solved, rest=rest, targeted=targeted,
                                                   head_true=head_true, head_est=head_est, detected=detected).items()}
    cat["raw_scores"] = channel_scores(cat["truth"], cat["raw"])
    cat["solved_scores"] = channel_scores(cat["truth"], cat["solved"])
    cat["solve_ms_per_frame"] = 1000 * float(np.mean(timing))
    return cat


def fmt_r(r: float) -> str:
    return f"{r:.2f}"


def report(res: dict, clips: list[RenderedClip]) -> str:
    raw, sol = res["raw_scores"], res["solved_scores"]
    lines = []
    n = len(res["truth"])
    lines.append(f"{len(clips)} clips, {n} frames, face found in {res['detected'].mean():.1%}; "
                 f"solve {res['solve_ms_per_frame']:.2f} ms/frame\n")
    lines.append("| channel | MediaPipe MAE | engine MAE | MediaPipe r | engine r |")
    lines.append("|---|---:|---:|---:|---:|")
    for name in RENDERED_CHANNELS:
        lines.append(f"| {name} | {raw[name][0]:.3f} | {sol[name][0]:.3f} | {fmt_r(raw[name][1])} | {fmt_r(sol[name][1])} |")
    lines.append("\n| group | channels | MediaPipe MAE | engine MAE | MediaPipe mean r | engine mean r | engine better |")
    lines.append("|---|---:|---:|---:|---:|---:|---|")
    for g in GROUPS:
        names = [c for c in RENDERED_CHANNELS if group_of(c) == g]
        m_raw = np.mean([raw[c][0] for c in names])
        m_sol = np.mean([sol[c][0] for c in names])
        lines.append(f"| {g} | {len(names)} | {m_raw:.3f} | {m_sol:.3f} | {np.mean([raw[c][1] for c in names]):.2f} | "
                     f"{np.mean([sol[c][1] for c in names]):.2f} | {'yes' if m_sol < m_raw else 'NO'} |")
    rest = res["rest"]
    idx = [ARKIT_NAMES.index(c) for c in RENDERED_CHANNELS]
    raw_rest = res["raw"][rest][:, idx]
    sol_rest = res["solved"][rest][:, idx]
    worst = int(np.argmax(sol_rest.mean(axis=0)))
    lines.append(f"\nRest frames ({int(rest.sum())} frames where every rendered weight is 0): "
                 f"MediaPipe mean {raw_rest.mean():.3f}, largest channel mean {raw_rest.mean(axis=0).max():.3f}; "
                 f"engine mean {sol_rest.mean():.3f}, largest channel mean {sol_rest.mean(axis=0).max():.3f} "
                 f"({RENDERED_CHANNELS[worst]}), 95th percentile of the largest channel "
                 f"{np.percentile(sol_rest, 95, axis=0).max():.3f}")
    lines.append("\n| weak channel | MediaPipe r | engine r | engine MAE | r >= 0.7 |")
    lines.append("|---|---:|---:|---:|---|")
    for c in WEAK_CHANNELS:
        lines.append(f"| {c} | {fmt_r(raw[c][1])} | {fmt_r(sol[c][1])} | {sol[c][0]:.3f} | {'yes' if sol[c][1] >= 0.7 else 'no'} |")
    lines.extend(weak_by_script(res))
    ht, he = res["head_true"], res["head_est"]
    lines.append("\n| head angle | engine MAE (deg) | r |")
    lines.append("|---|---:|---:|")
    for i, name in enumerate(("yaw", "pitch", "roll")):
        lines.append(f"| {name} | {np.abs(he[:, i] - ht[:, i]).mean():.2f} | {correlation(ht[:, i], he[:, i]):.3f} |")
    return "\n".join(lines)


def weak_by_script(res: dict) -> list[str]:
    """The weak channels' correlation on the natural clips and on the weak-channel clips apart (when the split
    has both): the natural clips show each weak channel in few frames, the weak-channel clips in many."""
    parts = {"natural clips": ~res["targeted"], "weak-channel clips": res["targeted"]}
    if not all(m.any() for m in parts.values()):
        return []
    idx = [ARKIT_NAMES.index(c) for c in WEAK_CHANNELS]
    lines = ["\n| weak channel | " + " | ".join(f"{p}: MediaPipe r | {p}: engine r" for p in parts) + " |",
             "|---|" + "---:|" * (2 * len(parts))]
    for c, k in zip(WEAK_CHANNELS, idx):
        cells = [f"{correlation(res['truth'][m, k], res[src][m, k]):.2f}" for m in parts.values() for src in ("raw", "solved")]
        lines.append(f"| {c} | " + " | ".join(cells) + " |")
    return lines


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--split", choices=["test", "dev", "all"], default="test")
    parser.add_argument("--quick", action="store_true", help="two short clips (a smoke run, not the benchmark)")
    parser.add_argument("--ict", type=Path, default=None, help="folder of the ICT-FaceKit npz files")
    parser.add_argument("--cache", type=Path, default=default_cache(), help="tracked clips are kept here")
    parser.add_argument("--basis", type=Path, default=None,
                        help="solve with a 3D blendshape fit against this ARKit basis at MediaPipe's landmarks "
                             "(e.g. ict_mediapipe468_landmark_model.npz) instead of the landmark regressor")
    parser.add_argument("--mediapipe-only", action="store_true", help="solve without the landmark-space estimates")
    parser.add_argument("--neutral", choices=["capture", "population"], default="capture",
                        help="capture: each identity's actor profile from a rendered neutral capture, as "
                             "`calibrate` makes it (the recommended workflow); population: no profile")
    parser.add_argument("--symmetric", action="store_true",
                        help="track as `run --symmetric` does (each frame also flipped), cached separately")
    args = parser.parse_args(argv)
    log = lambda msg: print(msg, file=sys.stderr, flush=True)  # noqa: E731
    specs = {"test": TEST_CLIPS, "dev": DEV_CLIPS, "all": TEST_CLIPS + DEV_CLIPS}[args.split]
    if args.quick:
        specs = tuple(replace(s, name=s.name + "_quick", scripts=("expressions",)) for s in specs[:2])
    head = IctHead.load(args.ict)
    tracker_options = TrackerOptions(symmetric=args.symmetric)
    cache = args.cache / "symmetric" if args.symmetric else args.cache
    cache.mkdir(parents=True, exist_ok=True)
    clips = get_clips(specs, head, cache, log, tracker_options)
    options = SolveOptions(landmark_basis=args.basis, use_landmarks=not args.mediapipe_only)
    actors = neutral_captures(clips, head, cache, log, tracker_options) if args.neutral == "capture" else None
    res = evaluate(clips, options, actors)
    mode = ("3D blendshape fit against " + args.basis.name if args.basis else
            "MediaPipe scores only" if args.mediapipe_only else "default solve")
    mode += ", tracked symmetric" if args.symmetric else ""
    mode += ", actor profiles from neutral captures" if actors else ", no actor profile (population resting model)"
    print(f"## Rendered ground truth ({args.split} split, {mode})\n")
    print(f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
          f"{time.strftime('%Y-%m-%d')}\n")
    print(report(res, clips))
    return 0


if __name__ == "__main__":
    sys.exit(main())
