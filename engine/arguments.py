"""Command-line options every stage CLI spells the same way (`engine/<stage>/cli.py` import them here),
and the one validation layer for what a command line can hold: numbers are finite and in their range
(`number`), sizes are sane (`size`), and a parse error is a BadInput like any other bad input (one line,
exit 2, a JSON error event with --progress json), never argparse's usage dump.

Defaults come from engine.config, the one source of defaults; this module sits on the engine's lowest
floor with it, so a stage CLI never imports the top-level CLI (engine/cli.py) that registers it.
"""
from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Callable

from engine.config import RunOptions
from engine.config.rigs import DEFAULT_RIG, RIG_GENERATIONS
from engine.errors import BadInput


class CommandLineError(BadInput):
    """A command line argparse refuses (unknown flag, missing value, a number out of range)."""


class CommandLineParser(argparse.ArgumentParser):
    """argparse, but a refused command line raises CommandLineError instead of printing usage and exiting;
    sub-command parsers are made of the same class."""

    def error(self, message: str):  # type: ignore[override]
        raise CommandLineError(f"{self.prog}: {message}", f"see `{self.prog} --help`")


def number(kind: type = float, low: float | None = None, high: float | None = None,
           above: float | None = None) -> Callable[[str], float]:
    """An argparse type: a finite number of `kind` with low <= x <= high (and x > above), else a clear
    message. NaN and infinities are never a setting."""
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {'a whole number' if kind is int else 'a number'}")
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
        if (low is not None and value < low) or (high is not None and value > high) or \
                (above is not None and value <= above):
            raise argparse.ArgumentTypeError(f"{text} is out of range ({_range_text(low, high, above)})")
        return value

    parse.__name__ = kind.__name__   # argparse names the type in its messages
    return parse


def _range_text(low, high, above) -> str:
    lower = f"above {above:g}" if above is not None else (f"at least {low:g}" if low is not None else "")
    upper = f"at most {high:g}" if high is not None else ""
    return ", ".join(part for part in (lower, upper) if part)


def size(text: str) -> tuple[int, int]:
    """WIDTHxHEIGHT in pixels, each 16-7680."""
    try:
        width, height = (int(x) for x in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT, got {text!r}") from None
    if not (16 <= width <= 7680 and 16 <= height <= 7680):
        raise argparse.ArgumentTypeError(f"{text}: width and height must be 16-7680 pixels")
    return width, height


# Ranges shared by several commands.
RATE = number(float, 1, 1000)               # frames per second
SECONDS = number(float, 0, 24 * 3600)       # a time in a recording
OFFSET = number(float, -3600, 3600)         # seconds one recording is shifted against another

PROGRESS_MODES = ("human", "json")


def add_progress_option(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    """--progress human|json: json is one event per line on stdout (what the Maya dialog reads)."""
    parser.add_argument("--progress", choices=PROGRESS_MODES, default=RunOptions().progress,
                        help="json: one event per line on stdout, for the Maya dialog")


def add_rig_option(parser: argparse.ArgumentParser | argparse._ArgumentGroup, default: str = DEFAULT_RIG,
                   what: str = "MetaHuman rig generation") -> None:
    """--rig, with the generations the engine knows."""
    parser.add_argument("--rig", choices=RIG_GENERATIONS, default=default, help=f"{what} (default: %(default)s)")


def add_overwrite_option(parser: argparse.ArgumentParser | argparse._ArgumentGroup, what: str = "take folder") -> None:
    parser.add_argument("--overwrite", action="store_true", help=f"replace an existing {what}")


def add_model_option(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    """--model: the MediaPipe Face Landmarker bundle (default: the one shipped with the engine)."""
    parser.add_argument("--model", type=Path, default=None, help="path to face_landmarker.task")
