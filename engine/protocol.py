"""How the engine talks to whoever started it.

With `--progress json` every event is one JSON object per line on stdout (the Maya dialog reads these);
otherwise a progress bar and messages go to stderr for a person at a terminal. Logs always go to stderr.
"""
from __future__ import annotations

import json
import sys
import time
from typing import TextIO


class Reporter:
    """Base reporter: collects warnings so they can also be written into take.json."""

    def __init__(self) -> None:
        self.warnings: list[dict] = []

    def progress(self, stage: str, done: int, total: int | None) -> None:
        pass

    def warning(self, code: str, message: str, **details) -> None:
        self.warnings.append({"code": code, "message": message, **details})

    def result(self, take: str, summary: dict) -> None:
        pass

    def error(self, message: str, hint: str = "") -> None:
        pass


class JsonLinesReporter(Reporter):
    """One JSON object per line on stdout; progress throttled to a few events per second per stage."""

    def __init__(self, stream: TextIO | None = None, min_interval: float = 0.1):
        super().__init__()
        self.stream = stream or sys.stdout
        self.min_interval = min_interval
        self._last: dict[str, float] = {}

    def _emit(self, event: dict) -> None:
        self.stream.write(json.dumps(event) + "\n")
        self.stream.flush()

    def progress(self, stage: str, done: int, total: int | None) -> None:
        now = time.monotonic()
        finished = total is not None and done >= total
        if not finished and now - self._last.get(stage, -1e9) < self.min_interval:
            return
        self._last[stage] = now
        self._emit({"event": "progress", "stage": stage, "done": done, "total": total})

    def warning(self, code: str, message: str, **details) -> None:
        super().warning(code, message, **details)
        self._emit({"event": "warning", "code": code, "message": message, **details})

    def result(self, take: str, summary: dict) -> None:
        self._emit({"event": "result", "take": take, **summary})

    def error(self, message: str, hint: str = "") -> None:
        self._emit({"event": "error", "message": message, "hint": hint})


class HumanReporter(Reporter):
    """A one-line progress bar per stage on stderr."""

    def __init__(self, stream: TextIO | None = None):
        super().__init__()
        self.stream = stream or sys.stderr
        self._stage: str | None = None
        self._last = 0.0
        self._shown: tuple[str, int] | None = None

    def progress(self, stage: str, done: int, total: int | None) -> None:
        now = time.monotonic()
        finished = total is not None and done >= total
        if (stage, done) == self._shown or (stage == self._stage and not finished and now - self._last < 0.2):
            return
        self._stage, self._last, self._shown = stage, now, (stage, done)
        if total:
            filled = int(30 * min(done, total) / total)
            line = f"\r{stage:>8} [{'#' * filled}{'.' * (30 - filled)}] {done}/{total}"
        else:
            line = f"\r{stage:>8} {done}"
        self.stream.write(line + ("\n" if finished else ""))
        self.stream.flush()

    def warning(self, code: str, message: str, **details) -> None:
        super().warning(code, message, **details)
        self.stream.write(f"\nwarning: {message}\n")

    def result(self, take: str, summary: dict) -> None:
        self.stream.write(f"take written: {take}{_startup_note(summary)}\n")

    def error(self, message: str, hint: str = "") -> None:
        self.stream.write(f"\nerror: {message}\n" + (f"hint: {hint}\n" if hint else ""))
        self.stream.flush()


def make_reporter(mode: str) -> Reporter:
    return JsonLinesReporter() if mode == "json" else HumanReporter()


def _startup_note(summary: dict) -> str:
    """' (start-up 0.4 s of 16.2 s, 2%)' when the summary has the process's start-up and total times."""
    startup, total = summary.get("startup_s"), summary.get("total_s")
    if startup is None or not total:
        return ""
    return f" (start-up {startup:.1f} s of {total:.1f} s, {100 * startup / total:.0f}%)"
