"""Fit an ARKit-52 (+ derived features) -> face-board mapping from paired recordings.

    faceretarget-engine fit-mapping --arkit take.csv --faceboard take_faceboard.csv --out mapping.json
    faceretarget-engine run --video v.mp4 --out take --mapping mapping.json

`--arkit` is a Live Link Face CSV (or an `arkit.csv` from a take folder); `--faceboard` is a face-board
curves CSV (`time,CTRL_...` as in a take's faceboard.csv), e.g. an animator's keys baked out of Maya. The
two may have any frame rates: they are aligned by time (the ARKit curves are interpolated at the
face-board samples inside the span both cover). Times are seconds from each file's first row unless
`--offset` says the face-board file starts later.

Each face-board attribute is a bounded, ridge-regularised linear function of the inputs (the 52 ARKit
weights and the full-face mapping's derived features such as lip gap and lips-parting): weights are kept
within +-`--bound`, outputs are clamped to the attribute's range. The last `--holdout` share of the
overlap (a block at the end, so neighbouring frames do not leak) is held out and its error printed.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from engine.errors import BadInput
from engine.rig.arkit import ARKIT_NAMES
from engine.config.rigs import DEFAULT_RIG, RIG_GENERATIONS, check_rig
from engine.rig.faceboard import load_faceboard
from engine.rig.fullface import load_mapping
from engine.rig.fullface import default_times, load_mapping, signals_for

KIND = "faceretarget.fitted_mapping"
MIN_OVERLAP_S = 1.0
MIN_OVERLAP_SAMPLES = 20


@dataclass
class FitOptions:
    rig: str = DEFAULT_RIG
    ridge: float = 1e-3            # L2 penalty per unit of mean squared input (scale-free)
    bound: float = 3.0             # |weight| limit
    holdout: float = 0.2           # share of the overlap held out for the error table (block at the end)
    offset: float = 0.0            # seconds: face-board time t is ARKit time t + offset
    features: bool = True          # add the full-face mapping's derived features to the inputs


def input_names(use_features: bool) -> list[str]:
    return list(ARKIT_NAMES) + (list(load_mapping().features) if use_features else [])


def input_matrix(arkit: np.ndarray, times: np.ndarray | None, names: list[str]) -> np.ndarray:
    arkit = np.clip(np.asarray(arkit, float), 0.0, 1.0)
    if len(names) == len(ARKIT_NAMES):
        return arkit
    times = default_times(len(arkit)) if times is None else np.asarray(times, float)
    signals = signals_for(arkit, times, load_mapping())
    return np.column_stack([signals[n] for n in names])


@dataclass
class FittedMapping:
    rig: str
    inputs: list[str]
    outputs: list[str]
    weights: np.ndarray            # (inputs, outputs)
    bias: np.ndarray               # (outputs,)
    report: dict = field(default_factory=dict)

    def predict(self, arkit: np.ndarray, times: np.ndarray | None = None) -> np.ndarray:
        """(N, outputs) face-board values of the fitted attributes, clamped to their ranges."""
        board = load_faceboard(self.rig)
        x = input_matrix(arkit, times, self.inputs)
        y = x @ self.weights + self.bias
        lo = np.array([board[a].min for a in self.outputs])
        hi = np.array([board[a].max for a in self.outputs])
        return np.clip(y, lo, hi)

    def apply(self, arkit: np.ndarray, times: np.ndarray | None, rig: str) -> np.ndarray:
        """(N, 174) face-board values of `rig`: fitted attributes predicted, the others at their default."""
        if rig != self.rig:
            raise BadInput(f"this mapping was fitted for the {self.rig} rig, not {rig}", f"run with --rig {self.rig}")
        board = load_faceboard(rig)
        out = np.tile(board.defaults, (len(arkit), 1))
        pred = self.predict(arkit, times)
        for j, attr in enumerate(self.outputs):
            out[:, board.names.index(attr)] = pred[:, j]
        return board.clamp(out)

    def to_json(self) -> dict:
        return {"kind": KIND, "version": 1, "rig": self.rig, "inputs": self.inputs, "outputs": self.outputs,
                "weights": np.round(self.weights, 6).tolist(), "bias": np.round(self.bias, 6).tolist(),
                "report": self.report}


def is_fitted_mapping(path) -> bool:
    p = Path(path)
    if p.suffix != ".json" or not p.is_file():
        return False
    try:
        return json.loads(p.read_text()).get("kind") == KIND
    except ValueError:
        return False


def load_fitted_mapping(path) -> FittedMapping:
    doc = json.loads(Path(path).read_text())
    if doc.get("kind") != KIND:
        raise BadInput(f"{path} is not a fitted mapping", "make one with `faceretarget-engine fit-mapping`")
    m = FittedMapping(doc["rig"], doc["inputs"], doc["outputs"], np.array(doc["weights"], float),
                      np.array(doc["bias"], float), doc.get("report", {}))
    if m.weights.shape != (len(m.inputs), len(m.outputs)):
        raise BadInput(f"{path}: weights do not match inputs x outputs")
    return m


def align(arkit_times: np.ndarray, arkit: np.ndarray, fb_times: np.ndarray, offset: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """(face-board sample indices inside the overlap, ARKit curves interpolated at those samples)."""
    t = np.asarray(fb_times, float) - offset
    a0, a1 = float(arkit_times[0]), float(arkit_times[-1])
    inside = np.flatnonzero((t >= a0) & (t <= a1))
    overlap = (min(a1, t[-1]) - max(a0, t[0])) if len(t) else -1.0
    if overlap < MIN_OVERLAP_S or len(inside) < MIN_OVERLAP_SAMPLES:
        raise BadInput(
            f"the recordings do not overlap in time: ARKit covers {a0:.2f}-{a1:.2f}s, the face board "
            f"{t[0] + offset:.2f}-{t[-1] + offset:.2f}s (offset {offset:+.2f}s): {max(overlap, 0.0):.2f}s and "
            f"{len(inside)} face-board samples in common (need {MIN_OVERLAP_S:.0f}s and {MIN_OVERLAP_SAMPLES})",
            "pair recordings of the same performance; use --offset SECONDS if the face-board file starts later")
    values = np.column_stack([np.interp(t[inside], arkit_times, arkit[:, c]) for c in range(arkit.shape[1])])
    return inside, values


def fit(arkit_times, arkit, fb_times, fb_names, fb_values, options: FitOptions) -> FittedMapping:
    from scipy.optimize import lsq_linear

    check_rig(options.rig)
    board = load_faceboard(options.rig)
    columns = [i for i, n in enumerate(fb_names) if n in board]
    if not columns:
        raise BadInput(f"none of the face-board file's {len(fb_names)} columns is a {options.rig} face-board attribute",
                       "the file needs a time column and CTRL_*.tx/ty columns (a take's faceboard.csv); check --rig")
    inside, arkit_at = align(np.asarray(arkit_times, float), np.asarray(arkit, float), np.asarray(fb_times, float), options.offset)
    names = input_names(options.features)
    x = input_matrix(arkit_at, np.asarray(fb_times, float)[inside] - options.offset, names)
    y = np.asarray(fb_values, float)[inside][:, columns]
    outputs = [fb_names[i] for i in columns]
    n = len(x)
    cut = int(round(n * (1.0 - options.holdout))) if options.holdout > 0 else n
    cut = min(max(cut, MIN_OVERLAP_SAMPLES // 2), n)
    xt, yt = x[:cut], y[:cut]
    design = np.column_stack([xt, np.ones(len(xt))])
    scale = np.sqrt(max(float((xt ** 2).mean()), 1e-9) * len(xt))
    reg = np.sqrt(options.ridge) * scale * np.eye(design.shape[1])[:-1]      # no penalty on the bias
    a = np.vstack([design, reg])
    lb = np.r_[np.full(x.shape[1], -options.bound), -np.inf]
    ub = np.r_[np.full(x.shape[1], options.bound), np.inf]
    weights = np.zeros((x.shape[1], len(outputs)))
    bias = np.zeros(len(outputs))
    for j in range(len(outputs)):
        target = np.r_[yt[:, j], np.zeros(reg.shape[0])]
        if np.ptp(yt[:, j]) < 1e-9:          # a control that never moves: keep it where it is
            bias[j] = float(yt[0, j]) if len(yt) else board[outputs[j]].default
            continue
        sol = lsq_linear(a, target, bounds=(lb, ub), method="bvls" if a.shape[1] <= 80 else "trf")
        weights[:, j], bias[j] = sol.x[:-1], sol.x[-1]
    mapping = FittedMapping(options.rig, names, outputs, weights, bias)
    pred = mapping.predict(arkit_at, np.asarray(fb_times, float)[inside] - options.offset)
    err_train = np.abs(pred[:cut] - y[:cut]).mean(axis=0) if cut else np.zeros(len(outputs))
    err_held = np.abs(pred[cut:] - y[cut:]).mean(axis=0) if cut < n else np.full(len(outputs), np.nan)
    mapping.report = {
        "frames": {"overlap": int(n), "train": int(cut), "held_out": int(n - cut)},
        "options": {"ridge": options.ridge, "bound": options.bound, "holdout": options.holdout, "offset": options.offset},
        "train_mae": float(err_train.mean()),
        "held_out_mae": float(np.nanmean(err_held)) if cut < n else None,
        "per_output": {o: {"train_mae": round(float(e1), 5), "held_out_mae": None if np.isnan(e2) else round(float(e2), 5),
                           "range": round(float(np.ptp(y[:, j])), 5)}
                       for j, (o, e1, e2) in enumerate(zip(outputs, err_train, err_held))},
    }
    return mapping


def error_table(mapping: FittedMapping, rows: int = 25) -> str:
    per = mapping.report["per_output"]
    moving = sorted((o for o in per if per[o]["range"] > 1e-6), key=lambda o: -(per[o]["held_out_mae"] or per[o]["train_mae"]))
    lines = ["| face-board attribute | range in data | train MAE | held-out MAE |", "|---|---:|---:|---:|"]
    for o in moving[:rows]:
        h = per[o]["held_out_mae"]
        lines.append(f"| {o} | {per[o]['range']:.3f} | {per[o]['train_mae']:.4f} | {'-' if h is None else f'{h:.4f}'} |")
    f = mapping.report["frames"]
    held = mapping.report["held_out_mae"]
    lines.append(f"\n{len(moving)} moving attributes (of {len(per)}); {f['train']} training and {f['held_out']} held-out "
                 f"frames; mean MAE train {mapping.report['train_mae']:.4f}, held out "
                 f"{'-' if held is None else f'{held:.4f}'}")
    return "\n".join(lines)
