"""One clip of a batch, run inside a worker process (a local pool process or a Ray worker).

Each worker process warms up once: it imports MediaPipe and the pipeline and resolves and verifies the
face landmarker model (sha256), then runs clip after clip with that model. The MediaPipe graph itself is
created per clip (about 30-40 ms on these machines, against ~1.5 s of process warm-up): in VIDEO mode the
graph carries tracking state from frame to frame, so a graph reused across clips would make a clip's
take depend on which clip the same worker ran before it. A fresh graph keeps every batch take identical
to what `faceretarget-engine run` writes for the same clip.

`process_clip` never raises: every outcome is a result dict (see `clip_result`), so one failing clip
cannot take the batch down with it.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import time
import traceback
from pathlib import Path

import engine
from engine.errors import EXIT_CANCELLED, Cancelled, EngineError
from engine.export.take import TAKE_FORMAT
from engine.protocol import Reporter
from engine.scale.manifest import ClipJob, path_text

_MODEL_PATH: Path | None = None
_WARMED = False


def _raise_cancelled(signum, frame) -> None:
    raise Cancelled(f"cancelled by signal {signum}")


def init_worker(warm: bool = True) -> None:
    """Process-pool initializer: Ctrl+C is left to the parent, the models are warmed up, and from then on
    SIGTERM cancels the running clip cleanly (its temporary take folder is removed). It never raises: a
    pool whose initializer fails is broken for every clip; a warm-up problem (say, the model is missing)
    is reported by each clip instead, when process_clip warms up again."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        if warm:
            warm_up()
    except Exception:
        pass
    signal.signal(signal.SIGTERM, _raise_cancelled)


def warm_up() -> Path:
    """Once per process: import the heavy modules and resolve + verify the landmarker model."""
    global _MODEL_PATH, _WARMED
    if not _WARMED:
        # Once per worker, on purpose: the imports are most of a worker's start-up time.
        import engine.pipeline  # noqa: F401
        from engine.track.mediapipe_import import import_mediapipe
        from engine.track.model_bundle import resolve_model

        import_mediapipe()
        _MODEL_PATH = resolve_model(None)
        _WARMED = True
    assert _MODEL_PATH is not None
    return _MODEL_PATH


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def clip_result(job: ClipJob, status: str, **extra) -> dict:
    """status: done | skipped | failed; failed results carry `reason` and `hint`."""
    return {"row": job.row, "where": job.where, "video": path_text(job.video),
            "arkit": path_text(job.arkit), "source": str(job.source), "output": str(job.output),
            "status": status, "reason": None, "hint": None, "seconds": 0.0, "frames": None, "warnings": [],
            "worker": worker_name(), "warmed_up": False, "engine_version": engine.__version__, **extra}


def finished_take(output: Path) -> dict | None:
    """take.json of a complete take at `output` (every file it lists is there), else None."""
    meta_path = Path(output) / "take.json"
    try:
        meta = json.loads(meta_path.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(meta, dict) or meta.get("format") != TAKE_FORMAT:
        return None
    files = meta.get("files") or {}
    if not all((Path(output) / name).is_file() for name in files.values()):
        return None
    return meta


def process_clip(job: ClipJob) -> dict:
    """Run `run` for one manifest row in this worker and describe the outcome."""
    start = time.perf_counter()
    reporter = Reporter()
    cold = not _WARMED
    try:
        model = warm_up() if job.video is not None else None   # an ARKit CSV needs no tracker
        warm_up_s = round(time.perf_counter() - start, 3) if cold else 0.0
        from engine.pipeline import run   # loaded by warm_up for a video clip; an ARKit clip loads it here

        take = run(job.run_options(overwrite=job.overwrite, model_path=model), reporter)
        meta = finished_take(take) or {}
        return clip_result(job, "done", seconds=round(time.perf_counter() - start, 3),
                           frames=meta.get("frame_count"), warnings=reporter.warnings, warmed_up=cold,
                           warm_up_s=warm_up_s)
    except Cancelled:
        # SIGTERM from the batch being cancelled: `run` has removed its temporary take folder on the way
        # out; this worker must not go on to the next queued clip.
        os._exit(EXIT_CANCELLED)
    except EngineError as exc:
        return clip_result(job, "failed", reason=exc.message, hint=exc.hint, error=type(exc).__name__,
                           exit_code=exc.exit_code, seconds=round(time.perf_counter() - start, 3),
                           warnings=reporter.warnings)
    except Exception as exc:  # an engine bug on this clip: report it with its traceback, go on with the rest
        return clip_result(job, "failed", reason=f"internal error: {type(exc).__name__}: {exc}",
                           hint="please report this with the traceback in the batch report",
                           error=type(exc).__name__, traceback=traceback.format_exc(),
                           seconds=round(time.perf_counter() - start, 3), warnings=reporter.warnings)
