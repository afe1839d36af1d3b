"""A tiny reader for MediaPipe's golden text protos: NormalizedLandmarkList and ClassificationList.

Only what those files use: repeated `landmark { x y z ... }` and `classification { index score label }`
blocks of scalar fields (no nesting, no escapes in strings). Not a general text-proto parser.
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np

_FIELD = re.compile(r'(\w+)\s*:\s*("(?:[^"\\]|\\.)*"|[^\s{}]+)')


def _blocks(text: str, name: str) -> list[dict[str, str]]:
    text = re.sub(r"#[^\n]*", "", text)  # comments
    blocks = [dict(_FIELD.findall(body)) for body in re.findall(rf"\b{name}\s*:?\s*{{([^{{}}]*)}}", text)]
    if not blocks:
        raise ValueError(f"no `{name} {{...}}` blocks found")
    return blocks


def read_landmarks(path: str | Path) -> np.ndarray:
    """NormalizedLandmarkList text proto -> float32 array (N, 3) of x, y, z (absent fields are 0)."""
    blocks = _blocks(Path(path).read_text(), "landmark")
    return np.array([[float(b.get(k, 0.0)) for k in ("x", "y", "z")] for b in blocks], dtype=np.float32)


def read_classifications(path: str | Path) -> list[tuple[int, float, str]]:
    """ClassificationList text proto -> [(index, score, label)] in file order."""
    blocks = _blocks(Path(path).read_text(), "classification")
    return [(int(b.get("index", 0)), float(b.get("score", 0.0)), b.get("label", '""')[1:-1]) for b in blocks]
