"""The two halves agree: every command line the Maya side builds is accepted by the engine's own parser,
and the option choices the dialog offers are the engine's. (The Maya side cannot import the engine, so
its copy of the choices is checked here.)"""
import sys
from pathlib import Path

import pytest

from engine.cli import build_parser
from engine.pipeline.cli import options_from
from engine.config import LIP_CORRECTION_MODES
from engine.rig.faceboard import RIG_GENERATIONS

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
from retarget_maya import defaults  # noqa: E402
from retarget_maya.protocol import EngineRequest, engine_arguments  # noqa: E402


@pytest.mark.parametrize("mode", defaults.LIP_CORRECTION_CHOICES)
def test_every_dialog_command_line_parses_in_the_engine(mode):
    for rig in RIG_GENERATIONS:
        request = EngineRequest(video="actor.mp4", out="take", audio="line.wav", transcript="line.txt", rig=rig,
                                lip_correction=mode, smoothing_hz=6.5, actor="profiles/hero.json")
        args = engine_arguments(request)
        assert args[:2] == ["-m", "engine"]
        parsed = build_parser().parse_args(args[2:])
        assert (parsed.command, parsed.rig, parsed.lip_correction, parsed.smoothing) == ("run", rig, mode, 6.5)
        assert options_from(parsed).solve.actor == Path("profiles/hero.json")
        assert parsed.progress == "json" and str(parsed.video) == "actor.mp4"


def test_a_live_link_csv_request_parses_as_run_arkit():
    request = EngineRequest(video="", arkit="phone/take.csv", out="take", audio="line.wav", rig="legacy",
                            lip_correction="blend", smoothing_hz=4.0)
    args = engine_arguments(request)
    assert "--video" not in args
    options = options_from(build_parser().parse_args(args[2:]))
    assert (options.arkit, options.video, options.rig, options.audio.lip_correction) == \
        (Path("phone/take.csv"), None, "legacy", "blend")
    assert options.solve.smoothing_cutoff_hz == 4.0 and options.audio.audio == Path("line.wav")


def test_minimal_request_leaves_the_engine_defaults():
    """Except symmetric tracking: the Maya side asks for it by default (defaults.DEFAULT_SYMMETRIC), the
    engine's own `run` stays single-pass."""
    args = engine_arguments(EngineRequest(video="v.mp4", out="t", lip_correction=None, smoothing_hz=None))
    parsed = vars(build_parser().parse_args(args[2:]))
    defaults_only = vars(build_parser().parse_args(["run", "--video", "v.mp4", "--out", "t", "--progress", "json"]))
    assert parsed.pop("symmetric") is defaults.DEFAULT_SYMMETRIC is True
    assert defaults_only.pop("symmetric") is False
    assert parsed == defaults_only


def test_dialog_choices_are_the_engines():
    assert set(defaults.LIP_CORRECTION_CHOICES) == set(LIP_CORRECTION_MODES)
