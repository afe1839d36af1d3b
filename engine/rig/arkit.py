"""ARKit-52 names, Live Link orders and Epic's ARKit mapping pose (engine/rig/data/arkit.json)."""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data"


@lru_cache(maxsize=None)
def _doc() -> dict:
    return json.loads((DATA_DIR / "arkit.json").read_text())


def arkit_names() -> list[str]:
    """The 52 ARKit blendshape names in Live Link UDP order (eyeBlinkLeft ... tongueOut)."""
    return list(_doc()["names"])


def livelink_names() -> dict[str, str]:
    """ARKit name -> Live Link Face's PascalCase name."""
    return dict(_doc()["livelink_names"])


def livelink_csv_order() -> list[str]:
    """The 61 Live Link Face CSV value columns in the app's order (52 shapes, head and eye rotations)."""
    return list(_doc()["livelink_csv_order"])


def livelink_udp_order() -> list[str]:
    """The 61 values of a Live Link Face UDP packet in order."""
    return list(_doc()["livelink_udp_order"])


def mapping_pose() -> dict[str, dict[str, float]]:
    """ARKit name -> {raw curve: additive weight} (Epic's Live Link mapping pose)."""
    return {k: dict(v) for k, v in _doc()["mapping_pose"].items()}


ARKIT_NAMES = arkit_names()
ARKIT_INDEX = {name: i for i, name in enumerate(ARKIT_NAMES)}
