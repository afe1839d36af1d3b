"""Development-only code: what the benchmarks (bench/), the tests (tests/) and the tools (tools/) share.

Nothing here is reachable from a `faceretarget-engine` command, and `engine` never imports this package
(engine_dev may import engine, not the other way round). What is here:

  render/                      the rendered ICT-FaceKit ground truth: the head (ict_head.py), TruthRenderer,
                               weight scripts, render-and-track, scores (bench/rendered_truth.py, tools)
  mediapipe_golden.py          a reader of MediaPipe's golden text protos (tests)
  mediapipe_blendshape_model.py  MediaPipe's blendshape model run directly on landmarks (tests)
  lipsync_evaluate.py          lip-sync ground truth (Festival, TextGrid, pocketsphinx JSON) and metrics
  livelink_receiver.py         a loopback Live Link UDP receiver (tests, bench/live.py)
  landmark_training.py         training the landmark network with torch (tools/train_landmark_regressor.py)
  synthetic_rigs.py            small stand-ins for licensed rigs: a toy FLAME model, re-meshed copies
"""
