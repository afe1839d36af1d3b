"""Putting API edits on Maya's undo queue.

Edits made through maya.api (MFnAnimCurve.addKeys) are not undoable by themselves: only commands are.
The plug-in (maya_module/plug-ins/faceretarget.py) registers one undoable command that takes the edits
staged here and undoes/redoes them, the way cmdx commits its modifiers. Pure Python: never imports maya.
"""
from __future__ import annotations

from typing import Any, Callable, List


class StagedEdit:
    """One API edit that already happened, with the calls that undo and redo it."""

    def __init__(self, undo: Callable[[], Any], redo: Callable[[], Any], label: str = "") -> None:
        self.undo = undo
        self.redo = redo
        self.label = label

    def __repr__(self) -> str:
        return "StagedEdit(%s)" % self.label


_pending: List[StagedEdit] = []


def stage(edit: StagedEdit) -> None:
    _pending.append(edit)


def take_pending() -> List[StagedEdit]:
    """Called by the plug-in's command: hands over (and forgets) the staged edits."""
    edits = list(_pending)
    del _pending[:]
    return edits


def discard_pending() -> None:
    del _pending[:]


def pending_count() -> int:
    return len(_pending)
