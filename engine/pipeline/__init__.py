"""The engine's main path, one for every source: `run(options, reporter)` writes a take folder.

- sources.py: the track sources (video, ARKit recording, FLAME sequence) and their checks;
- stages.py: validate -> solve -> retarget -> lip correction / learned models -> export -> preview;
- cli.py: the `run` command's options (registered by engine/cli.py).
"""
from __future__ import annotations

__all__ = ["StageTimer", "run", "validate"]


def __getattr__(name: str):
    if name in __all__:
        # Lazy: importing engine.pipeline.cli (every `faceretarget-engine` start) must not load the stages'
        # MediaPipe, SciPy and codecs; `from engine.pipeline import run` loads them.
        from engine.pipeline import stages

        return getattr(stages, name)
    raise AttributeError(f"module 'engine.pipeline' has no attribute {name!r}")
