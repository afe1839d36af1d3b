"""Learned backends: a video -> face-board regressor and a wav2vec2 audio -> face-board model.

No weights ship with FaceRetarget: a studio trains these on its own recordings (`faceretarget-engine
train video|audio`) and uses them with `run --video-model CKPT --audio-model CKPT`; docs/learned_backends.md.

Nothing here imports torch at import time except the modules that build, train or run networks
(`video_model`, `audio_model`, `train`, `checkpoint`, `apply`); `options`, `groups` and `command` stay
torch-free so the CLI starts without it.
"""
