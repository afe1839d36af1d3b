"""MediaPipe Face Landmarker v2 through the Tasks API, in VIDEO running mode.

One public class, `FaceTracker`, created from `TrackerOptions`; `track(image, time_s)` returns a
`FrameResult` (478 landmarks, 52 ARKit-ordered scores, head pose). MediaPipe requires strictly increasing
integer millisecond timestamps in VIDEO mode; the tracker guarantees that whatever the video's timing.
With `symmetric`, a second landmarker tracks the frames flipped left-right and each result is the average of
the two readings (engine/track/mirror.py): no left/right bias, at about twice the tracking time.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.track.arkit_scores import mediapipe_to_arkit
from engine.track.mediapipe_import import import_mediapipe
from engine.track.mirror import mirror_landmarks, mirror_scores
from engine.track.model_bundle import resolve_model


@dataclass(frozen=True)
class TrackerOptions:
    model_path: Path | None = None       # None: resolve (explicit -> env -> cache -> wheel -> URL)
    min_detection_confidence: float = 0.5
    min_presence_confidence: float = 0.5
    min_tracking_confidence: float = 0.5
    symmetric: bool = False               # also track each frame flipped and average (run --symmetric)


@dataclass
class FrameResult:
    detected: bool
    landmarks: np.ndarray | None = None   # (478, 3) x, y in 0..1 of the image, z relative depth
    arkit: np.ndarray | None = None       # (52,) in ARKIT_NAMES order
    head_pose: np.ndarray | None = None   # (4, 4) facial transformation matrix, cm
    confidence: float = 0.0


class FaceTracker:
    """Tracks one face through a video. Use as a context manager so the native graph is closed."""

    def __init__(self, options: TrackerOptions | None = None):
        # MediaPipe loads here, not at module import, so that the CLI answers --help and bad-input errors fast.
        mp, BaseOptions, vision = import_mediapipe()

        self.options = options or TrackerOptions()
        self.model_path = resolve_model(self.options.model_path)
        self._mp = mp
        settings = vision.FaceLandmarkerOptions(
            base_options=BaseOptions(model_asset_path=str(self.model_path)),
            running_mode=vision.RunningMode.VIDEO,
            num_faces=1,
            min_face_detection_confidence=self.options.min_detection_confidence,
            min_face_presence_confidence=self.options.min_presence_confidence,
            min_tracking_confidence=self.options.min_tracking_confidence,
            output_face_blendshapes=True,
            output_facial_transformation_matrixes=True,
        )
        self._landmarker = vision.FaceLandmarker.create_from_options(settings)
        # Its own landmarker: in VIDEO mode each one follows the face from its previous frame.
        self._flipped = vision.FaceLandmarker.create_from_options(settings) if self.options.symmetric else None
        self._last_ms = -1

    def __enter__(self) -> "FaceTracker":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        for landmarker in (self._landmarker, self._flipped):
            if landmarker is not None:
                landmarker.close()
        self._landmarker = self._flipped = None

    def track(self, image: np.ndarray, time_s: float) -> FrameResult:
        """Track the face in one RGB uint8 frame shown at `time_s` seconds."""
        stamp = max(int(round(time_s * 1000.0)), self._last_ms + 1)
        self._last_ms = stamp
        front = self._read(self._landmarker, image, stamp)
        if self._flipped is None or not front.detected:
            return front
        back = self._read(self._flipped, image[:, ::-1], stamp)
        if not back.detected:
            return front
        return FrameResult(True, 0.5 * (front.landmarks + mirror_landmarks(back.landmarks)),
                           0.5 * (front.arkit + mirror_scores(back.arkit)), front.head_pose,
                           min(front.confidence, back.confidence))

    def _read(self, landmarker, image: np.ndarray, stamp: int) -> FrameResult:
        mp_image = self._mp.Image(image_format=self._mp.ImageFormat.SRGB, data=np.ascontiguousarray(image))
        result = landmarker.detect_for_video(mp_image, stamp)
        if not result.face_landmarks:
            return FrameResult(detected=False)
        points = result.face_landmarks[0]
        landmarks = np.array([(p.x, p.y, p.z) for p in points], dtype=np.float32)
        scores = mediapipe_to_arkit([(c.category_name, c.score) for c in result.face_blendshapes[0]])
        pose = np.asarray(result.facial_transformation_matrixes[0], dtype=np.float64).reshape(4, 4)
        presence = [p.presence for p in points if p.presence is not None]
        confidence = float(np.median(presence)) if presence else 1.0
        return FrameResult(True, landmarks, scores, pose, confidence)
