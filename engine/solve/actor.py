"""Actor profiles: the actor's own resting face, from a dedicated neutral capture.

As MetaHuman Animator's neutral-pose step: the actor sits still, relaxed, looking into the camera (a still
image or a few seconds of video), and `faceretarget-engine calibrate` turns that capture into a profile
that every later take of the same actor uses (`run --actor actor.json`). Without a profile the solve takes
the population model of the tracker's resting output (engine.solve.resting), never "the least active
frames" of a clip that may hold no rest at all.

A profile holds, per ARKit channel (raw MediaPipe scores, ARKIT_NAMES order):
- `neutral`: the median over the capture's rest frames: the actor's resting bias, which the solve subtracts;
- `rest_spread`: how much the score moves while the actor rests (1.4826 x MAD, a robust sd);
- `ranges`: what the actor reaches at a full expression (98th percentile over a range-of-motion clip,
  `calibrate --range`), or None;
- `landmark_neutral`: the actor's neutral landmark shape in the head frame (engine.solve.landmark_space).

MediaPipe reads a face and its mirror image differently, so a single-pass run and a `run --symmetric` see
the same resting face at slightly different levels. `calibrate` therefore reads the captures both ways: the
profile's own fields are the reading named by `source.tracking`, and `alternate` holds the same four
measured the other way; `read_as(symmetric)` gives the one a run needs (profiles made before session 11 have
one reading only, and a run tracked the other way warns `actor_tracking_differs`).

The file is JSON a person can read: the 52-vectors are objects keyed by channel name.
"""
from __future__ import annotations

import datetime
import json
import os
from dataclasses import dataclass, field, replace
from importlib import metadata
from pathlib import Path

import numpy as np

import engine
from engine.errors import BadInput, NoFaceFound
from engine.hashing import file_sha256
from engine.rig.arkit import ARKIT_NAMES
from engine.config.rigs import RIG_GENERATIONS, check_rig
from engine.solve.calibration import NEUTRAL_WINDOW_S
from engine.solve.landmark_space import neutral_reference
from engine.solve.resting import EXPRESSION_CHANNELS, RestingModel, load_resting_model
from engine.track.facetrack import LANDMARK_COUNT, FaceTrack

PROFILE_FORMAT = "faceretarget-actor/1"
PROFILE_FAMILY = "faceretarget-actor/"
MAD_TO_SD = 1.4826            # robust standard deviation of normal data from its median absolute deviation
RANGE_PERCENTILE = 98.0       # a channel's full expression: this percentile of the range-of-motion clip
MAX_ACTIVE_SHARE = 0.3        # a rest capture with more of its frames showing an expression is not steady
STEADY_MARGIN = 0.15          # a capture frame whose expression channel is this far from the median is not at rest
MIN_REST_FRAMES = 3           # fewer blink-free frames than this: the neutral takes the blinks' frames too
FACE_CHANNELS = np.array([not n.startswith("eye") for n in ARKIT_NAMES])   # what makes a capture unsteady
DIGITS = 6                    # values are written rounded to this many decimals
CALIBRATE_HINT = "make one with `faceretarget-engine calibrate --video neutral.mp4 --out actor.json`"


def tracking_name(symmetric: bool) -> str:
    """A profile's `source.tracking`: how its captures were read ("symmetric" as `run --symmetric`)."""
    return "symmetric" if symmetric else "single"


@dataclass(frozen=True, eq=False)
class ActorProfile:
    name: str
    rig: str                              # rig generation it was made for (RIG_GENERATIONS)
    neutral: np.ndarray                   # (52,) raw scores at rest: per-channel median of the rest frames
    rest_spread: np.ndarray               # (52,) robust sd (1.4826 MAD) of the scores over the rest frames
    ranges: np.ndarray | None = None      # (52,) raw score at a full expression (ROM clip, 98th pct); None: no ROM
    landmark_neutral: np.ndarray | None = None   # (478, 3) neutral landmark shape in the head frame (cm)
    source: dict = field(default_factory=dict)   # captures (paths, sha256, times used), versions, date
    alternate: "ActorProfile | None" = None     # the same captures read the other way (single <-> symmetric)

    def __post_init__(self) -> None:
        for array in (self.neutral, self.rest_spread, self.ranges, self.landmark_neutral):
            if array is not None:
                array.setflags(write=False)    # frozen means frozen: the solve must not edit a shared profile

    @property
    def tracking(self) -> str:
        """How the captures were read for the profile's own fields: "single" or "symmetric"."""
        return self.source.get("tracking", "single")

    def read_as(self, symmetric: bool) -> "ActorProfile | None":
        """The reading for a run tracked single-pass or `--symmetric`: this one or its alternate; None when
        the profile has no such reading."""
        wanted = tracking_name(symmetric)
        for reading in (self, self.alternate):
            if reading is not None and reading.tracking == wanted:
                return reading
        return None

    def for_run(self, symmetric: bool) -> "ActorProfile":
        """The reading a run tracked this way solves against: `read_as`'s, else the profile's own (an older
        profile read only the other way still serves; the run warns actor_tracking_differs)."""
        return self.read_as(symmetric) or self


# --- building ------------------------------------------------------------------------------------------

def capture_source(video: Path, rom: Path | None = None, symmetric: bool = False) -> dict:
    """The `source` record of a profile made from these files: paths, sha256, versions, how they were tracked
    (`tracking`: "symmetric" as `run --symmetric`, else "single") and the date."""
    def describe(path: Path) -> dict:
        return {"path": str(Path(path).absolute()), "sha256": file_sha256(path)}

    try:
        mediapipe_version = metadata.version("mediapipe")
    except metadata.PackageNotFoundError:
        mediapipe_version = None
    return {"neutral": describe(video), "range_of_motion": describe(rom) if rom is not None else None,
            "engine": engine.__version__, "mediapipe": mediapipe_version,
            "tracking": tracking_name(symmetric),
            "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")}


def build_profile(track: FaceTrack, rom_track: FaceTrack | None = None, *, name: str, rig: str,
                  time: float | None = None, source: dict | None = None,
                  resting: RestingModel | None = None) -> ActorProfile:
    """The profile of a neutral capture (and optionally a range-of-motion clip).

    Rest frames: with `time` (seconds), the frames within NEUTRAL_WINDOW_S of it; otherwise every frame of
    the capture with a face (a neutral capture is a still, or a few seconds at rest). Frames where an
    expression shows (a blink) are left out. NoFaceFound without any face; BadInput for no face near
    `time`, a capture that is not at rest (naming the active channels), or one that does not rest steadily."""
    check_rig(rig)
    if not track.detected.any():
        raise NoFaceFound(f"no face found in any of the {len(track)} frames of the neutral capture",
                          "the actor's face must be visible, lit, frontal and at least ~80 px wide")
    resting = resting or load_resting_model()
    candidates = _candidate_frames(track, time)
    scores = track.arkit[candidates]
    median = np.median(scores, axis=0)
    # Faces differ: MediaPipe reads some at rest with a pucker or raised brows of 0.4-0.6 (rendered identities
    # t1, t6). Only an expression no resting face of the population shows refuses the capture; a resting
    # bias below that is the actor's own, kept and noted.
    active = resting.expressive_channels(median)
    if active:
        values = sorted(((median[ARKIT_NAMES.index(n)], n) for n in active), reverse=True)
        raise BadInput("the neutral capture is not at rest: " + ", ".join(f"{n} {v:.2f}" for v, n in values),
                       "record the actor relaxed (mouth closed, no smile, brows at rest), looking into the camera"
                       + ("" if time is not None else "; or pick a moment at rest with --time"))
    # Blinks and eye twitches are natural in a rest capture: their frames are left out of the neutral but
    # do not make the capture unsteady; a face that moves its mouth, jaw or brows in many frames does.
    steady = steady_frames(scores, median, FACE_CHANNELS)
    if 1.0 - steady.mean() > MAX_ACTIVE_SHARE:
        raise BadInput(f"the neutral capture is not a steady rest: {1.0 - steady.mean():.0%} of its "
                       f"{len(candidates)} frames show an expression ({_most_active(scores[~steady], median)})",
                       "record a few seconds of a relaxed face, or a still image"
                       + ("" if time is not None else ", or pick a moment at rest with --time"))
    rest = steady & steady_frames(scores, median, EXPRESSION_CHANNELS)
    if rest.sum() < MIN_REST_FRAMES:
        rest = steady
    frames = candidates[rest]
    rest_scores = track.arkit[frames]
    neutral = np.median(rest_scores, axis=0)
    spread = MAD_TO_SD * np.median(np.abs(rest_scores - neutral), axis=0)
    source = dict(source or {})
    source["neutral_frames"] = {"count": int(len(frames)), "of": int(len(track)), "time": time,
                                "time_ranges": _time_ranges(track.times, frames)}
    source["unusual_resting_bias"] = {n: round(float(neutral[ARKIT_NAMES.index(n)]), 3)
                                      for n in resting.active_channels(neutral)}
    ranges = None
    if rom_track is not None:
        ranges = range_of_motion(rom_track)
        source["range_of_motion_frames"] = int(rom_track.detected.sum())
    return ActorProfile(name=name, rig=rig, neutral=neutral, rest_spread=spread, ranges=ranges,
                        landmark_neutral=_landmark_neutral(track, frames), source=source)


def range_of_motion(rom_track: FaceTrack) -> np.ndarray:
    """(52,) the raw score each channel reaches at a full expression: the 98th percentile over the clip."""
    if not rom_track.detected.any():
        raise NoFaceFound(f"no face found in any of the {len(rom_track)} frames of the range-of-motion clip",
                          "the actor's face must be visible, lit and at least ~80 px wide")
    return np.percentile(rom_track.arkit[rom_track.detected], RANGE_PERCENTILE, axis=0)


def _candidate_frames(track: FaceTrack, time: float | None) -> np.ndarray:
    if time is None:
        return np.flatnonzero(track.detected)
    near = np.flatnonzero((np.abs(track.times - time) <= NEUTRAL_WINDOW_S) & track.detected)
    if near.size == 0:
        end = float(track.times[-1])
        raise BadInput(f"no face found near --time {time:.3f}s of the neutral capture"
                       + (f" (it ends at {end:.3f}s)" if time > end + NEUTRAL_WINDOW_S else ""),
                       "pick a time where the actor's face is visible and at rest")
    return near


def steady_frames(scores: np.ndarray, median: np.ndarray, channels: np.ndarray) -> np.ndarray:
    """(N,) True where none of `channels` (a (52,) mask) moves more than STEADY_MARGIN from the capture's
    median."""
    return np.all(np.abs(scores - median)[:, channels] <= STEADY_MARGIN, axis=1)


def _most_active(scores: np.ndarray, median: np.ndarray) -> str:
    """"eyeBlinkLeft in 12 frames, jawOpen in 9 frames": the channels that made frames not at rest."""
    counts = {name: int((np.abs(scores[:, i] - median[i]) > STEADY_MARGIN).sum())
              for i, name in enumerate(ARKIT_NAMES) if FACE_CHANNELS[i]}
    top = sorted(((c, n) for n, c in counts.items() if c), reverse=True)[:4]
    return ", ".join(f"{n} in {c} frames" for c, n in top)


def _time_ranges(times: np.ndarray, frames: np.ndarray) -> list[list[float]]:
    """[[start, end], ...] seconds of the runs of consecutive frames used."""
    runs = np.split(frames, np.flatnonzero(np.diff(frames) > 1) + 1) if len(frames) else []
    return [[round(float(times[r[0]]), 4), round(float(times[r[-1]]), 4)] for r in runs]


def _landmark_neutral(track: FaceTrack, frames: np.ndarray) -> np.ndarray | None:
    if track.landmarks_path is None:
        return None
    return neutral_reference(track.landmarks(), track.image_size, frames)


# --- the file ------------------------------------------------------------------------------------------

def _channels(values: np.ndarray | None) -> dict | None:
    if values is None:
        return None
    return {name: round(float(v), DIGITS) for name, v in zip(ARKIT_NAMES, values)}


def _reading_to_json(profile: ActorProfile) -> dict:
    landmarks = profile.landmark_neutral
    return {"neutral": _channels(profile.neutral), "rest_spread": _channels(profile.rest_spread),
            "ranges": _channels(profile.ranges),
            "landmark_neutral": None if landmarks is None else np.round(landmarks, DIGITS).tolist()}


def profile_to_json(profile: ActorProfile) -> dict:
    alternate = profile.alternate
    return {"format": PROFILE_FORMAT, "name": profile.name, "rig": profile.rig, **_reading_to_json(profile),
            "source": profile.source,
            "alternate": None if alternate is None else {"tracking": alternate.tracking,
                                                         **_reading_to_json(alternate)}}


LANDMARKS_MARK = "@landmarks{}@"


def profile_text(profile: ActorProfile) -> str:
    """The profile's JSON: indented, with one landmark (x, y, z) a line rather than one number a line."""
    doc = profile_to_json(profile)
    shapes = {}
    for n, holder in enumerate(d for d in (doc, doc["alternate"]) if d is not None):
        if holder["landmark_neutral"] is not None:
            shapes[LANDMARKS_MARK.format(n)] = holder["landmark_neutral"]
            holder["landmark_neutral"] = LANDMARKS_MARK.format(n)
    text = json.dumps(doc, indent=1, allow_nan=False)
    for mark, rows in shapes.items():
        text = text.replace(json.dumps(mark),
                            "[\n  " + ",\n  ".join(json.dumps(row, allow_nan=False) for row in rows) + "\n ]")
    return text + "\n"


def save_profile(profile: ActorProfile, path: str | Path) -> Path:
    """Write the profile as JSON, atomically: a temporary file in the same folder, then renamed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        tmp.write_text(profile_text(profile))
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def load_profile(path: str | Path, rig: str | None = None) -> ActorProfile:
    """Read and check an actor profile; BadInput says what is wrong. With `rig`, a profile made for another
    rig generation is refused."""
    path = Path(path)
    if not path.is_file():
        what = "is a folder" if path.is_dir() else "not found"
        raise BadInput(f"actor profile {what}: {path}", f"give the profile's .json file; {CALIBRATE_HINT}")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BadInput(f"actor profile {path} is not valid JSON: {exc}",
                       f"the file is damaged; {CALIBRATE_HINT}") from None
    fmt = doc.get("format") if isinstance(doc, dict) else None
    if fmt != PROFILE_FORMAT:
        newer = isinstance(fmt, str) and fmt.startswith(PROFILE_FAMILY)
        raise BadInput(f"{path} is not an actor profile this engine reads (format {fmt!r}, expected "
                       f"{PROFILE_FORMAT!r})",
                       "update the engine" if newer else f"give a file written by calibrate; {CALIBRATE_HINT}")
    where = f"actor profile {path}"
    name, made_for = doc.get("name"), doc.get("rig")
    if not isinstance(name, str):
        raise BadInput(f"{where}: no actor name", CALIBRATE_HINT)
    if made_for not in RIG_GENERATIONS:
        raise BadInput(f"{where}: unknown rig {made_for!r}",
                       f"re-run calibrate with --rig {' or '.join(RIG_GENERATIONS)}")
    if rig is not None and made_for != rig:
        raise BadInput(f"actor profile {path.name} was made for the {made_for} rig; this run targets {rig}",
                       f"re-run calibrate on the same neutral capture with --rig {rig}")
    source = doc.get("source") or {}
    if not isinstance(source, dict):
        raise BadInput(f"{where}: \"source\" must be an object", CALIBRATE_HINT)
    alternate = doc.get("alternate")
    if alternate is not None:
        if not isinstance(alternate, dict) or alternate.get("tracking") not in ("single", "symmetric") \
                or alternate["tracking"] == source.get("tracking", "single"):
            raise BadInput(f"{where}: \"alternate\" must be the other tracking's reading", CALIBRATE_HINT)
        alternate = _read_reading(alternate, name, made_for, {**source, "tracking": alternate["tracking"]},
                                  f"{where} (alternate)")
    return replace(_read_reading(doc, name, made_for, source, where), alternate=alternate)


def _read_reading(doc: dict, name: str, rig: str, source: dict, where: str) -> ActorProfile:
    return ActorProfile(name=name, rig=rig,
                        neutral=_read_channels(doc, "neutral", where),
                        rest_spread=_read_channels(doc, "rest_spread", where),
                        ranges=_read_channels(doc, "ranges", where, optional=True),
                        landmark_neutral=_read_landmarks(doc, where), source=source)


def _read_channels(doc: dict, key: str, where: str, optional: bool = False) -> np.ndarray | None:
    values = doc.get(key)
    if values is None and optional:
        return None
    if not isinstance(values, dict):
        raise BadInput(f"{where}: no {key!r} channels", CALIBRATE_HINT)
    missing = [n for n in ARKIT_NAMES if n not in values]
    unknown = sorted(set(values) - set(ARKIT_NAMES))
    if missing or unknown:
        problems = ([f"is missing {_names(missing)}"] if missing else []) + (
            [f"has unknown channels {_names(unknown)}"] if unknown else [])
        raise BadInput(f"{where}: {key!r} {' and '.join(problems)}",
                       f"the file was edited or damaged; {CALIBRATE_HINT}")
    return _finite(lambda: np.array([values[n] for n in ARKIT_NAMES], float), f"{where}: {key!r}")


def _read_landmarks(doc: dict, where: str) -> np.ndarray | None:
    values = doc.get("landmark_neutral")
    if values is None:
        return None
    array = _finite(lambda: np.array(values, float), f"{where}: 'landmark_neutral'")
    if array.shape != (LANDMARK_COUNT, 3):
        raise BadInput(f"{where}: 'landmark_neutral' has shape {array.shape}, expected ({LANDMARK_COUNT}, 3)",
                       CALIBRATE_HINT)
    return array


def _finite(make, what: str) -> np.ndarray:
    try:
        array = make()
    except (TypeError, ValueError):
        raise BadInput(f"{what} holds values that are not numbers", CALIBRATE_HINT) from None
    bad = ~np.isfinite(array)
    if bad.any():
        where = (f" ({_names([ARKIT_NAMES[i] for i in np.flatnonzero(bad)])})" if array.shape == (len(ARKIT_NAMES),)
                 else "")
        raise BadInput(f"{what} holds {int(bad.sum())} non-finite value(s){where}", CALIBRATE_HINT)
    return array


def _names(names: list[str], most: int = 6) -> str:
    return ", ".join(names[:most]) + (f" and {len(names) - most} more" if len(names) > most else "")
