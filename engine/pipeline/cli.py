"""`faceretarget-engine run`: a face video (or an iPhone ARKit recording, or a FLAME sequence) to a take
folder. Its flags are grouped so the common case reads first: input and output, rig, solve, audio, preview,
then the learned models and FLAME input."""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import engine
from engine.arguments import (RATE, SECONDS, add_model_option, add_overwrite_option, add_progress_option,
                              add_rig_option, number)
from engine.audio.cli import add_run_audio_options, audio_options_from
from engine.blendshapes.cli import add_flame_run_options, flame_run_options
from engine.config import RunOptions, SolveOptions
from engine.models.cli import add_run_options as add_learned_options
from engine.models.cli import learned_options_from
from engine.protocol import Reporter

DEFAULTS = RunOptions()
SOLVE_DEFAULTS = SolveOptions()


def register(subparsers) -> None:
    run = subparsers.add_parser("run", help="retarget a face video (or an iPhone ARKit recording) to a take folder",
                                description="Face video in, MetaHuman face-board take out: faceretarget-engine run "
                                            "--video clip.mp4 --out take [--audio speech.wav --transcript T].")
    source = run.add_argument_group("input and output")
    source.add_argument("--video", type=Path, default=None, help="the actor's face video (or --arkit, --flame-params)")
    source.add_argument("--out", type=Path, required=True, help="take folder to write (must not exist)")
    source.add_argument("--arkit", type=Path, default=DEFAULTS.arkit,
                        help="instead of --video: an iPhone Live Link Face CSV or any CSV naming the 52 ARKit "
                             "blendshapes in its header (engine/track/arkit_source)")
    source.add_argument("--arkit-fps", type=RATE, default=DEFAULTS.arkit_fps,
                        help="with --arkit: the rate its timecode frames or frame column count at, or its rows when "
                             "it has no time column (default: read from the file)")
    add_overwrite_option(source)
    add_progress_option(source)
    add_take_options(run)
    add_run_audio_options(run.add_argument_group("audio (mouth correction from speech; engine/audio)"))
    run.add_argument_group("preview").add_argument(
        "--preview", action="store_true", help="also write preview.mp4 into the take (engine/preview)")
    add_learned_options(run)        # --video-model/--audio-model ... (engine/models)
    add_flame_run_options(run)      # --flame-params ... (engine/blendshapes)
    run.set_defaults(handler=command_run)


def add_take_options(parser: argparse.ArgumentParser) -> None:
    """The rig and solve options of every command that makes a take from a face (`run`, `demo`)."""
    rig = parser.add_argument_group("rig and curves")
    add_rig_option(rig)
    rig.add_argument("--mapping", default=DEFAULTS.mapping,
                     help="ARKit -> face board: a fit-mapping JSON, a full-face rules JSON, or 'pose' for "
                          "Epic's mapping pose alone (default: mapping pose + the built-in full-face rules)")
    rig.add_argument("--fps-out", type=RATE, default=DEFAULTS.fps_out,
                     help="resample curves to this uniform rate (default: the video's own frame times)")
    solve = parser.add_argument_group("solve (engine/solve)")
    solve.add_argument("--actor", type=Path, default=SOLVE_DEFAULTS.actor,
                       help="actor profile from `calibrate` (the actor's neutral; default: the population "
                            "resting model)")
    solve.add_argument("--neutral-time", type=SECONDS, default=SOLVE_DEFAULTS.neutral_time,
                       help="seconds: a moment where the actor's face is at rest (default: the actor profile, else "
                            "the population resting model)")
    solve.add_argument("--smoothing", type=number(float, 0, 1000), default=SOLVE_DEFAULTS.smoothing_cutoff_hz,
                       help="low-pass cutoff in Hz, 0 = off (default: %(default)s)")
    add_model_option(solve)
    solve.add_argument("--symmetric", action="store_true", default=DEFAULTS.symmetric,
                       help="track each frame also flipped left-right and average the two readings: MediaPipe's own "
                            "left/right bias is removed (a smirk reads the same on either side), at about 1.3x the "
                            "time on two cores")


def options_from(args: argparse.Namespace) -> RunOptions:
    """RunOptions of a parsed `run` (or `demo`) command line."""
    solve = SolveOptions(neutral_time=args.neutral_time, smoothing_cutoff_hz=args.smoothing, actor=args.actor)
    return RunOptions(video=getattr(args, "video", None), out=args.out, rig=args.rig, fps_out=args.fps_out,
                      arkit=getattr(args, "arkit", None), arkit_fps=getattr(args, "arkit_fps", None),
                      progress=args.progress, overwrite=args.overwrite, model_path=args.model, solve=solve,
                      symmetric=args.symmetric,
                      preview=getattr(args, "preview", False), mapping=args.mapping,
                      audio=audio_options_from(args), learned=learned_options_from(args),
                      flame=flame_run_options(args))


def command_run(args: argparse.Namespace, reporter: Reporter) -> None:
    from engine.pipeline import run   # here, not above: MediaPipe and the codecs load only for a run

    options = options_from(args)
    startup = time.perf_counter() - engine.STARTED
    take = run(options, reporter, startup_s=startup)
    total = time.perf_counter() - engine.STARTED
    reporter.result(str(take), {"warnings": len(reporter.warnings), "startup_s": round(startup, 3),
                                "total_s": round(total, 3)})
