"""ARKit-52 blendshape names and matching them to the names artists give blendShape targets.
Pure Python: never imports maya."""
from __future__ import annotations

import json
from functools import lru_cache
from typing import Dict, Iterable, List, Optional

from . import paths


@lru_cache(maxsize=None)
def arkit_names() -> List[str]:
    """The 52 ARKit blendshape names (eyeBlinkLeft ... tongueOut)."""
    with open(paths.arkit_table_path(), "r") as handle:
        return list(json.load(handle)["names"])


def _bare(name: str) -> str:
    """"|grp|ns:head_EyeBlinkLeft" -> "head_eyeblinkleft" (no path, no namespace, lower case)."""
    return name.rsplit("|", 1)[-1].rsplit(":", 1)[-1].lower()


def match_arkit_name(candidate: str) -> Optional[str]:
    """The ARKit name a target/weight name stands for: equal ignoring case and namespace, or ending in
    "_<name>" / ".<name>" (prefixes such as "ARKit_" or "head_"); None when it is none of them."""
    bare = _bare(candidate)
    for name in arkit_names():
        lower = name.lower()
        if bare == lower or bare.endswith("_" + lower):
            return name
    return None


def match_arkit_targets(candidates: Iterable[str]) -> Dict[str, str]:
    """{ARKit name: candidate} for the candidates that stand for an ARKit shape (the first one wins)."""
    found: Dict[str, str] = {}
    for candidate in candidates:
        name = match_arkit_name(candidate)
        if name and name not in found:
            found[name] = candidate
    return found
