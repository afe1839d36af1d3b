"""run --symmetric: the mirror partner table, the mirrored readings, and a tracker that reads a flipped clip as
the original with its sides swapped (engine/track/mirror.py, engine/track/landmarker.py)."""
from __future__ import annotations

import numpy as np
import pytest

from engine.rig.arkit import ARKIT_INDEX, ARKIT_NAMES
from engine.track.mirror import LANDMARK_PARTNER, mirror_landmarks, mirror_scores
from engine_dev.landmark_mirror import canonical_vertices, mirror_partners

# MediaPipe face mesh points whose partners everyone knows: eye corners, mouth corners, iris centres.
KNOWN_PAIRS = [(33, 263), (133, 362), (61, 291), (78, 308), (159, 386), (468, 473)]
MIDLINE = [0, 1, 4, 13, 14, 17, 152, 168]


def test_partner_table_pairs_each_point_with_one_other_side_point():
    assert LANDMARK_PARTNER.shape == (478,)
    assert (LANDMARK_PARTNER[LANDMARK_PARTNER] == np.arange(478)).all()   # partner of partner is the point
    for a, b in KNOWN_PAIRS:
        assert LANDMARK_PARTNER[a] == b and LANDMARK_PARTNER[b] == a
    assert all(LANDMARK_PARTNER[i] == i for i in MIDLINE)
    assert int((LANDMARK_PARTNER == np.arange(478)).sum()) == 28


def test_partner_table_is_what_the_model_bundle_says():
    from engine.track.model_bundle import resolve_model
    assert mirror_partners(canonical_vertices(resolve_model(None))) == LANDMARK_PARTNER.tolist()


def test_mirrored_landmarks_flip_x_and_swap_sides():
    rng = np.random.default_rng(3)
    landmarks = rng.random((2, 478, 3)).astype(np.float32)
    mirrored = mirror_landmarks(landmarks)
    assert np.allclose(mirrored[:, 263, 0], 1.0 - landmarks[:, 33, 0])
    assert np.allclose(mirrored[:, 263, 1:], landmarks[:, 33, 1:])
    assert np.allclose(mirror_landmarks(mirrored), landmarks)


def test_mirrored_scores_swap_left_and_right_only():
    scores = np.arange(52, dtype=np.float32) / 52
    mirrored = mirror_scores(scores)
    for left, right in (("jawLeft", "jawRight"), ("eyeBlinkLeft", "eyeBlinkRight"),
                        ("eyeLookInLeft", "eyeLookInRight"), ("mouthSmileLeft", "mouthSmileRight")):
        assert mirrored[ARKIT_INDEX[left]] == scores[ARKIT_INDEX[right]]
    for name in ("jawOpen", "cheekPuff", "mouthFunnel", "browInnerUp", "tongueOut"):
        assert mirrored[ARKIT_INDEX[name]] == scores[ARKIT_INDEX[name]]
    assert np.array_equal(mirror_scores(mirrored), scores)
    assert sorted(mirror_scores(np.arange(52))) == list(range(52)) and len(ARKIT_NAMES) == 52


def _frames(clip, count: int) -> list:
    from engine.media.video import iter_frames
    frames = []
    for frame in iter_frames(clip):
        frames.append((np.ascontiguousarray(frame.image), frame.time))
        if len(frames) == count:
            return frames
    return frames


def _track(frames, symmetric: bool):
    from engine.track.landmarker import FaceTracker, TrackerOptions
    with FaceTracker(TrackerOptions(symmetric=symmetric)) as tracker:
        return [tracker.track(image, time) for image, time in frames]


def test_symmetric_tracker_reads_a_flipped_clip_as_the_original_mirrored(face_clips):
    """The flipped clip's two readings are the original's two readings with the roles swapped, so the averages
    are mirror images of each other (to float rounding); a single pass is not (MediaPipe's own bias)."""
    frames = _frames(face_clips[0], 12)
    flipped = [(np.ascontiguousarray(image[:, ::-1]), time) for image, time in frames]
    original, mirrored = _track(frames, True), _track(flipped, True)
    assert all(r.detected for r in original + mirrored)
    for a, b in zip(original, mirrored):
        assert np.allclose(mirror_scores(a.arkit), b.arkit, atol=1e-5)
        assert np.allclose(mirror_landmarks(a.landmarks), b.landmarks, atol=1e-5)
    single, single_flipped = _track(frames, False), _track(flipped, False)
    bias = max(np.abs(mirror_scores(a.arkit) - b.arkit).max() for a, b in zip(single, single_flipped))
    assert bias > 0.01
    # The front pass is the single-pass tracker itself: head pose and detection are unchanged by --symmetric.
    assert all(np.array_equal(a.head_pose, s.head_pose) for a, s in zip(original, single))


class _CountingLandmarker:
    def __init__(self):
        self.closed = False

    def close(self):
        self.closed = True


def test_flipped_reader_reads_flipped_frames_in_order_and_hands_errors_back():
    from engine.track.landmarker import FlippedReader, FrameResult
    seen = []

    def read(landmarker, image, stamp):
        if stamp == 3:
            raise RuntimeError("the graph failed")
        seen.append(int(image[0, 0, 0]))
        return FrameResult(True, confidence=float(stamp))

    landmarker = _CountingLandmarker()
    reader = FlippedReader(landmarker, read)
    image = np.zeros((2, 3, 3), np.uint8)
    image[0, -1] = 7                       # the flipped picture starts with the last column
    for stamp in (1, 2):
        reader.submit(image, stamp)
        assert reader.result().confidence == stamp
    reader.submit(image, 3)
    with pytest.raises(RuntimeError, match="graph failed"):
        reader.result()
    reader.close()
    assert seen == [7, 7] and landmarker.closed
