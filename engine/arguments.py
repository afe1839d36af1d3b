"""Command-line options every stage CLI spells the same way (`engine/<stage>/cli.py` import them here).

Defaults come from engine.config, the one source of defaults; this module sits on the engine's lowest
floor with it, so a stage CLI never imports the top-level CLI (engine/cli.py) that registers it.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from engine.config import RunOptions
from engine.config.rigs import DEFAULT_RIG, RIG_GENERATIONS

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
