"""FaceRetarget engine: face video (and speech) in, MetaHuman face-board take out.

Stages, top to bottom: media -> track -> solve -> rig -> (audio) -> export.
"""
import time

__version__ = "0.1.0"

# When the engine's first module loaded: `run` reports the share of the process spent before its work
# (imports, argument parsing) from here. The interpreter's own start (~30 ms) comes before it.
STARTED = time.perf_counter()
