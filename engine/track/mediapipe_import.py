"""Import MediaPipe's Tasks API without the parts of its package the engine never runs.

`import mediapipe` imports every task: its vision package's drawing helpers import matplotlib.pyplot and
OpenCV, and its audio recorder imports sounddevice, at import time. That is ~0.8 s of CPU of the ~1 s
MediaPipe costs to import, paid at every `run`'s start for code that draws on screen or records a
microphone. While MediaPipe is imported, those modules of MediaPipe's own are loaded as stand-ins that
import the real module the first time something in them is used, so nothing changes for a caller that
does draw with them.
"""
from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import threading
from types import ModuleType

# MediaPipe's modules that import heavy libraries at import time and that the face tracker never calls.
DEFERRED = ("mediapipe.tasks.python.vision.drawing_utils",      # matplotlib.pyplot, cv2
            "mediapipe.tasks.python.vision.drawing_styles",     # drawing_utils
            "mediapipe.tasks.python.audio.core.audio_record")   # sounddevice

_lock = threading.RLock()


class DeferredModule(ModuleType):
    """Stands in for a module until one of its attributes is read; then imports it for real and becomes a
    copy of it (later reads are plain attribute reads)."""

    def __getattr__(self, attribute: str):
        if attribute.startswith("__") and attribute.endswith("__"):
            raise AttributeError(attribute)      # copy/pickle/inspect probes must not trigger the import
        with _lock:
            if attribute not in self.__dict__:
                self.__dict__.update(vars(_import_real(self)))
        return self.__dict__[attribute]


def _import_real(stand_in: DeferredModule) -> ModuleType:
    name = stand_in.__name__
    _FINDER.names.discard(name)
    if sys.modules.get(name) is stand_in:
        del sys.modules[name]
    try:
        return importlib.import_module(name)
    except BaseException:
        sys.modules.setdefault(name, stand_in)
        raise


class _DeferringFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Answers the imports of DEFERRED names (once each) with a DeferredModule, so that their packages see
    an ordinary submodule import."""

    def __init__(self) -> None:
        self.names: set[str] = set()

    def find_spec(self, name, path=None, target=None):
        return importlib.machinery.ModuleSpec(name, self) if name in self.names else None

    def create_module(self, spec):
        return DeferredModule(spec.name)

    def exec_module(self, module) -> None:
        pass


_FINDER = _DeferringFinder()


def import_mediapipe():
    """(mediapipe, BaseOptions, vision) with MediaPipe's drawing and recording helpers deferred."""
    if "mediapipe" not in sys.modules:
        on_own_thread(_import_with_stand_ins)
    import mediapipe
    from mediapipe.tasks.python import BaseOptions, vision

    return mediapipe, BaseOptions, vision


def _import_with_stand_ins() -> None:
    with _lock:
        if "mediapipe" not in sys.modules:
            _FINDER.names.update(name for name in DEFERRED if name not in sys.modules)
            sys.meta_path.insert(0, _FINDER)
            try:
                import mediapipe  # noqa: F401 - the stand-ins are taken while this runs
                from mediapipe.tasks.python import BaseOptions, vision  # noqa: F401
            finally:
                sys.meta_path.remove(_FINDER)


def on_own_thread(work) -> None:
    """Run `work` on a thread of its own and wait for it; its exception is raised here.

    Why MediaPipe is imported this way: what a module keeps from its import holds every frame that was on
    the stack then. MediaPipe's audio recorder keeps sounddevice's error where PortAudio is missing
    (`audio_record.sd_error`), and that error's traceback holds, frame by frame, the caller of the import
    with its locals: a tracker made inside a clip's tracking kept the whole clip's track and its per-frame
    rows alive to the end of the run (20 MB for 10 minutes). A thread's stack holds none of the caller's
    frames."""
    failure: list[BaseException] = []

    def guarded() -> None:
        try:
            work()
        except BaseException as exc:   # handed to the caller
            failure.append(exc)

    thread = threading.Thread(target=guarded, name="import-mediapipe", daemon=True)
    thread.start()
    thread.join()
    if failure:
        raise failure[0]
