"""Headless renderer of the ICT-FaceKit head at known ARKit weights (ground truth for the benchmark).

`engine.render.ict.IctHead` reads the user-supplied ICT-FaceKit npz files (MIT, found by path; never copied
into this repository) and builds meshes from ARKit-52 weights and identity coefficients;
`engine.render.renderer.HeadRenderer` draws them with moderngl over EGL (no display needed).
"""
