"""The side-by-side review video of a take: source + landmarks, face board, 3D head, curve strip.

Layout (1280x720 by default, scaled for other sizes):

    +--------------------+---------------+---------------------+
    | source + landmarks | 3D head       | face-board diagram  |
    | + head axes        | (ARKit curves)| (every control)     |
    +--------------------+---------------+                     |
    | key curves, scrolling, cursor      |                     |
    +------------------------------------+---------------------+

One output frame per source frame, stamped with the source frame's time (so the MP4 runs at the source's
frame rate and stays in sync with the audio); the take's curves are interpolated at that time. The source
is decoded on a read-ahead thread and the encoder runs on its own thread, so decoding, drawing and
encoding overlap on the two cores.
"""
from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from engine.errors import BadInput
from engine.media.video import Frame, TruncatedVideo, iter_frames, probe, read_ahead
from engine.preview.encode import AudioSource, VideoEncoder, check_encoder, source_audio
from engine.preview.faceboard_diagram import FaceBoardDiagram
from engine.preview.head import load_head
from engine.preview.head.render import HeadRenderer
from engine.config.preview import PreviewOptions
from engine.preview.overlay import SourcePanel
from engine.preview.strip import CurveStrip
from engine.preview.take_data import TakeData, load_take
from engine.protocol import Reporter
from engine.rig.faceboard import load_faceboard

log = logging.getLogger("faceretarget.preview")

HEAD_MODEL_ENV = "FACERETARGET_HEAD_MODEL"
DESIGN_SIZE = (1280, 720)
# Panels as (x, y, w, h) on the 1280x720 design canvas.
DESIGN_PANELS = {"source": (0, 0, 448, 504), "head": (448, 0, 352, 504), "strip": (0, 504, 800, 216),
                 "board": (800, 0, 480, 720)}
# (lane, [(label, channel)]): channels are face-board attributes, ARKit names or head-pose columns.
DEFAULT_STRIP = (
    ("jaw open", "CTRL_C_jaw.ty"), ("lips together", "CTRL_L_mouth_lipsTogetherU.ty"),
    ("blink L", "CTRL_L_eye_blink.ty"), ("blink R", "CTRL_R_eye_blink.ty"),
    ("smile L", "CTRL_L_mouth_cornerPull.ty"), ("smile R", "CTRL_R_mouth_cornerPull.ty"),
)
STRIP_LANES = ((0, 1), (2, 3), (4, 5))
PREVIEW_FILE = "preview.mp4"
LABEL = (190, 196, 210)


@dataclass(frozen=True)
class PreviewLayout:
    width: int
    height: int
    source: tuple[int, int, int, int]
    head: tuple[int, int, int, int]
    strip: tuple[int, int, int, int]
    board: tuple[int, int, int, int]

    @classmethod
    def for_size(cls, width: int, height: int) -> "PreviewLayout":
        sx, sy = width / DESIGN_SIZE[0], height / DESIGN_SIZE[1]

        def scale(rect):
            x, y, w, h = rect
            x0, y0 = int(round(x * sx)) // 2 * 2, int(round(y * sy)) // 2 * 2
            x1, y1 = int(round((x + w) * sx)) // 2 * 2, int(round((y + h) * sy)) // 2 * 2
            return x0, y0, x1 - x0, y1 - y0

        return cls(width, height, **{k: scale(v) for k, v in DESIGN_PANELS.items()})


def resolve_head_model(option: Path | None) -> Path | None:
    if option is not None:
        return Path(option)
    env = os.environ.get(HEAD_MODEL_ENV)
    return Path(env) if env else None


class PreviewRenderer:
    """Draws preview frames for one take (usable without encoding: `frame(index, time, image)`)."""

    def __init__(self, take: TakeData, options: PreviewOptions, source_size: tuple[int, int] | None):
        self.take = take
        self.options = options
        self.layout = layout = PreviewLayout.for_size(options.width, options.height)
        self.canvas = np.zeros((layout.height, layout.width, 3), np.uint8)
        self.source = SourcePanel(layout.source[2:], source_size)
        self.board = FaceBoardDiagram(take.rig, layout.board[2:])
        board_names = load_faceboard(take.rig).names
        order = [take.faceboard_names.index(n) if n in take.faceboard_names else -1 for n in board_names]
        self._board_cols = np.array(order)
        self.head_model = load_head(resolve_head_model(options.head_model), take)
        self.head = HeadRenderer(self.head_model, layout.head[2:], options.head_renderer)
        lanes = []
        for lane in STRIP_LANES:
            entries = []
            for k in lane:
                label, channel = DEFAULT_STRIP[k]
                values = take.channel(channel)
                if values is not None:
                    entries.append((label, values))
            lanes.append(entries)
        self._head_label = {"canonical": "ARKit head (MediaPipe canonical mesh)",
                            "ict-facekit": "ARKit head (ICT-FaceKit)",
                            "take-mean-face": "ARKit head (mean tracked face)"}.get(self.head_model.name,
                                                                                    self.head_model.name)
        self.strip = CurveStrip(layout.strip[2:], take.times, lanes, options.strip_seconds)
        self._views = {name: self._view(getattr(layout, name)) for name in ("source", "head", "strip", "board")}
        self.timings = {"source": 0.0, "head": 0.0, "board": 0.0, "strip": 0.0}

    def _view(self, rect):
        x, y, w, h = rect
        return self.canvas[y:y + h, x:x + w]

    def board_values(self, faceboard: np.ndarray) -> np.ndarray:
        values = self.board.board.defaults.copy()
        known = self._board_cols >= 0
        values[known] = faceboard[self._board_cols[known]]
        return values

    def frame(self, index: int, t: float, image: np.ndarray | None) -> np.ndarray:
        """The composed RGB frame (a view of an internal canvas: copy it to keep it)."""
        values = self.take.at(t)
        clock = time.perf_counter
        t0 = clock()
        head = values.head[3:6] if values.detected else None
        self.source.draw(self._views["source"], image, self.take.frame_landmarks(index), head)
        t1 = clock()
        ypr = values.head[3:6] if values.detected and np.isfinite(values.head[3:6]).all() else (0.0, 0.0, 0.0)
        self._views["head"][:] = self.head.render(values.arkit, ypr)
        cv2.putText(self._views["head"], self._head_label, (8, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.42, LABEL, 1,
                    cv2.LINE_AA)
        t2 = clock()
        self.board.draw(self.board_values(values.faceboard), self._views["board"])
        t3 = clock()
        self.strip.draw(self._views["strip"], t)
        t4 = clock()
        for key, dt in zip(("source", "head", "board", "strip"), (t1 - t0, t2 - t1, t3 - t2, t4 - t3)):
            self.timings[key] += dt
        return self.canvas

    def close(self) -> None:
        self.head.close()


def _fitted(frames, panel: SourcePanel):
    """Scale each frame to the source panel as it is decoded: run under read_ahead, this happens on the
    decode thread (OpenCV releases the GIL), in parallel with drawing the previous frame."""
    size = (panel.dw, panel.dh)
    for frame in frames:
        image = frame.image
        if (image.shape[1], image.shape[0]) != size:
            interp = cv2.INTER_AREA if image.shape[1] > 2 * size[0] else cv2.INTER_LINEAR
            image = cv2.resize(image, size, interpolation=interp)
        yield Frame(frame.index, frame.time, image)


def _take_frames(take: TakeData) -> list[Frame]:
    return [Frame(i, float(t), None) for i, t in enumerate(take.times)]


@dataclass
class PreviewResult:
    path: Path
    frames: int
    seconds: float
    head: str                 # which head model was drawn
    head_backend: str         # "gl" or "soft"
    timings: dict             # seconds spent drawing each panel

    @property
    def fps(self) -> float:
        return self.frames / max(self.seconds, 1e-9)


def render_preview(take_dir: Path, out: Path | None = None, options: PreviewOptions | None = None,
                   reporter: Reporter | None = None, meta: dict | None = None) -> PreviewResult:
    """Write the review video of the take in `take_dir` (default: TAKE/preview.mp4)."""
    options = options or PreviewOptions()
    reporter = reporter or Reporter()
    if options.width % 2 or options.height % 2 or options.width < 320 or options.height < 180:
        raise BadInput(f"preview size {options.width}x{options.height} is not usable",
                       "use an even size of at least 320x180, e.g. 1280x720")
    check_encoder(options.codec)
    take = load_take(Path(take_dir), meta=meta, video=options.video)
    out = Path(out) if out is not None else Path(take_dir) / PREVIEW_FILE
    if out.parent and not out.parent.exists():
        raise BadInput(f"the folder for {out.name} does not exist: {out.parent}", "create it first")
    video = take.video if take.video is not None and take.video.is_file() else None
    if video is None:
        reporter.warning("preview_no_source", f"source video not found ({take.video}); the preview shows "
                         "the curves without it", video=str(take.video))
    source_size = None
    if video is not None:
        info = probe(video)
        source_size = (info.width, info.height)
    audio = None
    if options.audio:
        audio = AudioSource(take.audio) if take.audio is not None else source_audio(video)
        if audio is not None:
            check_encoder("aac")
    renderer = PreviewRenderer(take, options, source_size)
    total = take.frame_count
    tmp = out.with_name(f".{out.stem}.tmp-{os.getpid()}{out.suffix}")
    start = time.perf_counter()
    frames = read_ahead(_fitted(iter_frames(video), renderer.source)) if video is not None \
        else iter(_take_frames(take))
    written = 0
    try:
        with VideoEncoder(tmp, options.width, options.height, take.fps, audio, codec=options.codec,
                          crf=options.crf, preset=options.preset) as encoder:
            try:
                for frame in frames:
                    encoder.write(renderer.frame(frame.index, frame.time, frame.image), frame.time)
                    written += 1
                    reporter.progress("preview", written, total)
            except TruncatedVideo as exc:
                reporter.warning("preview_truncated", f"the source video ended early: {exc}")
        os.replace(tmp, out)
    finally:
        if hasattr(frames, "close"):
            frames.close()                       # stops the read-ahead thread on an error or cancel
        renderer.close()
        if tmp.exists():
            tmp.unlink()
    elapsed = time.perf_counter() - start
    reporter.progress("preview", written, written)
    log.info("preview: %d frames in %.1fs (%.1f fps), head: %s/%s", written, elapsed,
             written / max(elapsed, 1e-9), renderer.head_model.name, renderer.head.backend)
    return PreviewResult(out, written, elapsed, renderer.head_model.name, renderer.head.backend,
                         dict(renderer.timings))


def add_preview_to_take(folder: Path, meta: dict, options: PreviewOptions | None, reporter: Reporter) -> Path:
    """`run --preview`: render preview.mp4 into a take that is still being written (its take.json is
    `meta`, not yet on disk) and list it in meta["files"]."""
    result = render_preview(folder, Path(folder) / PREVIEW_FILE, options, reporter, meta=meta)
    meta.setdefault("files", {})["preview"] = PREVIEW_FILE
    return result.path
