"""The MetaHuman rig generations the engine keys: one list, one default, one check."""
from __future__ import annotations

from engine.errors import BadInput

# engine/rig/data holds each generation's face board; the first is the default wherever a rig is asked for.
RIG_GENERATIONS = ("mh4", "legacy")
DEFAULT_RIG = RIG_GENERATIONS[0]


def check_rig(rig: str) -> None:
    """BadInput (exit 2) for a rig generation the engine does not know."""
    if rig not in RIG_GENERATIONS:
        raise BadInput(f"unknown rig {rig!r}", f"use one of: {', '.join(RIG_GENERATIONS)}")
