"""The self-made demo clip must be a face MediaPipe reads the way the script says.

One clip is generated and tracked per module (MediaPipe Face Landmarker, VIDEO mode, over the decoded MP4),
then the tracker's blendshape scores are compared with the script's ground-truth weights.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from engine.demo.sample import (CHANNELS, NEUTRAL_LEAD_S, SampleScript, ScriptEvent, default_script,
                                make_sample_clip)
from engine.export.take import TAKE_KEYS

CLIP_SECONDS = 8.0
CLIP_FPS = 30.0
CLIP_SIZE = 384               # smaller than the demo's 512: faster to make and track, same face
PEAK_LEVEL = 0.9              # script weight from which a frame counts as the peak of an expression
PEAK_MIN_SCORE = 0.4
PEAK_MIN_RISE = 0.3           # above the tracker's own score at neutral
MIN_CORRELATION = 0.7
PAIRED_CHANNELS = {"blink": ("eyeBlinkLeft", "eyeBlinkRight"), "jaw": ("jawOpen",),
                   "smile": ("mouthSmileLeft", "mouthSmileRight")}


@dataclass
class TrackedClip:
    path: Path
    script: SampleScript
    times: np.ndarray
    detected: np.ndarray                 # (frames,) bool
    scores: dict[str, np.ndarray]        # MediaPipe's blendshape scores per frame
    truth: dict[str, np.ndarray]         # the script's weights at the same times


def track_clip(path: Path) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """Decode with PyAV and run MediaPipe's Face Landmarker in VIDEO mode: times, detected, scores."""
    import av
    import mediapipe as mp
    from mediapipe.tasks.python import BaseOptions, vision

    from engine.track.model_bundle import resolve_model

    options = vision.FaceLandmarkerOptions(base_options=BaseOptions(model_asset_path=str(resolve_model())),
                                           running_mode=vision.RunningMode.VIDEO, num_faces=1,
                                           output_face_blendshapes=True)
    times, detected, rows = [], [], []
    landmarker = vision.FaceLandmarker.create_from_options(options)
    try:
        with av.open(str(path)) as container:
            for frame in container.decode(video=0):
                image = mp.Image(image_format=mp.ImageFormat.SRGB, data=frame.to_ndarray(format="rgb24"))
                result = landmarker.detect_for_video(image, int(round(frame.time * 1000)))
                times.append(frame.time)
                detected.append(bool(result.face_blendshapes))
                rows.append({c.category_name: c.score for c in result.face_blendshapes[0]}
                            if result.face_blendshapes else {})
    finally:
        landmarker.close()
    names = {name for row in rows for name in row}
    scores = {name: np.array([row.get(name, np.nan) for row in rows]) for name in names}
    return np.array(times), np.array(detected), scores


@pytest.fixture(scope="module")
def tracked(tmp_path_factory) -> TrackedClip:
    path = tmp_path_factory.mktemp("demo") / "sample.mp4"
    script = make_sample_clip(path, default_script(CLIP_SECONDS), fps=CLIP_FPS, size=CLIP_SIZE)
    times, detected, scores = track_clip(path)
    truth = {name: np.array([script.weights_at(t)[name] for t in times]) for name in CHANNELS}
    return TrackedClip(path, script, times, detected, scores, truth)


def peak_runs(weights: np.ndarray) -> list[np.ndarray]:
    """Frame indices of each separate stretch where the script holds an expression near its peak."""
    indices = np.flatnonzero(weights >= PEAK_LEVEL)
    return [run for run in np.split(indices, np.flatnonzero(np.diff(indices) > 1) + 1) if run.size]


def neutral_score(clip: TrackedClip, name: str) -> float:
    return float(np.median(clip.scores[name][clip.times < NEUTRAL_LEAD_S]))


def peak_scores(clip: TrackedClip, name: str) -> list[float]:
    return [float(np.max(clip.scores[name][run])) for run in peak_runs(clip.truth[name])]


def correlation(clip: TrackedClip, name: str) -> float:
    return float(np.corrcoef(clip.truth[name], clip.scores[name])[0, 1])


# ----------------------------------------------------------------------------------------------- fast
def test_script_is_neutral_first_then_eases_in_and_out():
    script = default_script()
    assert set(script.weights_at(0.0)) == set(CHANNELS)
    for t in np.arange(0.0, NEUTRAL_LEAD_S, 0.05):
        assert max(script.weights_at(t).values()) == 0.0
    samples = np.array([list(script.weights_at(t).values()) for t in np.arange(0.0, 8.0, 1 / 240)])
    assert samples.min() >= 0.0 and samples.max() == pytest.approx(1.0)
    assert np.abs(np.diff(samples, axis=0)).max() < 0.2          # smooth at 240 Hz: no jumps
    assert max(script.weights_at(7.9).values()) == 0.0           # back to neutral at the end


def test_script_rescales_and_rejects_unknown_channels():
    short = default_script(5.0)
    assert max(event.end for event in short.events) <= 5.0
    with pytest.raises(ValueError):
        default_script(2.0)
    with pytest.raises(ValueError):
        ScriptEvent(1.0, 0.1, 0.1, 0.1, {"notAShape": 1.0})


# ----------------------------------------------------------------------------------------------- slow
@pytest.mark.slow
def test_clip_is_h264_at_the_requested_rate(tracked: TrackedClip):
    import av

    with av.open(str(tracked.path)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert stream.codec_context.pix_fmt == "yuv420p"
        assert (stream.width, stream.height) == (CLIP_SIZE, CLIP_SIZE)
        assert float(stream.average_rate) == pytest.approx(CLIP_FPS)
    assert len(tracked.times) == round(CLIP_SECONDS * CLIP_FPS)


@pytest.mark.slow
def test_face_found_in_every_frame(tracked: TrackedClip):
    assert tracked.detected.all()


@pytest.mark.slow
@pytest.mark.parametrize("expression", PAIRED_CHANNELS)
def test_mediapipe_sees_each_peak(tracked: TrackedClip, expression: str):
    for name in PAIRED_CHANNELS[expression]:
        neutral = neutral_score(tracked, name)
        peaks = peak_scores(tracked, name)
        assert peaks, f"the script has no {name} peak"
        for peak in peaks:
            assert peak > PEAK_MIN_SCORE and peak > neutral + PEAK_MIN_RISE, (name, neutral, peaks)


@pytest.mark.slow
@pytest.mark.parametrize("expression", PAIRED_CHANNELS)
def test_mediapipe_follows_the_script(tracked: TrackedClip, expression: str):
    for name in PAIRED_CHANNELS[expression]:
        assert correlation(tracked, name) > MIN_CORRELATION, name


def test_demo_command_writes_a_take_and_prints_a_summary(tmp_path):
    """The README's first command: `faceretarget-engine demo` needs no downloaded media."""
    import subprocess
    import sys
    from pathlib import Path

    out = tmp_path / "demo_take"
    proc = subprocess.run([sys.executable, "-m", "engine", "demo", "--out", str(out), "--seconds", "5"],
                          cwd=Path(__file__).resolve().parents[1], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert (out / "take.json").is_file() and (out / "faceboard.csv").is_file()
    assert "face found in 100%" in proc.stdout and "CTRL_C_jaw.ty" in proc.stdout
    # the demo shows the recommended workflow: its synthetic actor is calibrated from a neutral capture
    import json

    meta = json.loads((out / "take.json").read_text())
    assert meta["actor"]["name"] == "demo" and Path(meta["actor"]["path"]).is_file()
    assert meta["tracking"]["neutral_source"] == "actor profile"
    assert tuple(meta) == TAKE_KEYS, set(meta) ^ set(TAKE_KEYS)   # every kind of take: the same take.json keys
    assert not [w for w in meta["warnings"] if w["code"] == "no_actor_profile"]
    # run twice: the demo replaces its own take
    again = subprocess.run([sys.executable, "-m", "engine", "demo", "--out", str(out), "--seconds", "5"],
                           cwd=Path(__file__).resolve().parents[1], capture_output=True, text=True, timeout=300)
    assert again.returncode == 0
