"""The full-face mapping: rules that drive the face board's secondary controls from ARKit curves.

The rules are data (engine/rig/data/fullface_mapping.json): each names its family, what it does and
why, an input built from ARKit channels and named features with a few operations (min, max, product,
weighted sum, not, recent_max over time), a ramp, and the raw curves or face-board attributes it drives.
`apply_rules` adds their output on top of the mapping pose's raw curves (by max unless a rule says add).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from engine.errors import BadInput
from engine.rig.arkit import ARKIT_INDEX
from engine.config.rigs import RIG_GENERATIONS
from engine.rig.faceboard import load_faceboard

DEFAULT_MAPPING = Path(__file__).resolve().parent / "data" / "fullface_mapping.json"
OPERATIONS = ("min", "max", "product", "sum", "not", "recent_max")
DEFAULT_FPS = 30.0


@dataclass(frozen=True)
class Rule:
    family: str
    name: str
    what: str
    why: str
    input: object
    ramp: tuple[float, float]
    outputs: dict
    combine: str
    rigs: tuple[str, ...]

    def strength(self, value: np.ndarray) -> np.ndarray:
        lo, hi = self.ramp
        return np.clip((value - lo) / (hi - lo), 0.0, 1.0)


@dataclass(frozen=True)
class FullFaceMapping:
    features: dict
    rules: tuple[Rule, ...]
    path: Path

    def families(self) -> list[str]:
        return list(dict.fromkeys(r.family for r in self.rules))

    def lookback_s(self) -> float:
        """How far back in time (s) any rule looks: its recent_max windows, nested ones added up."""
        return max((reach_s(r.input, self.features) for r in self.rules), default=0.0)


def reach_s(expr, features: dict) -> float:
    """How far back in time (s) an input looks through its recent_max windows (features followed)."""
    if isinstance(expr, str):
        return reach_s(features[expr], features) if expr in features else 0.0
    if isinstance(expr, list):
        return max((reach_s(e, features) for e in expr), default=0.0)
    (op,) = [k for k in expr if k in OPERATIONS]
    arg = expr[op]
    inner = max((reach_s(k, features) for k in arg), default=0.0) if op == "sum" else reach_s(arg, features)
    return inner + (float(expr["seconds"]) if op == "recent_max" else 0.0)


def _names_in(expr) -> set[str]:
    if isinstance(expr, str):
        return {expr}
    if isinstance(expr, list):
        return set().union(*(_names_in(e) for e in expr)) if expr else set()
    if isinstance(expr, dict):
        if "recent_max" in expr:
            return _names_in(expr["recent_max"])
        out: set[str] = set()
        for op, arg in expr.items():
            if op == "sum":
                for k in arg:
                    out |= _names_in(k)
            elif op in OPERATIONS:
                out |= _names_in(arg)
        return out
    raise ValueError(f"bad expression {expr!r}")


def _check_expr(expr, known: set[str], where: str) -> None:
    if isinstance(expr, dict):
        ops = [k for k in expr if k in OPERATIONS]
        extra = set(expr) - set(OPERATIONS) - {"seconds"}
        if len(ops) != 1 or extra:
            raise BadInput(f"{where}: an input needs exactly one of {OPERATIONS}, got {sorted(expr)}")
        if ops[0] == "recent_max" and not float(expr.get("seconds", 0)) > 0:
            raise BadInput(f"{where}: recent_max needs seconds > 0")
    unknown = _names_in(expr) - known
    if unknown:
        raise BadInput(f"{where}: unknown names {sorted(unknown)}", "use ARKit names or features defined above")


@lru_cache(maxsize=8)
def load_mapping(path: str | None = None) -> FullFaceMapping:
    """Read and check a full-face mapping file (default: the project's own)."""
    p = Path(path) if path else DEFAULT_MAPPING
    try:
        doc = json.loads(p.read_text())
    except (OSError, ValueError) as exc:
        raise BadInput(f"cannot read the full-face mapping {p}: {exc}", "give a JSON file like engine/rig/data/fullface_mapping.json")
    known = set(ARKIT_INDEX)
    features = {}
    for name, spec in doc.get("features", {}).items():
        if not spec.get("what"):
            raise BadInput(f"{p.name}: feature {name!r} needs a 'what'")
        _check_expr(spec["input"], known, f"{p.name}: feature {name}")
        features[name] = spec["input"]
        known.add(name)
    rules = []
    for i, r in enumerate(doc.get("rules", [])):
        where = f"{p.name}: rule {i} ({r.get('name', '?')})"
        for key in ("family", "name", "what", "why", "input", "ramp", "outputs"):
            if key not in r or r[key] in ("", None, {}):
                raise BadInput(f"{where}: missing '{key}'", "every rule says what it does and why")
        _check_expr(r["input"], known, where)
        lo, hi = (float(x) for x in r["ramp"])
        if not 0 <= lo < hi:
            raise BadInput(f"{where}: ramp must be [start, full] with 0 <= start < full")
        rigs = tuple(r.get("rigs", RIG_GENERATIONS))
        for rig in rigs:
            board = load_faceboard(rig)
            for out in r["outputs"]:
                if out not in board.raw_curve_names and out not in board:
                    raise BadInput(f"{where}: {out} is not a raw curve or face-board attribute of the {rig} rig")
        combine = r.get("combine", "max")
        if combine not in ("max", "add"):
            raise BadInput(f"{where}: combine must be 'max' or 'add'")
        rules.append(Rule(r["family"], r["name"], r["what"], r["why"], r["input"], (lo, hi),
                          dict(r["outputs"]), combine, rigs))
    return FullFaceMapping(features, tuple(rules), p)


def recent_max(values: np.ndarray, times: np.ndarray, seconds: float) -> np.ndarray:
    """The largest value over the window (t - seconds, t] at every sample."""
    out = np.empty_like(values)
    start = np.searchsorted(times, times - seconds, side="right")
    for i in range(len(values)):
        out[i] = values[start[i]:i + 1].max()
    return out


def evaluate(expr, signals: dict[str, np.ndarray], times: np.ndarray) -> np.ndarray:
    if isinstance(expr, str):
        return signals[expr]
    (op,) = [k for k in expr if k in OPERATIONS]
    arg = expr[op]
    if op == "sum":
        value = sum(w * evaluate(k, signals, times) for k, w in arg.items())
    elif op == "not":
        value = 1.0 - evaluate(arg, signals, times)
    elif op == "recent_max":
        value = recent_max(evaluate(arg, signals, times), times, float(expr["seconds"]))
    else:
        parts = np.stack([evaluate(a, signals, times) for a in arg])
        value = {"min": parts.min(axis=0), "max": parts.max(axis=0), "product": parts.prod(axis=0)}[op]
    return np.clip(value, 0.0, 1.0)


def signals_for(arkit: np.ndarray, times: np.ndarray, mapping: FullFaceMapping) -> dict[str, np.ndarray]:
    signals = {name: np.clip(arkit[:, i], 0.0, 1.0) for name, i in ARKIT_INDEX.items()}
    for name, expr in mapping.features.items():
        signals[name] = evaluate(expr, signals, times)
    return signals


def default_times(n: int) -> np.ndarray:
    return np.arange(n) / DEFAULT_FPS


def rule_strengths(arkit: np.ndarray, times: np.ndarray | None, mapping: FullFaceMapping) -> dict[str, np.ndarray]:
    """{rule name: (N,) 0..1}: how strongly each rule fires per frame."""
    times = default_times(len(arkit)) if times is None else np.asarray(times, float)
    signals = signals_for(np.asarray(arkit, float), times, mapping)
    return {r.name: r.strength(evaluate(r.input, signals, times)) for r in mapping.rules}


def apply_rules(raw: np.ndarray, arkit: np.ndarray, times: np.ndarray | None, rig: str,
                mapping: FullFaceMapping | None = None) -> np.ndarray:
    """Raw curves (N, rig raw curves) with the rules' outputs combined in; values stay 0..1."""
    mapping = mapping or load_mapping()
    board = load_faceboard(rig)
    index = {c: i for i, c in enumerate(board.raw_curve_names)}
    out = np.array(raw, dtype=float)
    strengths = rule_strengths(arkit, times, mapping)
    for rule in mapping.rules:
        if rig not in rule.rigs:
            continue
        s = strengths[rule.name]
        for target, weight in rule.outputs.items():
            if target in board:      # a face-board attribute: its own segments give the raw curves
                for curve, value in board[target].to_raw(s * weight).items():
                    _combine(out, index[curve], value, rule.combine)
            else:
                _combine(out, index[target], s * weight, rule.combine)
    return np.clip(out, 0.0, 1.0)


def _combine(out: np.ndarray, column: int, value: np.ndarray, how: str) -> None:
    out[:, column] = out[:, column] + value if how == "add" else np.maximum(out[:, column], value)
