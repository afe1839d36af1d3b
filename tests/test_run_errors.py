"""Bad input to `faceretarget-engine run`: a clear message (JSON error event), a non-zero exit code, and
no take folder that looks complete."""
import json
import os
import subprocess
import sys
from pathlib import Path

import av
import numpy as np
import pytest

from engine.errors import EXIT_BAD_INPUT, EXIT_NO_FACE
from tests.videos import read_frames, write_video

REPO = Path(__file__).resolve().parents[1]


def run_engine(*args, timeout=300):
    proc = subprocess.run([sys.executable, "-m", "engine", "run", *map(str, args), "--progress", "json"],
                          cwd=REPO, capture_output=True, text=True, timeout=timeout)
    events = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    return proc.returncode, events, proc.stderr


def assert_no_take(out: Path):
    assert not out.exists()
    leftovers = [p.name for p in out.parent.iterdir() if p.name.startswith(f".{out.name}.")]
    assert leftovers == [], leftovers


def error_of(events):
    errors = [e for e in events if e["event"] == "error"]
    assert len(errors) == 1, events
    return errors[0]


@pytest.fixture(scope="module")
def short_face_frames(shared_data):
    return read_frames(shared_data / "video" / "faces" / "driving_d6.mp4", 60)


def test_missing_file(tmp_path):
    code, events, _ = run_engine("--video", tmp_path / "nope.mp4", "--out", tmp_path / "take")
    assert code == EXIT_BAD_INPUT and "not found" in error_of(events)["message"]
    assert_no_take(tmp_path / "take")


def test_not_a_video(tmp_path):
    bogus = tmp_path / "clip.mp4"
    bogus.write_text("definitely not a video\n" * 100)
    code, events, _ = run_engine("--video", bogus, "--out", tmp_path / "take")
    error = error_of(events)
    assert code == EXIT_BAD_INPUT and "cannot read" in error["message"] and error["hint"]
    assert_no_take(tmp_path / "take")


def test_zero_byte_file(tmp_path):
    empty = tmp_path / "empty.mov"
    empty.touch()
    code, events, _ = run_engine("--video", empty, "--out", tmp_path / "take")
    assert code == EXIT_BAD_INPUT and "empty" in error_of(events)["message"]
    assert_no_take(tmp_path / "take")


def test_truncated_file_without_index(tmp_path, shared_data):
    data = (shared_data / "video" / "faces" / "driving_d11.mp4").read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) // 2])      # mp4 index (moov) at the end: nothing is decodable
    code, events, _ = run_engine("--video", cut, "--out", tmp_path / "take")
    assert code == EXIT_BAD_INPUT and error_of(events)["hint"]
    assert_no_take(tmp_path / "take")


def test_truncated_streamable_file_keeps_the_good_frames(tmp_path, short_face_frames):
    whole = tmp_path / "whole.mp4"
    with av.open(str(whole), "w", options={"movflags": "faststart"}) as out:
        stream = out.add_stream("libx264", rate=30)
        stream.width, stream.height, stream.pix_fmt = 480, 480, "yuv420p"
        for image in short_face_frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    data = whole.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: int(len(data) * 0.6)])
    code, events, _ = run_engine("--video", cut, "--out", tmp_path / "take")
    if code == 0:      # the decoder read what was there: a take of the frames before the cut
        meta = json.loads((tmp_path / "take" / "take.json").read_text())
        assert 0 < meta["frame_count"] < 60
    else:
        assert code == EXIT_BAD_INPUT and error_of(events)["hint"]
        assert_no_take(tmp_path / "take")


def test_video_without_a_face(tmp_path):
    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 255, (240, 320, 3), dtype=np.uint8) for _ in range(20)]
    clip = write_video(tmp_path / "noise.mp4", frames)
    code, events, _ = run_engine("--video", clip, "--out", tmp_path / "take")
    error = error_of(events)
    assert code == EXIT_NO_FACE and "no face" in error["message"] and error["hint"]
    assert_no_take(tmp_path / "take")


def test_face_lost_mid_clip_is_a_warning_and_a_recorded_gap(tmp_path, short_face_frames):
    frames = [f if not 20 <= i < 35 else np.zeros_like(f) for i, f in enumerate(short_face_frames)]
    clip = write_video(tmp_path / "lost.mp4", frames)
    code, events, _ = run_engine("--video", clip, "--out", tmp_path / "take")
    assert code == 0, events
    warnings = [e for e in events if e["event"] == "warning" and e["code"] == "face_lost"]
    assert len(warnings) == 1 and warnings[0]["frames"] == 15
    meta = json.loads((tmp_path / "take" / "take.json").read_text())
    gap = meta["tracking"]["gaps"][0]
    assert gap["frames"] == 15 and gap["start"] == pytest.approx(20 / 30, abs=0.01)
    assert any(w["code"] == "face_lost" for w in meta["warnings"])
    detected = np.loadtxt(tmp_path / "take" / "head_pose.csv", delimiter=",", skiprows=1)[:, 1]
    assert detected[20:35].sum() == 0 and detected[:20].all()


def test_existing_output_folder_is_not_touched(tmp_path, short_face_frames):
    out = tmp_path / "take"
    out.mkdir()
    (out / "keep.txt").write_text("animator's notes")
    clip = write_video(tmp_path / "ok.mp4", short_face_frames[:10])
    code, events, _ = run_engine("--video", clip, "--out", out)
    assert code == EXIT_BAD_INPUT and "already exists" in error_of(events)["message"]
    assert (out / "keep.txt").read_text() == "animator's notes"
    code, events, _ = run_engine("--video", clip, "--out", out, "--overwrite")
    assert code == EXIT_BAD_INPUT and "not a take folder" in error_of(events)["message"]


def test_cancel_leaves_no_take(tmp_path, shared_data):
    out = tmp_path / "take"
    proc = subprocess.Popen([sys.executable, "-m", "engine", "run", "--video",
                             str(shared_data / "video" / "faces" / "driving_d6.mp4"), "--out", str(out),
                             "--progress", "json"], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            text=True)
    for line in proc.stdout:                       # wait until tracking is under way
        if json.loads(line).get("stage") == "track":
            break
    proc.terminate()
    rest = proc.stdout.read()
    assert proc.wait(timeout=60) != 0
    assert "cancelled" in rest
    assert_no_take(out)
