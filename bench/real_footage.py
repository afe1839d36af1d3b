"""The real-footage yardstick: how the engine's solve behaves on real face video, where no ground truth exists.

    .venv/bin/python bench/real_footage.py [--clips d0 d3 ...] [--variants original dim ...] [--detail]
                                           [--cache DIR] [--shared-data DIR] [--jobs N]

Clips: every real clip in ../shared/data/video/faces (driving_d*.mp4; --shared-data or
$FACERETARGET_SHARED_DATA). Variants of each, written once into the cache as mp4 (the original is read
where it is, never copied):
  original    the file itself
  gray_ir     grayscale, infrared-like: gray from the red channel, gamma/contrast lift, slight noise
  dim         brightness x0.25 plus sensor noise
  blur        Gaussian blur, sigma 2.5 px at 512 px width (scaled to the frame)
  compressed  re-encoded by libx264 at crf 44
  small_face  the frame scaled to 35% in the middle of a same-size grey canvas
  hmc_crop    a head-mounted-camera-like close crop: a box of fixed size tight around the face (from the
              original's landmarks, smoothed over time, so it follows the head as a helmet camera does),
              upscaled back to the frame size
  rotated     pixels turned 90 degrees with a display matrix (-90) that turns them back, as phones record
              (engine/media/video.py applies it; the landmarks are those of the upright picture)
  mirrored    flipped left-right (for the mirror symmetry measure)
Each variant is also cut to its middle third (frames [n//3, 2n//3), copied losslessly out of the variant's
own file, timestamps kept) as a separate file, so "the middle third on its own" is a real separate clip:
the tracker's and the solve's temporal state restart, the pixels are the same.

Every file goes through the engine's own tracker once (engine.track.run_tracker.track_video, --jobs
threads side by side); the FaceTrack is cached by the file's sha256 and MediaPipe's version. The first run
(126 files, ~34,000 frames, plus writing the variants) took 15 minutes on a shared 2-core machine and leaves
~750 MB in the cache; re-evaluating from the cache takes 20-30 s, nearly all of it the engine's solve.

Measures (per clip and variant; the engine beside the plain chain = MediaPipe's raw scores through Epic's
mapping pose, `retarget(raw, "mh4", times, "pose")`; frames without a face are left out of every measure):
  a. clip independence: the middle third's own face-board curves (174 mh4 attributes) against the same
     frames inside the whole clip's, over the controls that move there (range > 0.05): pooled
     correlation of per-control-mean-removed values, mean and minimum per-control correlation, mean
     absolute difference. Targets (engine): pooled r >= 0.97, MAD <= 0.02.
  b. agreement with what the tracker sees: per ARKit channel the tracker tracks reliably, the correlation
     of the engine's channel with MediaPipe's raw score (where the clip exercises the channel: its raw
     score's p95 rises >= 0.1 above its resting level, the 10th percentile: the issue's "clearly above its
     resting level"; below that r measures resting noise), and
     the zero share: frames where the raw score is > its resting level (10th percentile) + 0.1 but the
     engine's value is <= 0.01 (n/a with fewer than 5 such frames). Targets: r >= 0.9 for blinks, jaw
     open, smiles, brows; >= 0.8 for pucker, funnel, squints, lips; zero share <= 5%.
  c. mirror symmetry: the mirrored clip's curves against the original's with left and right swapped
     (ARKit ...Left <-> ...Right; face board CTRL_L_ <-> CTRL_R_, with the lateral .tx controls of the
     jaw, mouth and eyes negated), over the L/R channels that move: the pooled correlation (as in a.;
     target >= 0.95), and (no target) the minimum of one channel, overall and over table b's channels.
     MediaPipe itself is not mirror-symmetric: the plain chain's figures show the tracker's limit.
  d. geometry proxies from the ORIGINAL clip's landmarks (the clean picture is the best estimate of the
     real face; for the mirrored variant the sides are swapped): eye aperture vs blink (-), inner-lip gap
     vs jawOpen (+), vs mouthClose (-) and vs the face board's lipsTogether controls (-), mouth width vs
     smile (+) and pucker (-), brow height vs browInnerUp / browOuterUp (+) and browDown (-). Check: the
     engine is never worse than the plain chain (its signed correlation lower by more than 0.05).
The summary at the end: per variant, over all clips, the worst figure of each measure with PASS/FAIL.

--symmetric measures `run --symmetric` (each frame tracked as it is and flipped, the two readings averaged:
engine/track/mirror.py). Its tracks are cached beside the single-pass ones and take twice as long to make.
The plain chain stays single-pass MediaPipe; the raw score of b. is the averaged one, what the solve starts
from (against single-pass MediaPipe the engine would be scored on the tracker's own left/right bias).

From another script (different solve settings, no re-tracking):

    import importlib.util, sys
    spec = importlib.util.spec_from_file_location("real_footage", "bench/real_footage.py")
    rf = importlib.util.module_from_spec(spec); sys.modules["real_footage"] = rf; spec.loader.exec_module(rf)
    tracks = rf.get_tracks()                       # or get_tracks(clips=["d0"], variants=["dim"])
    res = rf.evaluate(tracks, lambda t: solve(t, SolveOptions(smoothing_cutoff_hz=6)).arkit)
    print(rf.report(res)); worst = rf.summary(res)  # {variant: {measure: (value, where)}}
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import sys
import threading
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from engine.config import SolveOptions  # noqa: E402
from engine.hashing import file_sha256 as engine_file_sha256  # noqa: E402
from engine.rig.arkit import ARKIT_NAMES  # noqa: E402
from engine.rig.retarget import retarget  # noqa: E402
from engine.track.facetrack import FaceTrack  # noqa: E402

RIG = "mh4"
VARIANTS = ("original", "gray_ir", "dim", "blur", "compressed", "small_face", "hmc_crop", "rotated", "mirrored")
RECIPE_VERSION = 1            # bump when a degradation changes: the variant files are rebuilt
ROTATION = -90                # display matrix angle of the `rotated` variant (a phone held upright)
CRF = 18                      # encoding of the degraded variants (near transparent: the degradation is the test)
COMPRESSED_CRF = 44
SMALL_FACE_SCALE = 0.35
BLUR_SIGMA_AT_512 = 2.5
HMC_MARGIN = 1.1              # crop side = this x the face's extent
MIN_DETECTED = 10             # fewer detected frames than this: the variant's measures are n/a
MOVING = 0.05                 # a control/channel "moves" when its range exceeds this
TIME_TOLERANCE = 0.002        # s: middle-third timestamps must match the whole clip's
NOT_WORSE_MARGIN = 0.05       # geometry: the engine may trail the plain chain by at most this
MIN_ACTIVE = 5                # zero share: fewer frames above the raw score's resting level + 0.1 -> n/a
CLEAR_RISE = 0.1              # the "clearly above its resting level": the raw score's p95 must rise this
                              # far above its resting level (p10) for its correlation to count (below it the
                              # channel is resting noise, and r measures the noise, not the calibration)

TARGETS = {
    "indep_r": (">=", 0.97), "indep_mad": ("<=", 0.02),
    "agree_r_hi": (">=", 0.9), "agree_r_lo": (">=", 0.8), "zero_share": ("<=", 0.05),
    "mirror_arkit": (">=", 0.95), "mirror_board": (">=", 0.95),
}
AGREEMENT_GROUPS = {          # group -> (channels, target key)
    "blinks": (("eyeBlinkLeft", "eyeBlinkRight"), "agree_r_hi"),
    "jaw open": (("jawOpen",), "agree_r_hi"),
    "smiles": (("mouthSmileLeft", "mouthSmileRight"), "agree_r_hi"),
    "brows": (("browDownLeft", "browDownRight", "browInnerUp", "browOuterUpLeft", "browOuterUpRight"), "agree_r_hi"),
    "pucker": (("mouthPucker",), "agree_r_lo"),
    "funnel": (("mouthFunnel",), "agree_r_lo"),
    "squints": (("eyeSquintLeft", "eyeSquintRight"), "agree_r_lo"),
    "lips": (("mouthLowerDownLeft", "mouthLowerDownRight", "mouthUpperUpLeft", "mouthUpperUpRight",
              "mouthPressLeft", "mouthPressRight"), "agree_r_lo"),
}
RELIABLE_CHANNELS = frozenset(c for channels, _ in AGREEMENT_GROUPS.values() for c in channels)
# Geometry proxies: label -> [(feature, channels averaged, expected sign)]; a label with two entries (the two
# sides) reports the worse of them.
PROXIES = {
    "eye aperture ~ blink": [("eye_R", ("eyeBlinkRight",), -1), ("eye_L", ("eyeBlinkLeft",), -1)],
    "lip gap ~ jawOpen": [("lip_gap", ("jawOpen",), 1)],
    "lip gap ~ mouthClose": [("lip_gap", ("mouthClose",), -1)],
    "mouth width ~ smile": [("mouth_width", ("mouthSmileLeft", "mouthSmileRight"), 1)],
    "mouth width ~ pucker": [("mouth_width", ("mouthPucker",), -1)],
    "brow height ~ browInnerUp": [("brow", ("browInnerUp",), 1)],
    "brow height ~ browOuterUp": [("brow_R", ("browOuterUpRight",), 1), ("brow_L", ("browOuterUpLeft",), 1)],
    "brow height ~ browDown": [("brow_R", ("browDownRight",), -1), ("brow_L", ("browDownLeft",), -1)],
    # on the face board: the lips-together controls (mouthClose's face-board counterpart)
    "lip gap ~ board lipsTogether": [("lip_gap", ("CTRL_L_mouth_lipsTogetherU.ty", "CTRL_R_mouth_lipsTogetherU.ty",
                                                  "CTRL_L_mouth_lipsTogetherD.ty", "CTRL_R_mouth_lipsTogetherD.ty"), -1)],
}
# Face-board controls a left-right mirror negates besides swapping sides (sideways moves; checked against
# the mapping in tests/test_bench_real_footage.py).
LATERAL_CONTROLS = re.compile(r"^(CTRL_C_.*\.tx|CTRL_[LR]_eye\.tx)$")


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------- degradations

def _noise(shape, sigma, rng: np.random.Generator) -> np.ndarray:
    return rng.standard_normal(shape, dtype=np.float32) * np.float32(sigma)


_IR_CURVE = np.clip(((np.arange(256) / 255.0) ** 0.7 - 0.5) * 1.2 + 0.5, 0, 1).astype(np.float32) * 255


def gray_ir(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Infrared-like gray: the red channel (skin is bright and flat in near IR), gamma 0.7 and a 1.2x
    contrast lift, a little noise (sigma 3 levels); the same value in all three channels."""
    lifted = _IR_CURVE[image[..., 0]]
    gray = np.clip(lifted + _noise(lifted.shape, 3.0, rng), 0, 255).astype(np.uint8)
    return np.repeat(gray[..., None], 3, axis=2)


_DIM_SIGMA = np.sqrt(2.5 ** 2 + 0.25 * 0.25 * np.arange(256)).astype(np.float32)


def dim(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A quarter of the light with sensor noise: read noise (sigma 2.5 levels, per channel) and shot noise
    (variance 0.25 x the dimmed level)."""
    low = image.astype(np.float32) * 0.25
    return np.clip(low + _DIM_SIGMA[image] * _noise(low.shape, 1.0, rng), 0, 255).astype(np.uint8)


def blur(image: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
    import cv2
    sigma = BLUR_SIGMA_AT_512 * image.shape[1] / 512.0
    return cv2.GaussianBlur(image, (0, 0), sigmaX=sigma, sigmaY=sigma)


def small_face(image: np.ndarray, rng: np.random.Generator | None = None, scale: float = SMALL_FACE_SCALE,
               fill: int = 64) -> np.ndarray:
    """The whole frame shrunk to `scale` in the middle of a same-size grey canvas."""
    import cv2
    h, w = image.shape[:2]
    sw, sh = max(1, round(w * scale)), max(1, round(h * scale))
    canvas = np.full_like(image, fill)
    y, x = (h - sh) // 2, (w - sw) // 2
    canvas[y:y + sh, x:x + sw] = cv2.resize(image, (sw, sh), interpolation=cv2.INTER_AREA)
    return canvas


def mirrored(image: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
    return np.ascontiguousarray(image[:, ::-1])


def crop_to_frame(image: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray:
    """The (x0, y0, width, height) pixel box scaled to the frame's size (black outside the image)."""
    import cv2
    h, w = image.shape[:2]
    x0, y0, bw, bh = box
    sx, sy = w / bw, h / bh
    matrix = np.array([[sx, 0.0, -sx * x0], [0.0, sy, -sy * y0]])
    return cv2.warpAffine(image, matrix, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)


def hmc_boxes(landmarks: np.ndarray, detected: np.ndarray, times: np.ndarray, size: tuple[int, int]
              ) -> np.ndarray:
    """(N, 4) crop boxes (x0, y0, w, h) in pixels: a fixed size tight around the face (its median extent x
    HMC_MARGIN, at the frame's aspect), centred on the face, the centre smoothed over ~0.2 s. Without any
    face: a fixed centre crop of 55%."""
    width, height = size
    n = len(detected)
    if detected.sum() < 2:
        bw, bh = 0.55 * width, 0.55 * height
        return np.tile([(width - bw) / 2, (height - bh) / 2, bw, bh], (n, 1))
    pts = landmarks[detected][:, :, :2] * [width, height]
    lo, hi = pts.min(axis=1), pts.max(axis=1)
    extent = np.median(hi - lo, axis=0)
    bh = HMC_MARGIN * max(extent[1], extent[0] * height / width)
    bw = bh * width / height
    centre = np.full((n, 2), np.nan)
    centre[detected] = (lo + hi) / 2
    index = np.arange(n)
    for k in range(2):
        centre[:, k] = np.interp(index, index[detected], centre[detected, k])
    fps = (n - 1) / max(times[-1] - times[0], 1e-6) if n > 1 else 30.0
    sigma = max(0.2 * fps, 1e-3)
    radius = int(3 * sigma)
    kernel = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    kernel /= kernel.sum()
    padded = np.pad(centre, ((radius, radius), (0, 0)), mode="edge")
    smooth = np.stack([np.convolve(padded[:, k], kernel, mode="valid") for k in range(2)], axis=1)
    return np.column_stack([smooth[:, 0] - bw / 2, smooth[:, 1] - bh / 2, np.full(n, bw), np.full(n, bh)])


# ---------------------------------------------------------------------------------------------- video files

TIME_BASE = Fraction(1, 90000)


class _Writer:
    """H.264 mp4 writer with explicit timestamps; lossless (qp 0) for the middle-third copies."""

    def __init__(self, path: Path, width: int, height: int, rate: float, *, crf: int | None = CRF,
                 lossless: bool = False, rotation: int = 0):
        import av
        self.width, self.height = width - width % 2, height - height % 2
        self.container = av.open(str(path), "w")
        stream = self.container.add_stream("libx264", rate=Fraction(rate).limit_denominator(1000) if rate else 30)
        stream.width, stream.height, stream.pix_fmt = self.width, self.height, "yuv420p"
        stream.codec_context.time_base = TIME_BASE
        stream.options = {"qp": "0", "preset": "veryfast"} if lossless else {"crf": str(crf), "preset": "veryfast"}
        if rotation:
            stream.set_display_rotation(rotation)
        self.stream = stream

    def write(self, frame, t: float) -> None:
        import av
        if isinstance(frame, np.ndarray):
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame[: self.height, : self.width]),
                                               format="rgb24")
        frame.pts = int(round(t / TIME_BASE))
        frame.time_base = TIME_BASE
        for packet in self.stream.encode(frame):
            self.container.mux(packet)

    def close(self) -> None:
        for packet in self.stream.encode():
            self.container.mux(packet)
        self.container.close()


def _frame_rate(path: Path) -> float:
    import av
    with av.open(str(path)) as container:
        rate = container.streams.video[0].average_rate
        return float(rate) if rate else 30.0


def _atomic(path: Path, make: Callable[[Path], None]) -> Path:
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.{threading.get_ident()}.tmp{path.suffix}")
    try:
        make(tmp)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def write_degraded(source: Path, out: Path, degrade: Callable[[np.ndarray, int], np.ndarray], *,
                   crf: int = CRF, rotation: int = 0) -> Path:
    """Every frame of `source` (upright, with its own timestamps) through `degrade(image, index)`. With
    `rotation`, the pixels are stored turned so that the display matrix turns them back upright."""
    from engine.media.video import iter_frames

    def make(tmp: Path) -> None:
        writer = None
        try:
            for frame in iter_frames(source):
                image = degrade(frame.image, frame.index)
                if rotation:
                    image = np.rot90(image, k=-((rotation % 360) // 90))
                if writer is None:
                    writer = _Writer(tmp, image.shape[1], image.shape[0], _frame_rate(source), crf=crf,
                                     rotation=rotation)
                writer.write(image, frame.time)
        finally:
            if writer is not None:
                writer.close()
    return _atomic(out, make)


def middle_range(n: int) -> tuple[int, int]:
    return n // 3, (2 * n) // 3


def write_middle_third(whole: Path, out: Path) -> Path:
    """Frames [n//3, 2n//3) of `whole`, bit-exact (decoded YUV re-encoded losslessly), same display matrix,
    timestamps relative to the first kept frame."""
    import av

    def stamps_of(container, stream):
        # The times engine.media.video.iter_frames gives the same frames.
        first, last = None, -1.0
        for frame in container.decode(stream):
            if frame.pts is None:
                t = last + 1.0 / float(stream.average_rate or 30)
            else:
                t = float(frame.pts * stream.time_base)
            if first is None:
                first = t
            t -= first
            if t <= last:
                t = last + 1e-3
            last = t
            yield frame, t

    with av.open(str(whole)) as container:
        stream = container.streams.video[0]
        n = sum(1 for _ in container.decode(stream))
    start, end = middle_range(n)

    def make(tmp: Path) -> None:
        writer = None
        with av.open(str(whole)) as container:
            stream = container.streams.video[0]
            t0 = None
            try:
                for index, (frame, t) in enumerate(stamps_of(container, stream)):
                    if index < start:
                        continue
                    if index >= end:
                        break
                    if writer is None:
                        rotation = int(round(getattr(frame, "rotation", 0) or 0))
                        writer = _Writer(tmp, frame.width, frame.height, float(stream.average_rate or 30),
                                         lossless=True, rotation=rotation)
                        t0 = t
                    yuv = frame.to_ndarray(format="yuv420p")
                    writer.write(av.VideoFrame.from_ndarray(yuv, format="yuv420p"), t - t0)
            finally:
                if writer is not None:
                    writer.close()
    return _atomic(out, make)


# ---------------------------------------------------------------------------------------------- tracking cache

_hash_lock = threading.Lock()


def file_sha256(path: Path, memo: dict | None = None) -> str:
    """sha256 of a file, remembered in `memo` by (size, mtime) so an unchanged file is not read again."""
    stat = path.stat()
    key = str(path.resolve())
    with _hash_lock:
        hit = memo.get(key) if memo is not None else None
    if hit and hit[0] == stat.st_size and hit[1] == stat.st_mtime_ns:
        return hit[2]
    sha = engine_file_sha256(path)
    if memo is not None:
        with _hash_lock:
            memo[key] = [stat.st_size, stat.st_mtime_ns, sha]
    return sha


def mediapipe_version() -> str:
    from importlib.metadata import version
    return version("mediapipe")


def save_track(track: FaceTrack, path: Path) -> None:
    np.savez(path, times=track.times, detected=track.detected, arkit=track.arkit, head_pose=track.head_pose,
             confidence=track.confidence, image_size=np.asarray(track.image_size or (0, 0)))


def load_track(path: Path, landmarks_path: Path) -> FaceTrack:
    with np.load(path) as z:
        size = tuple(int(v) for v in z["image_size"])
        return FaceTrack(z["times"], z["detected"].astype(bool), z["arkit"], z["head_pose"], z["confidence"],
                         landmarks_path, image_size=size if size != (0, 0) else None)


def tracked(video: Path, cache: Path, memo: dict, symmetric: bool = False) -> FaceTrack:
    """The engine tracker's FaceTrack of `video`, from the cache (sha256 + MediaPipe version + mode) or tracked
    now; `symmetric`: as `run --symmetric` tracks (each frame also flipped, the two readings averaged)."""
    from engine.media.video import probe
    from engine.protocol import Reporter
    from engine.track.landmarker import TrackerOptions
    from engine.track.run_tracker import track_video

    key = f"{file_sha256(video, memo)[:32]}-mp{mediapipe_version()}{'-symmetric' if symmetric else ''}"
    folder = cache / "tracks"
    folder.mkdir(parents=True, exist_ok=True)
    npz, landmarks = folder / f"{key}.npz", folder / f"{key}.landmarks.npy"
    if npz.is_file() and landmarks.is_file():
        return load_track(npz, landmarks)
    start = time.perf_counter()
    tmp_landmarks = folder / f".{key}.{threading.get_ident()}.landmarks.npy"
    track = track_video(probe(video), tmp_landmarks, Reporter(), TrackerOptions(symmetric=symmetric))
    tmp_landmarks.replace(landmarks)
    _atomic(npz, lambda tmp: save_track(track, tmp))
    seconds = time.perf_counter() - start
    log(f"  tracked {video.parent.name}/{video.name}: {len(track)} frames, face in {track.detected_share:.0%}, "
        f"{len(track) / max(seconds, 1e-9):.0f} frames/s")
    return load_track(npz, landmarks)


@dataclass
class VariantTracks:
    clip: str
    variant: str
    whole: FaceTrack
    middle: FaceTrack
    start: int                 # middle frame k is whole frame start + k
    path: Path = field(default=Path())
    # With --symmetric, whole/middle are the symmetric tracks and these the plain single-pass ones: MediaPipe's
    # own scores (the raw score and the plain chain are always what one pass of MediaPipe reads).
    single_whole: FaceTrack | None = None
    single_middle: FaceTrack | None = None

    @property
    def single(self) -> FaceTrack:
        return self.single_whole if self.single_whole is not None else self.whole


def shared_data_dir(explicit: Path | None = None) -> Path:
    if explicit is not None:
        return Path(explicit)
    return Path(os.environ.get("FACERETARGET_SHARED_DATA", REPO.parent / "shared" / "data"))


def default_cache() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "faceretarget" / "real_footage"


def _clip_key(path: Path) -> tuple:
    name = path.stem.removeprefix("driving_")
    digits = re.sub(r"\D", "", name)
    return (int(digits) if digits else 1 << 30, name)


def find_clips(shared_data: Path) -> dict[str, Path]:
    """Clip name (d0, d3, ...) -> path of every real face clip in the shared data."""
    paths = sorted((Path(shared_data) / "video" / "faces").glob("*.mp4"), key=_clip_key)
    return {p.stem.removeprefix("driving_"): p for p in paths}


def _seeded(clip: str, variant: str, index: int) -> np.random.Generator:
    return np.random.default_rng([zlib.crc32(f"{clip}/{variant}".encode()), index])


def _variant_file(clip: str, variant: str, source: Path, folder: Path, original: FaceTrack | None) -> Path:
    if variant == "original":
        return source
    out = folder / f"{variant}.mp4"
    if out.is_file():
        return out
    start = time.perf_counter()
    simple = {"gray_ir": gray_ir, "dim": dim, "blur": blur, "small_face": small_face, "mirrored": mirrored}
    if variant in simple:
        fn = simple[variant]
        write_degraded(source, out, lambda image, i: fn(image, _seeded(clip, variant, i)))
    elif variant == "compressed":
        write_degraded(source, out, lambda image, i: image, crf=COMPRESSED_CRF)
    elif variant == "rotated":
        write_degraded(source, out, lambda image, i: image, rotation=ROTATION)
    elif variant == "hmc_crop":
        assert original is not None
        boxes = hmc_boxes(np.asarray(original.landmarks()), original.detected, original.times, original.image_size)
        write_degraded(source, out, lambda image, i: crop_to_frame(image, boxes[min(i, len(boxes) - 1)]))
    else:
        raise ValueError(f"unknown variant {variant!r}; choose from {', '.join(VARIANTS)}")
    log(f"  wrote {clip}/{variant}.mp4 in {time.perf_counter() - start:.1f}s")
    return out


def get_tracks(clips: Iterable[str] | None = None, variants: Iterable[str] | None = None,
               cache: Path | None = None, shared_data: Path | None = None, jobs: int | None = None,
               symmetric: bool = False) -> list[VariantTracks]:
    """Variant files (written once) and their tracks (tracked once) for the chosen clips and variants; the
    original is always included (mirror, geometry and hmc_crop need it). Ordered by clip, then VARIANTS.
    `symmetric`: the engine's tracks as `run --symmetric` makes them, beside the single-pass ones."""
    cache = Path(cache) if cache is not None else default_cache()
    available = find_clips(shared_data_dir(shared_data))
    if not available:
        raise SystemExit(f"no face clips in {shared_data_dir(shared_data) / 'video' / 'faces'}")
    names = list(available) if not clips else [c.removeprefix("driving_") for c in clips]
    unknown = [c for c in names if c not in available]
    if unknown:
        raise SystemExit(f"unknown clips {unknown}; available: {', '.join(available)}")
    wanted = set(variants or VARIANTS) | {"original"}
    bad = wanted - set(VARIANTS)
    if bad:
        raise SystemExit(f"unknown variants {sorted(bad)}; choose from {', '.join(VARIANTS)}")
    chosen = [v for v in VARIANTS if v in wanted]
    cache.mkdir(parents=True, exist_ok=True)
    memo_path = cache / "hashes.json"
    memo = json.loads(memo_path.read_text()) if memo_path.is_file() else {}

    def job(clip: str, variant: str, original_future=None) -> VariantTracks:
        source = available[clip]
        folder = cache / f"videos-r{RECIPE_VERSION}" / f"{clip}-{file_sha256(source, memo)[:12]}"
        folder.mkdir(parents=True, exist_ok=True)
        original = original_future.result().single if original_future is not None else None
        whole_path = _variant_file(clip, variant, source, folder, original)
        middle_path = folder / f"{variant}.middle.mp4"
        if not middle_path.is_file():
            write_middle_third(whole_path, middle_path)
        whole = tracked(whole_path, cache, memo)
        middle = tracked(middle_path, cache, memo)
        if not symmetric:
            return VariantTracks(clip, variant, whole, middle, middle_range(len(whole))[0], whole_path)
        return VariantTracks(clip, variant, tracked(whole_path, cache, memo, True),
                             tracked(middle_path, cache, memo, True), middle_range(len(whole))[0], whole_path,
                             single_whole=whole, single_middle=middle)

    start = time.perf_counter()
    futures = {}
    with ThreadPoolExecutor(max_workers=max(1, jobs or os.cpu_count() or 1)) as pool:
        # Originals first: hmc_crop waits on its original's track, which is then already running or done.
        for clip in names:
            futures[clip, "original"] = pool.submit(job, clip, "original")
        for variant in chosen:
            for clip in names:
                if variant != "original":
                    dep = futures[clip, "original"] if variant == "hmc_crop" else None
                    futures[clip, variant] = pool.submit(job, clip, variant, dep)
        result = [futures[c, v].result() for c in names for v in chosen]
    with _hash_lock:
        _atomic(memo_path, lambda tmp: tmp.write_text(json.dumps(memo, indent=0)))
    seconds = time.perf_counter() - start
    if seconds > 5:
        log(f"variants and tracks ready in {seconds:.0f}s")
    return result


# ---------------------------------------------------------------------------------------------- measures

def correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson correlation; NaN when either side is constant."""
    a = np.asarray(a, float) - np.mean(a)
    b = np.asarray(b, float) - np.mean(b)
    denom = np.sqrt(np.sum(a * a) * np.sum(b * b))
    return float(np.sum(a * b) / denom) if denom > 1e-12 else float("nan")


@dataclass
class Independence:
    moving: int                 # controls that move over the middle frames (whole clip's curve)
    frames: int
    pooled_r: float = float("nan")
    mean_r: float = float("nan")
    min_r: float = float("nan")
    min_control: str = ""
    mad: float = float("nan")
    worst: list[tuple[str, float, float]] = field(default_factory=list)   # (control, r, mean abs diff)


def independence(whole: np.ndarray, middle: np.ndarray, valid: np.ndarray, names: list[str],
                 threshold: float = MOVING) -> Independence:
    """The middle third run alone (`middle`, (m, C)) against the same frames inside the whole clip (`whole`,
    (m, C)), on the valid frames and the controls whose whole-clip curve there has a range > threshold.
    A control whose middle-third curve is flat while the whole clip's moves counts as r = 0."""
    w, m = np.asarray(whole, float)[valid], np.asarray(middle, float)[valid]
    if len(w) < 2:
        return Independence(0, len(w))
    moving = np.flatnonzero(np.ptp(w, axis=0) > threshold)
    out = Independence(len(moving), len(w))
    if not len(moving):
        return out
    out.pooled_r = pooled_correlation(w[:, moving], m[:, moving])
    per = np.array([correlation(w[:, c], m[:, c]) for c in moving])
    per = np.where(np.isfinite(per), per, 0.0)
    diff = np.abs(w[:, moving] - m[:, moving]).mean(axis=0)
    out.mean_r, out.min_r = float(per.mean()), float(per.min())
    out.min_control = names[moving[int(np.argmin(per))]]
    out.mad = float(np.abs(w[:, moving] - m[:, moving]).mean())
    order = np.argsort(per)[:3]
    out.worst = [(names[moving[i]], float(per[i]), float(diff[i])) for i in order]
    return out


def pooled_correlation(a: np.ndarray, b: np.ndarray) -> float:
    """One correlation over several curves (columns) at once: each curve centred on its own mean, then all
    frames of all curves together, so a curve weighs by how much it moves."""
    ac, bc = a - a.mean(axis=0), b - b.mean(axis=0)
    return float(np.sum(ac * bc) / max(np.sqrt(np.sum(ac * ac) * np.sum(bc * bc)), 1e-12))


def moves(raw: np.ndarray, threshold: float = MOVING) -> bool:
    return len(raw) > 1 and float(np.percentile(raw, 95) - np.percentile(raw, 5)) > threshold


def zero_share(raw: np.ndarray, engine: np.ndarray, lift: float = CLEAR_RISE, floor: float = 0.01,
               min_frames: int = MIN_ACTIVE) -> tuple[float, int]:
    """(share, frames): of the frames where the raw score is above its resting level (10th percentile) +
    `lift`, the share where the engine's value is <= `floor`. NaN share with fewer than `min_frames` such
    frames (one or two frames make a 0% or 100% that means nothing)."""
    raw, engine = np.asarray(raw, float), np.asarray(engine, float)
    if not len(raw):
        return float("nan"), 0
    active = raw > np.percentile(raw, 10) + lift
    count = int(active.sum())
    return (float(np.mean(engine[active] <= floor)) if count >= max(min_frames, 1) else float("nan")), count


def rises_clearly(raw: np.ndarray) -> bool:
    """The clip exercises the channel: its raw score rises CLEAR_RISE above its resting level (p10)."""
    return len(raw) > 1 and float(np.percentile(raw, 95) - np.percentile(raw, 10)) >= CLEAR_RISE


@dataclass
class ChannelAgreement:
    channel: str
    spread: float               # raw p95 - p5
    r: float                    # NaN: the raw score does not rise clearly (rises_clearly)
    zero_share: float           # NaN: no frames above the resting level + 0.1
    active_frames: int


def agreement(raw: np.ndarray, engine: np.ndarray, valid: np.ndarray) -> dict[str, ChannelAgreement]:
    out = {}
    for channels, _ in AGREEMENT_GROUPS.values():
        for name in channels:
            k = ARKIT_NAMES.index(name)
            r_, e_ = raw[valid, k], engine[valid, k]
            spread = float(np.percentile(r_, 95) - np.percentile(r_, 5)) if len(r_) else 0.0
            exercised = rises_clearly(r_)
            r = correlation(r_, e_) if exercised else float("nan")
            if exercised and not np.isfinite(r):
                r = 0.0                      # the raw score moves, the engine's channel is flat
            share, count = zero_share(r_, e_)
            out[name] = ChannelAgreement(name, spread, r, share, count)
    return out


def mirror_name(name: str) -> str:
    """The other side's name: ARKit ...Left <-> ...Right, face board CTRL_L_ <-> CTRL_R_; others unchanged."""
    if name.startswith("CTRL_L_"):
        return "CTRL_R_" + name[7:]
    if name.startswith("CTRL_R_"):
        return "CTRL_L_" + name[7:]
    if name.endswith("Left"):
        return name[:-4] + "Right"
    if name.endswith("Right"):
        return name[:-5] + "Left"
    return name


def mirror_sign(name: str) -> float:
    return -1.0 if LATERAL_CONTROLS.match(name) else 1.0


def mirror_curves(values: np.ndarray, names: list[str]) -> np.ndarray:
    """What the curves of the mirrored face should be: sides swapped, sideways controls negated."""
    index = {n: i for i, n in enumerate(names)}
    order = [index[mirror_name(n)] for n in names]
    return np.asarray(values)[:, order] * np.array([mirror_sign(n) for n in names])


@dataclass
class Symmetry:
    pairs: int                  # sided channels that move
    min_r: float = float("nan")
    min_channel: str = ""
    mean_r: float = float("nan")
    per_channel: dict[str, float] = field(default_factory=dict)
    reliable_min_r: float = float("nan")     # over the channels of the agreement groups only
    reliable_channel: str = ""
    pooled_r: float = float("nan")           # one correlation over every sided channel that moves


def symmetry(original: np.ndarray, mirrored_values: np.ndarray, names: list[str], valid: np.ndarray,
             threshold: float = MOVING) -> Symmetry:
    """Per sided channel (one with a mirror partner) that moves in either clip: the correlation of the
    mirrored clip's curve with the original's mirrored curve (mirror_curves)."""
    expected = mirror_curves(original, names)[valid]
    seen = np.asarray(mirrored_values)[valid]
    per = {}
    for k, name in enumerate(names):
        if mirror_name(name) == name:
            continue
        if len(seen) < 2 or max(np.ptp(expected[:, k]), np.ptp(seen[:, k])) <= threshold:
            continue
        r = correlation(expected[:, k], seen[:, k])
        per[name] = r if np.isfinite(r) else 0.0
    out = Symmetry(len(per), per_channel=per)
    if per:
        columns = [names.index(c) for c in per]
        out.pooled_r = pooled_correlation(expected[:, columns], seen[:, columns])
        worst = min(per, key=per.get)
        out.min_r, out.min_channel, out.mean_r = per[worst], worst, float(np.mean(list(per.values())))
    reliable = [c for c in per if c in RELIABLE_CHANNELS]
    if reliable:
        worst = min(reliable, key=per.get)
        out.reliable_min_r, out.reliable_channel = per[worst], worst
    return out


def geometry(landmarks: np.ndarray, size: tuple[int, int]) -> dict[str, np.ndarray]:
    """Per-frame face measurements in pixels relative to the face's size, from image-normalised landmarks.
    _R is the subject's right (MediaPipe's 33/133/159/145 eye), _L the left."""
    lm = np.asarray(landmarks, float)[:, :, :2] * [size[0], size[1]]
    d = lambda a, b: np.linalg.norm(lm[:, a] - lm[:, b], axis=1)  # noqa: E731
    mid = lambda a, b: (lm[:, a] + lm[:, b]) / 2  # noqa: E731
    eyes = d(33, 263)
    brow_r = np.linalg.norm(lm[:, 105] - mid(33, 133), axis=1) / eyes
    brow_l = np.linalg.norm(lm[:, 334] - mid(362, 263), axis=1) / eyes
    return {
        "eye_R": d(159, 145) / d(33, 133),
        "eye_L": d(386, 374) / d(362, 263),
        "lip_gap": d(13, 14) / d(10, 152),
        "mouth_width": d(61, 291) / eyes,
        "brow_R": brow_r,
        "brow_L": brow_l,
        "brow": (brow_r + brow_l) / 2,
    }


def swap_geometry_sides(features: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {(k[:-1] + {"L": "R", "R": "L"}[k[-1]] if k.endswith(("_L", "_R")) else k): v
            for k, v in features.items()}


def proxy_correlations(features: dict[str, np.ndarray], arkit: np.ndarray, board: np.ndarray,
                       board_names: list[str], valid: np.ndarray) -> dict[str, tuple[float, float]]:
    """label -> (signed correlation of the worse side, the same times the expected sign). Channels are
    ARKit names (in `arkit`) or face-board attributes (in `board`). A flat curve: (NaN, 0.0)."""
    out = {}
    for label, parts in PROXIES.items():
        best = None
        for feature, channels, sign in parts:
            if channels[0].startswith("CTRL_"):
                value = board[valid][:, [board_names.index(c) for c in channels]].mean(axis=1)
            else:
                value = arkit[valid][:, [ARKIT_NAMES.index(c) for c in channels]].mean(axis=1)
            r = correlation(features[feature][valid], value)
            signed = sign * r if np.isfinite(r) else 0.0
            if best is None or signed < best[1]:
                best = (r, signed)
        out[label] = best
    return out


# ---------------------------------------------------------------------------------------------- evaluation

def engine_solve(track: FaceTrack) -> np.ndarray:
    """The engine's default solve: calibrated ARKit curves (N, 52)."""
    from engine.solve.solver import solve
    return solve(track, SolveOptions()).arkit


@dataclass
class Row:
    clip: str
    variant: str
    frames: int
    detected: float
    ok: bool                                  # enough frames with a face to measure the whole clip
    middle_ok: bool                           # ... and its middle third
    engine_indep: Independence | None = None
    plain_indep: Independence | None = None
    agree: dict[str, ChannelAgreement] = field(default_factory=dict)
    engine_geometry: dict[str, tuple[float, float]] = field(default_factory=dict)
    plain_geometry: dict[str, tuple[float, float]] = field(default_factory=dict)
    time_error: float = 0.0                   # largest middle-vs-whole timestamp difference (s)


@dataclass
class MirrorRow:
    clip: str
    engine_arkit: Symmetry
    engine_board: Symmetry
    plain_arkit: Symmetry
    plain_board: Symmetry


@dataclass
class Results:
    rows: list[Row]
    mirror: list[MirrorRow]
    solve_seconds: float
    solved_frames: int
    seconds: float


@dataclass
class _Curves:
    arkit: np.ndarray            # engine ARKit (N, 52)
    board: np.ndarray            # engine face board (N, 174)
    raw: np.ndarray              # MediaPipe scores, NaN -> 0: what the engine's solve starts from
    plain_board: np.ndarray      # plain chain face board
    names: list[str]
    plain_raw: np.ndarray        # the plain chain's ARKit: one pass of MediaPipe (= raw unless symmetric)


def _curves(track: FaceTrack, solve_fn, timing: list, single: FaceTrack | None = None) -> _Curves:
    """The engine's curves of `track`. With a symmetric track, `single` is the single-pass track of the same
    frames: the plain chain comes from it (what a Live Link user gets), while `raw`, what the tracker sees
    and the solve starts from, is MediaPipe's two readings averaged (table b measures the solve against it)."""
    start = time.perf_counter()
    arkit = np.asarray(solve_fn(track), float)
    timing.append((time.perf_counter() - start, len(track)))
    if arkit.shape != (len(track), len(ARKIT_NAMES)):
        raise ValueError(f"solve_fn returned {arkit.shape}, expected {(len(track), len(ARKIT_NAMES))}")
    board = retarget(arkit, RIG, track.times, None)
    raw = np.nan_to_num(track.arkit)
    plain_raw = np.nan_to_num(single.arkit) if single is not None else raw
    plain = retarget(plain_raw, RIG, track.times, "pose")
    return _Curves(arkit, board.faceboard, raw, plain.faceboard, board.faceboard_names, plain_raw)


def evaluate(tracks: list[VariantTracks], solve_fn: Callable[[FaceTrack], np.ndarray] = engine_solve,
             jobs: int | None = None) -> Results:
    """All measures for `tracks` (from get_tracks) with `solve_fn(track) -> (N, 52)` calibrated ARKit curves
    in ARKIT_NAMES order as the engine. The plain chain is MediaPipe's scores through the mapping pose.
    `jobs` threads solve the tracks side by side (default: the CPU count; 1 if solve_fn is not thread-safe)."""
    begin = time.perf_counter()
    timing: list[tuple[float, int]] = []
    by_key = {(t.clip, t.variant): t for t in tracks}
    todo = {}
    for vt in tracks:
        if int(vt.whole.detected.sum()) >= MIN_DETECTED:
            todo[vt.clip, vt.variant, "whole"] = vt.whole, vt.single_whole
            if int(vt.middle.detected.sum()) >= MIN_DETECTED:
                todo[vt.clip, vt.variant, "middle"] = vt.middle, vt.single_middle
    with ThreadPoolExecutor(max_workers=max(1, jobs or os.cpu_count() or 1)) as pool:
        done = dict(zip(todo, pool.map(lambda pair: _curves(pair[0], solve_fn, timing, pair[1]), todo.values())))
    whole_curves = {(c, v): curves for (c, v, part), curves in done.items() if part == "whole"}
    features_of: dict[str, dict[str, np.ndarray]] = {}
    rows = []
    for vt in tracks:
        whole, middle = vt.whole, vt.middle
        row = Row(vt.clip, vt.variant, len(whole), whole.detected_share,
                  int(whole.detected.sum()) >= MIN_DETECTED, int(middle.detected.sum()) >= MIN_DETECTED)
        rows.append(row)
        if not row.ok:
            continue
        cw = whole_curves[vt.clip, vt.variant]
        row.agree = agreement(cw.raw, cw.arkit, whole.detected)
        original = by_key.get((vt.clip, "original"))
        if original is not None and len(original.whole) == len(whole) and original.whole.detected.any():
            if vt.clip not in features_of:
                features_of[vt.clip] = geometry(np.asarray(original.single.landmarks()), original.whole.image_size)
            features = features_of[vt.clip]
            if vt.variant == "mirrored":
                features = swap_geometry_sides(features)
            gvalid = whole.detected & original.whole.detected
            if gvalid.sum() >= MIN_DETECTED:
                row.engine_geometry = proxy_correlations(features, cw.arkit, cw.board, cw.names, gvalid)
                row.plain_geometry = proxy_correlations(features, cw.plain_raw, cw.plain_board, cw.names, gvalid)
        if not row.middle_ok:
            continue
        start, m = vt.start, len(middle)
        if start + m > len(whole):
            raise ValueError(f"{vt.clip}/{vt.variant}: the middle third ({m} frames from {start}) "
                             f"overruns the whole clip ({len(whole)} frames)")
        row.time_error = float(np.max(np.abs(middle.times - (whole.times[start:start + m] - whole.times[start]))))
        if row.time_error > TIME_TOLERANCE:
            raise ValueError(f"{vt.clip}/{vt.variant}: middle-third frames do not line up with the whole clip's "
                             f"(timestamps differ by up to {row.time_error * 1000:.1f} ms)")
        cm = done[vt.clip, vt.variant, "middle"]
        span = slice(start, start + m)
        valid = whole.detected[span] & middle.detected
        row.engine_indep = independence(cw.board[span], cm.board, valid, cw.names)
        row.plain_indep = independence(cw.plain_board[span], cm.plain_board, valid, cw.names)
    mirror_rows = []
    for clip in dict.fromkeys(t.clip for t in tracks):
        a, b = whole_curves.get((clip, "original")), whole_curves.get((clip, "mirrored"))
        if a is None or b is None or len(a.arkit) != len(b.arkit):
            continue
        valid = by_key[clip, "original"].whole.detected & by_key[clip, "mirrored"].whole.detected
        mirror_rows.append(MirrorRow(clip, symmetry(a.arkit, b.arkit, ARKIT_NAMES, valid),
                                     symmetry(a.board, b.board, a.names, valid),
                                     symmetry(a.plain_raw, b.plain_raw, ARKIT_NAMES, valid),
                                     symmetry(a.plain_board, b.plain_board, a.names, valid)))
    return Results(rows, mirror_rows, sum(t for t, _ in timing), sum(n for _, n in timing),
                   time.perf_counter() - begin)


# ---------------------------------------------------------------------------------------------- reporting

def _f(value: float, digits: int = 2) -> str:
    return "n/a" if value is None or not np.isfinite(value) else f"{value:.{digits}f}"


def _pct(value: float) -> str:
    return "n/a" if value is None or not np.isfinite(value) else f"{100 * value:.0f}%"


def _group_figures(agree: dict[str, ChannelAgreement], channels) -> tuple[float, str, float, str]:
    """(worst r, its channel, worst zero share, its channel) over a group's channels that count."""
    rs = [(agree[c].r, c) for c in channels if np.isfinite(agree[c].r)]
    zs = [(agree[c].zero_share, c) for c in channels if np.isfinite(agree[c].zero_share)]
    r, rc = min(rs) if rs else (float("nan"), "")
    z, zc = max(zs) if zs else (float("nan"), "")
    return r, rc, z, zc


def _passes(key: str, value: float) -> bool:
    op, target = TARGETS[key]
    return bool(np.isfinite(value) and (value >= target if op == ">=" else value <= target))


def summary(res: Results) -> dict[str, dict[str, tuple[float, str]]]:
    """Per variant, over all clips: the worst figure of each measure and where it is (clip, channel).
    Keys: indep_r, indep_mad (engine), plain_indep_r, plain_indep_mad, agree_r_hi, agree_r_lo, zero_share,
    mirror_arkit, mirror_board, plain_mirror_arkit, plain_mirror_board, mirror_reliable and
    plain_mirror_reliable (ARKit, table b's channels only), geometry_engine, geometry_plain
    (worst expected-sign proxy correlation), geometry_worse (cells where the engine trails the plain chain
    by more than NOT_WORSE_MARGIN), detected (lowest face-found share)."""
    out: dict[str, dict[str, tuple[float, str]]] = {}

    def worse(slot: dict, key: str, value: float, where: str, low_is_bad: bool = True) -> None:
        if value is None or not np.isfinite(value):
            return
        if key not in slot or (value < slot[key][0] if low_is_bad else value > slot[key][0]):
            slot[key] = (float(value), where)

    for row in res.rows:
        slot = out.setdefault(row.variant, {})
        worse(slot, "detected", row.detected, row.clip)
        if not row.ok:
            slot["unmeasured"] = (slot.get("unmeasured", (0, ""))[0] + 1, row.clip)
            continue
        if row.engine_indep is not None:
            for prefix, ind in (("", row.engine_indep), ("plain_", row.plain_indep)):
                worse(slot, prefix + "indep_r", ind.pooled_r, row.clip)
                worse(slot, prefix + "indep_mad", ind.mad, row.clip, low_is_bad=False)
        for group, (channels, key) in AGREEMENT_GROUPS.items():
            r, rc, z, zc = _group_figures(row.agree, channels)
            worse(slot, key, r, f"{row.clip} {rc}")
            worse(slot, "zero_share", z, f"{row.clip} {zc}" if z > 0 else "", low_is_bad=False)
        if row.engine_geometry:
            trailing = [label for label, (_, signed) in row.engine_geometry.items()
                        if signed < row.plain_geometry[label][1] - NOT_WORSE_MARGIN]
            for label, (_, signed) in row.engine_geometry.items():
                worse(slot, "geometry_engine", signed, f"{row.clip} {label}")
                worse(slot, "geometry_plain", row.plain_geometry[label][1], f"{row.clip} {label}")
            count, where = slot.get("geometry_worse", (0, ""))
            slot["geometry_worse"] = (count + len(trailing), where or (f"{row.clip} {trailing[0]}" if trailing else ""))
    for m in res.mirror:
        slot = out.setdefault("mirrored", {})
        for key, sym in (("mirror_arkit", m.engine_arkit), ("mirror_board", m.engine_board),
                         ("plain_mirror_arkit", m.plain_arkit), ("plain_mirror_board", m.plain_board)):
            worse(slot, key, sym.pooled_r, m.clip)
            worse(slot, key + "_min", sym.min_r, f"{m.clip} {sym.min_channel}")
        for key, sym in (("mirror_reliable", m.engine_arkit), ("plain_mirror_reliable", m.plain_arkit)):
            worse(slot, key, sym.reliable_min_r, f"{m.clip} {sym.reliable_channel}")
    return out


SUMMARY_COLUMNS = (      # (key, header, is a target)
    ("indep_r", "indep. pooled r >= 0.97", True),
    ("indep_mad", "indep. MAD <= 0.02", True),
    ("agree_r_hi", "tracker r >= 0.9 (blinks, jaw, smiles, brows)", True),
    ("agree_r_lo", "tracker r >= 0.8 (pucker, funnel, squints, lips)", True),
    ("zero_share", "zero share <= 5%", True),
    ("mirror_arkit", "mirror pooled r >= 0.95 (ARKit)", True),
    ("mirror_board", "mirror pooled r >= 0.95 (face board)", True),
    ("mirror_arkit_min", "mirror min r of one channel (ARKit, no target)", False),
    ("mirror_reliable", "mirror min r, table b's channels (no target)", False),
)


def _cell(key: str, slot: dict, target: bool) -> str:
    if key not in slot:
        return "-"
    value, where = slot[key]
    text = _pct(value) if key == "zero_share" else _f(value, 3 if "indep" in key else 2)
    verdict = (" PASS" if _passes(key, value) else " FAIL") if target else ""
    return f"{text}{verdict} ({where})" if where else text + verdict


def report(res: Results, detail: bool = False) -> str:
    lines = []
    variants = list(dict.fromkeys(r.variant for r in res.rows))
    clips = list(dict.fromkeys(r.clip for r in res.rows))
    frames = sum(r.frames for r in res.rows)
    lines.append(f"{len(clips)} clips x {len(variants)} variants, {frames} frames (+ middle thirds); solve "
                 f"{1000 * res.solve_seconds / max(res.solved_frames, 1):.2f} ms/frame; evaluated in "
                 f"{res.seconds:.1f}s\n")
    unmeasured = [f"{r.clip}/{r.variant}{'' if r.ok else ' (whole clip)'}" for r in res.rows if not r.middle_ok]
    if unmeasured:
        lines.append(f"Fewer than {MIN_DETECTED} frames with a face, not measured: middle third of "
                     f"{', '.join(unmeasured)}\n")

    lines.append("### a. Clip independence (middle third alone vs inside the whole clip; face board, mh4)\n")
    lines.append("| clip | variant | frames | moving | engine pooled r | engine mean r | engine min r (control) | "
                 "engine MAD | plain pooled r | plain mean r | plain min r | plain MAD |")
    lines.append("|---|---|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|")
    for r in res.rows:
        if r.engine_indep is None:
            continue
        e, p = r.engine_indep, r.plain_indep
        lines.append(f"| {r.clip} | {r.variant} | {e.frames} | {e.moving} | {_f(e.pooled_r, 3)} | {_f(e.mean_r)} | "
                     f"{_f(e.min_r)} ({e.min_control.removeprefix('CTRL_')}) | {_f(e.mad, 3)} | {_f(p.pooled_r, 3)} | "
                     f"{_f(p.mean_r)} | {_f(p.min_r)} | {_f(p.mad, 3)} |")
    if detail:
        lines.append("\nEngine's least independent controls (r, mean abs diff):\n")
        lines.append("| clip | variant | worst controls |")
        lines.append("|---|---|---|")
        for r in res.rows:
            if r.engine_indep is not None and r.engine_indep.worst:
                cells = ", ".join(f"{n.removeprefix('CTRL_')} {c:.2f}/{d:.3f}" for n, c, d in r.engine_indep.worst)
                lines.append(f"| {r.clip} | {r.variant} | {cells} |")

    lines.append("\n### b. Agreement with the tracker (engine channel vs MediaPipe's raw score)\n")
    lines.append("Worst r per group (channels the clip exercises: raw p95 >= its resting level + 0.1); zero share = raw above rest + 0.1 while "
                 "the engine is <= 0.01.\n")
    lines.append("| clip | variant | face found | " + " | ".join(AGREEMENT_GROUPS) + " | worst zero share |")
    lines.append("|---|---|---:|" + "---:|" * len(AGREEMENT_GROUPS) + "---|")
    for r in res.rows:
        if not r.ok:
            lines.append(f"| {r.clip} | {r.variant} | {r.detected:.0%} |" + " n/a |" * len(AGREEMENT_GROUPS) + " n/a |")
            continue
        cells, zero = [], (float("-inf"), "")
        for channels, key in AGREEMENT_GROUPS.values():
            g, _, z, zc = _group_figures(r.agree, channels)
            mark = "" if not np.isfinite(g) or _passes(key, g) else "*"
            cells.append(_f(g) + mark)
            if np.isfinite(z) and z > zero[0]:
                zero = (z, zc)
        zcell = "n/a" if not zero[1] else f"{_pct(zero[0])} ({zero[1]})" if zero[0] > 0 else "0%"
        lines.append(f"| {r.clip} | {r.variant} | {r.detected:.0%} | " + " | ".join(cells) + f" | {zcell} |")
    lines.append("\n(* below target)")
    if detail:
        lines.append("\n| clip | variant | channel | raw p95-p5 | r | zero share (frames) |")
        lines.append("|---|---|---|---:|---:|---|")
        for r in res.rows:
            for a in r.agree.values():
                rr = _f(a.r) if np.isfinite(a.r) else "n/a - no clear rise"
                lines.append(f"| {r.clip} | {r.variant} | {a.channel} | {a.spread:.2f} | {rr} | "
                             f"{_pct(a.zero_share)} ({a.active_frames}) |")

    lines.append("\n### c. Mirror symmetry (mirrored clip vs the original with left and right swapped)\n")
    lines.append("Min and mean over the sided channels that move; \"reliable\" = only the channels of table b.\n")
    lines.append("| clip | ARKit channels | engine min r (channel) | engine mean r | engine reliable min r | "
                 "plain min r (channel) | plain mean r | plain reliable min r | "
                 "board controls | engine min r (control) | engine mean r | plain min r (control) | plain mean r |")
    lines.append("|---|---:|---|---:|---|---|---:|---|---:|---|---:|---|---:|")
    for m in res.mirror:
        ea, pa, eb, pb = m.engine_arkit, m.plain_arkit, m.engine_board, m.plain_board
        lines.append(f"| {m.clip} | {ea.pairs} | {_f(ea.min_r)} ({ea.min_channel}) | {_f(ea.mean_r)} | "
                     f"{_f(ea.reliable_min_r)} ({ea.reliable_channel}) | "
                     f"{_f(pa.min_r)} ({pa.min_channel}) | {_f(pa.mean_r)} | "
                     f"{_f(pa.reliable_min_r)} ({pa.reliable_channel}) | {eb.pairs} | "
                     f"{_f(eb.min_r)} ({eb.min_channel.removeprefix('CTRL_')}) | {_f(eb.mean_r)} | "
                     f"{_f(pb.min_r)} ({pb.min_channel.removeprefix('CTRL_')}) | {_f(pb.mean_r)} |")
    if detail and res.mirror:
        lines.append("\n| clip | ARKit channel | engine r | plain r |")
        lines.append("|---|---|---:|---:|")
        for m in res.mirror:
            for name in sorted(set(m.engine_arkit.per_channel) | set(m.plain_arkit.per_channel)):
                lines.append(f"| {m.clip} | {name} | {_f(m.engine_arkit.per_channel.get(name, float('nan')))} | "
                             f"{_f(m.plain_arkit.per_channel.get(name, float('nan')))} |")

    lines.append("\n### d. Geometry proxies (original clip's landmarks; cells: engine / plain chain, signed r; "
                 "expected sign in brackets)\n")
    signs = {label: "+" if parts[0][2] > 0 else "-" for label, parts in PROXIES.items()}
    lines.append("| clip | variant | " + " | ".join(f"{label} ({signs[label]})" for label in PROXIES) + " |")
    lines.append("|---|---|" + "---|" * len(PROXIES))
    for r in res.rows:
        if not r.engine_geometry:
            continue
        cells = []
        for label in PROXIES:
            e, p = r.engine_geometry[label], r.plain_geometry[label]
            mark = "*" if e[1] < p[1] - NOT_WORSE_MARGIN else ""
            show = lambda r: f"{r:+.2f}" if np.isfinite(r) else "flat"  # noqa: E731
            cells.append(f"{show(e[0])}{mark} / {show(p[0])}")
        lines.append(f"| {r.clip} | {r.variant} | " + " | ".join(cells) + " |")
    lines.append(f"\n(* the engine trails the plain chain by more than {NOT_WORSE_MARGIN}; flat: the curve does not "
                 "move, counted as r = 0)")

    lines.append("\n### Summary: worst figure over all clips, per variant\n")
    lines.append(_summary_table(res))
    return "\n".join(lines)


def _summary_table(res: Results) -> str:
    worst = summary(res)
    lines = ["Engine (targets):\n",
             "| variant | face found (min) | " + " | ".join(h for _, h, _ in SUMMARY_COLUMNS)
             + f" | geometry: engine worse than plain by > {NOT_WORSE_MARGIN} |",
             "|---|---|" + "---|" * (len(SUMMARY_COLUMNS) + 1)]
    passed = total = 0
    for variant, slot in worst.items():
        cells = []
        for key, _, target in SUMMARY_COLUMNS:
            cells.append(_cell(key, slot, target))
            if key in slot and target:
                total += 1
                passed += _passes(key, slot[key][0])
        if "geometry_worse" in slot:
            count, where = slot["geometry_worse"]
            total += 1
            passed += count == 0
            cells.append(f"{count} cells {'PASS' if count == 0 else 'FAIL'}" + (f" (first: {where})" if count else ""))
        else:
            cells.append("-")
        found = f"{slot['detected'][0]:.0%} ({slot['detected'][1]})" if "detected" in slot else "-"
        if "unmeasured" in slot:
            found += f"; {slot['unmeasured'][0]} clip(s) with < {MIN_DETECTED} face frames, not measured"
        lines.append(f"| {variant} | {found} | " + " | ".join(cells) + " |")
    lines += ["\nPlain chain (MediaPipe -> mapping pose), same figures for comparison:\n",
              "| variant | indep. pooled r | indep. MAD | mirror pooled r (ARKit) | mirror pooled r (face board) | "
              "mirror min r of one channel (ARKit) | mirror min r, table b's channels | "
              "geometry worst signed r: engine | geometry worst signed r: plain |",
              "|---|---|---|---|---|---|---|---|---|"]
    for variant, slot in worst.items():
        cells = [_cell(k, slot, False) for k in ("plain_indep_r", "plain_indep_mad", "plain_mirror_arkit",
                                                 "plain_mirror_board", "plain_mirror_arkit_min", "plain_mirror_reliable",
                                                 "geometry_engine", "geometry_plain")]
        lines.append(f"| {variant} | " + " | ".join(cells) + " |")
    lines.append(f"\nEngine: {passed} of {total} checks pass.")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clips", nargs="+", default=None, help="clip names (d0 d3 ...); default: all")
    parser.add_argument("--variants", nargs="+", default=None, choices=VARIANTS,
                        help="variants (the original is always included); default: all")
    parser.add_argument("--detail", action="store_true", help="per-channel tables")
    parser.add_argument("--cache", type=Path, default=default_cache(), help="variant files and tracks are kept here")
    parser.add_argument("--shared-data", type=Path, default=None,
                        help="shared data folder (default: $FACERETARGET_SHARED_DATA or ../shared/data)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count(), help="tracker threads (default: CPU count)")
    parser.add_argument("--symmetric", action="store_true",
                        help="the engine tracks as `run --symmetric` does (each frame also flipped; twice the "
                             "tracking time, cached separately); the raw score and the plain chain stay single-pass")
    args = parser.parse_args(argv)
    print(f"# Real-footage yardstick ({datetime.date.today()}, {platform.node()}, {os.cpu_count()} cores, "
          f"{platform.processor() or platform.machine()}, Python {platform.python_version()}, "
          f"mediapipe {mediapipe_version()}{', engine tracking: symmetric' if args.symmetric else ''})\n", flush=True)
    start = time.perf_counter()
    tracks = get_tracks(args.clips, args.variants, args.cache, args.shared_data, args.jobs, args.symmetric)
    track_s = time.perf_counter() - start
    res = evaluate(tracks)
    print(report(res, args.detail))
    print(f"\nVariants + tracking {track_s:.0f}s, evaluation {res.seconds:.0f}s; cache {args.cache}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
