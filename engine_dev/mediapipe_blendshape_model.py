"""MediaPipe's blendshape model run directly: 478 face landmarks -> 52 ARKit scores.

This reproduces google-ai-edge/mediapipe mediapipe/tasks/cc/vision/face_landmarker/face_blendshapes_graph.cc:
  1. SplitNormalizedLandmarkListCalculator keeps the 146 landmarks kLandmarksSubsetIdxs, in that order;
  2. LandmarksToTensorCalculator (attributes X, Y; flatten false) writes x * image_width, y * image_height
     (float32; IMAGE_SIZE is the pair (width, height)) into a 1x146x2 tensor; z is not used;
  3. the face_blendshapes.tflite model of the face_landmarker.task bundle runs on it;
  4. its first output tensor is the 52 scores in kBlendshapeNames order, passed through as is
     (TensorsToClassificationCalculator with top_k 0, min_score_threshold -1).
The scores are then put in ARKIT_NAMES order (engine.track.arkit_scores).
"""
from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from engine.track.arkit_scores import MEDIAPIPE_BLENDSHAPE_NAMES, mediapipe_vector_to_arkit
from engine.track.model_bundle import resolve_model

MODEL_MEMBER = "face_blendshapes.tflite"
NUM_LANDMARKS = 478

# kLandmarksSubsetIdxs, face_blendshapes_graph.cc ("Subset of 478 landmarks required for the HUND model").
LANDMARK_SUBSET: tuple[int, ...] = (
    0, 1, 4, 5, 6, 7, 8, 10, 13, 14, 17, 21, 33, 37, 39,
    40, 46, 52, 53, 54, 55, 58, 61, 63, 65, 66, 67, 70, 78, 80,
    81, 82, 84, 87, 88, 91, 93, 95, 103, 105, 107, 109, 127, 132, 133,
    136, 144, 145, 146, 148, 149, 150, 152, 153, 154, 155, 157, 158, 159, 160,
    161, 162, 163, 168, 172, 173, 176, 178, 181, 185, 191, 195, 197, 234, 246,
    249, 251, 263, 267, 269, 270, 276, 282, 283, 284, 285, 288, 291, 293, 295,
    296, 297, 300, 308, 310, 311, 312, 314, 317, 318, 321, 323, 324, 332, 334,
    336, 338, 356, 361, 362, 365, 373, 374, 375, 377, 378, 379, 380, 381, 382,
    384, 385, 386, 387, 388, 389, 390, 397, 398, 400, 402, 405, 409, 415, 454,
    466, 468, 469, 470, 471, 472, 473, 474, 475, 476, 477,
)
_SUBSET = np.array(LANDMARK_SUBSET, dtype=np.intp)
assert len(_SUBSET) == 146


def _interpreter_class():
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("the blendshape model needs LiteRT: pip install 'ai-edge-litert>=1.0' "
                          "(it is in requirements.txt)") from exc
    return Interpreter


class BlendshapeModel:
    """MediaPipe's face blendshape model (from face_landmarker.task) on LiteRT, CPU.

    `model(landmarks, image_size)` -> 52 float32 scores in ARKIT_NAMES order (tongueOut = 0);
    `model.mediapipe_scores(...)` -> the raw 52 in MediaPipe's category order (`_neutral` first).
    `landmarks`: (478, 2+) normalized x, y[, z] (MediaPipe's NormalizedLandmarks); `image_size`:
    (width, height) in pixels of the frame the landmarks were normalized by.
    One instance is not thread-safe (one LiteRT interpreter with fixed buffers).
    """

    def __init__(self, bundle: Path | str | None = None, *, allow_download: bool = True,
                 num_threads: int = 1):
        self.bundle = resolve_model(Path(bundle) if bundle is not None else None, allow_download=allow_download)
        with zipfile.ZipFile(self.bundle) as archive:
            self._model_bytes = archive.read(MODEL_MEMBER)  # kept alive: the interpreter uses this buffer
        self._interpreter = _interpreter_class()(model_content=self._model_bytes, num_threads=num_threads)
        self._interpreter.allocate_tensors()
        (inp,) = self._interpreter.get_input_details()
        outputs = self._interpreter.get_output_details()
        if tuple(inp["shape"]) != (1, len(_SUBSET), 2) or inp["dtype"] != np.float32:
            raise RuntimeError(f"{MODEL_MEMBER}: unexpected input {inp['shape']} {inp['dtype']}")
        if int(np.prod(outputs[0]["shape"])) != len(MEDIAPIPE_BLENDSHAPE_NAMES):
            raise RuntimeError(f"{MODEL_MEMBER}: unexpected output shape {outputs[0]['shape']}")
        self._in_index = inp["index"]
        self._out_index = outputs[0]["index"]  # GetTensorWithBlendshapes: output tensor 0
        self._tensor = np.empty((1, len(_SUBSET), 2), dtype=np.float32)

    def input_tensor(self, landmarks: Any, image_size: tuple[int, int]) -> np.ndarray:
        """The model's 1x146x2 input: the subset's x * width, y * height (float32, as MediaPipe)."""
        points = np.asarray(landmarks)
        if points.ndim != 2 or points.shape[0] != NUM_LANDMARKS or points.shape[1] < 2:
            raise ValueError(f"expected {NUM_LANDMARKS} landmarks as an array (478, 2+), got shape {points.shape}")
        width, height = image_size
        tensor = self._tensor
        tensor[0] = points[_SUBSET, :2]
        tensor[0] *= np.array([width, height], dtype=np.float32)
        return tensor

    def mediapipe_scores(self, landmarks: Any, image_size: tuple[int, int]) -> np.ndarray:
        """The 52 raw scores in MediaPipe's category order (MEDIAPIPE_BLENDSHAPE_NAMES)."""
        self._interpreter.set_tensor(self._in_index, self.input_tensor(landmarks, image_size))
        self._interpreter.invoke()
        return self._interpreter.get_tensor(self._out_index).reshape(-1)

    def __call__(self, landmarks: Any, image_size: tuple[int, int]) -> np.ndarray:
        """52 float32 scores in ARKIT_NAMES order; `_neutral` dropped, tongueOut = 0."""
        return mediapipe_vector_to_arkit(self.mediapipe_scores(landmarks, image_size))
