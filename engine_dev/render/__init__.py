"""Headless renderer of the ICT-FaceKit head at known ARKit weights (ground truth for the benchmark).

`engine_dev.render.ict_head.IctHead` builds meshes from ARKit-52 weights and identity coefficients on the
user-supplied ICT-FaceKit npz files (MIT, found by path; never copied into this repository; read by
engine.rig.ict); `engine_dev.render.renderer.TruthRenderer` draws them with moderngl over EGL (no display
needed).
"""
