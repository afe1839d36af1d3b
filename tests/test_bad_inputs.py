"""The bad-input corpus (tests/bad_inputs/corpus.py) through every command, each case as a subprocess:
the documented exit code, a one-line error naming the problem (and a hint), no traceback, nothing written
at the output or beside it, every input unchanged."""
from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.bad_inputs.corpus import CASES, Case, make_corpus
from tests.videos import write_video

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("bad_inputs")
    make_corpus(folder)
    return folder


def snapshot(folder: Path) -> dict[str, str]:
    """Every entry of the folder (recursively) -> a hash of its content (regular files) or its kind."""
    entries = {}
    for path in sorted(folder.rglob("*")):
        key = str(path.relative_to(folder))
        if path.is_symlink() or not (path.is_file() or path.is_dir()):
            entries[key] = "special"
        elif path.is_dir():
            entries[key] = "folder"
        else:
            entries[key] = hashlib.sha256(path.read_bytes()).hexdigest()
    return entries


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_a_bad_input_fails_cleanly(case: Case, corpus: Path):
    before = snapshot(corpus)
    proc = subprocess.run([sys.executable, "-m", "engine", *case.command(corpus)], cwd=REPO, capture_output=True,
                          text=True, timeout=300, stdin=subprocess.DEVNULL)
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error: ")]
    assert proc.returncode == case.exit_code, (proc.returncode, proc.stderr[-1500:])
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    assert len(errors) == 1, proc.stderr[-1500:]
    message = errors[0].lower()
    assert all(word.lower() in message for word in case.words), errors[0]
    assert any(line.startswith("hint: ") for line in proc.stderr.splitlines()), proc.stderr[-800:]
    for name in case.outputs:
        assert not (corpus / name).exists(), name
    assert snapshot(corpus) == before, "the corpus folder changed (an output or leftover beside it, or an input)"


@pytest.fixture(scope="module")
def long_faceless_clip(tmp_path_factory) -> Path:
    """50 s without a face: a run of it (~3 s) outlasts every delay below (the 12-frame corpus clip no longer does:
    start-up got fast enough for the whole run to end within 0.8 s)."""
    return write_video(tmp_path_factory.mktemp("faceless") / "grey_50s.mp4",
                       [np.full((120, 160, 3), 90 + (i % 7), np.uint8) for i in range(1500)])


@pytest.mark.parametrize("delay", [0.05, 0.2, 0.4, 0.8])
def test_ctrl_c_while_the_engine_loads_is_a_clean_cancel(delay: float, long_faceless_clip: Path, corpus: Path):
    import signal
    import time

    # Ctrl+C as a terminal sends it: a test run started in the background (`make test &`) ignores SIGINT, and
    # a child inherits that, so the engine is started with the default disposition.
    proc = subprocess.Popen([sys.executable, "-m", "engine", "run", "--video", str(long_faceless_clip), "--out",
                             str(corpus / "out")], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    time.sleep(delay)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=120)
    if "init_import_site" in stderr:   # interrupted inside Python's own start-up, before any engine code
        return
    # 130: our cancel; -SIGINT: interrupted before Python had started (nothing of ours ran)
    assert proc.returncode in (130, -signal.SIGINT), (proc.returncode, stderr[-1500:])
    assert "Traceback" not in stderr, stderr[-3000:]
    assert not (corpus / "out").exists()
