"""Control groups of the face board, as data: which attributes a learned model may replace or blend.

Each attribute belongs to the first group whose name patterns (fnmatch, `?` = L/R/C) match it; the table
below is the only place that says so. Display order is the order of GROUP_NAMES.
"""
from __future__ import annotations

from fnmatch import fnmatchcase
from functools import lru_cache

from engine.errors import BadInput

GROUP_NAMES = ("brows", "eyes", "nose", "cheeks", "mouth", "jaw", "tongue", "other")

# (group, patterns) in matching order: specific rules first (cheekRaise lives on the eye control but is a
# cheek; suckBlow on the mouth control but puffs the cheeks).
MATCH_ORDER: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("cheeks", ("CTRL_?_eye_cheekRaise.*", "CTRL_?_mouth_suckBlow.*")),
    ("brows", ("CTRL_?_brow_*",)),
    ("eyes", ("CTRL_?_eye.*", "CTRL_?_eye_*", "CTRL_?_eyelashes_*", "CTRL_lookAtSwitch.*")),
    ("nose", ("CTRL_?_nose.*", "CTRL_?_nose_*")),
    ("tongue", ("CTRL_C_tongue*",)),
    ("jaw", ("CTRL_C_jaw.*", "CTRL_C_jaw_*", "CTRL_?_jaw_*", "CTRL_C_teeth*")),
    ("mouth", ("CTRL_C_mouth.*", "CTRL_C_mouth_*", "CTRL_?_mouth_*")),
    ("other", ("*",)),                 # neck, ears, neck corrective multipliers
)

# The audio model's lip-sync counterpart: what speech determines.
SPEECH_GROUPS = ("mouth", "jaw", "tongue")


def group_of(attr: str) -> str:
    for group, patterns in MATCH_ORDER:
        if any(fnmatchcase(attr, p) for p in patterns):
            return group
    return "other"


@lru_cache(maxsize=None)
def _groups(names: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(group_of(n) for n in names)


def groups_of(names) -> list[str]:
    return list(_groups(tuple(names)))


def group_columns(names) -> dict[str, list[int]]:
    """Group -> column indices of `names` (groups without attributes are left out), in GROUP_NAMES order."""
    groups = groups_of(names)
    out = {g: [i for i, x in enumerate(groups) if x == g] for g in GROUP_NAMES}
    return {g: cols for g, cols in out.items() if cols}


def parse_group_weights(spec: str | None) -> dict[str, float]:
    """'mouth,jaw=0.5' -> {'mouth': 1.0, 'jaw': 0.5}; 'all' (alone or with overrides) covers every group;
    '' or 'none' -> {}."""
    weights: dict[str, float] = {}
    if spec is None or spec.strip().lower() in ("", "none"):
        return weights
    for item in spec.split(","):
        item = item.strip()
        if not item:
            continue
        name, _, value = item.partition("=")
        name = name.strip().lower()
        try:
            weight = float(value) if value else 1.0
        except ValueError:
            raise BadInput(f"bad weight in control group spec {item!r}", "write group=weight, e.g. mouth=0.5")
        if not 0.0 <= weight <= 1.0:
            raise BadInput(f"control group weight {weight} for {name!r} is outside 0..1",
                           "1 replaces the pipeline's values, 0.5 blends half and half")
        if name == "all":
            weights.update({g: weight for g in GROUP_NAMES})
        elif name in GROUP_NAMES:
            weights[name] = weight
        else:
            raise BadInput(f"unknown control group {name!r}", f"use 'all' or any of: {', '.join(GROUP_NAMES)}")
    return weights


def column_weights(names, weights: dict[str, float]):
    """Per-column blend weights (numpy array) for the attribute `names`."""
    import numpy as np

    return np.array([weights.get(g, 0.0) for g in groups_of(names)], dtype=float)
