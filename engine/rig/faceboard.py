"""The MetaHuman face board as data: attributes, ranges, and face board <-> raw curve conversion.

Every face-board attribute drives its raw CTRL_expressions_* curves through piecewise-linear segments
(engine/rig/data/faceboard.json). No raw curve is driven by two attributes, so the table can be inverted
attribute by attribute: for each attribute we find the value whose predicted raw curves are closest (least
squares) to the given ones, checking every linear piece between breakpoints.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from engine.config.rigs import DEFAULT_RIG, RIG_GENERATIONS

DATA_DIR = Path(__file__).resolve().parent / "data"


@dataclass(frozen=True)
class Segment:
    raw_curve: str
    in_from: float
    in_to: float
    out_at_from: float
    out_at_to: float

    def evaluate(self, x: np.ndarray) -> np.ndarray:
        """Raw value for face-board values x; 0 outside [in_from, in_to]."""
        inside = (x >= self.in_from) & (x <= self.in_to)
        t = (x - self.in_from) / (self.in_to - self.in_from)
        return np.where(inside, self.out_at_from + t * (self.out_at_to - self.out_at_from), 0.0)


@dataclass(frozen=True)
class Attribute:
    attr: str          # "CTRL_L_brow_down.ty"
    control: str       # "CTRL_L_brow_down"
    axis: str          # "tx" or "ty"
    min: float
    max: float
    default: float
    widget_2d: bool
    legacy_174_index: int | None
    segments: tuple[Segment, ...]

    @property
    def raw_curves(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(s.raw_curve for s in self.segments))

    def to_raw(self, x: np.ndarray) -> dict[str, np.ndarray]:
        """Raw curves driven by this attribute. Segments of one curve never overlap except at an end
        point, where they agree, so the maximum-magnitude contribution is the value."""
        out: dict[str, np.ndarray] = {}
        for seg in self.segments:
            value = seg.evaluate(x)
            prev = out.get(seg.raw_curve)
            out[seg.raw_curve] = value if prev is None else np.where(np.abs(value) > np.abs(prev), value, prev)
        return out

    def from_raw(self, raw: dict[str, np.ndarray], n: int) -> np.ndarray:
        """The attribute value (n frames) whose raw curves best match `raw` (missing curves = 0)."""
        curves = self.raw_curves
        if not curves:
            return np.full(n, self.default)
        target = np.stack([np.asarray(raw.get(c, np.zeros(n)), dtype=float) for c in curves], axis=1)
        breaks = sorted({self.min, self.max, *(b for s in self.segments for b in (s.in_from, s.in_to))})
        best_x = np.full(n, self.default)
        best_err = np.full(n, np.inf)
        for lo, hi in zip(breaks[:-1], breaks[1:]):
            if hi <= lo:
                continue
            # On [lo, hi] every curve is affine in x: p(x) = a + b * x.
            p = _piece_end_values(self, curves, lo, hi)
            b = (p[:, 1] - p[:, 0]) / (hi - lo)
            a = p[:, 0] - b * lo
            bb = float(b @ b)
            x = np.full(n, (lo + hi) / 2) if bb == 0 else (target - a) @ b / bb
            x = np.clip(x, lo, hi)
            err = ((a[None, :] + x[:, None] * b[None, :] - target) ** 2).sum(axis=1)
            better = err < best_err - 1e-12
            best_x = np.where(better, x, best_x)
            best_err = np.where(better, err, best_err)
        return best_x


def _piece_end_values(attr: Attribute, curves: tuple[str, ...], lo: float, hi: float) -> np.ndarray:
    """Values of each curve at the ends of [lo, hi], taken just inside the interval so that a segment
    that ends at `lo` does not leak its end value into the next piece."""
    eps = (hi - lo) * 1e-9
    inner = attr.to_raw(np.array([lo + eps, hi - eps]))
    out = np.stack([inner.get(c, np.zeros(2)) for c in curves], axis=0)
    # extrapolate back to the exact ends (the pieces are affine)
    slope = (out[:, 1] - out[:, 0]) / (hi - lo - 2 * eps)
    return np.stack([out[:, 0] - slope * eps, out[:, 1] + slope * eps], axis=1)


class FaceBoard:
    """The face board of one rig generation ("mh4" or "legacy")."""

    def __init__(self, rig: str, attributes: list[Attribute]):
        self.rig = rig
        self.attributes = attributes
        self.names = [a.attr for a in attributes]
        self._by_name = {a.attr: a for a in attributes}
        self.raw_curve_names = sorted({c for a in attributes for c in a.raw_curves})
        self.mins = np.array([a.min for a in attributes])
        self.maxs = np.array([a.max for a in attributes])
        self.defaults = np.array([a.default for a in attributes])

    def __getitem__(self, attr: str) -> Attribute:
        return self._by_name[attr]

    def __contains__(self, attr: str) -> bool:
        return attr in self._by_name

    def clamp(self, values: np.ndarray) -> np.ndarray:
        """Clamp a (frames x attributes) array to every attribute's range."""
        return np.clip(values, self.mins, self.maxs)

    def to_raw(self, values: np.ndarray) -> np.ndarray:
        """(frames x attributes) face-board values -> (frames x raw curves)."""
        values = np.atleast_2d(values)
        index = {c: i for i, c in enumerate(self.raw_curve_names)}
        raw = np.zeros((values.shape[0], len(index)))
        for j, attr in enumerate(self.attributes):
            for curve, v in attr.to_raw(values[:, j]).items():
                raw[:, index[curve]] = v
        return raw

    def from_raw(self, raw: np.ndarray, curve_names: list[str] | None = None) -> np.ndarray:
        """(frames x raw curves) -> (frames x attributes), each attribute inverted on its own curves."""
        raw = np.atleast_2d(raw)
        names = curve_names or self.raw_curve_names
        columns = {c: raw[:, i] for i, c in enumerate(names)}
        n = raw.shape[0]
        out = np.stack([a.from_raw(columns, n) for a in self.attributes], axis=1)
        out[np.abs(out) < 1e-12] = 0.0   # rounding residue of the piecewise projection, not a pose
        return self.clamp(out)


@lru_cache(maxsize=None)
def load_faceboard(rig: str = DEFAULT_RIG) -> FaceBoard:
    if rig not in RIG_GENERATIONS:
        raise ValueError(f"unknown rig generation {rig!r}; expected one of {', '.join(RIG_GENERATIONS)}")
    doc = json.loads((DATA_DIR / "faceboard.json").read_text())
    attributes = [
        Attribute(
            attr=a["attr"], control=a["control"], axis=a["axis"], min=a["min"], max=a["max"],
            default=a["default"], widget_2d=a["widget_2d"], legacy_174_index=a["legacy_174_index"],
            segments=tuple(Segment(*s) for s in a["segments"]),
        )
        for a in doc["rigs"][rig]
    ]
    return FaceBoard(rig, attributes)
