"""How each ARKit channel is solved: the per-channel table in engine/solve/data/channels.json.

For every channel the table says which estimate to trust (`blend`: 0 = MediaPipe's calibrated score,
1 = the landmark-space fit, in between = a mix), the range normalisation of each estimate (`gain`,
`fit_gain`), how strongly the landmark fit is pulled towards MediaPipe's score (`prior_weight`), and the
dead zone below which the output reads 0 (`deadzone`), with a `why` for each. The numbers come from the
benchmark's dev split (tools/tune_channels.py), never from its test identities.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from engine.rig.arkit import ARKIT_NAMES

TABLE = Path(__file__).resolve().parent / "data" / "channels.json"
FIELDS = ("blend", "gain", "fit_gain", "prior_weight", "deadzone")
DEFAULTS = {"blend": 0.0, "gain": 1.0, "fit_gain": 1.0, "prior_weight": 0.05, "deadzone": 0.0}


@dataclass(frozen=True)
class ChannelTable:
    blend: np.ndarray
    gain: np.ndarray
    fit_gain: np.ndarray
    prior_weight: np.ndarray
    deadzone: np.ndarray


@lru_cache(maxsize=4)
def load_channels(path: str | None = None) -> ChannelTable:
    p = Path(path) if path else TABLE
    rows = json.loads(p.read_text())["channels"] if p.is_file() else {}
    unknown = set(rows) - set(ARKIT_NAMES)
    if unknown:
        raise ValueError(f"{p}: unknown channels {sorted(unknown)}")
    values = {f: np.array([float(rows.get(n, {}).get(f, DEFAULTS[f])) for n in ARKIT_NAMES]) for f in FIELDS}
    return ChannelTable(**values)
