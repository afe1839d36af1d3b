"""The preview stage: review video, compare, plots. Built on a short demo-sample take (no shared data):
the sample clip with a tone muxed in, retargeted with `run --preview`, so the take carries preview.mp4."""
from __future__ import annotations

import json
import shutil
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from engine.config import RunOptions
from engine.errors import BadInput
from engine.pipeline import run
from engine.preview.encode import EncoderMissing, check_encoder
from engine.preview.faceboard_diagram import KNOB_ON, KNOB_REST, FaceBoardDiagram
from engine.config.preview import PreviewOptions
from engine.preview.preview import PreviewLayout, render_preview
from engine.export.livelink import read_livelink_csv, write_livelink_csv
from engine.export.take import read_curves_csv, write_curves_csv
from engine.preview.take_data import ARKIT, TakeData, load_take
from engine.protocol import Reporter
from engine.rig.faceboard import RIG_GENERATIONS

SECONDS = 4.0
TONE_HZ = 440.0
COLOR_TOL = 60          # per channel, after H.264 at crf 23 (a knob is 8-10 px across)


def _mux_tone(video: Path, out: Path, seconds: float, rate: int = 48000) -> None:
    """`video` with a sine tone as its audio track (the sample clip has none)."""
    with av.open(str(video)) as src, av.open(str(out), "w") as dst:
        vin = src.streams.video[0]
        vout = dst.add_stream_from_template(vin)
        aout = dst.add_stream("aac", rate=rate, layout="mono")
        for packet in src.demux(vin):
            if packet.dts is None:
                continue
            packet.stream = vout
            dst.mux(packet)
        t = np.arange(int(seconds * rate)) / rate
        tone = (0.3 * np.sin(2 * np.pi * TONE_HZ * t)).astype(np.float32)
        for i in range(0, len(tone), 1024):
            frame = av.AudioFrame.from_ndarray(tone[None, i:i + 1024], format="fltp", layout="mono")
            frame.sample_rate, frame.pts = rate, i
            for packet in aout.encode(frame):
                dst.mux(packet)
        for packet in aout.encode(None):
            dst.mux(packet)


@pytest.fixture(scope="module")
def take(tmp_path_factory) -> Path:
    from engine.demo.sample import default_script, make_sample_clip

    root = tmp_path_factory.mktemp("preview")
    silent = root / "silent.mp4"
    make_sample_clip(silent, default_script(SECONDS))
    clip = root / "sample.mp4"
    _mux_tone(silent, clip, SECONDS)
    return run(RunOptions(video=clip, out=root / "take", preview=True), Reporter())


def _decode(path: Path, indices: list[int]) -> dict[int, np.ndarray]:
    wanted, out = set(indices), {}
    with av.open(str(path)) as c:
        for i, frame in enumerate(c.decode(video=0)):
            if i in wanted:
                out[i] = frame.to_ndarray(format="rgb24")
            if len(out) == len(wanted):
                break
    return out


def _streams(path: Path) -> dict[str, tuple[int, float]]:
    with av.open(str(path)) as c:
        return {s.type: (s.frames, float(s.duration * s.time_base)) for s in c.streams}


def test_run_preview_writes_a_video_that_matches_the_take(take):
    meta = json.loads((take / "take.json").read_text())
    assert meta["files"]["preview"] == "preview.mp4" and "preview" in meta["timings"]
    streams = _streams(take / "preview.mp4")
    frames, duration = streams["video"]
    assert frames == meta["frame_count"]
    frame_time = 1 / meta["fps"]
    assert abs(duration - (meta["duration"] + frame_time)) <= frame_time + 1e-6  # last frame shown one period
    assert "audio" in streams, "the source's audio track must be muxed"
    assert abs(streams["audio"][1] - duration) < 0.1
    with av.open(str(take / "preview.mp4")) as c:
        v = c.streams.video[0]
        assert (v.width, v.height, v.codec_context.name) == (1280, 720, "h264")
        assert Fraction(v.average_rate) == Fraction(meta["fps"]).limit_denominator(1001)


OPEN = slice(50, 70)       # frames whose jaw the test opens wide
CLOSED = 15


@pytest.fixture(scope="module")
def jaw_preview(take, tmp_path_factory) -> tuple[Path, TakeData]:
    """The take with its jaw curves set (CTRL_C_jaw.ty and ARKit jawOpen 1.0 on frames 50-69, 0 elsewhere),
    so the checks do not depend on how wide the tracker and solver open this clip's jaw; previewed at
    1280x720."""
    copy = tmp_path_factory.mktemp("jaw") / "take"
    shutil.copytree(take, copy)
    times, names, values = read_curves_csv(copy / "faceboard.csv")
    jaw = np.zeros(len(times))
    jaw[OPEN] = 1.0
    values[:, names.index("CTRL_C_jaw.ty")] = jaw
    write_curves_csv(copy / "faceboard.csv", times, names, values)
    livelink = read_livelink_csv(copy / "arkit.csv")
    arkit = livelink.arkit().astype(float)
    arkit[:, ARKIT.index("jawOpen")] = jaw
    arkit[:, ARKIT.index("mouthClose")] = 0.0
    write_livelink_csv(copy / "arkit.csv", times, arkit, head=livelink.head())
    render_preview(copy, copy / "preview.mp4", PreviewOptions(audio=False))
    return copy / "preview.mp4", load_take(copy)


def _patch(image: np.ndarray, xy: tuple[float, float]) -> np.ndarray:
    x, y = int(round(xy[0])), int(round(xy[1]))
    return np.median(image[y - 1:y + 2, x - 1:x + 2].reshape(-1, 3), axis=0)


def test_jaw_knob_moves_in_the_diagram_when_the_jaw_opens(jaw_preview):
    video, data = jaw_preview
    high, low = OPEN.start + 10, CLOSED
    frames = _decode(video, [high, low])
    layout = PreviewLayout.for_size(1280, 720)
    bx, by = layout.board[:2]
    diagram = FaceBoardDiagram(data.rig, layout.board[2:])
    values = dict(zip(data.faceboard_names, data.faceboard[high]))
    open_xy = np.add(diagram.knob_xy("CTRL_C_jaw", values), (bx, by))
    rest_xy = np.add(diagram.rest_xy("CTRL_C_jaw"), (bx, by))
    assert rest_xy[1] - open_xy[1] > 20, "jaw.ty 1.0: the knob at the top of its box"
    assert np.all(np.abs(_patch(frames[high], open_xy) - KNOB_ON) < COLOR_TOL)
    assert not np.all(np.abs(_patch(frames[high], rest_xy) - KNOB_REST) < COLOR_TOL), "no knob left at rest"
    # at rest the knob sits at its default, grey
    assert np.all(np.abs(_patch(frames[low], rest_xy) - KNOB_REST) < COLOR_TOL)
    assert not np.all(np.abs(_patch(frames[low], open_xy) - KNOB_ON) < COLOR_TOL)


def test_head_panel_opens_its_mouth_with_the_jaw(jaw_preview):
    video, _ = jaw_preview
    high, low = OPEN.start + 10, CLOSED
    frames = _decode(video, [high, low])
    x, y, w, h = PreviewLayout.for_size(1280, 720).head
    a = frames[high][y:y + h, x:x + w].astype(float)
    b = frames[low][y:y + h, x:x + w].astype(float)
    changed = np.abs(a - b).max(axis=2) > 40
    assert changed.mean() > 0.01, "a visible part of the head changes"
    rows = np.flatnonzero(changed.any(axis=1))
    assert rows.mean() > h * 0.45, "the change is in the lower face"
    # the open mouth shows its dark red inside (the background is a dark blue-grey)
    def mouth_inside(image):
        return ((image[..., 0] - image[..., 1] > 20) & (image.mean(axis=2) < 70)).sum()
    assert mouth_inside(a) > mouth_inside(b) + 300


def test_preview_takes_the_takes_own_audio_and_a_custom_size(take, tmp_path):
    copy = tmp_path / "take"
    shutil.copytree(take, copy)
    meta = json.loads((copy / "take.json").read_text())
    rate = 16000
    with av.open(str(copy / "audio.wav"), "w") as wav:
        stream = wav.add_stream("pcm_s16le", rate=rate, layout="mono")
        samples = (np.sin(np.arange(rate * 2) / rate * 2 * np.pi * 220) * 8000).astype(np.int16)
        frame = av.AudioFrame.from_ndarray(samples[None], format="s16", layout="mono")
        frame.sample_rate = rate
        for packet in list(stream.encode(frame)) + list(stream.encode(None)):
            wav.mux(packet)
    meta["files"]["audio"] = "audio.wav"
    (copy / "take.json").write_text(json.dumps(meta))
    out = tmp_path / "small.mp4"
    result = render_preview(copy, out, PreviewOptions(width=640, height=360, head_renderer="soft"))
    assert result.head_backend == "soft" and result.frames == meta["frame_count"]
    streams = _streams(out)
    assert streams["audio"][1] == pytest.approx(2.0, abs=0.05), "the 2 s take audio, not the source's 4 s"
    with av.open(str(out)) as c:
        assert (c.streams.video[0].width, c.streams.video[0].height) == (640, 360)


def test_preview_without_the_source_video_still_shows_the_curves(take, tmp_path):
    copy = tmp_path / "take"
    shutil.copytree(take, copy)
    meta = json.loads((copy / "take.json").read_text())
    meta["inputs"]["video"]["path"] = str(tmp_path / "moved.mp4")
    (copy / "take.json").write_text(json.dumps(meta))
    reporter = Reporter()
    result = render_preview(copy, tmp_path / "p.mp4", PreviewOptions(width=640, height=360), reporter)
    assert result.frames == meta["frame_count"]
    assert [w["code"] for w in reporter.warnings] == ["preview_no_source"]


def test_missing_encoder_is_a_clear_error():
    with pytest.raises(EncoderMissing) as info:
        check_encoder("no_such_encoder")
    assert "pip install" in info.value.hint and info.value.exit_code == 4
    check_encoder("libx264")


def test_not_a_take_is_bad_input(tmp_path):
    with pytest.raises(BadInput):
        render_preview(tmp_path, tmp_path / "x.mp4")


@pytest.mark.parametrize("rig", RIG_GENERATIONS)
def test_every_control_has_its_own_widget_on_the_board(rig):
    diagram = FaceBoardDiagram(rig, (480, 720))
    assert set(diagram.widgets) == {a.control for a in diagram.board.attributes}
    rects = [w.rect for w in diagram.widgets.values()]
    for x0, y0, x1, y1 in rects:
        assert 0 <= x0 <= x1 < 480 and 0 <= y0 < y1 < 720
    boxes = [(x0 - 2, y0, x1 + 2, y1) for x0, y0, x1, y1 in rects]   # sliders have width 0: pad them
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1], "widgets overlap"
    # mirrored sides: the subject's right on the viewer's left
    lx = diagram.widgets["CTRL_L_eye_blink"].rect[0]
    rx = diagram.widgets["CTRL_R_eye_blink"].rect[0]
    assert rx < 240 < lx and abs((480 - lx) - rx) <= 2


def test_compare_matches_frames_by_time(take, tmp_path):
    left = Path(json.loads((take / "take.json").read_text())["inputs"]["video"]["path"])
    out = tmp_path / "side.mp4"
    from engine.preview.compare import CompareOptions, compare_videos

    compare_videos(left, take / "preview.mp4", out, CompareOptions(height=360, offset=1.0))
    streams = _streams(out)
    assert streams["video"][0] == _streams(left)["video"][0]
    assert "audio" in streams
    with av.open(str(out)) as c:
        assert c.streams.video[0].height == 360 and c.streams.video[0].width == 360 + 640
    first = _decode(out, [0])[0]
    assert first[:, 360:].mean() < 10, "the render starts 1 s in: black before it"


def test_plot_writes_the_channels_asked_for(take, tmp_path):
    from engine.preview.plot import PlotOptions, plot_take

    out = plot_take(take, tmp_path / "c.png", PlotOptions(channels=("CTRL_*_eye_blink.ty", "jawOpen"), dpi=80))
    import matplotlib.image

    image = matplotlib.image.imread(out)
    assert image.shape[0] > 200 and image.shape[1] > 300
    with pytest.raises(BadInput) as info:
        plot_take(take, tmp_path / "d.png", PlotOptions(channels=("jawopen",)))
    assert "jawOpen" in info.value.hint


def test_builtin_head_moves_with_the_curves_on_both_renderers():
    from engine.preview.head import builtin_head
    from engine.preview.head.model import ARKIT
    from engine.preview.head.render import HeadRenderer

    head = builtin_head()
    assert set(head.channels) == set(ARKIT), "every ARKit channel moves the built-in head"
    neutral = np.zeros(52, np.float32)
    for name in ("jawOpen", "eyeBlinkLeft", "mouthSmileRight", "browInnerUp"):
        weights = neutral.copy()
        weights[ARKIT.index(name)] = 1.0
        assert np.abs(head.pose(weights) - head.neutral).max() > 0.2, name
    jaw = neutral.copy()
    jaw[ARKIT.index("jawOpen")] = 1.0
    for backend in ("soft", "gl"):
        renderer = HeadRenderer(head, (160, 200), backend)
        try:
            a, b = renderer.render(neutral), renderer.render(jaw)
        finally:
            renderer.close()
        assert np.abs(a.astype(int) - b.astype(int)).max(axis=2).__gt__(40).mean() > 0.01, backend


def test_ict_head_from_shared_data(shared_data):
    from engine.preview.head.ict import load_ict_head
    from engine.preview.head.model import ARKIT
    from engine.preview.head.render import HeadRenderer

    head = load_ict_head(shared_data / "ict-facekit" / "ict_facekit_light_expr.npz")
    assert "tongueOut" not in head.channels and head.channels.count("browInnerUp") == 2
    assert {"jawLeft", "jawRight", "mouthLeft", "mouthRight"} <= set(head.channels)   # directions, not sides
    jaw = np.zeros(52, np.float32)
    jaw[ARKIT.index("jawOpen")] = 1.0
    renderer = HeadRenderer(head, (160, 200), "auto")
    try:
        a, b = renderer.render(np.zeros(52)), renderer.render(jaw)
    finally:
        renderer.close()
    assert np.abs(a.astype(int) - b.astype(int)).max(axis=2).__gt__(40).mean() > 0.005
