"""The MetaHuman face board as the Maya side needs it: the control table, Maya attribute spelling, and
telling which rig generation a set of node names belongs to. Pure Python: never imports maya.
"""
from __future__ import annotations

import json
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache
from typing import Dict, Iterable, List, Optional, Tuple

from . import paths

RIG_GENERATIONS = ("mh4", "legacy")

# Our attribute names use the short axis ("CTRL_L_brow_down.ty"); Maya's cmds accept both, but the
# API's findPlug and the fake in the tests use the long name, so one spelling is used everywhere.
MAYA_ATTRIBUTE = {"tx": "translateX", "ty": "translateY"}

# Controls that only one generation has: MH4 replaced CTRL_C_eye/CTRL_C_tongue with the split tongue
# controls (CTRL_C_tongue_move, ...). They decide the generation before any counting does.
LEGACY_ONLY_MARKERS = ("CTRL_C_eye", "CTRL_C_tongue")
MH4_ONLY_MARKERS = ("CTRL_C_tongue_move", "CTRL_C_tongue_tipMove", "CTRL_C_tongue_bendTwist")

# A namespace is a face board when it holds at least this share of a generation's controls; a stray
# node named CTRL_C_jaw does not make a rig.
MIN_CONTROL_SHARE = 0.5


@dataclass(frozen=True)
class BoardAttribute:
    """One keyable face-board attribute ("CTRL_L_brow_down.ty") with its range and default."""

    attr: str
    control: str
    axis: str
    min: float
    max: float
    default: float

    @property
    def maya_attribute(self) -> str:
        """"translateX" / "translateY"."""
        return MAYA_ATTRIBUTE[self.axis]


@lru_cache(maxsize=None)
def _table() -> dict:
    with open(paths.faceboard_table_path(), "r") as handle:
        return json.load(handle)


def load_board(rig: str) -> Tuple[BoardAttribute, ...]:
    """The 174 attributes of a rig generation ("mh4" or "legacy"), in the table's order."""
    if rig not in RIG_GENERATIONS:
        raise ValueError("unknown rig generation %r; expected one of %s" % (rig, ", ".join(RIG_GENERATIONS)))
    return _board(rig)


@lru_cache(maxsize=None)
def _board(rig: str) -> Tuple[BoardAttribute, ...]:
    return tuple(
        BoardAttribute(a["attr"], a["control"], a["axis"], float(a["min"]), float(a["max"]), float(a["default"]))
        for a in _table()["rigs"][rig]
    )


def board_controls(rig: str) -> List[str]:
    """The control (transform) names of a generation, each once, in table order."""
    return list(OrderedDict.fromkeys(a.control for a in load_board(rig)))


def all_control_names() -> List[str]:
    names: List[str] = []
    for rig in RIG_GENERATIONS:
        names.extend(board_controls(rig))
    return list(OrderedDict.fromkeys(names))


def split_attribute(name: str) -> Tuple[str, str]:
    """"CTRL_L_brow_down.ty" -> ("CTRL_L_brow_down", "translateY")."""
    control, _, axis = name.rpartition(".")
    if not control or axis not in MAYA_ATTRIBUTE:
        raise ValueError("not a face-board attribute: %r (expected CTRL_....tx or .ty)" % name)
    return control, MAYA_ATTRIBUTE[axis]


def short_name(node: str) -> str:
    """"|grp|MH:CTRL_C_jaw" -> "CTRL_C_jaw" (no DAG path, no namespace)."""
    return node.rsplit("|", 1)[-1].rsplit(":", 1)[-1]


def namespace_of(node: str) -> str:
    """"|grp|MH:sub:CTRL_C_jaw" -> "MH:sub" ("" for the root namespace)."""
    leaf = node.rsplit("|", 1)[-1]
    return leaf.rpartition(":")[0]


def classify_generation(short_names: Iterable[str]) -> Optional[str]:
    """"mh4", "legacy" or None for a set of control names (namespace already stripped)."""
    present = set(short_names)
    if any(m in present for m in LEGACY_ONLY_MARKERS):
        return "legacy"
    if any(m in present for m in MH4_ONLY_MARKERS):
        return "mh4"
    # No marker (a partial board): the generation whose controls are best represented, if enough are.
    best: Optional[str] = None
    best_share = 0.0
    for rig in RIG_GENERATIONS:
        controls = board_controls(rig)
        share = sum(1 for c in controls if c in present) / float(len(controls))
        if share > best_share:
            best, best_share = rig, share
    return best if best_share >= MIN_CONTROL_SHARE else None


def group_controls_by_namespace(nodes: Iterable[str]) -> "OrderedDict[str, Dict[str, str]]":
    """Face-board controls among `nodes`, grouped by namespace: {namespace: {short name: node}}.

    When two nodes of one namespace share a short name (two boards imported without namespaces), the
    first one is kept; the rig lookup reports the duplicate."""
    known = set(all_control_names())
    groups: "OrderedDict[str, Dict[str, str]]" = OrderedDict()
    for node in nodes:
        short = short_name(node)
        if short not in known:
            continue
        groups.setdefault(namespace_of(node), {}).setdefault(short, node)
    return groups


def is_face_board(short_names: Iterable[str]) -> bool:
    present = set(short_names)
    generation = classify_generation(present)
    if generation is None:
        return False
    controls = board_controls(generation)
    return sum(1 for c in controls if c in present) >= MIN_CONTROL_SHARE * len(controls)
