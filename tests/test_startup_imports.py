"""`run` imports only what its work needs (issue #18): no SciPy, plotting, OpenCV, audio or learned-model
libraries for a plain video take; MediaPipe's drawing helpers stay usable when someone does draw."""
from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

from engine.protocol import HumanReporter
from tests.videos import read_frames, write_video

REPO = Path(__file__).resolve().parents[1]
HEAVY = ("scipy", "matplotlib", "cv2", "sounddevice", "torch", "ray", "pocketsphinx", "moderngl", "PIL")


def _python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=300)


def test_a_plain_video_run_loads_no_heavy_library_it_does_not_use(shared_data, tmp_path):
    clip = write_video(tmp_path / "clip.mp4", read_frames(shared_data / "video" / "faces" / "driving_d12.mp4", 20))
    proc = _python(
        "import json, sys\n"
        "from engine.cli import main\n"
        f"code = main(['run', '--video', {str(clip)!r}, '--out', {str(tmp_path / 'take')!r}])\n"
        f"print(json.dumps([code, sorted({{m.split('.')[0] for m in sys.modules}} & set({list(HEAVY)!r}))]))\n")
    code, loaded = json.loads(proc.stdout.strip().splitlines()[-1])
    assert code == 0, proc.stderr[-2000:]
    assert (tmp_path / "take" / "faceboard.csv").is_file()
    assert loaded == [], f"`run` imported {loaded}"


def test_mediapipes_drawing_helpers_load_when_used():
    proc = _python(
        "import json, sys\n"
        "from engine.track.mediapipe_import import import_mediapipe\n"
        "mp, BaseOptions, vision = import_mediapipe()\n"
        "before = 'matplotlib' in sys.modules or 'cv2' in sys.modules\n"
        "from mediapipe.tasks.python.vision import drawing_utils, drawing_styles\n"
        "style = drawing_styles.get_default_face_mesh_contours_style()\n"
        "print(json.dumps([before, callable(drawing_utils.draw_landmarks), len(style) > 0,\n"
        "                  'matplotlib' in sys.modules, vision.drawing_utils.draw_landmarks is drawing_utils.draw_landmarks]))\n")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == [False, True, True, True, True]


def test_importing_mediapipe_keeps_none_of_the_callers_frames():
    """What MediaPipe keeps from its import (an error's traceback, e.g. sounddevice's where PortAudio is
    missing) must not keep its caller's locals alive: the tracker is made inside a clip's tracking, whose
    locals hold the clip's per-frame rows."""
    proc = _python(
        "import gc, json, weakref\n"
        "from engine.track.mediapipe_import import import_mediapipe\n"
        "class Rows: pass\n"
        "def tracking():\n"
        "    rows = Rows()\n"
        "    import_mediapipe()\n"
        "    return weakref.ref(rows)\n"
        "rows = tracking()\n"
        "gc.collect()\n"
        "print(json.dumps(rows() is None))\n")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert json.loads(proc.stdout.strip().splitlines()[-1]) is True


def test_run_reports_its_start_up_share(shared_data, tmp_path):
    """The user sees how much of the wait was start-up, and the take keeps it beside the model's load."""
    clip = write_video(tmp_path / "clip.mp4", read_frames(shared_data / "video" / "faces" / "driving_d12.mp4", 10))
    proc = subprocess.run([sys.executable, "-m", "engine.cli", "run", "--video", str(clip), "--out",
                           str(tmp_path / "take"), "--progress", "json"], cwd=REPO, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["event"] == "result" and 0 < result["startup_s"] < result["total_s"]
    timings = json.loads((tmp_path / "take" / "take.json").read_text())["timings"]
    assert abs(timings["startup"] - result["startup_s"]) < 1e-3
    assert 0 < timings["model_load"] <= timings["track"]


def test_the_console_line_states_the_share():
    stream = io.StringIO()
    HumanReporter(stream).result("take", {"warnings": 0, "startup_s": 0.5, "total_s": 10.0})
    assert stream.getvalue() == "take written: take (start-up 0.5 s of 10.0 s, 5%)\n"
    stream = io.StringIO()
    HumanReporter(stream).result("take", {"warnings": 0})
    assert stream.getvalue() == "take written: take\n"
