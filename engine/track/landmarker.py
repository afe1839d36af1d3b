"""MediaPipe Face Landmarker v2 through the Tasks API, in VIDEO running mode.

One public class, `FaceTracker`, created from `TrackerOptions`; `track(image, time_s)` returns a
`FrameResult` (478 landmarks, 52 ARKit-ordered scores, head pose). MediaPipe requires strictly increasing
integer millisecond timestamps in VIDEO mode; the tracker guarantees that whatever the video's timing.
With `symmetric`, a second landmarker tracks every frame flipped left-right, on a thread of its own while the
first reads the frame as it is, and each result is the average of the two readings (engine/track/mirror.py):
no left/right bias, for a second core's worth of tracking.
"""
from __future__ import annotations

import queue
import threading
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
        self._flipped = FlippedReader(vision.FaceLandmarker.create_from_options(settings), self._read) \
            if self.options.symmetric else None
        self._last_ms = -1

    def __enter__(self) -> "FaceTracker":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        for reader in (self._flipped, self._landmarker):
            if reader is not None:
                reader.close()
        self._landmarker = self._flipped = None

    def track(self, image: np.ndarray, time_s: float) -> FrameResult:
        """Track the face in one RGB uint8 frame shown at `time_s` seconds."""
        stamp = max(int(round(time_s * 1000.0)), self._last_ms + 1)
        self._last_ms = stamp
        if self._flipped is not None:
            self._flipped.submit(image, stamp)   # read flipped on the other core while this one reads it as is
        front = self._read(self._landmarker, image, stamp)
        if self._flipped is None:
            return front
        back = self._flipped.result()
        if not front.detected or not back.detected:
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


class FlippedReader:
    """A landmarker reading frames flipped left-right on a thread of its own. MediaPipe releases the GIL while
    it infers, so the two readings of a frame overlap (measured on the quiet machine, 720p, whole process:
    1.32x the single-pass wall time, 1.7 cores busy; the decoder shares the two cores). It sees every frame, as
    the direct landmarker does, so a mirrored clip puts each landmarker in the other's place exactly."""

    def __init__(self, landmarker, read):
        self._landmarker, self._read = landmarker, read
        self._jobs: queue.Queue = queue.Queue(maxsize=1)
        self._results: queue.Queue = queue.Queue()
        self._thread = threading.Thread(target=self._work, name="flipped-landmarker", daemon=True)
        self._thread.start()

    def submit(self, image: np.ndarray, stamp: int) -> None:
        self._jobs.put((image, stamp))

    def result(self) -> FrameResult:
        """The reading of the frame submitted first and not yet collected, as read from the flipped picture
        (the caller brings it back to the original's sides)."""
        got = self._results.get()
        if isinstance(got, BaseException):
            raise got
        return got

    def _work(self) -> None:
        import cv2   # OpenCV comes with MediaPipe; its flip is several times faster than a NumPy copy

        while (job := self._jobs.get()) is not None:
            image, stamp = job
            try:
                self._results.put(self._read(self._landmarker, cv2.flip(image, 1), stamp))
            except BaseException as exc:   # handed to the caller of result()
                self._results.put(exc)

    def close(self) -> None:
        self._jobs.put(None)
        self._thread.join()
        self._landmarker.close()
