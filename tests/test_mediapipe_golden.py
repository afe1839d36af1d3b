"""The tracker's blendshape wiring against MediaPipe's own golden pair (478 landmarks in -> 52 scores out).

Golden files: ../shared/data/video/mediapipe_golden/face_blendshapes_{in_landmarks,out}.prototxt, which are
google-ai-edge/mediapipe mediapipe/tasks/testdata/vision/ files used by face_blendshapes_graph_test.cc.
"""
from __future__ import annotations

import json
import os
from types import SimpleNamespace

import numpy as np
import pytest

from engine.errors import ModelMissing
from engine.rig.arkit import ARKIT_INDEX, ARKIT_NAMES
from engine.track.arkit_scores import MEDIAPIPE_BLENDSHAPE_NAMES, mediapipe_to_arkit, mediapipe_vector_to_arkit
from engine_dev.mediapipe_blendshape_model import LANDMARK_SUBSET, BlendshapeModel
from engine_dev.mediapipe_golden import read_classifications, read_landmarks

# face_blendshapes_graph_test.cc: `constexpr float kSimilarityThreshold = 0.1;`, used as
# Approximately(EqualsProto(expected), kSimilarityThreshold), i.e. |score - expected| <= 0.1 per category
# with index and label equal. (face_landmarker_test.cc's end-to-end kBlendshapesDiffMargin is 0.12.)
MEDIAPIPE_TOLERANCE = 0.1
# face_blendshapes_graph_test.cc SmokeTest: `std::pair<int, int> in_image_size = {820, 1024};` (width, height).
GOLDEN_IMAGE_SIZE = (820, 1024)


@pytest.fixture(scope="module")
def golden(shared_data):
    folder = shared_data / "video" / "mediapipe_golden"
    landmarks = read_landmarks(folder / "face_blendshapes_in_landmarks.prototxt")
    expected = read_classifications(folder / "face_blendshapes_out.prototxt")
    return landmarks, expected


@pytest.fixture(scope="module")
def model():
    try:
        return BlendshapeModel(allow_download=False)
    except ModelMissing as exc:
        if os.environ.get("CI"):
            pytest.fail(f"{exc.message}: {exc.hint}")
        pytest.skip(exc.message)


@pytest.mark.shared
def test_golden_files_read(golden):
    landmarks, expected = golden
    assert landmarks.shape == (478, 3)
    assert [(i, label) for i, _, label in expected] == list(enumerate(MEDIAPIPE_BLENDSHAPE_NAMES))


@pytest.mark.shared
def test_constants_match_shared_index_sets(shared_data):
    doc = json.loads((shared_data / "mediapipe-canonical" / "landmark_indices.json").read_text())
    assert list(LANDMARK_SUBSET) == doc["blendshape_model_input"]["landmark_indices_146"]
    assert list(MEDIAPIPE_BLENDSHAPE_NAMES) == doc["mediapipe_blendshape_names_52"]


@pytest.mark.shared
def test_golden_landmarks_give_golden_blendshapes(golden, model):
    landmarks, expected = golden
    want = np.array([score for _, score, _ in expected], dtype=np.float32)
    got = model.mediapipe_scores(landmarks, GOLDEN_IMAGE_SIZE)
    assert got.shape == (52,)
    err = np.abs(got - want)
    bad = {MEDIAPIPE_BLENDSHAPE_NAMES[i]: (float(got[i]), float(want[i]))
           for i in np.flatnonzero(err > MEDIAPIPE_TOLERANCE)}
    assert not bad, f"outside MediaPipe's tolerance {MEDIAPIPE_TOLERANCE}: {bad}"

    # The ARKit-ordered output is the same scores placed by name.
    arkit = model(landmarks, GOLDEN_IMAGE_SIZE)
    assert arkit.shape == (52,) and arkit.dtype == np.float32
    np.testing.assert_allclose(arkit, mediapipe_to_arkit([(label, s) for _, s, label in expected]),
                               atol=MEDIAPIPE_TOLERANCE)
    assert arkit[ARKIT_INDEX["jawOpen"]] == pytest.approx(expected[25][1], abs=MEDIAPIPE_TOLERANCE)
    assert arkit[ARKIT_INDEX["tongueOut"]] == 0.0


@pytest.mark.shared
def test_image_size_is_width_then_height(golden, model):
    """The golden pair tells the (width, height) order apart: swapped, scores leave the tolerance."""
    landmarks, expected = golden
    want = np.array([score for _, score, _ in expected], dtype=np.float32)
    swapped = model.mediapipe_scores(landmarks, GOLDEN_IMAGE_SIZE[::-1])
    assert np.abs(swapped - want).max() > MEDIAPIPE_TOLERANCE


def _distinct_categories() -> list[tuple[str, float]]:
    return [(name, (i + 1) / 100.0) for i, name in enumerate(MEDIAPIPE_BLENDSHAPE_NAMES)]


def test_mapping_puts_each_score_at_its_name():
    categories = _distinct_categories()
    by_name = dict(categories)
    shuffled = [categories[i] for i in np.random.default_rng(0).permutation(len(categories))]
    as_objects = [SimpleNamespace(index=i, score=s, category_name=n, display_name="")  # like mediapipe's Category
                  for i, (n, s) in enumerate(categories)]
    for form in (categories, by_name, shuffled, as_objects):
        arkit = mediapipe_to_arkit(form)
        assert arkit.shape == (52,) and arkit.dtype == np.float32
        for name in ARKIT_NAMES:
            want = by_name.get(name, 0.0)  # tongueOut: no MediaPipe category
            assert arkit[ARKIT_INDEX[name]] == pytest.approx(want), name
    arkit = mediapipe_to_arkit(categories)
    assert arkit[ARKIT_INDEX["jawOpen"]] == pytest.approx(0.26)  # MediaPipe index 25
    assert arkit[ARKIT_INDEX["eyeBlinkLeft"]] == pytest.approx(0.10)  # MediaPipe index 9
    assert arkit[ARKIT_INDEX["tongueOut"]] == 0.0
    assert not np.isclose(arkit, 0.01).any()  # _neutral (score 0.01 here) dropped
    np.testing.assert_array_equal(mediapipe_vector_to_arkit([s for _, s in categories]), arkit)


def test_mapping_rejects_other_category_lists():
    good = _distinct_categories()
    with pytest.raises(ValueError, match=r"unknown \['tongueOut'\].*missing \['_neutral'\]"):
        mediapipe_to_arkit([(name, 0.5) for name in ARKIT_NAMES])  # ARKit's names are not MediaPipe's
    with pytest.raises(ValueError, match=r"unknown \['smile'\]"):
        mediapipe_to_arkit(good + [("smile", 0.5)])
    with pytest.raises(ValueError, match=r"missing \['jawOpen'\]"):
        mediapipe_to_arkit([c for c in good if c[0] != "jawOpen"])
    with pytest.raises(ValueError, match=r"repeated \['jawOpen'\]"):
        mediapipe_to_arkit(good + [("jawOpen", 0.9)])
    with pytest.raises(ValueError, match="not MediaPipe's 52"):
        mediapipe_to_arkit([])
    with pytest.raises(TypeError):
        mediapipe_to_arkit("jawOpen")
    with pytest.raises(ValueError, match="expected 52"):
        mediapipe_vector_to_arkit(np.zeros(51))


def test_model_rejects_wrong_landmark_count(model):
    with pytest.raises(ValueError, match="478"):
        model(np.zeros((468, 3)), GOLDEN_IMAGE_SIZE)
