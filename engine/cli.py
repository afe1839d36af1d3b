"""`faceretarget-engine`: the process entry. Registers the stage CLIs, reports, and cancels cleanly."""
from __future__ import annotations

import _thread
import argparse
import logging
import os
import signal
import sys
import threading
import time
import traceback

from engine.arguments import PROGRESS_MODES, CommandLineError, CommandLineParser
from engine.audio import cli as audio_cli
from engine.blendshapes import cli as blendshapes_cli
from engine.config import RunOptions
from engine.demo import cli as demo_cli
from engine.errors import EXIT_INTERNAL, EXIT_OK, Cancelled, EngineError
from engine.live import cli as live_cli
from engine.models import cli as models_cli
from engine.pipeline import cli as pipeline_cli
from engine.preview import cli as preview_cli
from engine.protocol import make_reporter
from engine.scale import cli as scale_cli
from engine.solve import cli as solve_cli

log = logging.getLogger("faceretarget")

# Every sub-command lives beside its stage, in a module named cli.py with `register(subparsers)`, which adds
# its parser with `set_defaults(handler=fn)`; fn(args, reporter) does the work (EngineError for bad input).
# This module only registers them, in the order `faceretarget-engine --help` lists them.
COMMANDS = (
    pipeline_cli,       # run
    demo_cli,           # demo
    solve_cli,          # calibrate
    audio_cli,          # lipsync
    preview_cli,        # preview, compare, plot
    scale_cli,          # batch
    live_cli,           # live
    models_cli,         # train, fit-mapping
    blendshapes_cli,    # blendshapes ...
)
COMMAND_MODULES: tuple[str, ...] = tuple(module.__name__ for module in COMMANDS)


def build_parser() -> argparse.ArgumentParser:
    parser = CommandLineParser(prog="faceretarget-engine", description="Face video in, MetaHuman face-board take out.")
    sub = parser.add_subparsers(dest="command", required=True)
    for module in COMMANDS:
        module.register(sub)
    return parser


def requested_progress(argv: list[str]) -> str:
    """The --progress mode a command line asks for, read without parsing it (which just failed)."""
    asked = None
    for i, arg in enumerate(argv):
        if arg == "--progress" and i + 1 < len(argv):
            asked = argv[i + 1]
        elif arg.startswith("--progress="):
            asked = arg.split("=", 1)[1]
        if asked is not None:
            break
    return asked if asked in PROGRESS_MODES else RunOptions().progress


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


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        args = build_parser().parse_args(argv)
    except CommandLineError as exc:   # one line and exit 2, like any bad input (a JSON event if asked)
        make_reporter(requested_progress(argv)).error(exc.message, exc.hint)
        return exc.exit_code
    except KeyboardInterrupt:
        make_reporter(requested_progress(argv)).error("cancelled", "")
        return Cancelled.exit_code
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(levelname)s %(message)s")
    progress = getattr(args, "progress", RunOptions().progress)
    reporter = make_reporter(progress)
    signal.signal(signal.SIGTERM, _raise_cancelled)
    if progress == "json":
        watch_parent()
        watch_stdin()
    try:
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
