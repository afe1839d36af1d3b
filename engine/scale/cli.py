"""`faceretarget-engine batch`: many clips, locally on a process pool or on a Ray cluster.

    faceretarget-engine batch MANIFEST.csv [--workers N] [--ray ADDRESS] [--preview]
    faceretarget-engine batch VIDEO_OR_FOLDER... --out FOLDER [--rig mh4] [--preview]   (a take per video)
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from engine.arguments import add_progress_option, add_rig_option, number
from engine.config.batch import MANIFEST_SUFFIXES, BatchOptions
from engine.preview.cli import add_preview_options, preview_options_from
from engine.protocol import Reporter

DEFAULTS = BatchOptions()


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "batch", help="run many clips from a manifest or folders of videos (process pool or Ray cluster)",
        description="Run every clip of a manifest (CSV with a header row, or JSON list of objects; columns: "
                    "video (or arkit: an ARKit CSV), output, and optionally audio, transcript, actor, rig, fps_out, "
                    "neutral_time, smoothing, arkit_fps, preview), or of videos and folders of videos given "
                    "with --out (a take per video in that folder). "
                    "Relative paths are relative to the manifest's folder. Clips whose take is already "
                    "complete are skipped, so a failed or interrupted batch is finished by running the same "
                    "command again. Prints a table and writes a JSON report; exits with code 5 if any clip "
                    "failed.")
    parser.add_argument("inputs", type=Path, nargs="+", metavar="MANIFEST_OR_VIDEOS",
                        help="the manifest (.csv or .json), or videos and folders of videos")
    parser.add_argument("--out", type=Path, default=DEFAULTS.out,
                        help="with videos: the folder their takes go into (one sub-folder per video)")
    add_rig_option(parser, what="with videos: the MetaHuman rig generation")
    parser.add_argument("--workers", type=number(int, 1, 256), default=DEFAULTS.workers,
                        help="clips at a time (default: one per CPU; with --ray local: the CPUs Ray gets; "
                             "with a cluster address: at most this many tasks in flight)")
    parser.add_argument("--ray", default=DEFAULTS.ray, metavar="ADDRESS",
                        help="run each clip as a Ray task on this cluster (auto, host:6379, ray://host:10001), "
                             "or `local` to start a Ray instance on this machine")
    parser.add_argument("--report", type=Path, default=DEFAULTS.report,
                        help="JSON report path (default: <manifest>.report.json beside the manifest, or "
                             "batch.report.json in --out)")
    parser.add_argument("--force", action="store_true", help="redo clips whose take is already complete")
    add_progress_option(parser)
    preview = parser.add_argument_group("preview (engine/preview)")
    preview.add_argument("--preview", action="store_true", help="also write preview.mp4 into every video's take")
    add_preview_options(preview)
    parser.set_defaults(handler=command_batch)


def options_from(args: argparse.Namespace) -> BatchOptions:
    inputs = list(args.inputs)
    manifest = inputs[0] if len(inputs) == 1 and inputs[0].suffix.lower() in MANIFEST_SUFFIXES else None
    return BatchOptions(manifest=manifest, videos=() if manifest else tuple(inputs), out=args.out, rig=args.rig,
                        preview=args.preview, preview_options=preview_options_from(args), workers=args.workers,
                        ray=args.ray, report=args.report, force=args.force, progress=args.progress)


def command_batch(args: argparse.Namespace, reporter: Reporter) -> None:
    # Here, not above: the runner loads the pipeline (MediaPipe, SciPy) and, with --ray, Ray.
    from engine.preview.encode import check_encoder
    from engine.scale.runner import failures_error, run_batch, summary

    options = options_from(args)
    if options.preview:
        check_encoder(options.preview_options.codec)
    # stdout carries JSON events with --progress json; the table then goes to stderr with the logs.
    report = run_batch(options, reporter, sys.stderr if options.progress == "json" else sys.stdout)
    if options.progress == "json":
        reporter.result(str(report.report_path), summary(report))
    if report.failed:
        raise failures_error(report)
