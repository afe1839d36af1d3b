"""`faceretarget-engine`: a small CLI over engine.config's dataclasses (the single source of defaults)."""
from __future__ import annotations

import _thread
import argparse
import importlib
import logging
import os
import signal
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path

from engine.audio.command import add_run_audio_options, audio_options_from
from engine.config import RunOptions, SolveOptions
from engine.errors import EXIT_INTERNAL, EXIT_OK, Cancelled, EngineError
from engine.protocol import Reporter, make_reporter

log = logging.getLogger("faceretarget")
DEFAULTS = RunOptions()
SOLVE_DEFAULTS = SolveOptions()

# Further sub-commands live beside their stage. Each module has `register(subparsers)`, which adds its
# parser with `set_defaults(handler=fn)`; fn(args, reporter) does the work (EngineError for bad input).
COMMAND_MODULES: tuple[str, ...] = (
    "engine.preview.cli",
    "engine.audio.command",
    "engine.live.cli",
    "engine.scale.cli",
    "engine.rig.fit_mapping",
    "engine.models.command",
    "engine.blendshapes.cli",
    "engine.solve.command",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="faceretarget-engine",
                                     description="Face video in, MetaHuman face-board take out.")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="retarget a face video (or an iPhone ARKit recording) to a take folder")
    run.add_argument("--video", type=Path, default=None, help="the actor's face video (or --arkit, --flame-params)")
    run.add_argument("--arkit", type=Path, default=DEFAULTS.arkit,
                     help="instead of --video: an iPhone Live Link Face CSV or any CSV naming the 52 ARKit "
                          "blendshapes in its header (engine/track/arkit_source)")
    run.add_argument("--arkit-fps", type=float, default=DEFAULTS.arkit_fps,
                     help="with --arkit: the rate its timecode frames or frame column count at, or its rows when "
                          "it has no time column (default: read from the file)")
    run.add_argument("--out", type=Path, required=True, help="take folder to write (must not exist)")
    add_run_audio_options(run)   # engine/audio: --audio, --transcript, --lip-correction, ...
    run.add_argument("--preview", action="store_true", help="also write preview.mp4 into the take (engine/preview)")
    importlib.import_module("engine.models.command").add_run_options(run)   # --video-model/--audio-model
    add_common_options(run)
    importlib.import_module("engine.blendshapes.cli").add_flame_run_options(run)   # --flame-params ...

    demo = sub.add_parser("demo", help="make a sample clip (no downloads) and retarget it")
    demo.add_argument("--out", type=Path, default=Path("demo_take"), help="take folder (replaced if it is a take)")
    demo.add_argument("--seconds", type=float, default=8.0, help="length of the generated clip")
    add_common_options(demo)

    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def add_common_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rig", choices=["mh4", "legacy"], default=DEFAULTS.rig,
                        help="MetaHuman rig generation (default: %(default)s)")
    parser.add_argument("--fps-out", type=float, default=DEFAULTS.fps_out,
                        help="resample curves to this uniform rate (default: the video's own frame times)")
    parser.add_argument("--neutral-time", type=float, default=SOLVE_DEFAULTS.neutral_time,
                        help="seconds: a moment where the actor's face is at rest (default: the actor profile, else "
                             "the population resting model)")
    parser.add_argument("--actor", type=Path, default=SOLVE_DEFAULTS.actor,
                        help="actor profile from `calibrate` (the actor's neutral; default: the population "
                             "resting model)")
    parser.add_argument("--smoothing", type=float, default=SOLVE_DEFAULTS.smoothing_cutoff_hz,
                        help="low-pass cutoff in Hz, 0 = off (default: %(default)s)")
    parser.add_argument("--progress", choices=["human", "json"], default=DEFAULTS.progress,
                        help="json: one event per line on stdout, for the Maya dialog")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing take folder")
    parser.add_argument("--model", type=Path, default=None, help="path to face_landmarker.task")
    parser.add_argument("--mapping", default=DEFAULTS.mapping,
                        help="ARKit -> face board: a fit-mapping JSON, a full-face rules JSON, or 'pose' for "
                             "Epic's mapping pose alone (default: mapping pose + the built-in full-face rules)")


def add_progress_option(parser: argparse.ArgumentParser) -> None:
    """For sub-commands that take no run options but report progress the same way."""
    parser.add_argument("--progress", choices=["human", "json"], default=DEFAULTS.progress,
                        help="json: one event per line on stdout")


def options_from(args: argparse.Namespace) -> RunOptions:
    solve = SolveOptions(neutral_time=args.neutral_time, smoothing_cutoff_hz=args.smoothing, actor=args.actor)
    return RunOptions(video=getattr(args, "video", None), out=args.out, rig=args.rig, fps_out=args.fps_out,
                      arkit=getattr(args, "arkit", None), arkit_fps=getattr(args, "arkit_fps", None),
                      progress=args.progress, overwrite=args.overwrite, model_path=args.model, solve=solve,
                      preview=getattr(args, "preview", False),
                      mapping=args.mapping,
                      audio=audio_options_from(args),
                      learned=importlib.import_module("engine.models.command").learned_options_from(args),
                      flame=importlib.import_module("engine.blendshapes.cli").flame_run_options(args))


def _raise_cancelled(signum, frame) -> None:
    # SIGTERM/SIGINT from outside, or a "cancel" line on stdin / a lost parent (request_cancel): one path.
    raise Cancelled("cancelled")


# A line on stdin that cancels a `--progress json` run, on every platform (the Maya dialog writes it: on
# Windows, QProcess.terminate() only posts WM_CLOSE, which a console program never sees).
CANCEL_REQUEST = "cancel"


def request_cancel() -> None:
    """Cancel the run from any thread: the SIGTERM handler (`_raise_cancelled`) runs in the main thread and
    raises Cancelled, so the take writer removes its temporary folder and the exit code is 130. Unlike
    os.kill(pid, SIGTERM), which on Windows is TerminateProcess (no cleanup at all), this is the same path
    on every platform."""
    _thread.interrupt_main(signal.SIGTERM)


def watch_parent() -> None:
    """Cancel when the process that started us is gone (an orphaned engine must not run on)."""
    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(1.0)
            if os.getppid() != parent:
                request_cancel()
                return

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def watch_stdin(fd: int | None = None) -> None:
    """Cancel when a line "cancel" arrives on stdin. The end of stdin is no request: a parent that closes
    it, or never gives one (a shell's `</dev/null`, a scheduler), must not stop the run; an orphan is
    watch_parent's. Reads the file descriptor itself: a daemon thread blocked in sys.stdin's buffered
    reader would hold its lock at interpreter shutdown."""
    if fd is None:
        try:
            fd = sys.stdin.fileno()
        except (AttributeError, OSError, ValueError):     # no stdin (pythonw, closed)
            return

    def watch() -> None:
        pending = b""
        while True:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                return
            if not chunk:
                return
            *lines, pending = (pending + chunk).split(b"\n")
            if any(line.strip().decode("utf-8", "replace") == CANCEL_REQUEST for line in lines):
                request_cancel()
                return

    threading.Thread(target=watch, name="stdin-cancel", daemon=True).start()


def command_run(options: RunOptions, reporter: Reporter) -> None:
    from engine.pipeline import run

    take = run(options, reporter)
    reporter.result(str(take), {"warnings": len(reporter.warnings)})


DEMO_NEUTRAL_S = 1.5    # the demo's neutral capture: the synthetic actor at rest


def command_demo(options: RunOptions, seconds: float, reporter: Reporter) -> None:
    from engine.demo.sample import SampleScript, default_script, make_sample_clip
    from engine.demo.summary import summarize_take
    from engine.pipeline import run

    options.overwrite = True
    with tempfile.TemporaryDirectory(prefix="faceretarget-demo-") as tmp:
        clip = Path(tmp) / "sample.mp4"
        reporter.progress("sample", 0, 1)
        make_sample_clip(clip, default_script(seconds), model_path=options.model_path)
        if options.solve.actor is None and options.solve.neutral_time is None:
            # The recommended workflow: a neutral capture of the same (synthetic) actor, calibrated once.
            from engine.solve.command import calibrate_video

            neutral = Path(tmp) / "neutral.mp4"
            make_sample_clip(neutral, SampleScript(DEMO_NEUTRAL_S), model_path=options.model_path)
            options.solve.actor = options.out.with_name(options.out.name + "_actor.json")   # kept: take.json names it
            calibrate_video(neutral, options.solve.actor, reporter, rig=options.rig, name="demo",
                            model=options.model_path)
        reporter.progress("sample", 1, 1)
        options.video = clip
        take = run(options, reporter)
    reporter.result(str(take), {"warnings": len(reporter.warnings)})
    print(summarize_take(take))


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(levelname)s %(message)s")
    progress = getattr(args, "progress", DEFAULTS.progress)
    reporter = make_reporter(progress)
    signal.signal(signal.SIGTERM, _raise_cancelled)
    if progress == "json":
        watch_parent()
        watch_stdin()
    try:
        if args.command == "run":
            command_run(options_from(args), reporter)
        elif args.command == "demo":
            command_demo(options_from(args), args.seconds, reporter)
        else:
            args.handler(args, reporter)
        return EXIT_OK
    except KeyboardInterrupt:
        reporter.error("cancelled", "")
        return Cancelled.exit_code
    except EngineError as exc:
        reporter.error(exc.message, exc.hint)
        return exc.exit_code
    except Exception as exc:  # an engine bug: say so, with the traceback on stderr for the report
        traceback.print_exc()
        reporter.error(f"internal error: {type(exc).__name__}: {exc}",
                       "please report this with the log above (stderr)")
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
