"""Errors the engine reports to its user: a message, a hint how to fix it, and an exit code."""
from __future__ import annotations

# Exit codes: documented in the README; the Maya dialog shows the message and hint, not the code.
EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_BAD_INPUT = 2
EXIT_NO_FACE = 3
EXIT_MODEL_MISSING = 4         # also a missing video encoder (preview)
EXIT_CLIPS_FAILED = 5          # batch: the batch ran, but at least one clip failed (see its report)
EXIT_CANCELLED = 130


class EngineError(Exception):
    """A failure the user can act on."""

    exit_code = EXIT_BAD_INPUT

    def __init__(self, message: str, hint: str = ""):
        super().__init__(message)
        self.message = message
        self.hint = hint


class BadInput(EngineError):
    exit_code = EXIT_BAD_INPUT


class MalformedInput(BadInput, ValueError):
    """A file or datagram whose content is damaged or of another kind. Also a ValueError, so the low-level
    parsers that promise ValueError (engine.export.livelink) keep their contract."""


class NoFaceFound(EngineError):
    exit_code = EXIT_NO_FACE


class ModelMissing(EngineError):
    exit_code = EXIT_MODEL_MISSING


class Cancelled(EngineError):
    exit_code = EXIT_CANCELLED

    def __init__(self, message: str = "cancelled", hint: str = ""):
        super().__init__(message, hint)
