"""Phones -> visemes -> face-board and ARKit poses, all from engine/audio/data/visemes.json."""
from __future__ import annotations

import fnmatch
import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from engine.rig.arkit import ARKIT_INDEX, ARKIT_NAMES
from engine.rig.faceboard import load_faceboard

DATA = Path(__file__).resolve().parent / "data" / "visemes.json"
RAW_PREFIX = "CTRL_expressions_"
GROUPS = ("lips", "jaw", "tongue")


@lru_cache(maxsize=None)
def _doc() -> dict:
    return json.loads(DATA.read_text())


def viseme_names() -> list[str]:
    return list(_doc()["visemes"])


def mouth_classes() -> list[str]:
    return list(_doc()["mouth_classes"])


def normalize_phone(phone: str) -> str:
    """ARPAbet (any case, stress digits, Festival/TIMIT spellings, pocketsphinx fillers) -> the phone set."""
    name = re.sub(r"[0-9]", "", phone.strip().upper())
    name = _doc()["phone_aliases"].get(name, name)
    return name if name in _doc()["phone_to_viseme"] else "SIL"


def phone_viseme(phone: str) -> str:
    return _doc()["phone_to_viseme"][normalize_phone(phone)]


def viseme_class(viseme: str) -> str:
    return _doc()["visemes"][viseme]["class"]


def phone_class(phone: str) -> str:
    return viseme_class(phone_viseme(phone))


def _expand(pose: dict[str, float]) -> dict[str, float]:
    out: dict[str, float] = {}
    for name, value in pose.items():
        for side in ("L", "R") if "*" in name else ("",):
            out[name.replace("*", side)] = float(value)
    return out


@dataclass(frozen=True)
class VisemeTable:
    """Per-rig pose matrices: rows are visemes in `names` order."""

    rig: str
    names: tuple[str, ...]
    faceboard_names: tuple[str, ...]
    faceboard: np.ndarray          # (V, 174) face-board pose (defaults where the viseme says nothing)
    faceboard_group: np.ndarray    # (174,) index into GROUPS, -1 for attributes the audio never drives
    arkit: np.ndarray              # (V, 52)
    arkit_group: np.ndarray        # (52,)
    alpha: np.ndarray              # (V, 3) dominance strength per group
    theta: np.ndarray              # (V, 3) dominance decay rate (1/s) per group
    mouth_mask: np.ndarray         # (174,) bool: attributes lip correction replaces
    arkit_mouth_mask: np.ndarray   # (52,) bool

    def index(self, viseme: str) -> int:
        return self.names.index(viseme)


def _group_of(name: str) -> int:
    groups = _doc()["groups"]
    lowered = name.replace(RAW_PREFIX, "")
    for g in ("jaw", "tongue", "lips"):
        if any(lowered.startswith(p) or p in lowered for p in groups[g]):
            return GROUPS.index(g)
    return -1


@lru_cache(maxsize=None)
def viseme_table(rig: str = "mh4") -> VisemeTable:
    doc = _doc()
    board = load_faceboard(rig)
    names = tuple(doc["visemes"])
    raw_index = {c: i for i, c in enumerate(board.raw_curve_names)}
    raw = np.zeros((len(names), len(raw_index)))
    arkit = np.zeros((len(names), len(ARKIT_NAMES)))
    alpha = np.zeros((len(names), len(GROUPS)))
    theta = np.zeros((len(names), len(GROUPS)))
    for v, name in enumerate(names):
        spec = doc["visemes"][name]
        for curve, value in _expand(spec["raw"]).items():
            if RAW_PREFIX + curve in raw_index:     # a rig generation may lack a curve (legacy tongue)
                raw[v, raw_index[RAW_PREFIX + curve]] = value
        for shape, value in spec["arkit"].items():
            arkit[v, ARKIT_INDEX[shape]] = value
        for g, group in enumerate(GROUPS):
            alpha[v, g], theta[v, g] = spec["dominance"][group]
    mouth = mouth_attribute_mask(rig)
    faceboard = board.from_raw(raw)
    faceboard[:, ~mouth] = board.defaults[~mouth]     # the audio never moves anything but the mouth
    fb_group = np.array([_raw_group(board[a]) if mouth[j] else -1 for j, a in enumerate(board.names)])
    ak_mouth = arkit_mouth_mask()
    ak_group = np.array([_group_of(n) if ak_mouth[k] else -1 for k, n in enumerate(ARKIT_NAMES)])
    return VisemeTable(rig, names, tuple(board.names), faceboard, fb_group, arkit, ak_group, alpha, theta,
                       mouth, ak_mouth)


def _raw_group(attribute) -> int:
    curves = attribute.raw_curves
    return _group_of(curves[0]) if curves else -1


@lru_cache(maxsize=None)
def mouth_attribute_mask(rig: str = "mh4") -> np.ndarray:
    """(174,) True for the face-board attributes of mouth, jaw, tongue and teeth (data: mouth_controls)."""
    spec = _doc()["mouth_controls"]
    board = load_faceboard(rig)
    return np.array([any(fnmatch.fnmatchcase(n, p) for p in spec["include"])
                     and not any(fnmatch.fnmatchcase(n, p) for p in spec["exclude"]) for n in board.names])


@lru_cache(maxsize=None)
def arkit_mouth_mask() -> np.ndarray:
    spec = _doc()["mouth_controls"]
    return np.array([any(fnmatch.fnmatchcase(n, p) for p in spec["arkit_include"]) for n in ARKIT_NAMES])


def take_mouth_classes(faceboard: np.ndarray, names: list[str]) -> np.ndarray:
    """Mouth class index (into mouth_classes()) of every frame of a take's face-board curves."""
    rules = _doc()["take_classes"]
    classes = mouth_classes()
    index = {n: i for i, n in enumerate(names)}
    out = np.full(len(faceboard), classes.index("other"))
    decided = np.zeros(len(faceboard), bool)
    for cls in ("closed", "labiodental", "rounded", "open"):
        cols = [index[a] for a in rules[cls]["attrs"] if a in index]
        hit = faceboard[:, cols].mean(axis=1) >= rules[cls]["min"]
        out[hit & ~decided] = classes.index(cls)
        decided |= hit
    return out


def closure_attributes() -> list[str]:
    return list(_doc()["take_classes"]["closed"]["attrs"])


def closure_threshold() -> float:
    return float(_doc()["take_classes"]["closed"]["min"])
