"""`faceretarget-engine demo`: make a sample clip of a synthetic actor (no downloads), calibrate that actor
from a neutral capture made the same way, and retarget the clip (the README's first command)."""
from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from engine.arguments import add_overwrite_option, add_progress_option, number
from engine.config import RunOptions
from engine.pipeline.cli import add_take_options, options_from
from engine.protocol import Reporter

DEMO_NEUTRAL_S = 1.5    # the demo's neutral capture: the synthetic actor at rest


def register(subparsers) -> None:
    demo = subparsers.add_parser("demo", help="make a sample clip (no downloads) and retarget it")
    demo.add_argument("--out", type=Path, default=Path("demo_take"), help="take folder (replaced if it is a take)")
    demo.add_argument("--seconds", type=number(float, 1, 600), default=8.0, help="length of the generated clip")
    add_overwrite_option(demo)
    add_progress_option(demo)
    add_take_options(demo)
    demo.set_defaults(handler=command_demo)


def command_demo(args: argparse.Namespace, reporter: Reporter) -> None:
    # Here, not above: the tracker, the encoder and the pipeline load only when the demo runs.
    from engine.demo.sample import SampleScript, default_script, make_sample_clip
    from engine.demo.summary import summarize_take
    from engine.pipeline import run
    from engine.solve.capture import calibrate_video

    options: RunOptions = options_from(args)
    options.overwrite = True
    with tempfile.TemporaryDirectory(prefix="faceretarget-demo-") as tmp:
        clip = Path(tmp) / "sample.mp4"
        reporter.progress("sample", 0, 1)
        make_sample_clip(clip, default_script(args.seconds), model_path=options.model_path)
        if options.solve.actor is None and options.solve.neutral_time is None:
            # The recommended workflow: a neutral capture of the same (synthetic) actor, calibrated once.
            neutral = Path(tmp) / "neutral.mp4"
            make_sample_clip(neutral, SampleScript(DEMO_NEUTRAL_S), model_path=options.model_path)
            options.solve.actor = options.out.with_name(options.out.name + "_actor.json")   # kept: take.json names it
            calibrate_video(neutral, options.solve.actor, reporter, rig=options.rig, name="demo",
                            model=options.model_path, symmetric=options.symmetric)
        reporter.progress("sample", 1, 1)
        options.video = clip
        take = run(options, reporter)
    reporter.result(str(take), {"warnings": len(reporter.warnings)})
    print(summarize_take(take))
