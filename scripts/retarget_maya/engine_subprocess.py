"""Running the engine to completion from a script (the batch entry points): the same command line,
environment and JSON-line events as the dialog's QProcess, through subprocess. Pure Python.

Cancelling: the engine started with `--progress json` stops when the line "cancel" arrives on its stdin
(CANCEL_REQUEST): it removes its temporary output and exits with 130, on every platform. That is how the
dialog cancels; terminating the process is only the last resort (on Windows, QProcess.terminate() posts
WM_CLOSE, which a console program never sees, and kill() skips the engine's cleanup)."""
from __future__ import annotations

import os
import subprocess
import threading
from dataclasses import dataclass, field
from typing import Callable, List, Mapping, Optional, Sequence

from . import protocol

CANCEL_REQUEST = b"cancel\n"          # engine/cli.py watch_stdin


@dataclass
class EngineOutcome:
    exit_code: int
    take: str = ""
    error: str = ""
    hint: str = ""
    warnings: List[protocol.EngineEvent] = field(default_factory=list)
    stderr_tail: str = ""
    cancelled: bool = False

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and bool(self.take)

    def describe_failure(self) -> str:
        if self.cancelled:
            return "cancelled"
        message = self.error or ("the engine exited with code %d" % self.exit_code)
        if self.exit_code == 0 and not self.take:
            message = "the engine finished without reporting a take"
        text = message + ((" (hint: %s)" % self.hint) if self.hint else "")
        if not self.error and self.stderr_tail:
            text += "\n" + self.stderr_tail
        return text


def run_engine(python: str, request: protocol.EngineRequest, entry: Sequence[str] = protocol.DEFAULT_ENTRY,
               on_event: Optional[Callable[[protocol.EngineEvent], None]] = None,
               environ: Optional[Mapping[str, str]] = None) -> EngineOutcome:
    """Run the engine and wait for it; events go to `on_event` as they arrive."""
    problem = protocol.check_engine_python(python)
    if problem:
        return EngineOutcome(exit_code=-1, error=problem)
    command = [python] + protocol.engine_arguments(request, entry)
    env = protocol.scrubbed_environment(os.environ if environ is None else environ)
    try:
        # stdin is a pipe of its own: the engine reads cancel requests there, and must never read (or
        # steal) the terminal input of the mayapy that started it.
        process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   env=env)
    except OSError as exc:
        return EngineOutcome(exit_code=-1, error="could not start the engine's Python %s: %s" % (python, exc))
    outcome = EngineOutcome(exit_code=0)
    stderr_lines: List[bytes] = []
    # stderr is drained by a thread so a chatty engine cannot block on a full pipe.
    drain = threading.Thread(target=lambda: stderr_lines.extend(process.stderr or []), daemon=True)
    drain.start()
    assert process.stdout is not None
    for raw in process.stdout:
        event = protocol.parse_event_line(raw.decode("utf-8", "replace"))
        if event is None:
            continue
        _record(outcome, event)
        if on_event is not None:
            on_event(event)
    outcome.exit_code = process.wait()
    if process.stdin is not None:
        process.stdin.close()
    drain.join(timeout=5)
    outcome.stderr_tail = b"".join(stderr_lines[-20:]).decode("utf-8", "replace").strip()
    return outcome


def _record(outcome: EngineOutcome, event: protocol.EngineEvent) -> None:
    if event.kind == protocol.RESULT:
        outcome.take = event.take
    elif event.kind == protocol.ERROR:
        outcome.error, outcome.hint = event.message, event.hint
    elif event.kind == protocol.WARNING:
        outcome.warnings.append(event)
