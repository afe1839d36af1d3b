"""Scripts of ARKit weights over time for rendered ground truth: singles, expressions, speech, gaze.

Every script returns (N, 52) weights at `fps`, starting and ending at rest, with rest frames in between
(a real take has them too: the solver's neutral estimate needs them). Weights keep mouthClose <= jawOpen.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.rig.arkit import ARKIT_INDEX, ARKIT_NAMES
from engine_dev.render.ict_head import RENDERED_CHANNELS, clamp_arkit

N = len(ARKIT_NAMES)

GAZE_PAIRS = {   # conjugate eye movements: one direction for both eyes
    "left": ("eyeLookOutLeft", "eyeLookInRight"), "right": ("eyeLookInLeft", "eyeLookOutRight"),
    "up": ("eyeLookUpLeft", "eyeLookUpRight"), "down": ("eyeLookDownLeft", "eyeLookDownRight"),
}


def pose(**weights: float) -> np.ndarray:
    w = np.zeros(N)
    for name, value in weights.items():
        if name.endswith("_LR"):
            base = name[:-3]
            w[ARKIT_INDEX[base + "Left"]] = value
            w[ARKIT_INDEX[base + "Right"]] = value
        else:
            w[ARKIT_INDEX[name]] = value
    return w


def _ease(a: np.ndarray, b: np.ndarray, n: int) -> np.ndarray:
    t = 0.5 - 0.5 * np.cos(np.linspace(0, np.pi, n + 1)[1:])
    return a + t[:, None] * (b - a)


@dataclass
class Builder:
    fps: float = 30.0

    def __post_init__(self) -> None:
        self.frames: list[np.ndarray] = [np.zeros((1, N))]

    @property
    def last(self) -> np.ndarray:
        return self.frames[-1][-1]

    def to(self, target: np.ndarray, seconds: float) -> "Builder":
        self.frames.append(_ease(self.last, np.asarray(target, float), max(1, int(round(seconds * self.fps)))))
        return self

    def hold(self, seconds: float) -> "Builder":
        n = int(round(seconds * self.fps))
        if n:
            self.frames.append(np.repeat(self.last[None], n, axis=0))
        return self

    def build(self) -> np.ndarray:
        return clamp_arkit(np.concatenate(self.frames))


def singles(rng: np.random.Generator, fps: float = 30.0, strengths=(0.5, 1.0)) -> np.ndarray:
    """Every rendered channel alone, ramped up to a strength and back (gaze as conjugate pairs)."""
    b = Builder(fps).hold(0.4)
    names = [n for n in RENDERED_CHANNELS if not n.startswith("eyeLook")]
    order = list(rng.permutation(names)) + list(GAZE_PAIRS)
    for i, name in enumerate(order):
        s = strengths[i % len(strengths)] * rng.uniform(0.85, 1.0)
        if name in GAZE_PAIRS:
            target = pose(**{c: s for c in GAZE_PAIRS[name]})
        elif name == "mouthClose":
            target = pose(jawOpen=s * 0.5, mouthClose=s * 0.5)
        else:
            target = pose(**{name: s})
        b.to(target, 0.14).hold(0.1).to(np.zeros(N), 0.14).hold(0.1)
    return b.hold(0.3).build()


EXPRESSIONS = {
    "smile": dict(mouthSmile_LR=0.8, cheekSquint_LR=0.5, eyeSquint_LR=0.35),
    "big_smile": dict(mouthSmile_LR=1.0, cheekSquint_LR=0.7, eyeSquint_LR=0.5, jawOpen=0.25, mouthUpperUp_LR=0.3),
    "surprise": dict(browInnerUp=0.9, browOuterUp_LR=0.8, eyeWide_LR=0.8, jawOpen=0.45),
    "anger": dict(browDown_LR=0.8, noseSneer_LR=0.4, eyeSquint_LR=0.5, mouthPress_LR=0.5),
    "disgust": dict(noseSneer_LR=0.8, mouthUpperUp_LR=0.5, cheekSquint_LR=0.4, browDown_LR=0.3),
    "scrunch": dict(noseSneer_LR=0.7, eyeSquint_LR=0.7, cheekSquint_LR=0.6, browDown_LR=0.5),
    "sad": dict(browInnerUp=0.8, mouthFrown_LR=0.6, mouthShrugLower=0.4),
    "puff": dict(cheekPuff=0.9),
    "puff_half": dict(cheekPuff=0.5, mouthPucker=0.2),
    "jaw_forward": dict(jawForward=0.8, jawOpen=0.1),
    "jaw_forward_half": dict(jawForward=0.45),
    "jaw_left": dict(jawLeft=0.7, jawOpen=0.15),
    "jaw_right": dict(jawRight=0.7, jawOpen=0.15),
    "mouth_left": dict(mouthLeft=0.8), "mouth_right": dict(mouthRight=0.8),
    "dimple": dict(mouthDimple_LR=0.7, mouthPress_LR=0.3),
    "kiss": dict(mouthPucker=0.9),
    "oo": dict(mouthFunnel=0.8, jawOpen=0.25),
    "lips_in": dict(mouthRollLower=0.8, mouthRollUpper=0.7),
    "roll_lower": dict(mouthRollLower=0.7, mouthShrugLower=0.2),
    "shrug": dict(mouthShrugUpper=0.6, mouthShrugLower=0.7, mouthFrown_LR=0.3),
    "mmm": dict(jawOpen=0.3, mouthClose=0.3, mouthPress_LR=0.4),
    "stretch": dict(mouthStretch_LR=0.7, jawOpen=0.2, mouthLowerDown_LR=0.3),
    "teeth": dict(mouthUpperUp_LR=0.7, mouthLowerDown_LR=0.7, jawOpen=0.1),
    "smirk_left": dict(mouthSmileLeft=0.8, cheekSquintLeft=0.5, eyeSquintLeft=0.3, mouthDimpleLeft=0.3),
    "sneer_right": dict(noseSneerRight=0.8, mouthUpperUpRight=0.5, cheekSquintRight=0.3),
    "wink_left": dict(eyeBlinkLeft=1.0, cheekSquintLeft=0.4),
    "wide_eyes": dict(eyeWide_LR=1.0, browOuterUp_LR=0.3),
    "brows_up": dict(browInnerUp=0.7, browOuterUp_LR=0.9),
    "frown_brows": dict(browDown_LR=1.0, eyeSquint_LR=0.3),
    "worried": dict(browInnerUp=0.9, browOuterUpLeft=0.2, browOuterUpRight=0.2),
    "look_left": dict(eyeLookOutLeft=0.8, eyeLookInRight=0.8), "look_right": dict(eyeLookInLeft=0.8, eyeLookOutRight=0.8),
    "look_up": dict(eyeLookUp_LR=0.8, browOuterUp_LR=0.2), "look_down": dict(eyeLookDown_LR=0.8),
    "look_up_left": dict(eyeLookUp_LR=0.6, eyeLookOutLeft=0.6, eyeLookInRight=0.6),
}


def expressions(rng: np.random.Generator, fps: float = 30.0, share: float = 0.6) -> np.ndarray:
    """Held realistic combinations (a random `share` of EXPRESSIONS) at random strengths, with blinks and
    rest between some of them."""
    b = Builder(fps).hold(0.4)
    names = list(rng.permutation(list(EXPRESSIONS)))[: max(1, int(round(share * len(EXPRESSIONS))))]
    for name in names:
        scale = rng.uniform(0.6, 1.05)
        target = pose(**{k: min(1.0, v * scale) for k, v in EXPRESSIONS[name].items()})
        b.to(target, 0.2).hold(0.25)
        if rng.random() < 0.25:   # a blink during the expression
            blink = target.copy()
            blink[[ARKIT_INDEX["eyeBlinkLeft"], ARKIT_INDEX["eyeBlinkRight"]]] = 1.0
            b.to(blink, 0.07).to(target, 0.1)
        b.to(np.zeros(N), 0.2)
        if rng.random() < 0.6:
            b.hold(0.3)
    return b.hold(0.3).build()


VISEMES = {
    "sil": {}, "PBM": dict(jawOpen=0.12, mouthClose=0.12, mouthPress_LR=0.35),
    "FV": dict(mouthRollLower=0.45, mouthUpperUp_LR=0.25, jawOpen=0.08),
    "AA": dict(jawOpen=0.6, mouthLowerDown_LR=0.25), "AE": dict(jawOpen=0.4, mouthStretch_LR=0.3, mouthUpperUp_LR=0.2),
    "EE": dict(jawOpen=0.15, mouthSmile_LR=0.35, mouthStretch_LR=0.35), "IH": dict(jawOpen=0.25, mouthStretch_LR=0.2),
    "OO": dict(jawOpen=0.2, mouthFunnel=0.55, mouthPucker=0.3), "UW": dict(jawOpen=0.1, mouthPucker=0.75, mouthFunnel=0.2),
    "OW": dict(jawOpen=0.35, mouthFunnel=0.6), "SS": dict(jawOpen=0.05, mouthStretch_LR=0.25, mouthUpperUp_LR=0.15),
    "TH": dict(jawOpen=0.15, mouthLowerDown_LR=0.2), "CH": dict(jawOpen=0.15, mouthFunnel=0.4, mouthShrugUpper=0.2),
    "RR": dict(jawOpen=0.15, mouthPucker=0.35, mouthFunnel=0.2),
}


def speech(rng: np.random.Generator, fps: float = 30.0, seconds: float = 8.0) -> np.ndarray:
    """Speech-like mouth sequences: visemes 90-220 ms apart, pauses, blinks and some brow motion."""
    b = Builder(fps).hold(0.4)
    names = list(VISEMES)
    t = 0.4
    while t < seconds:
        if rng.random() < 0.1:
            dur = rng.uniform(0.3, 0.6)
            b.to(np.zeros(N), 0.12).hold(dur)
            t += 0.12 + dur
            continue
        v = names[rng.integers(1, len(names))]
        scale = rng.uniform(0.7, 1.2)
        target = pose(**{k: min(1.0, x * scale) for k, x in VISEMES[v].items()})
        if rng.random() < 0.2:
            target[ARKIT_INDEX["browInnerUp"]] = rng.uniform(0.2, 0.6)
        if rng.random() < 0.08:
            target[[ARKIT_INDEX["eyeBlinkLeft"], ARKIT_INDEX["eyeBlinkRight"]]] = 1.0
        dur = rng.uniform(0.09, 0.22)
        b.to(target, dur)
        t += dur
    return b.to(np.zeros(N), 0.2).hold(0.4).build()


def rest(rng: np.random.Generator, fps: float = 30.0, seconds: float = 1.6) -> np.ndarray:
    """A resting face, eyes ahead: the population resting model's renders (tools/build_resting_model.py)."""
    return np.zeros((max(1, int(round(seconds * fps))), N))


def _eye_wide(rng):
    w = dict(eyeWide_LR=rng.uniform(0.3, 1.0))
    if rng.random() < 0.3:     # one eye, or the two at different strengths
        side = rng.choice(["Left", "Right"])
        w = {"eyeWide" + side: w["eyeWide_LR"], "eyeWide" + ("Right" if side == "Left" else "Left"): rng.uniform(0, 0.4)}
    if rng.random() < 0.5:     # brows often, but not always, go with it: the network must not read brows as wide eyes
        w.update(browOuterUp_LR=rng.uniform(0, 0.6), browInnerUp=rng.uniform(0, 0.6))
    if rng.random() < 0.3:
        w.update(jawOpen=rng.uniform(0, 0.4))
    if rng.random() < 0.4:
        w.update(_gaze(rng))
    return w


def _gaze(rng):
    """A random conjugate gaze direction (looking up lifts the lids too: the network must tell it from eyeWide)."""
    direction = str(rng.choice(list(GAZE_PAIRS)))
    return {c: rng.uniform(0.3, 1.0) for c in GAZE_PAIRS[direction]}


def _gaze_lids(rng):
    w = _gaze(rng)
    if rng.random() < 0.4:
        w.update(eyeWide_LR=rng.uniform(0.3, 1.0))
    return w


def _jaw_side(rng):
    """Jaw sideways (read as jawForward by a chin-only cue), with or without jawForward."""
    w = {str(rng.choice(["jawLeft", "jawRight"])): rng.uniform(0.3, 0.9), "jawOpen": rng.uniform(0, 0.3)}
    if rng.random() < 0.3:
        w.update(jawForward=rng.uniform(0.3, 1.0))
    return w


def _press(rng):
    """Lips pressed or dimpled with the jaw shut (no mouthClose: that is sealed lips with the jaw open)."""
    w = dict(mouthPress_LR=rng.uniform(0.3, 1.0))
    if rng.random() < 0.5:
        w.update(mouthDimple_LR=rng.uniform(0.2, 0.7))
    if rng.random() < 0.5:
        w.update(browDown_LR=rng.uniform(0.2, 0.8), eyeSquint_LR=rng.uniform(0, 0.5))
    if rng.random() < 0.3:
        jaw = rng.uniform(0.1, 0.4)
        w.update(jawOpen=jaw, mouthClose=jaw)
    return w


def _jaw_forward(rng):
    w = dict(jawForward=rng.uniform(0.25, 1.0), jawOpen=rng.uniform(0, 0.4))
    if rng.random() < 0.3:
        w.update(mouthClose=w["jawOpen"] * rng.uniform(0.3, 1.0))
    if rng.random() < 0.3:
        w.update(mouthShrugLower=rng.uniform(0.2, 0.6))
    if rng.random() < 0.2:
        w.update({str(rng.choice(["jawLeft", "jawRight"])): rng.uniform(0.2, 0.6)})
    return w


def _mouth_close(rng):
    jaw = rng.uniform(0.12, 0.6)
    # sealed lips (mouthClose = jawOpen, as in P/B/M) half the time, partly parted otherwise
    w = dict(jawOpen=jaw, mouthClose=jaw * (1.0 if rng.random() < 0.5 else rng.uniform(0.5, 1.0)))
    if rng.random() < 0.4:
        w.update({str(rng.choice(["mouthPucker", "mouthFunnel", "mouthPress_LR"])): rng.uniform(0.1, 0.5)})
    return w


def _roll(rng):
    kind = rng.integers(3)
    w = {}
    if kind in (0, 2):
        w["mouthRollLower"] = rng.uniform(0.25, 1.0)
    if kind in (1, 2):
        w["mouthRollUpper"] = rng.uniform(0.25, 1.0)
    if rng.random() < 0.3:
        w.update(jawOpen=rng.uniform(0, 0.3))
    if rng.random() < 0.3:
        w.update(mouthShrugLower=rng.uniform(0.1, 0.5), mouthPress_LR=rng.uniform(0, 0.4))
    return w


def _pucker_funnel(rng):
    w = dict(mouthPucker=rng.uniform(0, 1.0), mouthFunnel=rng.uniform(0, 1.0), jawOpen=rng.uniform(0, 0.35))
    w[str(rng.choice(["mouthPucker", "mouthFunnel"]))] *= rng.uniform(0, 0.3)    # mostly one of the two
    return w


def _cheeks_nose(rng):
    kind = rng.integers(4)
    if kind == 0:
        return dict(cheekPuff=rng.uniform(0.3, 1.0), mouthPucker=rng.uniform(0, 0.3))
    if kind == 1:   # cheek squint without a smile, and with one
        return dict(cheekSquint_LR=rng.uniform(0.3, 1.0), mouthSmile_LR=rng.uniform(0, 0.6) * (rng.random() < 0.5))
    if kind == 2:
        return dict(noseSneer_LR=rng.uniform(0.3, 1.0), mouthUpperUp_LR=rng.uniform(0, 0.4) * (rng.random() < 0.5))
    side = rng.choice(["Left", "Right"])
    return {"noseSneer" + side: rng.uniform(0.3, 1.0), "cheekSquint" + side: rng.uniform(0, 0.8)}


WEAK_POSES = (_eye_wide, _jaw_forward, _mouth_close, _roll, _pucker_funnel, _cheeks_nose,
              _gaze_lids, _jaw_side, _press)     # the last three: look-alikes, so that they are not read as weak channels


def weak(rng: np.random.Generator, fps: float = 30.0, seconds: float = 60.0) -> np.ndarray:
    """The channels MediaPipe's scores miss (eyeWide, jawForward, mouthClose, mouthRoll, pucker/funnel,
    cheekPuff/Squint, noseSneer) at random strengths, alone and with the channels real faces use with them
    (and without: brows without wide eyes, squint without smile), and their look-alikes (gaze up lifts the
    lids, a sideways jaw moves the chin, pressed lips look sealed) with and without them, going straight from one pose to the next or
    through rest. Singles and expressions show each of them only a second or two per clip: too few frames
    to learn them from."""
    b = Builder(fps).hold(0.4)
    t = 0.4
    while t < seconds:
        target = pose(**WEAK_POSES[rng.integers(len(WEAK_POSES))](rng))
        ramp, hold = rng.uniform(0.12, 0.3), rng.uniform(0.15, 0.5)
        b.to(target, ramp).hold(hold)
        t += ramp + hold
        if rng.random() < 0.5:
            rest = rng.uniform(0, 0.4)
            b.to(np.zeros(N), 0.15).hold(rest)
            t += 0.15 + rest
    return b.to(np.zeros(N), 0.2).hold(0.4).build()


@dataclass(frozen=True)
class HeadMotion:
    yaw_deg: float = 0.0       # amplitude
    pitch_deg: float = 0.0
    roll_deg: float = 0.0
    period_s: float = 7.0

    def at(self, times: np.ndarray) -> np.ndarray:
        """(N, 3) yaw, pitch, roll in degrees: slow Lissajous motion starting at rest."""
        w = 2 * np.pi / self.period_s
        return np.stack([self.yaw_deg * np.sin(w * times), self.pitch_deg * np.sin(0.73 * w * times + 0.5) * np.minimum(1, times),
                         self.roll_deg * np.sin(0.41 * w * times)], axis=1)


@dataclass(frozen=True)
class HeadPoses:
    """Known head poses held still, for measuring the tracker's head angles where the truth does not move
    (HeadMotion never holds): rest first, then each pose (yaw, pitch, roll in degrees, the renderer's
    convention) reached by an eased move from the one before and held. Past the last pose it stays there."""
    poses: tuple[tuple[float, float, float], ...]
    rest_s: float = 0.8
    move_s: float = 0.32
    hold_s: float = 0.48

    @property
    def duration_s(self) -> float:
        return self.rest_s + len(self.poses) * (self.move_s + self.hold_s)

    def at(self, times: np.ndarray) -> np.ndarray:
        """(N, 3) yaw, pitch, roll in degrees."""
        times = np.asarray(times, float)
        targets = np.vstack([np.zeros(3), np.asarray(self.poses, float)])
        step = self.move_s + self.hold_s
        index = np.clip(np.floor((times - self.rest_s) / step).astype(int), -1, len(self.poses) - 1)
        into = times - self.rest_s - index * step
        eased = 0.5 - 0.5 * np.cos(np.pi * np.clip(into / self.move_s, 0.0, 1.0))
        before, after = targets[np.maximum(index, 0)], targets[index + 1]
        return np.where((index < 0)[:, None], 0.0, before + eased[:, None] * (after - before))

    def held(self, times: np.ndarray, settle_s: float = 0.16) -> np.ndarray:
        """(N,) the pose each time holds still at, `settle_s` after it was reached (0: rest, k: poses[k-1]);
        -1 while moving or settling."""
        times = np.asarray(times, float)
        step = self.move_s + self.hold_s
        index = np.floor((times - self.rest_s) / step).astype(int)
        into = times - self.rest_s - index * step
        out = np.where(into >= self.move_s + settle_s, index + 1, -1)
        out[times < self.rest_s] = 0
        out[index >= len(self.poses)] = -1
        return out
