"""`faceretarget-engine batch MANIFEST`: many clips, locally on a process pool or on a Ray cluster."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from engine.cli import add_progress_option
from engine.protocol import Reporter
from engine.scale.options import BatchOptions

DEFAULTS = BatchOptions()


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "batch", help="run many clips from a CSV/JSON manifest (process pool or Ray cluster)",
        description="Run every clip of a manifest (CSV with a header row, or JSON list of objects; columns: "
                    "video (or arkit: an ARKit CSV), output, and optionally audio, transcript, actor, rig, fps_out, "
                    "neutral_time, smoothing, arkit_fps). "
                    "Relative paths are relative to the manifest's folder. Clips whose take is already "
                    "complete are skipped, so a failed or interrupted batch is finished by running the same "
                    "command again. Prints a table and writes a JSON report; exits with code 5 if any clip "
                    "failed.")
    parser.add_argument("manifest", type=Path, help="the manifest (.csv or .json)")
    parser.add_argument("--workers", type=int, default=DEFAULTS.workers,
                        help="clips at a time (default: one per CPU; with --ray local: the CPUs Ray gets; "
                             "with a cluster address: at most this many tasks in flight)")
    parser.add_argument("--ray", default=DEFAULTS.ray, metavar="ADDRESS",
                        help="run each clip as a Ray task on this cluster (auto, host:6379, ray://host:10001), "
                             "or `local` to start a Ray instance on this machine")
    parser.add_argument("--report", type=Path, default=DEFAULTS.report,
                        help="JSON report path (default: <manifest>.report.json beside the manifest)")
    parser.add_argument("--force", action="store_true", help="redo clips whose take is already complete")
    add_progress_option(parser)
    parser.set_defaults(handler=command_batch)


def options_from(args: argparse.Namespace) -> BatchOptions:
    return BatchOptions(manifest=args.manifest, workers=args.workers, ray=args.ray, report=args.report,
                        force=args.force, progress=args.progress)


def command_batch(args: argparse.Namespace, reporter: Reporter) -> None:
    from engine.scale.runner import failures_error, run_batch, summary

    options = options_from(args)
    # stdout carries JSON events with --progress json; the table then goes to stderr with the logs.
    report = run_batch(options, reporter, sys.stderr if options.progress == "json" else sys.stdout)
    if options.progress == "json":
        reporter.result(str(report.report_path), summary(report))
    if report.failed:
        raise failures_error(report)
