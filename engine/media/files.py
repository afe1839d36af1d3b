"""Checks every input file gets before it is opened, with the same messages for video and audio."""
from __future__ import annotations

from pathlib import Path

from engine.errors import BadInput


def check_input_file(path: str | Path, kind: str) -> Path:
    """`path` as a Path, or BadInput saying why it cannot be an input `kind` ("video", "audio")."""
    path = Path(path)
    if not path.exists():
        raise BadInput(f"{kind} not found: {path}", "check the path; it must be an existing file")
    if path.is_dir():
        raise BadInput(f"{kind} path is a folder: {path}", f"give the {kind} file itself")
    if path.stat().st_size == 0:
        raise BadInput(f"{kind} file is empty (0 bytes): {path}", "the recording or copy did not finish")
    return path
