"""The engine as a child process of Maya's UI: QProcess (never blocks Maya's main thread), the scrubbed
environment, JSON-line events turned into Qt signals, and cancel: the line "cancel" on the engine's stdin,
which it honours on every platform (it removes its partial output and exits with 130); terminate() and
then kill() only when it is still running after a grace period."""
from __future__ import annotations

import os
from typing import Optional, Sequence

from . import defaults, protocol
from .engine_subprocess import CANCEL_REQUEST, EngineOutcome
from .qt import QtCore



def terminate_process(process: QtCore.QProcess) -> None:
    """QProcess.terminate(), in one place: tests replace it to behave as on Windows (WM_CLOSE, which a
    console program never sees), and PySide2 ignores a patched QProcess method."""
    process.terminate()

class EngineProcess(QtCore.QObject):
    """One engine run. Signals carry the parsed events; `finished` always fires exactly once."""

    progress = QtCore.Signal(object)          # EngineEvent (kind "progress")
    warning = QtCore.Signal(object)           # EngineEvent (kind "warning")
    log = QtCore.Signal(str)                  # stderr lines and stray stdout lines
    finished = QtCore.Signal(object)          # EngineOutcome

    def __init__(self, parent: Optional[QtCore.QObject] = None) -> None:
        super().__init__(parent)
        self._process: Optional[QtCore.QProcess] = None
        self._stdout = protocol.LineBuffer()
        self._stderr = protocol.LineBuffer()
        self._outcome = EngineOutcome(exit_code=0)
        self._stderr_tail: list = []
        self._done = False

    # --- control ----------------------------------------------------------------------------------
    def start(self, python: str, request: protocol.EngineRequest,
              entry: Sequence[str] = protocol.DEFAULT_ENTRY) -> None:
        process = QtCore.QProcess(self)
        environment = QtCore.QProcessEnvironment()
        for key, value in protocol.scrubbed_environment(os.environ).items():
            environment.insert(key, value)
        process.setProcessEnvironment(environment)
        process.setProgram(python)
        process.setArguments(protocol.engine_arguments(request, entry))
        process.readyReadStandardOutput.connect(self._read_stdout)
        process.readyReadStandardError.connect(self._read_stderr)
        process.finished.connect(self._on_finished)
        process.errorOccurred.connect(self._on_error)
        self._process = process
        process.start()

    def cancel(self) -> None:
        """Ask the engine to stop: "cancel" on its stdin; it removes its temporary output and exits (130)
        on every platform. Only if it is still running after a grace period: terminate() (SIGTERM on
        Linux and macOS, which the engine also honours; on Windows a WM_CLOSE that a console program never
        sees), and after as long again kill(), which leaves no chance to clean up."""
        if not self.is_running() or self._outcome.cancelled:
            return
        self._outcome.cancelled = True
        assert self._process is not None
        self._process.write(CANCEL_REQUEST)
        QtCore.QTimer.singleShot(defaults.CANCEL_GRACE_MS, self._terminate_if_running)

    def is_running(self) -> bool:
        return self._process is not None and self._process.state() != QtCore.QProcess.ProcessState.NotRunning

    def process_id(self) -> int:
        return int(self._process.processId()) if self._process is not None else 0

    def wait(self, msecs: int) -> bool:
        """Block until the process ends (tests and shutdown only; the dialog never waits)."""
        return self._process is None or self._process.waitForFinished(msecs)

    # --- events -----------------------------------------------------------------------------------
    def _terminate_if_running(self) -> None:
        if self.is_running():
            assert self._process is not None
            terminate_process(self._process)
            QtCore.QTimer.singleShot(defaults.CANCEL_GRACE_MS, self._kill_if_running)

    def _kill_if_running(self) -> None:
        if self.is_running():
            assert self._process is not None
            self._process.kill()

    def _read_stdout(self) -> None:
        assert self._process is not None
        for line in self._stdout.feed(bytes(self._process.readAllStandardOutput().data())):
            self._handle_line(line)

    def _read_stderr(self) -> None:
        assert self._process is not None
        for line in self._stderr.feed(bytes(self._process.readAllStandardError().data())):
            self._stderr_tail = (self._stderr_tail + [line])[-20:]
            self.log.emit(line)

    def _handle_line(self, line: str) -> None:
        event = protocol.parse_event_line(line)
        if event is None:
            return
        if event.kind == protocol.PROGRESS:
            self.progress.emit(event)
        elif event.kind == protocol.WARNING:
            self._outcome.warnings.append(event)
            self.warning.emit(event)
        elif event.kind == protocol.RESULT:
            self._outcome.take = event.take
        elif event.kind == protocol.ERROR:
            self._outcome.error, self._outcome.hint = event.message, event.hint
        else:
            self.log.emit(event.message)

    def _on_finished(self, exit_code: int, exit_status: QtCore.QProcess.ExitStatus) -> None:
        self._read_stdout()
        for line in self._stdout.flush():
            self._handle_line(line)
        crashed = exit_status == QtCore.QProcess.ExitStatus.CrashExit
        self._outcome.exit_code = exit_code if not crashed else (exit_code or -1)
        self._finish()

    def _on_error(self, error: QtCore.QProcess.ProcessError) -> None:
        if error == QtCore.QProcess.ProcessError.FailedToStart:
            program = self._process.program() if self._process is not None else "?"
            self._outcome.exit_code = -1
            self._outcome.error = "Could not start the engine's Python: %s" % program
            self._outcome.hint = "Check the engine's Python path (the python of the engine's virtual environment)."
            self._finish()

    def _finish(self) -> None:
        if self._done:
            return
        self._done = True
        self._outcome.stderr_tail = "\n".join(self._stderr_tail)
        self.finished.emit(self._outcome)
