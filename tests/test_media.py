"""Streaming decode: real timestamps, variable frame rate, and clear errors for bad files."""
import numpy as np
import pytest

from engine.errors import BadInput
from engine.media.video import _upright, iter_frames, probe, read_ahead
from tests.videos import write_video


def gradient_frames(n, w=64, h=48):
    return [np.full((h, w, 3), (i * 7) % 255, np.uint8) for i in range(n)]


def test_timestamps_are_real_seconds_for_variable_frame_rate(tmp_path):
    times = [0.0, 0.033, 0.066, 0.15, 0.2, 0.5, 0.533]
    path = write_video(tmp_path / "vfr.mp4", gradient_frames(len(times)), times=times)
    decoded = [f.time for f in iter_frames(path)]
    np.testing.assert_allclose(decoded, times, atol=1e-3)


def test_probe_describes_the_stream(tmp_path):
    path = write_video(tmp_path / "c.mp4", gradient_frames(30), fps=25)
    info = probe(path)
    assert (info.width, info.height, info.rotation) == (64, 48, 0)
    assert info.fps == pytest.approx(25)


def test_read_ahead_yields_every_frame_in_order_and_passes_errors_on(tmp_path):
    path = write_video(tmp_path / "c.mp4", gradient_frames(40))
    assert [f.index for f in read_ahead(iter_frames(path), depth=3)] == list(range(40))

    def broken():
        yield from iter_frames(path)
        raise RuntimeError("decoder fell over")

    with pytest.raises(RuntimeError, match="fell over"):
        list(read_ahead(broken()))


def test_rotation_turns_the_picture_upright():
    image = np.arange(6, dtype=np.uint8).reshape(2, 3, 1).repeat(3, axis=2)
    assert _upright(image, 90).shape == (3, 2, 3)
    assert _upright(image, 0) is image
    np.testing.assert_array_equal(_upright(_upright(image, 90), 270), image)


@pytest.mark.parametrize("name, content, message", [
    ("missing.mp4", None, "not found"),
    ("empty.mp4", b"", "empty"),
    ("notes.mp4", b"this is a text file, not a video\n" * 20, "cannot read"),
    ("clips.mp4", "folder", "is a folder"),
])
def test_bad_files_are_refused_with_a_reason(tmp_path, name, content, message):
    path = tmp_path / name
    if content == "folder":
        path.mkdir()
    elif content is not None:
        path.write_bytes(content)
    with pytest.raises(BadInput, match=message) as info:
        probe(path)
    assert info.value.hint


def test_audio_only_file_is_refused(tmp_path):
    import av
    path = tmp_path / "speech.m4a"
    with av.open(str(path), "w") as out:
        stream = out.add_stream("aac", rate=16000)
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
        frame.sample_rate = 16000
        for packet in stream.encode(frame):
            out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    with pytest.raises(BadInput, match="no video stream"):
        probe(path)


@pytest.mark.parametrize("rotation", [90, -90, 180])
def test_phone_rotation_metadata_is_applied(tmp_path, rotation):
    """Phones record sideways and tag the stream; frames must come out as the phone showed them
    (ffmpeg's autorotate convention: turn counter-clockwise by the display matrix angle)."""
    import av
    picture = np.zeros((32, 64, 3), np.uint8)
    picture[:, :10] = 255                               # a white band on the left edge
    path = tmp_path / "phone.mp4"
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=30)
        stream.width, stream.height, stream.pix_fmt = 64, 32, "yuv420p"
        stream.set_display_rotation(rotation)
        for _ in range(3):
            for packet in stream.encode(av.VideoFrame.from_ndarray(picture, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    info = probe(path)
    assert info.rotation == rotation % 360
    assert (info.width, info.height) == ((32, 64) if rotation % 180 else (64, 32))
    image = next(iter_frames(path)).image
    expected = np.rot90(picture, k=(rotation % 360) // 90)
    assert image.shape == expected.shape
    assert np.abs(image.astype(int) - expected).mean() < 8          # codec noise only
