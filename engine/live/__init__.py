"""Live streaming: camera or video -> tracker -> online solve -> Live Link Face UDP packets for Unreal.

`stream(LiveOptions, Reporter) -> LiveStats` is the facade; `faceretarget-engine live` its CLI
(engine/live/cli.py). The online solve mirrors `run`'s offline one step by step (engine/live/solver.py).
"""
from engine.config.live import LiveOptions

__all__ = ["LiveOptions"]
