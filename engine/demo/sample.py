"""A self-made sample face clip, so that `faceretarget-engine demo` needs no downloaded media.

The public-domain astronaut photo that ships inside scikit-image (Eileen Collins, NASA) is animated with
scripted expressions by image warping: blinks, smiles, speech-like jaw motion, a big open mouth with raised
brows, plus a slow head sway. MediaPipe's Face Landmarker runs once on the still to find lids, lips, brows
and chin; each expression is a smooth local displacement field around those features. The script's
ARKit-named weights are the ground truth an engine run on the clip can be compared with.

Geometry lives in a *face frame*: u runs along the eye line towards the subject's left (image right),
v runs down the face, both in source-image pixels. Every warp is a *backward* map - the colour at output
point p is read from p - D(p) - so warps compose by chaining coordinate transforms from the last one
applied (head motion) to the first (lids and lips). The expression's map is sampled once per frame as a
displacement field around the face; the frame is one affine warp of the photo (crop and head motion)
with the face region re-read through affine + field by a single cv2.remap.

The photo is a smiling face with parted lips; the clip's neutral pose therefore seals the lips and pulls
the mouth corners down and in, and a scripted smile gives the photo's own smile (and teeth) back.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from functools import partial
from pathlib import Path

import cv2
import numpy as np

from engine.errors import NoFaceFound
from engine.track.mediapipe_import import import_mediapipe
from engine.track.model_bundle import resolve_model

def _smoothstep(x):
    """0 below 0, 1 above 1, an S-curve between: eases in and out with continuous velocity."""
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


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
        return float(_smoothstep(min((t - self.start) / self.attack, (self.end - t) / self.release)))


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
JAW_LINE = (58, 172, 136, 150, 149, 176, 148, 152, 377, 400, 378, 379, 365, 397, 288)  # outline below the mouth
CONTOUR_KNOTS = 32
EYE_MARGINS = (0.02, 0.05)  # x eye distance, (upper, lower): the mesh's lid contours sit inside the lid margins


@dataclass(frozen=True)
class FaceFrame:
    """Face-aligned coordinates: origin between the eyes, u towards the subject's left, v down."""

    origin: np.ndarray
    axis_u: np.ndarray

    def to_face(self, x, y):
        (ox, oy), (ax, ay) = self.origin.tolist(), self.axis_u.tolist()   # Python floats keep float32 arrays
        dx, dy = x - ox, y - oy
        return dx * ax + dy * ay, dy * ax - dx * ay

    def to_image(self, u, v):
        (ox, oy), (ax, ay) = self.origin.tolist(), self.axis_u.tolist()
        return ox + u * ax - v * ay, oy + u * ay + v * ax


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

    def edges(self, u) -> tuple[np.ndarray, np.ndarray]:
        """v of the upper and the lower edge at each u."""
        return (np.interp(u, self.knots_u, self.upper_v).astype(np.float32),
                np.interp(u, self.knots_u, self.lower_v).astype(np.float32))

    def beyond_corners(self, u):
        """Distance outside the opening along u (0 between the corners)."""
        return np.maximum(np.abs(u - self.center_u) - self.half_width, 0.0)

    def arch(self, u):
        """1 in the middle, 0 at the corners (elliptic): how far a lip edge travels when the mouth opens."""
        x = np.minimum(np.abs(u - self.center_u) / self.half_width, 1.0)
        return np.sqrt(1.0 - x * x)

    def widened(self, upper_margin: float, lower_margin: float) -> Opening:
        """The opening with its edges pushed further out by the margins (tapering to 0 at the corners)."""
        arch = self.arch(self.knots_u)
        return Opening(self.knots_u, self.upper_v - upper_margin * arch, self.lower_v + lower_margin * arch)


def _sample_contour(points: np.ndarray, knots: np.ndarray) -> np.ndarray:
    order = np.argsort(points[:, 0])
    return np.interp(knots, points[order, 0], points[order, 1])


@dataclass(frozen=True)
class FaceLayout:
    """Where the features of the still are, in the face frame; all warp sizes are relative to them."""

    frame: FaceFrame
    eyes: dict[str, Opening]
    mouth: Opening
    jaw_line: Opening            # the outline of the jaw: an "opening" whose two edges coincide
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
        eye_distance = float(np.linalg.norm(eye_line))
        mouth = Opening.from_contours(face, *INNER_LIPS)
        corners = {side: face[MOUTH_CORNERS[side]] for side in SIDES}
        return cls(
            frame=frame,
            eyes={side: Opening.from_contours(face, *EYE_CONTOURS[side]).widened(
                *(margin * eye_distance for margin in EYE_MARGINS)) for side in SIDES},
            mouth=mouth,
            jaw_line=Opening.from_contours(face, JAW_LINE, JAW_LINE),
            corners=corners,
            brows={side: (face[BROW_ENDS[side][0]], face[BROW_ENDS[side][1]]) for side in SIDES},
            chin_depth=float(face[CHIN, 1] - mouth.edges(mouth.center_u)[1]),
            eye_distance=eye_distance,
            mouth_width=float(np.linalg.norm(corners["Left"] - corners["Right"])),
            bounds=(face[:, 0].min(), face[:, 0].max(), face[:, 1].min(), face[:, 1].max()),
        )


def locate_landmarks(image: np.ndarray, model_path: Path | None = None) -> np.ndarray:
    """(478, 2) pixel landmarks of the face in an RGB uint8 image, from MediaPipe in IMAGE mode."""
    mp, BaseOptions, vision = import_mediapipe()

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
# Falloffs use a compact kernel, (1 - (d / reach)^2)^2: smooth, and exactly zero past `reach`, so every warp
# is confined to a box and only that box is computed. Reaches are kept large enough relative to the
# displacements that the maps never fold over.
EDGE_SOFTNESS = 0.35        # px: lid and lip edges are sharp but anti-aliased
CORNER_STRETCH = 0.4        # edge softness gained per px beyond an opening's corner: the cheek stretches
STRETCH_REACH = 0.5         # x mouth width: how far above the lip line that stretch reaches
UPPER_LID_SHARE = 0.9       # a blink is mostly the upper lid coming down
# The lid skin next to the lash line is stretched over the closing eye: over the band between the moved
# edge and `band` beyond the original edge, the displacement eases from full to 0, so the stretch stays
# under the fold limit while the brow above is left alone.
UPPER_LID_BAND = 0.15       # x eye distance
LOWER_LID_BAND = 0.1        # x eye distance
UPPER_LIP_SEAL_SHARE = 0.4  # sealing the photo's parted lips: upper lip down 40 %, lower lip up 60 %
UPPER_LIP_REACH = 0.3       # x mouth width
LOWER_LIP_REACH = 0.5       # x mouth width
SMILE_LIP_PARTING = 0.8     # a full smile unseals the lips to (nearly) the photo's own smile
JAW_DROP = 0.5              # x mouth width: lower lip travel at jawOpen = 1
JAW_REACH = 1.6             # x mouth width either side of the middle: the drop fades towards the jaw hinges
NECK_FOLLOW = 0.25          # the neck under the jaw follows a quarter of its drop; the chin hides the rest
NECK_REACH = 0.8            # x mouth width: below the jaw line the neck's share fades out over this
CORNER_REACH = 0.55         # x mouth width: the skin dragged along by a mouth corner
# Mouth-corner offsets (outwards, down) x mouth width, relative to the photo.
NEUTRAL_CORNER = np.array([-0.10, 0.14])   # the photo smiles: neutral is corners in and down
SMILE_CORNER = np.array([0.06, -0.06])
JAW_CORNER = np.array([-0.06, 0.08])       # an open jaw narrows the mouth and lowers its corners
BROW_LIFT = 0.16            # x eye distance at weight 1
BROW_REACH = 0.75           # x eye distance
SHADE_RGB = np.array([52.0, 16.0, 20.0], dtype=np.float32)   # inside of the mouth; lash and lip lines
LIP_LINE_SHADE = 0.7        # darkening of the line where sealed lips meet
LASH_LINE_SHADE = 0.6       # darkening of the line where closed lids meet
TEETH_MARGIN = 0.5          # px kept inside the photo's own lip gap (teeth) before the interior starts


@dataclass(frozen=True)
class WarpStep:
    """One local backward warp, the identity outside `box` (u_min, u_max, v_min, v_max in the face frame).
    `apply(u, v)` returns the source (u, v) and the opacity of SHADE_RGB painted over the result."""

    box: tuple[float, float, float, float]
    apply: Callable


def _sigmoid(x):
    return 0.5 + 0.5 * np.tanh(0.5 * x)   # the logistic function, without exp overflow


def _falloff(distance, reach):
    """1 at distance <= 0, smoothly down to 0 at `reach` and beyond."""
    x = np.minimum(np.maximum(distance, 0.0) / reach, 1.0)
    x = 1.0 - x * x
    return x * x


def _seam(opening: Opening, u, above, below):
    """1 on the line where an opening's moved edges meet between its corners, else 0. There the blend of
    the two displacements reads the middle of what the edges hide (sclera, teeth): it is painted dark."""
    return 4.0 * above * below * _inside(opening, u)


def _inside(opening: Opening, u):
    """1 between the opening's corners, fading to 0 within EDGE_SOFTNESS beyond them."""
    return _falloff(opening.beyond_corners(u), EDGE_SOFTNESS)


def _pull(center, shift, reach, u, v):
    """Skin around `center` translated by `shift`, fading out at `reach` (backward map)."""
    du, dv = u - (center[0] + shift[0]), v - (center[1] + shift[1])
    weight = _falloff(np.sqrt(du * du + dv * dv), reach)
    return u - shift[0] * weight, v - shift[1] * weight, None


def _pull_step(center: np.ndarray, shift: np.ndarray, reach: float) -> WarpStep:
    u, v = center + shift
    return WarpStep((u - reach, u + reach, v - reach, v + reach),
                    partial(_pull, (float(center[0]), float(center[1])), (float(shift[0]), float(shift[1])),
                            reach))


def _edge_zones(opening: Opening, u, v, upper, lower, upper_shift, lower_shift):
    """Soft masks of the points above the moved upper edge and below the moved lower edge, with each
    point's distance from that edge. Between the edges is the eyeball or the mouth interior.
    `upper`, `lower`: the opening's edges at u, before moving."""
    upper = upper + upper_shift
    lower = np.maximum(lower + lower_shift, upper)
    softness = EDGE_SOFTNESS + CORNER_STRETCH * opening.beyond_corners(u)
    return (_sigmoid((upper - v) / softness), _sigmoid((v - lower) / softness), upper - v, v - lower)


def _blink(eye: Opening, amount: float, upper_band: float, lower_band: float, u, v):
    """The upper lid slides down over the eyeball to meet the rising lower lid; the eyeball stays put."""
    upper, lower = eye.edges(u)
    closing = np.maximum(lower - upper, 0.0) * amount
    down, up = UPPER_LID_SHARE * closing, (1.0 - UPPER_LID_SHARE) * closing
    above, below, from_upper, from_lower = _edge_zones(eye, u, v, upper, lower, down, -up)
    shift = (above * down * (1.0 - _smoothstep(from_upper / (down + upper_band)))
             - below * up * (1.0 - _smoothstep(from_lower / (up + lower_band))))
    return u, v - shift, LASH_LINE_SHADE * _seam(eye, u, above, below)


def _blink_step(eye: Opening, amount: float, eye_distance: float) -> WarpStep:
    upper_band, lower_band = UPPER_LID_BAND * eye_distance, LOWER_LID_BAND * eye_distance
    box = (eye.knots_u[0], eye.knots_u[-1], eye.upper_v.min() - upper_band, eye.lower_v.max() + lower_band)
    return WarpStep(box, partial(_blink, eye, amount, upper_band, lower_band))


def _mouth(layout: FaceLayout, jaw: float, smile: float, u, v):
    """Seal or part the lips and drop the jaw.

    Above the mouth only the upper lip moves. Below it the lower lip and the jaw move (`_jaw_drop`).
    Between the lips the photo's teeth stay where they are and anything past them is painted as the dark
    inside of the mouth."""
    mouth, width = layout.mouth, layout.mouth_width
    upper, lower = mouth.edges(u)
    seal = np.maximum(lower - upper, 0.0) * (1.0 - SMILE_LIP_PARTING * smile)
    upper_seal, lower_seal = UPPER_LIP_SEAL_SHARE * seal, (1.0 - UPPER_LIP_SEAL_SHARE) * seal
    lip_drop = jaw * JAW_DROP * width * mouth.arch(u)
    above, below, from_upper, from_lower = _edge_zones(mouth, u, v, upper, lower, upper_seal,
                                                       lip_drop - lower_seal)
    below = below * _falloff(-from_lower, STRETCH_REACH * width)   # beyond the corners: fade upwards
    lower_shift = (_jaw_drop(layout, jaw, lip_drop, u, v, from_lower)
                   - lower_seal * _falloff(from_lower, LOWER_LIP_REACH * width))
    upper_shift = upper_seal * _falloff(from_upper, UPPER_LIP_REACH * width)
    source_v = v - above * upper_shift - below * lower_shift

    past_teeth = _sigmoid((v - lower + TEETH_MARGIN) / EDGE_SOFTNESS)
    interior = (1.0 - above) * (1.0 - below) * past_teeth * _inside(mouth, u)
    return u, source_v, np.maximum(interior, LIP_LINE_SHADE * _seam(mouth, u, above, below))


def _jaw_drop(layout: FaceLayout, jaw: float, lip_drop, u, v, from_lower):
    """Downward travel below the lips: the lower lip's elliptic arch at the lip edge blends into the
    rigid jaw towards the chin. The dropped jaw line is an edge too: it covers part of the neck, which
    only follows a share of the drop, fading out further down."""
    width = layout.mouth_width
    chin_drop = jaw * JAW_DROP * width * _falloff(np.abs(u - layout.mouth.center_u), JAW_REACH * width)
    drop = lip_drop + (chin_drop - lip_drop) * _smoothstep(from_lower / layout.chin_depth)
    jaw_line, _ = layout.jaw_line.edges(u)
    chin, neck, _, from_jaw = _edge_zones(layout.jaw_line, u, v, jaw_line, jaw_line, chin_drop,
                                          NECK_FOLLOW * chin_drop)
    return drop * chin + NECK_FOLLOW * chin_drop * neck * _falloff(from_jaw, NECK_REACH * width)


def _mouth_step(layout: FaceLayout, jaw: float, smile: float) -> WarpStep:
    """With the jaw closed only the lips move: a much smaller box than the jaw and neck need."""
    mouth, width = layout.mouth, layout.mouth_width
    if jaw > 0.0:
        half_width = JAW_REACH * width
        above = max(UPPER_LIP_REACH, STRETCH_REACH) * width
        bottom = layout.jaw_line.lower_v.max() + (jaw * JAW_DROP + NECK_REACH) * width
    else:
        half_width, above = mouth.half_width, UPPER_LIP_REACH * width
        bottom = mouth.lower_v.max() + LOWER_LIP_REACH * width
    box = (mouth.center_u - half_width, mouth.center_u + half_width, mouth.upper_v.min() - above, bottom)
    return WarpStep(box, partial(_mouth, layout, jaw, smile))


def _feature_pulls(layout: FaceLayout, weights: Mapping[str, float]) -> list[WarpStep]:
    """Brows up; mouth corners in/out and up/down (smile, the neutral pose, an open jaw)."""
    width, eye_distance = layout.mouth_width, layout.eye_distance
    steps = []
    for side in SIDES:
        outward = 1.0 if side == "Left" else -1.0      # u grows towards the subject's left
        inner, outer = layout.brows[side]
        for point, lift in ((inner, weights["browInnerUp"]), (outer, weights[f"browOuterUp{side}"])):
            if lift > 0.0:
                steps.append(_pull_step(point, np.array([0.0, -BROW_LIFT * eye_distance * lift]),
                                        BROW_REACH * eye_distance))
        smile = weights[f"mouthSmile{side}"]
        offset = NEUTRAL_CORNER + (SMILE_CORNER - NEUTRAL_CORNER) * smile + JAW_CORNER * weights["jawOpen"]
        steps.append(_pull_step(layout.corners[side], offset * width * np.array([outward, 1.0]),
                                CORNER_REACH * width))
    return steps


def expression_steps(layout: FaceLayout, weights: Mapping[str, float]) -> list[WarpStep]:
    """The backward warps of one expression, in the order they are applied to output coordinates:
    feature pulls happened last, so they are undone first; lids and lips act on the photo itself."""
    steps = _feature_pulls(layout, weights)
    for side in SIDES:
        if weights[f"eyeBlink{side}"] > 0.0:
            steps.append(_blink_step(layout.eyes[side], weights[f"eyeBlink{side}"], layout.eye_distance))
    smile = (weights["mouthSmileLeft"] + weights["mouthSmileRight"]) / 2
    steps.append(_mouth_step(layout, weights["jawOpen"], smile))
    return steps


# -------------------------------------------------------------------------------------------- rendering
CROP_FACE_HEIGHTS = 2.2     # output frame side, in landmark-box heights: the face fills about half of it
HEAD_ROLL_DEG = 1.5
HEAD_SHIFT = 0.06           # x eye distance
HEAD_PERIODS_S = (6.1, 4.3, 5.3)   # roll, sideways, up-down: incommensurate, so the sway never repeats
STEP_MARGIN = 0.25          # x mouth width: a step's box is padded by the displacement of the steps before it
FIELD_OVERSAMPLING = 2      # expression field samples per source pixel: keeps lid and lip edges crisp


class SampleRenderer:
    """Draws frames of the animated still.

    The expression is a backward displacement field (plus the opacity of SHADE_RGB) sampled on a grid of
    source pixels around the face, computed only inside the boxes its warps reach. The head motion is an
    affine map of output pixels to source pixels; a frame is the affine warp of the photo, with the face
    region re-sampled through affine + field."""

    def __init__(self, image: np.ndarray, landmarks: np.ndarray, size: int = 512):
        self.image = np.ascontiguousarray(image)
        self.layout = FaceLayout.from_landmarks(landmarks)
        self.size = size
        u_min, u_max, v_min, v_max = self.layout.bounds
        self.crop_center = np.array(self.layout.frame.to_image((u_min + u_max) / 2, (v_min + v_max) / 2))
        self.scale = size / (CROP_FACE_HEIGHTS * (v_max - v_min))   # output px per source px
        ys, xs = np.mgrid[0:size, 0:size].astype(np.float32)
        self.output_grid = (xs, ys)

    @classmethod
    def from_astronaut(cls, size: int = 512, model_path: Path | None = None) -> SampleRenderer:
        """The renderer for scikit-image's public-domain astronaut photo (landmarked by MediaPipe)."""
        from skimage import data

        image = data.astronaut()
        return cls(image, locate_landmarks(image, model_path), size)

    def head_motion(self, t: float) -> np.ndarray:
        """2x3 affine from output pixels to source pixels at time t: the crop, a slow roll and sway."""
        roll_period, sway_period, bob_period = HEAD_PERIODS_S
        angle = math.radians(HEAD_ROLL_DEG) * math.sin(2 * math.pi * t / roll_period)
        shift = HEAD_SHIFT * self.layout.eye_distance * np.array(
            [math.sin(2 * math.pi * t / sway_period), math.sin(2 * math.pi * t / bob_period + 1.0)])
        cos, sin = math.cos(angle), math.sin(angle)
        matrix = np.array([[cos, -sin], [sin, cos]]) / self.scale
        offset = self.crop_center + shift - matrix @ np.full(2, self.size / 2)
        return np.hstack([matrix, offset[:, None]])

    def _source_box(self, box) -> tuple[int, int, int, int]:
        """Field-grid bounds (x0, x1, y0, y1) of a face-frame box, padded and clipped to the photo."""
        u0, u1, v0, v1 = box
        margin = STEP_MARGIN * self.layout.mouth_width
        us = np.array([u0 - margin, u1 + margin, u0 - margin, u1 + margin])
        vs = np.array([v0 - margin, v0 - margin, v1 + margin, v1 + margin])
        xs, ys = self.layout.frame.to_image(us, vs)
        height, width = self.image.shape[:2]
        x0, x1 = (np.clip([xs.min(), xs.max()], 0, width) * FIELD_OVERSAMPLING).astype(int)
        y0, y1 = (np.clip([ys.min(), ys.max()], 0, height) * FIELD_OVERSAMPLING).astype(int)
        return x0, x1 + 1, y0, y1 + 1

    def expression_field(self, weights: Mapping[str, float]) -> tuple[np.ndarray, np.ndarray]:
        """(field, origin): field[i, j] = (dx, dy, shade opacity) at source point origin + (j, i) /
        FIELD_OVERSAMPLING; the colour shown there is read from that point + (dx, dy)."""
        steps = [(step, self._source_box(step.box)) for step in expression_steps(self.layout, weights)]
        x0, x1 = min(box[0] for _, box in steps), max(box[1] for _, box in steps)
        y0, y1 = min(box[2] for _, box in steps), max(box[3] for _, box in steps)
        ys, xs = np.mgrid[y0:y1, x0:x1].astype(np.float32) / FIELD_OVERSAMPLING
        u, v = self.layout.frame.to_face(xs, ys)
        shade = np.zeros_like(u)
        for step, (bx0, bx1, by0, by1) in steps:
            local = (slice(by0 - y0, by1 - y0), slice(bx0 - x0, bx1 - x0))
            u[local], v[local], opacity = step.apply(u[local], v[local])
            if opacity is not None:
                shade[local] = np.maximum(shade[local], opacity)
        source_x, source_y = self.layout.frame.to_image(u, v)
        field = np.dstack([source_x - xs, source_y - ys, shade]).astype(np.float32)
        return field, np.array([x0, y0]) / FIELD_OVERSAMPLING

    def render(self, weights: Mapping[str, float], t: float = 0.0) -> np.ndarray:
        """An RGB uint8 (size, size, 3) frame showing `weights` (CHANNELS; missing ones are 0) at time t."""
        weights = {name: float(weights.get(name, 0.0)) for name in CHANNELS}
        to_source = self.head_motion(t)
        frame = cv2.warpAffine(self.image, to_source, (self.size, self.size),
                               flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REFLECT)
        field, origin = self.expression_field(weights)
        ox0, ox1, oy0, oy1 = self._output_bounds(field, origin, to_source)
        if ox1 <= ox0 or oy1 <= oy0:
            return frame
        # Output pixel (x, y) of the region -> field index: k * (to_source(x + ox0, y + oy0) - origin).
        to_field = to_source.copy()
        to_field[:, 2] += to_source[:, :2] @ (ox0, oy0) - origin
        to_field *= FIELD_OVERSAMPLING
        region = cv2.warpAffine(field, to_field, (ox1 - ox0, oy1 - oy0),
                                flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_CONSTANT)
        xs, ys = (grid[oy0:oy1, ox0:ox1] for grid in self.output_grid)
        map_x, map_y = _affine(to_source, xs, ys)
        patch = cv2.remap(self.image, map_x + region[..., 0], map_y + region[..., 1], cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REFLECT)
        alpha = region[..., 2:]
        frame[oy0:oy1, ox0:ox1] = np.rint(patch + (SHADE_RGB - patch) * alpha).astype(np.uint8)
        return frame

    def _output_bounds(self, field: np.ndarray, origin: np.ndarray, to_source: np.ndarray):
        """Output-pixel bounds (x0, x1, y0, y1) of the field's area, clipped to the frame."""
        height, width = field.shape[:2]
        corners = origin + np.array([[0, 0], [width, 0], [0, height], [width, height]]) / FIELD_OVERSAMPLING
        out = np.stack(_affine(cv2.invertAffineTransform(to_source), corners[:, 0], corners[:, 1]), axis=1)
        x0, y0 = np.clip(np.floor(out.min(axis=0)).astype(int), 0, self.size)
        x1, y1 = np.clip(np.ceil(out.max(axis=0)).astype(int), 0, self.size)
        return x0, x1, y0, y1


def _affine(matrix: np.ndarray, x, y):
    """Apply a 2x3 affine to coordinate arrays (Python-float coefficients keep float32 arrays float32)."""
    (a, b, c), (d, e, f) = matrix.tolist()
    return a * x + b * y + c, d * x + e * y + f


# ------------------------------------------------------------------------------------------------ video
ENCODER_OPTIONS = {"crf": "18", "preset": "veryfast"}


def make_sample_clip(path: str | Path, script: SampleScript | None = None, fps: float = 30.0,
                     size: int = 512, model_path: Path | None = None) -> SampleScript:
    """Write the animated astronaut as a size x size H.264 MP4 (yuv420p) at `fps`, streaming frames to
    the encoder. Returns the script used: its weights_at(t) is the ground truth for the frame at time t.
    `model_path`: the Face Landmarker bundle used to find the face on the still (None: resolve it)."""
    if size < 64 or size % 2:
        raise ValueError(f"size must be an even number of pixels >= 64, got {size}")
    import av

    script = script or default_script()
    renderer = SampleRenderer.from_astronaut(size, model_path)
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
