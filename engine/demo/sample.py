"""A self-made sample face clip, so that `faceretarget-engine demo` needs no downloaded media.

The public-domain astronaut photo that ships inside scikit-image (Eileen Collins, NASA) is animated with
scripted expressions by image warping: blinks, smiles, speech-like jaw motion, a big open mouth with raised
brows, plus a slow head sway. MediaPipe's Face Landmarker runs once on the still to find lids, lips, brows
and chin; each expression is a smooth local displacement field around those features. The script's
ARKit-named weights are the ground truth an engine run on the clip can be compared with.

Geometry lives in a *face frame*: u runs along the eye line towards the subject's left (image right),
v runs down the face, both in source-image pixels. Every warp is a *backward* map - the colour at output
point p is read from p - D(p) - so warps compose by chaining coordinate transforms from the last one
applied (head motion) to the first (lids and lips), and a single cv2.remap renders the frame.

The photo is a smiling face with parted lips; the clip's neutral pose therefore seals the lips and pulls
the mouth corners down and in, and a scripted smile gives the photo's own smile (and teeth) back.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np

from engine.errors import NoFaceFound

# ---------------------------------------------------------------------------------------------- script
CHANNELS: tuple[str, ...] = (
    "eyeBlinkLeft", "eyeBlinkRight", "jawOpen", "mouthSmileLeft", "mouthSmileRight",
    "browInnerUp", "browOuterUpLeft", "browOuterUpRight",
)
SIDES = ("Left", "Right")             # the subject's sides, as in ARKit names
NEUTRAL_LEAD_S = 1.0                  # a still, neutral start: the engine calibrates its neutral on it
NOMINAL_DURATION_S = 8.0              # the default timeline is written for this length, then rescaled
MIN_DURATION_S = 4.0                  # shorter clips squeeze the blinks below a few frames

BOTH_BLINK = {"eyeBlinkLeft": 1.0, "eyeBlinkRight": 1.0}
SMILE = {"mouthSmileLeft": 1.0, "mouthSmileRight": 1.0}
SURPRISE = {"jawOpen": 1.0, "browInnerUp": 0.8, "browOuterUpLeft": 0.6, "browOuterUpRight": 0.6}
BLINK_PHASES = (0.07, 0.06, 0.12)     # attack, hold, release (s): a quick close, a slower reopening
SPEECH_PHASES = (0.12, 0.05, 0.15)
SPEECH_OPENINGS = ((3.9, 0.35), (4.25, 0.55), (4.6, 0.3), (4.95, 0.45))   # (nominal start s, jawOpen)


@dataclass(frozen=True)
class ScriptEvent:
    """One expression: its weights ease in over `attack`, hold, and ease out over `release` (seconds)."""

    start: float
    attack: float
    hold: float
    release: float
    weights: Mapping[str, float]

    def __post_init__(self):
        unknown = set(self.weights) - set(CHANNELS)
        if unknown:
            raise ValueError(f"unknown channels {sorted(unknown)}; animated channels are {CHANNELS}")
        if min(self.attack, self.release) <= 0 or self.hold < 0:
            raise ValueError("attack and release must be > 0 and hold >= 0")

    @property
    def end(self) -> float:
        return self.start + self.attack + self.hold + self.release

    def envelope(self, t: float) -> float:
        """0 outside the event, 1 while holding; smoothstep ramps keep velocity continuous."""
        if t <= self.start or t >= self.end:
            return 0.0
        ramp = min((t - self.start) / self.attack, (self.end - t) / self.release, 1.0)
        return ramp * ramp * (3.0 - 2.0 * ramp)


@dataclass
class SampleScript:
    """The clip's timeline: keyed expression events whose summed envelopes are the ground-truth weights."""

    duration_s: float
    events: list[ScriptEvent] = field(default_factory=list)

    def weights_at(self, t: float) -> dict[str, float]:
        """ARKit-named intensities in [0, 1] at time t (seconds), for every animated channel."""
        totals = dict.fromkeys(CHANNELS, 0.0)
        for event in self.events:
            level = event.envelope(t)
            if level > 0.0:
                for name, weight in event.weights.items():
                    totals[name] += level * weight
        return {name: min(max(value, 0.0), 1.0) for name, value in totals.items()}


def default_script(duration_s: float = 8.0) -> SampleScript:
    """Neutral first second, then blinks, a smile (with a blink inside it), speech-like jaw motion,
    a big surprised open mouth and a return to neutral. The 8 s timeline is stretched or squeezed to fit."""
    if duration_s < MIN_DURATION_S:
        raise ValueError(f"the sample needs at least {MIN_DURATION_S} s, got {duration_s}")
    time_scale = (duration_s - NEUTRAL_LEAD_S) / (NOMINAL_DURATION_S - NEUTRAL_LEAD_S)
    phase_scale = min(time_scale, 1.0)  # stretching keeps natural speeds; squeezing must shorten them

    def event(start, phases, weights):
        attack, hold, release = (phase * phase_scale for phase in phases)
        return ScriptEvent(NEUTRAL_LEAD_S + (start - NEUTRAL_LEAD_S) * time_scale, attack, hold, release,
                           weights)

    events = [
        event(1.4, BLINK_PHASES, BOTH_BLINK),
        event(2.0, (0.4, 0.9, 0.4), SMILE),
        event(2.75, BLINK_PHASES, BOTH_BLINK),
        *(event(start, SPEECH_PHASES, {"jawOpen": amount}) for start, amount in SPEECH_OPENINGS),
        event(5.5, (0.35, 0.6, 0.4), SURPRISE),
        event(7.0, BLINK_PHASES, BOTH_BLINK),
    ]
    return SampleScript(duration_s, events)


# -------------------------------------------------------------------------------------- face geometry
# MediaPipe's 478-point mesh. "Left"/"Right" are the subject's sides; contours run corner to corner.
EYE_CONTOURS = {  # side: (upper lid, lower lid)
    "Right": ((33, 246, 161, 160, 159, 158, 157, 173, 133), (33, 7, 163, 144, 145, 153, 154, 155, 133)),
    "Left": ((263, 466, 388, 387, 386, 385, 384, 398, 362), (263, 249, 390, 373, 374, 380, 381, 382, 362)),
}
INNER_LIPS = ((78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308),
              (78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308))
MOUTH_CORNERS = {"Right": 61, "Left": 291}
BROW_ENDS = {"Right": (107, 70), "Left": (336, 300)}  # (inner, outer)
CHIN = 152
CONTOUR_KNOTS = 32


@dataclass(frozen=True)
class FaceFrame:
    """Face-aligned coordinates: origin between the eyes, u towards the subject's left, v down."""

    origin: np.ndarray
    axis_u: np.ndarray

    @property
    def axis_v(self) -> np.ndarray:
        return np.array([-self.axis_u[1], self.axis_u[0]])

    def to_face(self, x, y):
        dx, dy = x - self.origin[0], y - self.origin[1]
        return dx * self.axis_u[0] + dy * self.axis_u[1], dx * self.axis_v[0] + dy * self.axis_v[1]

    def to_image(self, u, v):
        return (self.origin[0] + u * self.axis_u[0] + v * self.axis_v[0],
                self.origin[1] + u * self.axis_u[1] + v * self.axis_v[1])


@dataclass(frozen=True)
class Opening:
    """An eye or the mouth: its upper and lower edges as functions of u, sampled from corner to corner.
    Outside the corners both edges continue flat, so the gap there is zero."""

    knots_u: np.ndarray
    upper_v: np.ndarray
    lower_v: np.ndarray

    @classmethod
    def from_contours(cls, face_points: np.ndarray, upper_ids: Iterable[int], lower_ids: Iterable[int]):
        upper, lower = face_points[list(upper_ids)], face_points[list(lower_ids)]
        both = np.concatenate([upper, lower])
        knots = np.linspace(both[:, 0].min(), both[:, 0].max(), CONTOUR_KNOTS)
        return cls(knots, _sample_contour(upper, knots), _sample_contour(lower, knots))

    @property
    def center_u(self) -> float:
        return float(self.knots_u[0] + self.knots_u[-1]) / 2

    @property
    def half_width(self) -> float:
        return float(self.knots_u[-1] - self.knots_u[0]) / 2

    def upper(self, u):
        return np.interp(u, self.knots_u, self.upper_v)

    def lower(self, u):
        return np.interp(u, self.knots_u, self.lower_v)

    def gap(self, u):
        return np.maximum(np.interp(u, self.knots_u, self.lower_v - self.upper_v), 0.0)

    def beyond_corners(self, u):
        """Distance outside the opening along u (0 between the corners)."""
        return np.maximum(np.abs(u - self.center_u) - self.half_width, 0.0)

    def arch(self, u):
        """1 in the middle, 0 at the corners (elliptic): how far a lip edge travels when the mouth opens."""
        x = np.clip((u - self.center_u) / self.half_width, -1.0, 1.0)
        return np.sqrt(1.0 - x * x)


def _sample_contour(points: np.ndarray, knots: np.ndarray) -> np.ndarray:
    order = np.argsort(points[:, 0])
    return np.interp(knots, points[order, 0], points[order, 1])


@dataclass(frozen=True)
class FaceLayout:
    """Where the features of the still are, in the face frame; all warp sizes are relative to them."""

    frame: FaceFrame
    eyes: dict[str, Opening]
    mouth: Opening
    corners: dict[str, np.ndarray]
    brows: dict[str, tuple[np.ndarray, np.ndarray]]
    chin_depth: float            # chin below the lower lip's middle
    eye_distance: float
    mouth_width: float
    bounds: tuple[float, float, float, float]   # u_min, u_max, v_min, v_max of the landmarks

    @classmethod
    def from_landmarks(cls, landmarks: np.ndarray) -> FaceLayout:
        """`landmarks`: MediaPipe's (478, 2) pixel positions on the still."""
        eye_centers = {side: landmarks[list(EYE_CONTOURS[side][0])].mean(axis=0) for side in SIDES}
        eye_line = eye_centers["Left"] - eye_centers["Right"]
        frame = FaceFrame((eye_centers["Left"] + eye_centers["Right"]) / 2, eye_line / np.linalg.norm(eye_line))
        face = np.stack(frame.to_face(landmarks[:, 0], landmarks[:, 1]), axis=1)
        mouth = Opening.from_contours(face, *INNER_LIPS)
        corners = {side: face[MOUTH_CORNERS[side]] for side in SIDES}
        return cls(
            frame=frame,
            eyes={side: Opening.from_contours(face, *EYE_CONTOURS[side]) for side in SIDES},
            mouth=mouth,
            corners=corners,
            brows={side: (face[BROW_ENDS[side][0]], face[BROW_ENDS[side][1]]) for side in SIDES},
            chin_depth=float(face[CHIN, 1] - mouth.lower(mouth.center_u)),
            eye_distance=float(np.linalg.norm(eye_line)),
            mouth_width=float(np.linalg.norm(corners["Left"] - corners["Right"])),
            bounds=(face[:, 0].min(), face[:, 0].max(), face[:, 1].min(), face[:, 1].max()),
        )


def locate_landmarks(image: np.ndarray, model_path: Path | None = None) -> np.ndarray:
    """(478, 2) pixel landmarks of the face in an RGB uint8 image, from MediaPipe in IMAGE mode."""
    import mediapipe as mp
    from mediapipe.tasks.python import BaseOptions, vision

    from engine.track.model_bundle import resolve_model

    options = vision.FaceLandmarkerOptions(
        base_options=BaseOptions(model_asset_path=str(resolve_model(model_path))),
        running_mode=vision.RunningMode.IMAGE, num_faces=1, output_face_blendshapes=True)
    landmarker = vision.FaceLandmarker.create_from_options(options)
    try:
        result = landmarker.detect(mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(image)))
    finally:
        landmarker.close()
    if not result.face_landmarks:
        raise NoFaceFound("no face found in the sample still", "the demo's source photo must show one face")
    height, width = image.shape[:2]
    return np.array([(point.x * width, point.y * height) for point in result.face_landmarks[0]])


# ------------------------------------------------------------------------------------------------ warps
EDGE_SOFTNESS = 0.35        # px: lid and lip edges are sharp but anti-aliased
CORNER_STRETCH = 0.4        # edge softness gained per px beyond an opening's corner: no tears in the cheek
UPPER_LID_SHARE = 0.8       # a blink is mostly the upper lid coming down
UPPER_LID_SPREAD = 0.14     # x eye distance: how far above the lid the skin is dragged along
LOWER_LID_SPREAD = 0.08     # x eye distance
UPPER_LIP_SEAL_SHARE = 0.4  # sealing the photo's parted lips: upper lip down 40 %, lower lip up 60 %
UPPER_LIP_SPREAD = 0.12     # x mouth width
LOWER_LIP_SPREAD = 0.2      # x mouth width
SMILE_LIP_PARTING = 0.8     # a full smile unseals the lips to (nearly) the photo's own smile
JAW_DROP = 0.5              # x mouth width: lower lip travel at jawOpen = 1
JAW_WIDTH = 0.9             # x mouth width: sigma across u of the rigid jaw drop
NECK_SPREAD = 0.5           # x mouth width: below the chin the drop fades out over this
CORNER_SPREAD = 0.22        # x mouth width: sigma of the skin dragged by a mouth corner
# Mouth-corner offsets (outwards, down) x mouth width, relative to the photo.
NEUTRAL_CORNER = np.array([-0.05, 0.10])   # the photo smiles: neutral is corners in and down
SMILE_CORNER = np.array([0.06, -0.06])
JAW_CORNER = np.array([-0.06, 0.08])       # an open jaw narrows the mouth and lowers its corners
BROW_LIFT = 0.16            # x eye distance at weight 1
BROW_SPREAD = (0.3, 0.3)    # x eye distance: sigma (u, v) of a lifted brow patch
MOUTH_INTERIOR_RGB = np.array([62.0, 24.0, 30.0])
LIP_LINE_SHADE = 0.35       # darkening of the line where sealed lips meet
TEETH_MARGIN = 0.5          # px kept inside the photo's own lip gap (teeth) before the interior starts


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _falloff(distance, spread):
    """Gaussian decay with distance (distances <= 0 give 1)."""
    d = np.maximum(distance, 0.0) / spread
    return np.exp(-0.5 * d * d)


def _pull(u, v, center, shift, spread):
    """Backward map of a Gaussian-weighted translation: skin around `center` moves by `shift`."""
    if not np.any(shift):
        return u, v
    du = (u - center[0] - shift[0]) / spread[0]
    dv = (v - center[1] - shift[1]) / spread[1]
    weight = np.exp(-0.5 * (du * du + dv * dv))
    return u - shift[0] * weight, v - shift[1] * weight


def _edge_zones(opening: Opening, u, v, upper_shift, lower_shift):
    """Soft masks of the points above the moved upper edge and below the moved lower edge, with each
    point's distance from that edge. Between the edges is the eyeball or the mouth interior."""
    upper = opening.upper(u) + upper_shift
    lower = np.maximum(opening.lower(u) + lower_shift, upper)
    softness = EDGE_SOFTNESS + CORNER_STRETCH * opening.beyond_corners(u)
    return (_sigmoid((upper - v) / softness), _sigmoid((v - lower) / softness), upper - v, v - lower)


def _blink(eye: Opening, amount: float, eye_distance: float, u, v):
    """Close the eye: the upper lid slides down over the eyeball to meet the rising lower lid."""
    if amount <= 0.0:
        return v
    closing = eye.gap(u) * amount
    down, up = UPPER_LID_SHARE * closing, (1.0 - UPPER_LID_SHARE) * closing
    above, below, from_upper, from_lower = _edge_zones(eye, u, v, down, -up)
    shift = (above * down * _falloff(from_upper, UPPER_LID_SPREAD * eye_distance)
             - below * up * _falloff(from_lower, LOWER_LID_SPREAD * eye_distance))
    return v - shift


def _mouth(layout: FaceLayout, weights: Mapping[str, float], u, v):
    """Seal or part the lips and drop the jaw; returns the source v and the mouth-interior opacity.

    Above the upper lip only the lip moves; below the lower lip the lip follows its elliptic arch near the
    edge and the chin follows the rigid jaw further down; between the lips the photo's teeth stay where
    they are and anything past them is painted as the dark inside of the mouth."""
    mouth, width = layout.mouth, layout.mouth_width
    jaw = weights["jawOpen"]
    smile = (weights["mouthSmileLeft"] + weights["mouthSmileRight"]) / 2
    seal = mouth.gap(u) * (1.0 - SMILE_LIP_PARTING * smile)
    upper_seal, lower_seal = UPPER_LIP_SEAL_SHARE * seal, (1.0 - UPPER_LIP_SEAL_SHARE) * seal
    lip_drop = jaw * JAW_DROP * width * mouth.arch(u)
    above, below, from_upper, from_lower = _edge_zones(mouth, u, v, upper_seal, lip_drop - lower_seal)

    jaw_drop = jaw * JAW_DROP * width * _falloff(np.abs(u - mouth.center_u), JAW_WIDTH * width)
    toward_chin = np.clip(from_lower / layout.chin_depth, 0.0, 1.0)
    toward_chin = toward_chin * toward_chin * (3.0 - 2.0 * toward_chin)
    lower_shift = ((lip_drop + (jaw_drop - lip_drop) * toward_chin)
                   * _falloff(from_lower - layout.chin_depth, NECK_SPREAD * width)
                   - lower_seal * _falloff(from_lower, LOWER_LIP_SPREAD * width))
    upper_shift = upper_seal * _falloff(from_upper, UPPER_LIP_SPREAD * width)
    source_v = v - above * upper_shift - below * lower_shift

    between = (1.0 - above) * (1.0 - below) * _sigmoid(-mouth.beyond_corners(u) / EDGE_SOFTNESS) * 2.0
    past_teeth = _sigmoid((v - mouth.lower(u) + TEETH_MARGIN) / EDGE_SOFTNESS)
    return source_v, between * np.maximum(past_teeth, LIP_LINE_SHADE)


def _pull_features(layout: FaceLayout, weights: Mapping[str, float], u, v):
    """Brows up, mouth corners in/out and up/down: local translations of skin patches."""
    width, eye_distance = layout.mouth_width, layout.eye_distance
    brow_spread = (BROW_SPREAD[0] * eye_distance, BROW_SPREAD[1] * eye_distance)
    corner_spread = (CORNER_SPREAD * width, CORNER_SPREAD * width)
    for side in SIDES:
        outward = 1.0 if side == "Left" else -1.0      # u grows towards the subject's left
        inner, outer = layout.brows[side]
        for point, lift in ((inner, weights["browInnerUp"]), (outer, weights[f"browOuterUp{side}"])):
            u, v = _pull(u, v, point, np.array([0.0, -BROW_LIFT * eye_distance * lift]), brow_spread)
        smile = weights[f"mouthSmile{side}"]
        offset = (NEUTRAL_CORNER + (SMILE_CORNER - NEUTRAL_CORNER) * smile + JAW_CORNER * weights["jawOpen"])
        shift = offset * width * np.array([outward, 1.0])
        u, v = _pull(u, v, layout.corners[side], shift, corner_spread)
    return u, v


def expression_sources(layout: FaceLayout, weights: Mapping[str, float], u, v):
    """Backward map of one expression in face coordinates: (source u, source v, mouth-interior opacity).
    Feature pulls were applied last, so they are undone first; lids and lips act on the photo itself."""
    u, v = _pull_features(layout, weights, u, v)
    for side in SIDES:
        v = _blink(layout.eyes[side], weights[f"eyeBlink{side}"], layout.eye_distance, u, v)
    v, interior = _mouth(layout, weights, u, v)
    return u, v, interior


# -------------------------------------------------------------------------------------------- rendering
CROP_FACE_HEIGHTS = 2.2     # output frame side, in landmark-box heights: the face fills about half of it
HEAD_ROLL_DEG = 1.5
HEAD_SHIFT = 0.06           # x eye distance
HEAD_PERIODS_S = (6.1, 4.3, 5.3)   # roll, sideways, up-down: incommensurate, so the sway never repeats
ROI_MARGIN = (0.25, 0.35, 1.2)     # the warps' reach past the landmark box: sides, top, below the chin (x mouth width)


class SampleRenderer:
    """Draws frames of the animated still: one backward map per frame, expressions evaluated near the face."""

    def __init__(self, image: np.ndarray, landmarks: np.ndarray, size: int = 512):
        self.image = np.ascontiguousarray(image)
        self.layout = FaceLayout.from_landmarks(landmarks)
        self.size = size
        u_min, u_max, v_min, v_max = self.layout.bounds
        face_height = v_max - v_min
        self.crop_center = np.array(self.layout.frame.to_image((u_min + u_max) / 2, (v_min + v_max) / 2))
        self.scale = size / (CROP_FACE_HEIGHTS * face_height)   # output px per source px
        side, top, below = (margin * self.layout.mouth_width for margin in ROI_MARGIN)
        self.reach = np.array([(u_min - side, v_min - top), (u_max + side, v_min - top),
                               (u_min - side, v_max + below), (u_max + side, v_max + below)])
        ys, xs = np.mgrid[0:size, 0:size].astype(np.float32)
        self.grid = (xs, ys)

    @classmethod
    def from_astronaut(cls, size: int = 512, model_path: Path | None = None) -> SampleRenderer:
        from skimage import data

        image = data.astronaut()
        return cls(image, locate_landmarks(image, model_path), size)

    def head_motion(self, t: float) -> tuple[np.ndarray, np.ndarray]:
        """Affine (A, b) from output pixels to source pixels at time t: crop, slow roll and sway."""
        roll_period, sway_period, bob_period = HEAD_PERIODS_S
        angle = math.radians(HEAD_ROLL_DEG) * math.sin(2 * math.pi * t / roll_period)
        shift = HEAD_SHIFT * self.layout.eye_distance * np.array(
            [math.sin(2 * math.pi * t / sway_period), math.sin(2 * math.pi * t / bob_period + 1.0)])
        cos, sin = math.cos(angle), math.sin(angle)
        matrix = np.array([[cos, -sin], [sin, cos]]) / self.scale
        offset = self.crop_center + shift - matrix @ np.full(2, self.size / 2)
        return matrix, offset

    def _roi(self, matrix: np.ndarray, offset: np.ndarray) -> tuple[slice, slice]:
        corners = np.stack(self.layout.frame.to_image(self.reach[:, 0], self.reach[:, 1]), axis=1)
        out = (corners - offset) @ np.linalg.inv(matrix).T
        low = np.clip(np.floor(out.min(axis=0)).astype(int), 0, self.size)
        high = np.clip(np.ceil(out.max(axis=0)).astype(int) + 1, 0, self.size)
        return slice(low[1], high[1]), slice(low[0], high[0])

    def render(self, weights: Mapping[str, float], t: float = 0.0) -> np.ndarray:
        """An RGB uint8 (size, size, 3) frame showing `weights` (CHANNELS; missing ones are 0) at time t."""
        weights = {name: float(weights.get(name, 0.0)) for name in CHANNELS}
        matrix, offset = self.head_motion(t)
        xs, ys = self.grid
        map_x = (matrix[0, 0] * xs + matrix[0, 1] * ys + offset[0]).astype(np.float32)
        map_y = (matrix[1, 0] * xs + matrix[1, 1] * ys + offset[1]).astype(np.float32)
        roi = self._roi(matrix, offset)
        frame_ = self.layout.frame
        u, v = frame_.to_face(map_x[roi], map_y[roi])
        u, v, interior = expression_sources(self.layout, weights, u, v)
        map_x[roi], map_y[roi] = frame_.to_image(u, v)
        frame = cv2.remap(self.image, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        alpha = interior[..., None]
        frame[roi] = (frame[roi] * (1.0 - alpha) + MOUTH_INTERIOR_RGB * alpha).astype(np.uint8)
        return frame


# ------------------------------------------------------------------------------------------------ video
ENCODER_OPTIONS = {"crf": "18", "preset": "veryfast"}


def make_sample_clip(path: str | Path, script: SampleScript | None = None, fps: float = 30.0,
                     size: int = 512) -> SampleScript:
    """Write the animated astronaut as an H.264 MP4 (yuv420p) at `fps`, frames streamed to the encoder.
    Returns the script used; its weights_at(t) is the ground truth for the frame at time t."""
    if size < 64 or size % 2:
        raise ValueError(f"size must be an even number of pixels >= 64, got {size}")
    import av

    script = script or default_script()
    renderer = SampleRenderer.from_astronaut(size)
    rate = Fraction(fps).limit_denominator(1001)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=rate)
        stream.width = stream.height = size
        stream.pix_fmt = "yuv420p"
        stream.options = dict(ENCODER_OPTIONS)
        for index in range(int(round(script.duration_s * fps))):
            t = index / fps
            frame = av.VideoFrame.from_ndarray(renderer.render(script.weights_at(t), t), format="rgb24")
            frame.pts = index
            frame.time_base = 1 / rate
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    return script
