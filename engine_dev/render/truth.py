"""Rendered ground truth: render an ICT head clip at known ARKit weights and track it with the engine.

The frames go straight from the renderer into `engine.track.landmarker.FaceTracker` (the tracker `run`
uses, in the same VIDEO mode with the same timestamps a decoded video would give), and the results are
collected into a `FaceTrack` exactly as `engine.track.run_tracker.track_video` does, landmarks included.
So what is measured is the engine's own track -> solve -> rig code; only the video codec is skipped.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from engine.track.facetrack import FaceTrack, LandmarkSink
from engine.track.landmarker import FaceTracker, TrackerOptions
from engine_dev.render.ict_head import IctHead
from engine_dev.render.renderer import Camera, Look, TruthRenderer
from engine_dev.render.sequences import HeadMotion, expressions, rest, singles, speech, weak

SCRIPTS = {"singles": singles, "expressions": expressions, "speech": speech, "weak": weak, "rest": rest}
IDENTITY_MODES = 30           # identity PCA modes used for random identities
CACHE_VERSION = 1


@dataclass(frozen=True)
class ClipSpec:
    name: str
    identity_seed: int | None = None          # None: ICT's mean face
    identity_scale: float = 0.9               # random identities: N(0, scale) per PCA mode (sigma units)
    look: Look = field(default_factory=Look)
    camera: Camera = field(default_factory=Camera)
    motion: HeadMotion = field(default_factory=HeadMotion)
    scripts: tuple[str, ...] = ("singles", "expressions", "speech")
    seed: int = 0
    fps: float = 25.0

    def key(self) -> str:
        import hashlib
        import json
        return hashlib.sha1(json.dumps(asdict(self), sort_keys=True, default=str).encode()).hexdigest()[:12]


def identity_coefficients(spec: ClipSpec) -> np.ndarray | None:
    if spec.identity_seed is None:
        return None
    rng = np.random.default_rng(1000 + spec.identity_seed)
    return rng.normal(0.0, spec.identity_scale, IDENTITY_MODES)


def clip_weights(spec: ClipSpec) -> np.ndarray:
    rng = np.random.default_rng(spec.seed)
    return np.concatenate([SCRIPTS[s](rng, spec.fps) for s in spec.scripts])


@dataclass
class RenderedClip:
    spec: ClipSpec
    truth: np.ndarray          # (N, 52) rendered ARKit weights
    head: np.ndarray           # (N, 3) rendered yaw, pitch, roll (degrees)
    track: FaceTrack

    @property
    def times(self) -> np.ndarray:
        return self.track.times


def render_frames(spec: ClipSpec, head: IctHead, renderer: TruthRenderer):
    """Yield (time, truth weights, head angles, RGB image) for every frame of the clip."""
    weights = clip_weights(spec)
    times = np.arange(len(weights)) / spec.fps
    angles = spec.motion.at(times)
    base = head.identity_shape(identity_coefficients(spec))
    for i, t in enumerate(times):
        image = renderer.render(head.vertices(weights[i], base), *angles[i], camera=spec.camera, look=spec.look)
        yield float(t), weights[i], angles[i], image


def render_and_track(spec: ClipSpec, head: IctHead, workdir: Path, renderer: TruthRenderer | None = None,
                     tracker_options: TrackerOptions | None = None, progress=None) -> RenderedClip:
    """Render the clip and track every frame; landmarks go to workdir/<name>.landmarks.npy."""
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    own = renderer is None
    renderer = renderer or TruthRenderer(head, spec.camera)
    times, truth, angles, detected, scores, poses, confidence = [], [], [], [], [], [], []
    sink = LandmarkSink(workdir / f"{spec.name}.landmarks.npy")
    try:
        with FaceTracker(tracker_options) as tracker:
            for t, w, a, image in render_frames(spec, head, renderer):
                r = tracker.track(image, t)
                times.append(t)
                truth.append(w)
                angles.append(a)
                detected.append(r.detected)
                scores.append(r.arkit if r.detected else np.full(52, np.nan))
                poses.append(r.head_pose if r.detected else np.full((4, 4), np.nan))
                confidence.append(r.confidence)
                sink.append(r.landmarks)
                if progress:
                    progress(len(times))
        path = sink.finish()
    except BaseException:
        sink.abort()
        raise
    finally:
        if own:
            renderer.close()
    track = FaceTrack(np.array(times), np.array(detected, bool), np.array(scores).reshape(-1, 52),
                      np.array(poses).reshape(-1, 4, 4), np.array(confidence), path)
    track.image_size = (spec.camera.width, spec.camera.height)
    return RenderedClip(spec, np.array(truth), np.array(angles), track)


def save_clip(clip: RenderedClip, path: Path) -> None:
    t = clip.track
    np.savez_compressed(path, version=CACHE_VERSION, key=clip.spec.key(), truth=clip.truth, head=clip.head,
                        times=t.times, detected=t.detected, arkit=t.arkit, head_pose=t.head_pose,
                        confidence=t.confidence, image_size=np.array(t.image_size))


def load_clip(spec: ClipSpec, path: Path) -> RenderedClip | None:
    """A cached clip if it exists and was made from the same spec; its landmarks sit beside it."""
    landmarks = path.with_name(f"{spec.name}.landmarks.npy")
    if not path.is_file() or not landmarks.is_file():
        return None
    d = np.load(path)
    if int(d["version"]) != CACHE_VERSION or str(d["key"]) != spec.key():
        return None
    track = FaceTrack(d["times"], d["detected"], d["arkit"], d["head_pose"], d["confidence"], landmarks)
    track.image_size = tuple(int(x) for x in d["image_size"])
    return RenderedClip(spec, d["truth"], d["head"], track)
