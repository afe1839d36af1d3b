"""Cancel honoured on every platform (issue 19): the dialog's EngineProcess writes "cancel" on the engine's
stdin; the engine (engine/cli.py watch_stdin) raises the same Cancelled as on SIGTERM, so it removes its
temporary take folder and exits with 130. terminate() and kill() are only the last resort: on Windows
QProcess.terminate() posts WM_CLOSE, which a console program never sees, so the tests make terminate() do
nothing, as it does there."""
from __future__ import annotations

import json
import os
import signal
import sys
import time

import pytest

from retarget_maya import defaults, engine_process, protocol
from retarget_maya.engine_process import EngineProcess
from retarget_maya.qt import QtCore
from test_maya_dialog import FAKE_ENGINE, wait_until


@pytest.fixture
def windows_terminate(monkeypatch):
    """QProcess.terminate() as it behaves for a console program on Windows: nothing happens."""
    calls = []
    monkeypatch.setattr(engine_process, "terminate_process", lambda process: calls.append(time.time()))
    return calls


def leftovers(folder, out_name):
    return [n for n in os.listdir(folder) if n.startswith("." + out_name) or n == out_name]


# The engine's own Python (a Maya-side test environment, e.g. the PySide2 one .ci/run makes, has no engine).
ENGINE_PYTHON = os.environ.get("FACERETARGET_TEST_ENGINE_PYTHON", sys.executable)


def start(qt_app, python, request, entry=protocol.DEFAULT_ENTRY):
    engine = EngineProcess()
    progress, outcomes = [], []
    engine.progress.connect(progress.append)
    engine.finished.connect(outcomes.append)
    engine.start(python, request, entry)
    return engine, progress, outcomes


def test_the_real_engine_cancels_on_its_stdin(qt_app, shared_data, tmp_path, windows_terminate):
    """The engine started as the dialog starts it, on a long clip, cancelled while tracking."""
    video = shared_data / "video" / "faces" / "driving_d6.mp4"          # 1008 frames
    request = protocol.EngineRequest(video=str(video), out=str(tmp_path / "take"))
    engine, progress, outcomes = start(qt_app, ENGINE_PYTHON, request)
    wait_until(qt_app, lambda: any(e.stage == "track" and e.done >= 30 for e in progress) or outcomes,
               timeout=120)
    assert not outcomes, outcomes[0].describe_failure()
    asked = time.time()
    engine.cancel()
    wait_until(qt_app, lambda: outcomes, timeout=60)
    outcome = outcomes[0]
    assert outcome.exit_code == 130 and outcome.cancelled, outcome.stderr_tail
    assert outcome.error.startswith("cancelled")
    assert windows_terminate == [] and time.time() - asked < defaults.CANCEL_GRACE_MS / 1000.0
    assert leftovers(tmp_path, "take") == []


def behaviour(tmp_path, **options):
    path = tmp_path / "clip.mp4"
    path.write_text(json.dumps(dict(mode="slow", delay=0.02, **options)))
    return protocol.EngineRequest(video=str(path), out=str(tmp_path / "take"))


def test_cancel_cleans_up_where_terminate_is_ignored(qt_app, tmp_path, windows_terminate):
    engine, progress, outcomes = start(qt_app, sys.executable, behaviour(tmp_path, terminate="ignore"), FAKE_ENGINE)
    wait_until(qt_app, lambda: len(progress) >= 3)
    engine.cancel()
    wait_until(qt_app, lambda: outcomes)
    assert outcomes[0].exit_code == 130 and outcomes[0].cancelled
    assert "cancelled (stdin)" in outcomes[0].stderr_tail and windows_terminate == []
    assert leftovers(tmp_path, "take") == []


def test_an_engine_deaf_to_cancel_is_terminated_then_killed(qt_app, tmp_path, monkeypatch):
    monkeypatch.setattr(defaults, "CANCEL_GRACE_MS", 300)
    terminated = []
    original = engine_process.terminate_process
    monkeypatch.setattr(engine_process, "terminate_process",
                        lambda process: (terminated.append(time.time()), original(process)))
    request = behaviour(tmp_path, terminate="ignore", cancel="ignore")
    engine, progress, outcomes = start(qt_app, sys.executable, request, FAKE_ENGINE)
    wait_until(qt_app, lambda: len(progress) >= 3)
    asked = time.time()
    engine.cancel()
    engine.cancel()                                   # a second click changes nothing
    wait_until(qt_app, lambda: outcomes)
    assert len(terminated) == 1 and terminated[0] - asked >= 0.25
    assert outcomes[0].cancelled and outcomes[0].exit_code != 130         # killed: no cleanup possible
    assert time.time() - asked >= 0.55


@pytest.fixture
def sigterm_calls():
    calls = []
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: calls.append(signum))
    yield calls
    signal.signal(signal.SIGTERM, previous)


def wait_for(condition, seconds=2.0):
    deadline = time.time() + seconds
    while not condition() and time.time() < deadline:
        time.sleep(0.01)
    return condition()


def test_watch_stdin_reacts_to_the_cancel_line_only(sigterm_calls):
    from engine import cli

    read_end, write_end = os.pipe()
    cli.watch_stdin(read_end)
    os.write(write_end, b"hello\ncan")
    assert not wait_for(lambda: sigterm_calls, 0.3)
    os.write(write_end, b"cel\r\n")
    assert wait_for(lambda: sigterm_calls) and sigterm_calls == [signal.SIGTERM]
    os.close(write_end)
    os.close(read_end)


def test_the_end_of_stdin_is_no_cancel(sigterm_calls):
    from engine import cli

    read_end, write_end = os.pipe()
    cli.watch_stdin(read_end)
    os.write(write_end, b"status\n")
    os.close(write_end)                               # a parent that closes stdin, or </dev/null
    assert not wait_for(lambda: sigterm_calls, 0.5)
    os.close(read_end)
