"""FaceRetarget engine: face video (and speech) in, MetaHuman face-board take out.

Stages, top to bottom: media -> track -> solve -> rig -> (audio) -> export.
"""
__version__ = "0.1.0"
