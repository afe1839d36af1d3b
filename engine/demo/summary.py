"""A short human summary of a take folder (printed by `faceretarget-engine demo`)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from engine.export.take import TAKE_FILES, read_curves_csv

KEY_CONTROLS = {
    "jaw open": "CTRL_C_jaw.ty",
    "blink L": "CTRL_L_eye_blink.ty",
    "blink R": "CTRL_R_eye_blink.ty",
    "smile L": "CTRL_L_mouth_cornerPull.ty",
    "smile R": "CTRL_R_mouth_cornerPull.ty",
}


def summarize_take(take: Path) -> str:
    meta = json.loads((Path(take) / "take.json").read_text())
    times, names, values = read_curves_csv(Path(take) / TAKE_FILES["faceboard"])
    lines = [
        f"take:      {take}",
        f"rig:       {meta['rig']}  ({len(names)} face-board attributes)",
        f"frames:    {meta['frame_count']} over {meta['duration']:.2f}s, face found in "
        f"{meta['tracking']['detected_share']:.0%}",
        "timings:   " + ", ".join(f"{k} {v:.2f}s" for k, v in meta["timings"].items()),
        f"warnings:  {len(meta['warnings'])}",
        "key curves (min / median / max):",
    ]
    for label, attr in KEY_CONTROLS.items():
        if attr in names:
            column = values[:, names.index(attr)]
            lines.append(f"  {label:<9} {attr:<28} {column.min():.2f} / {np.median(column):.2f} / {column.max():.2f}")
    return "\n".join(lines)
