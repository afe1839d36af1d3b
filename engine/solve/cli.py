"""`faceretarget-engine calibrate`: an actor profile from a neutral capture (engine.solve.actor).

    faceretarget-engine calibrate --video neutral.mp4 [--time S] [--range rom.mp4] [--rig mh4|legacy]
        [--name ACTOR] --out actor.json [--overwrite] [--progress json] [--model PATH]

Progress stages: `track` (the neutral capture), `track_range` (the range-of-motion clip), the same two read the
other way (`track_other_way`, `track_range_other_way`: the profile keeps both readings), `profile`; then
a `result` event whose `take` is the profile's path. Exit codes as `run`: 2 bad input, 3 no face.
"""
from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np

from engine.arguments import SECONDS, add_model_option, add_overwrite_option, add_progress_option, add_rig_option
from engine.errors import BadInput
from engine.protocol import JsonLinesReporter, Reporter
from engine.rig.arkit import ARKIT_NAMES
from engine.solve.resting import EXPRESSION_CHANNELS, load_resting_model

SUMMARY_CHANNELS = 5        # how many resting biases / weakest reaches the summary names
MIN_REACH = 0.05            # a range-of-motion clip that moves a channel less than this above neutral: warned


def register(subparsers) -> None:
    p = subparsers.add_parser("calibrate", help="make an actor profile from a neutral capture (run --actor)",
                              description="An actor profile from a capture of the actor's face at rest: a still "
                                          "image or a few seconds of video, relaxed, looking into the camera.")
    p.add_argument("--video", type=Path, required=True, help="the neutral capture: a video or a still image")
    p.add_argument("--time", type=SECONDS, default=None,
                   help="seconds: take the rest frames around this moment (default: the whole capture)")
    p.add_argument("--range", dest="rom", type=Path, default=None,
                   help="a range-of-motion clip: each channel's full expression is measured from it")
    add_rig_option(p, what="MetaHuman rig generation the profile is for")
    p.add_argument("--name", default=None, help="the actor's name (default: the profile file's name)")
    p.add_argument("--out", type=Path, required=True, help="the actor profile (.json) to write")
    add_overwrite_option(p, "profile")
    add_model_option(p)
    p.add_argument("--symmetric", action="store_true",
                   help="the profile's own fields from the capture read as `run --symmetric` reads it (each frame also "
                        "flipped); the other reading is kept too (`alternate`), so either kind of run finds its own")
    add_progress_option(p)
    p.set_defaults(handler=command_calibrate)


def command_calibrate(args: argparse.Namespace, reporter: Reporter) -> None:
    out = Path(args.out)
    check_profile_output(out, args.overwrite)
    if args.time is not None and not (math.isfinite(args.time) and args.time >= 0):
        raise BadInput(f"--time {args.time} must be a time in seconds from the start of the capture")
    from engine.solve.capture import calibrate_video   # here, not above: MediaPipe loads only for a run

    profile = calibrate_video(args.video, out, reporter, rig=args.rig, name=args.name or out.stem,
                              time=args.time, rom=args.rom, model=args.model, symmetric=args.symmetric)
    small = small_ranges(profile)
    if small:
        reporter.warning("range_small", f"the range-of-motion clip hardly moves {len(small)} channel(s) beyond "
                         f"the neutral: {', '.join(small)}", channels=small)
    json_mode = isinstance(reporter, JsonLinesReporter)
    print(profile_summary(profile, out), file=sys.stderr if json_mode else sys.stdout)
    if json_mode:   # (a person at a terminal has just read where the profile went)
        reporter.result(str(out.absolute()), {"name": profile.name, "rig": profile.rig,
                                              "frames": profile.source["neutral_frames"]["count"],
                                              "range_of_motion": profile.ranges is not None})


def check_profile_output(out: Path, overwrite: bool) -> None:
    """Refuse, before any work, a profile path that exists (unless --overwrite) or is a folder."""
    if out.is_dir():
        raise BadInput(f"--out {out} is a folder", "give the profile's file name, e.g. actor.json")
    if out.exists() and not overwrite:
        raise BadInput(f"actor profile already exists: {out}", "choose another --out, or pass --overwrite")
    try:
        out.absolute().parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BadInput(f"cannot create the folder for the profile: {out.parent} ({exc.strerror})",
                       "choose a folder you can write to") from exc


def small_ranges(profile) -> list[str]:
    """Expression channels the range-of-motion clip moves less than MIN_REACH above the neutral."""
    if profile.ranges is None:
        return []
    reach = profile.ranges - profile.neutral
    return [ARKIT_NAMES[i] for i in np.flatnonzero(EXPRESSION_CHANNELS & (reach < MIN_REACH))]


def profile_summary(profile, out: Path) -> str:
    level = load_resting_model().level
    frames = profile.source["neutral_frames"]
    spans = ", ".join(f"{a:.2f}-{b:.2f} s" if b > a else f"{a:.2f} s" for a, b in frames["time_ranges"][:4])
    expression = np.flatnonzero(EXPRESSION_CHANNELS)
    biases = sorted(expression, key=lambda i: -profile.neutral[i])[:SUMMARY_CHANNELS]
    lines = [f"actor profile written: {out}",
             f"  actor {profile.name!r}, rig {profile.rig}",
             f"  neutral: {frames['count']} rest frames of {frames['of']} ({spans})",
             "  largest resting biases: " + ", ".join(
                 f"{ARKIT_NAMES[i]} {profile.neutral[i]:.3f} (population {level[i]:.2f})" for i in biases)]
    if profile.ranges is not None:
        reach = profile.ranges - profile.neutral
        weakest = np.argsort(reach[expression])[:SUMMARY_CHANNELS]
        lines.append(f"  range of motion: {profile.source.get('range_of_motion_frames')} frames; least reached: "
                     + ", ".join(f"{ARKIT_NAMES[expression[i]]} {reach[expression[i]]:+.3f}" for i in weakest))
    return "\n".join(lines)
