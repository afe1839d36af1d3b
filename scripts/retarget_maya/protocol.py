"""The engine process as the Maya side sees it: its command line, its environment, and the JSON lines
it prints on stdout. Pure Python (no Qt, no maya), so the dialog and the batch scripts share it.

Events, one JSON object per line: {"event": "progress", "stage", "done", "total"}, {"event": "warning",
"code", "message"}, {"event": "result", "take"}, {"event": "error", "message", "hint"}. Anything else on
stdout (a library printing) is kept as a log line rather than breaking the run.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Sequence

from . import defaults

PROGRESS, WARNING, RESULT, ERROR, LOG = "progress", "warning", "result", "error", "log"


@dataclass
class EngineEvent:
    kind: str                       # progress | warning | result | error | log
    stage: str = ""
    done: int = 0
    total: Optional[int] = None
    code: str = ""
    message: str = ""
    hint: str = ""
    take: str = ""
    data: Dict[str, Any] = field(default_factory=dict)

    @property
    def fraction(self) -> Optional[float]:
        """Share of the stage done (0..1), None when the engine does not know the total."""
        if not self.total:
            return None
        return max(0.0, min(1.0, float(self.done) / float(self.total)))


def parse_event_line(line: str) -> Optional[EngineEvent]:
    """One stdout line -> an event (None for a blank line)."""
    text = line.strip()
    if not text:
        return None
    try:
        doc = json.loads(text)
    except ValueError:
        return EngineEvent(kind=LOG, message=text)
    if not isinstance(doc, dict) or doc.get("event") not in (PROGRESS, WARNING, RESULT, ERROR):
        return EngineEvent(kind=LOG, message=text, data=doc if isinstance(doc, dict) else {})
    kind = doc["event"]
    total = doc.get("total")
    return EngineEvent(
        kind=kind,
        stage=str(doc.get("stage", "")),
        done=int(doc.get("done") or 0),
        total=int(total) if isinstance(total, (int, float)) else None,
        code=str(doc.get("code", "")),
        message=str(doc.get("message", "")),
        hint=str(doc.get("hint", "")),
        take=str(doc.get("take", "")),
        data=doc,
    )


class LineBuffer:
    """Reassembles lines from the chunks a pipe delivers (a read can end mid-line)."""

    def __init__(self) -> None:
        self._pending = b""

    def feed(self, chunk: bytes) -> List[str]:
        self._pending += chunk
        *lines, self._pending = self._pending.split(b"\n")
        return [line.decode("utf-8", "replace").rstrip("\r") for line in lines]

    def flush(self) -> List[str]:
        rest, self._pending = self._pending, b""
        return [rest.decode("utf-8", "replace")] if rest.strip() else []


@dataclass
class EngineRequest:
    """What to ask the engine for. `None` options are left to the engine's own defaults. The source is
    `video`, or `arkit` (an iPhone Live Link Face CSV: `run --arkit`) when given."""

    video: str
    out: str
    audio: Optional[str] = None
    transcript: Optional[str] = None
    language: Optional[str] = None             # "en" | "zh" | "other" (run --language); None: the engine's
    rig: Optional[str] = None                  # "mh4" | "legacy"
    lip_correction: Optional[str] = defaults.DEFAULT_LIP_CORRECTION
    smoothing_hz: Optional[float] = defaults.DEFAULT_SMOOTHING_HZ
    actor: Optional[str] = None                # actor profile (`calibrate`); None: the engine's resting model
    symmetric: bool = defaults.DEFAULT_SYMMETRIC   # run --symmetric (video only): no left/right tracker bias
    arkit: Optional[str] = None                # Live Link Face CSV in place of the video (`video` is not sent)
    extra_args: List[str] = field(default_factory=list)


DEFAULT_ENTRY = ("-m", defaults.ENGINE_MODULE)


def engine_arguments(request: EngineRequest, entry: Sequence[str] = DEFAULT_ENTRY) -> List[str]:
    """Arguments after the engine's python: `-m engine run --video V --out O ... --progress json`
    (`--arkit CSV` in place of `--video V` for an iPhone recording).
    `entry` replaces `-m engine` (the tests run a fake engine script that way)."""
    source = ["--arkit", request.arkit] if request.arkit else ["--video", request.video]
    args = list(entry) + [defaults.ENGINE_COMMAND] + source + ["--out", request.out]
    if request.audio:
        args += ["--audio", request.audio]
    if request.transcript:
        args += ["--transcript", request.transcript]
    if request.language and request.audio:
        args += ["--language", request.language]
    if request.rig and request.rig != "auto":
        args += ["--rig", request.rig]
    if request.lip_correction:
        args += ["--lip-correction", request.lip_correction]
    if request.smoothing_hz is not None:
        args += ["--smoothing", "%g" % request.smoothing_hz]
    if request.actor:
        args += ["--actor", request.actor]
    if request.symmetric and not request.arkit:
        args += ["--symmetric"]
    return args + list(request.extra_args) + ["--progress", "json"]


# Maya's Python environment must not leak into the engine's Python: its PYTHONPATH/PYTHONHOME point at
# Maya's interpreter and site-packages, and its library paths at Maya's own Qt, OpenSSL and libpython.
_DROPPED_PREFIXES = ("PYTHON", "MAYA_", "QT_", "PYSIDE", "SHIBOKEN")
_KEPT = ("PYTHONIOENCODING", "PYTHONUTF8")
_PATH_LISTS = ("PATH", "LD_LIBRARY_PATH", "DYLD_LIBRARY_PATH", "DYLD_FRAMEWORK_PATH")


def scrubbed_environment(environ: Mapping[str, str]) -> Dict[str, str]:
    """The engine's environment: Maya's, minus its Python/Qt variables and minus any search-path entry
    inside the Maya installation; stdout unbuffered so progress lines arrive as they are printed."""
    maya_location = environ.get("MAYA_LOCATION", "")
    env = {}
    for key, value in environ.items():
        if key.upper().startswith(_DROPPED_PREFIXES) and key.upper() not in _KEPT:
            continue
        if key in _PATH_LISTS and maya_location:
            value = _without_entries_under(value, maya_location)
            if not value:
                continue
        env[key] = value
    env["PYTHONUNBUFFERED"] = "1"
    env["PYTHONIOENCODING"] = "utf-8"
    return env


def _without_entries_under(path_list: str, root: str) -> str:
    root = os.path.normcase(os.path.normpath(root))
    kept = [entry for entry in path_list.split(os.pathsep)
            if entry and not os.path.normcase(os.path.normpath(entry)).startswith(root)]
    return os.pathsep.join(kept)


def resolve_engine_python(remembered: Optional[str], environ: Mapping[str, str]) -> str:
    """The engine's interpreter: the environment variable wins (studio setups pin it), then the path
    the user last chose in the dialog. Empty when neither is set."""
    override = environ.get(defaults.ENGINE_PYTHON_ENV, "").strip()
    return override or (remembered or "").strip()


def check_engine_python(path: str) -> Optional[str]:
    """A message saying what is wrong with an engine interpreter path, or None when it looks usable."""
    if not path:
        return ("Set the engine's Python (the python of the engine's virtual environment), or the %s "
                "environment variable." % defaults.ENGINE_PYTHON_ENV)
    if not os.path.isfile(path):
        return "The engine's Python does not exist: %s" % path
    if not os.access(path, os.X_OK):
        return "The engine's Python is not executable: %s" % path
    return None
