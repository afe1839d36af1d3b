"""Audio/video mouth fusion measured: does `run --audio` help the mouth where the picture fails, and never hurt?

    .venv/bin/python bench/lip_fusion.py [--truth script|engine] [--sentences 3] [--degradations clean ...]
                                         [--real d11 d6] [--no-rendered] [--no-real] [--cache DIR]
                                         [--shared-data DIR]

Part 1, rendered speech with truth. Festival (Debian `festival` + `festvox-us-slt-hts`) speaks the first
--sentences of bench/lipsync.py's measured sentences; its segment file gives every phone's time. The truth
mouth must be independent of both sides being judged, so by default (`--truth script`) it is an
articulatory script written here from phonetics: per phone, targets of jaw opening (by vowel height),
lip rounding (back rounded vowels, W, R, SH), lip spread (front vowels, Y), lip closure with press (P/B/M,
held over the phone) and lower-lip bite (F/V); lip-free consonants borrow the lips of the next vowel
(anticipation over 0.24 s) or the last and keep part of their vowels' jaw; silence rests. Targets are
joined by cosine easing and lightly smoothed, then mapped onto the ARKit mouth channels (jawOpen,
mouthClose, pucker/funnel, roll, press, stretch, smile, upperUp, lowerDown). Per sentence a speaker is
drawn (jaw, rounding and spread gains, left/right asymmetry), per vowel a stress gain, and every target
lands 10-40 ms off its phone's timing: a real mouth is not the phone string, and the audio path must not
be scored against its own tables. Nothing in it reads engine/audio/data/visemes.json, the engine's
coarticulation or loudness, or the video. `--truth engine` is the first truth, kept for the record:
the phones through the engine's own phone -> ARKit path (engine.audio.coarticulation `animate`, jaw
scaled by the engine's loudness track of the same audio); on it the audio-alone column is a
self-consistency bound (its only error is the aligner's timing), biased to win. The ICT head
(../shared/data/ict-facekit) is rendered at the truth's ARKit weights (engine_dev TruthRenderer over EGL,
512x512, 25 fps, light head motion) and the video is degraded as real footage fails:
  clean       as rendered
  occluded    a flat patch over the mouth for 1 s stretches (0.4-1.4 s and 2.0-3.0 s; the box from the clean
              take's lip landmarks)
  motion_blur a 19 px (at 512 px) linear blur kernel at 30 degrees (camera shake)
  dim         bench/real_footage.py `dim`: a quarter of the light plus sensor noise
  gray_ir     bench/real_footage.py `gray_ir`: infrared-like grayscale
  turned_60   the head rendered turned 60 degrees (yaw), plus the same light motion
  dropped     bursts of dropped frames: 6 of every 15 frames missing (the timestamps of the rest kept)
Each video goes through the engine's whole `run` (in process, engine.cli.main, `--fps-out 25` so that every
take sits on the truth's frame grid): video alone; fused = `--audio A --transcript T` (default
--lip-correction auto); and the audio alone = `lipsync --audio A --transcript T --fps 25`. On the clean
video also the loudness-only paths: `--audio A --language zh` without a transcript (the energy/loudness
track) and, for information, `--audio A` without a transcript (English: words recognised, not loudness).
Scores: mean absolute error against the rendered truth over the ARKit mouth group (engine/audio visemes'
arkit mouth mask: jaw*, mouth*; tongueOut left out, the head cannot show it), the same for jawOpen alone,
and over the face board's mouth attributes against the truth ARKit retargeted by the engine (retarget(truth,
"mh4")). The face-board figures favour the video path: its face board is exactly that retarget of its
ARKit, while the audio path's comes from its own viseme poses (which differ from the retarget of its ARKit
by a mouth MAE of ~0.02); with `--truth engine` they are also given against the truth visemes' own
face-board poses, which favour the audio. The ARKit mouth group is the measure.

Part 2, real footage without truth. Every clip in ../shared/data/video/faces with a sound track in which the
engine finds speech, run video alone and fused with its own sound track (`--lip-correction auto`, no
transcript: words recognised; and `--language zh`: loudness only). Agreement with the visible lip geometry of
each take's own landmarks (bench/real_footage.py `geometry`): signed correlation of the inner-lip gap with
jawOpen (+), with mouthClose (-) and with the face board's lipsTogether controls (-), and closure timing: F1
of lip closures (runs of frames where the gap is in the clip's lowest 15%) matched by the take's closures
(lipsTogether mean >= the engine's closed-class threshold or jawOpen - mouthClose <= 0.02) within 80 ms.

Takes are cached under the cache folder (~/.cache/faceretarget/lip_fusion) by their command, inputs and the
engine's source (a changed engine makes new takes), so re-running the tables is quick; the rendered
videos are cached per truth. A run without a cache (3 sentences, 7 degradations, the real clips) took
3-4 minutes on the shared 2-core machine (194 s for `--truth script` at a load average of 6; then 125 s for
`--truth engine` with the real clips' takes cached).
"""
from __future__ import annotations

import argparse
import contextlib
import datetime
import functools
import hashlib
import io
import json
import os
import platform
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import numpy as np

REPO = Path(__file__).resolve().parents[1]
for _path in (REPO, REPO / "bench"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

import real_footage as rf  # noqa: E402  (bench/real_footage.py, beside this file)
from engine.audio.coarticulation import PhoneSpan, animate  # noqa: E402
from engine.audio.energy import loudness_track  # noqa: E402
from engine.audio.io import load_audio  # noqa: E402
from engine.audio.visemes import arkit_mouth_mask, closure_attributes, closure_threshold  # noqa: E402
from engine.audio.visemes import mouth_attribute_mask, normalize_phone, viseme_table  # noqa: E402
from engine.export.livelink import read_livelink_csv  # noqa: E402
from engine.export.take import read_curves_csv  # noqa: E402
from engine.rig.arkit import ARKIT_INDEX, ARKIT_NAMES  # noqa: E402
from engine.rig.retarget import retarget  # noqa: E402

RIG = "mh4"
FPS = 25.0
SIZE = 512
DEGRADATIONS = ("clean", "occluded", "motion_blur", "dim", "gray_ir", "turned_60", "dropped")
RECIPE_VERSION = 1                 # bump when the rendering, the truth or a degradation changes
OCCLUDED_S = ((0.4, 1.4), (2.0, 3.0))
MOTION_BLUR_PX_AT_512 = 19
MOTION_BLUR_DEG = 30.0
TURNED_YAW_DEG = 60.0
DROP_EVERY, DROP_RUN = 15, 6       # of every 15 frames, frames 5..10 are missing
LOUDNESS_MARGIN = 0.05             # loudness-only fused mouth within this MAD of the video's
CLOSED_GAP_SHARE = 0.15            # real clips: the lowest 15% of the lip gap counts as closed
CLOSURE_TOLERANCE_S = 0.08
MOUTH_CHANNELS = [n for n, m in zip(ARKIT_NAMES, arkit_mouth_mask()) if m and n != "tongueOut"]


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def default_cache() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "faceretarget" / "lip_fusion"


# ---------------------------------------------------------------------------------------------- truth

TRUTHS = ("script", "engine")
SCRIPT_VERSION = 1                 # bump when the articulatory script changes (new videos, new takes)

# The articulatory script (--truth script) is written from textbook phonetics, not from the engine's
# engine/audio/data/visemes.json nor from anything the video path sees, so that neither the audio column nor
# the video column is scored against its own output. Features, each 0..1: jaw opening, lip rounding, lip
# spread, lip closure, lip press and lower-lip bite.
FEATURES = ("jaw", "round", "spread", "close", "press", "bite")
REST = dict.fromkeys(FEATURES, 0.0)

# Vowels: (jaw, round, spread) targets. The jaw follows vowel height (close ~0.1, mid ~0.3, open ~0.5), back
# vowels are rounded, front vowels spread; a diphthong moves from its onset target to its offset target.
SCRIPT_VOWELS = {
    "IY": [(0.10, 0.0, 0.55)], "IH": [(0.16, 0.0, 0.35)], "EH": [(0.30, 0.0, 0.25)], "AE": [(0.44, 0.0, 0.30)],
    "AA": [(0.52, 0.0, 0.0)], "AH": [(0.32, 0.0, 0.05)], "AO": [(0.42, 0.45, 0.0)], "UH": [(0.16, 0.45, 0.0)],
    "UW": [(0.10, 0.85, 0.0)], "ER": [(0.18, 0.30, 0.0)],
    "EY": [(0.26, 0.0, 0.30), (0.12, 0.0, 0.45)], "OW": [(0.32, 0.35, 0.0), (0.16, 0.70, 0.0)],
    "AY": [(0.50, 0.0, 0.0), (0.14, 0.0, 0.40)], "AW": [(0.50, 0.0, 0.0), (0.16, 0.60, 0.0)],
    "OY": [(0.36, 0.50, 0.0), (0.14, 0.0, 0.40)],
}


class Consonant(NamedTuple):
    jaw: float | None      # None (HH): no gesture of its own, the mouth is already on its way to the vowel
    round: float | None    # None: the lips are free and take the shape of the vowels around (coarticulation)
    spread: float | None
    lips: str = ""         # "close" (bilabial seal), "bite" (labiodental: lower lip to the upper teeth) or ""
    press: float = 0.0     # how hard sealed lips press (a plosive's build-up more than a nasal's)


SCRIPT_CONSONANTS = {
    "P": Consonant(0.05, 0.0, 0.0, "close", 0.35), "B": Consonant(0.05, 0.0, 0.0, "close", 0.30),
    "M": Consonant(0.04, 0.0, 0.0, "close", 0.15),
    "F": Consonant(0.07, 0.0, 0.0, "bite"), "V": Consonant(0.07, 0.0, 0.0, "bite"),
    "W": Consonant(0.08, 0.90, 0.0), "Y": Consonant(0.08, 0.0, 0.40), "R": Consonant(0.12, 0.35, 0.0),
    "SH": Consonant(0.06, 0.35, 0.0), "ZH": Consonant(0.06, 0.35, 0.0), "CH": Consonant(0.06, 0.35, 0.0),
    "JH": Consonant(0.06, 0.35, 0.0), "S": Consonant(0.04, None, 0.15), "Z": Consonant(0.04, None, 0.15),
    "TH": Consonant(0.10, None, None), "DH": Consonant(0.10, None, None), "T": Consonant(0.10, None, None),
    "D": Consonant(0.10, None, None), "N": Consonant(0.10, None, None), "L": Consonant(0.12, None, None),
    "K": Consonant(0.14, None, None), "G": Consonant(0.14, None, None), "NG": Consonant(0.14, None, None),
    "HH": Consonant(None, None, None),
}
OTHER_CONSONANT = Consonant(0.10, None, None)
SCRIPT_LOOKAHEAD_S = 0.24          # anticipatory rounding/spread: the next vowel's lips show this early ...
SCRIPT_CARRYOVER = 0.5             # ... and half of the previous vowel's lingers after it
SCRIPT_JAW_CONTEXT = 0.45          # the jaw is slow: a lip-free consonant keeps this share of its vowels' opening
SCRIPT_JAW_CONTEXT_S = 0.25        # ... of the vowels (up to two phones away) whose centres are this close
SCRIPT_JITTER_S = (0.010, 0.040)   # a target moves this far (either way) from its phone's timing: the audio's
                                   # phone times are not the mouth's
SCRIPT_STRESS = (0.75, 1.25)       # per vowel jaw gain: stress and emphasis the phones do not carry
SCRIPT_SMOOTH_S = 0.018            # articulators are not instantaneous: Gaussian smoothing (sd)
SCRIPT_STEP_S = 0.005              # the script's curves are built on this grid, then sampled at the frames


def phone_spans(phones) -> list[PhoneSpan]:
    """The phones sorted, the gaps between them filled with silence."""
    spans, cursor = [], 0.0
    for p in sorted(phones, key=lambda p: p.start):
        if p.start > cursor + 1e-6:
            spans.append(PhoneSpan(cursor, p.start, "SIL"))
        spans.append(PhoneSpan(p.start, p.end, normalize_phone(p.phone)))
        cursor = max(cursor, p.end)
    return spans


def engine_truth(phones, audio, times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(ARKit (N, 52), face board (N, attrs)) truth at `times`: the phones (with the gaps as silence) through
    the engine's phone -> viseme coarticulation, jaw scaled by the engine's loudness of the same audio;
    mouthClose <= jawOpen. The ARKit weights drive the rendered head."""
    loud_t, loud = loudness_track(audio)
    board, arkit = animate(phone_spans(phones), times, viseme_table(RIG), np.interp(times, loud_t, loud))
    arkit[:, ARKIT_INDEX["mouthClose"]] = np.minimum(arkit[:, ARKIT_INDEX["mouthClose"]],
                                                     arkit[:, ARKIT_INDEX["jawOpen"]])
    return arkit, board


Key = tuple[float, dict[str, float]]       # (time, feature targets) of the articulatory script


def _timing_shift(rng: np.random.Generator) -> float:
    """Seconds a target lands early (-) or late (+) of its phone's timing (SCRIPT_JITTER_S)."""
    return rng.choice((-1.0, 1.0)) * rng.uniform(*SCRIPT_JITTER_S)


def _silence_keys(s: PhoneSpan) -> list[Key]:
    """At rest over a silence: held from shortly after its start to shortly before its end when it is long
    enough to settle, touched once in its middle when it is a short pause."""
    if s.end - s.start > 0.3:
        return [(s.start + 0.12, REST), (s.end - 0.12, REST)]
    return [((s.start + s.end) / 2, REST)]


def _vowel_keys(s: PhoneSpan, gain: float, rng: np.random.Generator) -> list[Key]:
    """A vowel's target at its middle; a diphthong's onset at 30% and offset at 80% of it. A short vowel
    moves less with the jitter (its neighbours hem it in)."""
    targets = SCRIPT_VOWELS[s.phone]
    length = s.end - s.start
    at = (0.5,) if len(targets) == 1 else (0.3, 0.8)
    return [(s.start + share * length + _timing_shift(rng) * min(1.0, length / 0.1),
             {**REST, "jaw": jaw * gain, "round": rnd, "spread": spread})
            for (jaw, rnd, spread), share in zip(targets, at)]


def _context_lips(spans: list[PhoneSpan], vowel_at: list[int], i: int, key: int) -> float:
    """Rounding (key 1) or spread (key 2) of a lip-free consonant at i, borrowed from its vowels: the next
    vowel's, fading with its distance over SCRIPT_LOOKAHEAD_S (anticipation), or a share of the previous
    vowel's while it is near (carry-over), whichever is larger."""
    s = spans[i]
    after = next((j for j in vowel_at if j > i), None)
    before = next((j for j in reversed(vowel_at) if j < i), None)
    ahead = behind = 0.0
    if after is not None and spans[after].start - s.start <= SCRIPT_LOOKAHEAD_S:
        fade = 1 - (spans[after].start - s.start) / SCRIPT_LOOKAHEAD_S / 2
        ahead = SCRIPT_VOWELS[spans[after].phone][0][key] * fade
    if before is not None and s.start - spans[before].end < SCRIPT_LOOKAHEAD_S / 2:
        behind = SCRIPT_CARRYOVER * SCRIPT_VOWELS[spans[before].phone][-1][key]
    return max(ahead, behind)


def _context_jaw(spans: list[PhoneSpan], vowel_at: list[int], gain: dict[int, float], i: int) -> float:
    """The jaw opening a lip-free consonant at i keeps from its near vowels (SCRIPT_JAW_CONTEXT*)."""
    centre = lambda k: (spans[k].start + spans[k].end) / 2  # noqa: E731
    near = [SCRIPT_VOWELS[spans[j].phone][0 if j > i else -1][0] * gain[j] for j in vowel_at
            if abs(j - i) <= 2 and abs(centre(j) - centre(i)) < SCRIPT_JAW_CONTEXT_S]
    return SCRIPT_JAW_CONTEXT * float(np.mean(near)) if near else 0.0


def _consonant_keys(spans: list[PhoneSpan], vowel_at: list[int], gain: dict[int, float], i: int,
                    rng: np.random.Generator) -> list[Key]:
    """A consonant's target: its own lip gesture, the rest from its context. Sealed lips (P/B/M) hold over
    the phone, a little inside it (a closure is a stretch of time, not an instant); the others peak at
    its middle."""
    s = spans[i]
    c = SCRIPT_CONSONANTS.get(s.phone, OTHER_CONSONANT)
    if c.jaw is None:
        return []
    jaw = max(c.jaw, _context_jaw(spans, vowel_at, gain, i)) if c.lips == "" else c.jaw
    target = {"jaw": jaw, "close": float(c.lips == "close"), "press": c.press, "bite": float(c.lips == "bite"),
              "round": _context_lips(spans, vowel_at, i, 1) if c.round is None else c.round,
              "spread": _context_lips(spans, vowel_at, i, 2) if c.spread is None else c.spread}
    length = s.end - s.start
    if c.lips == "close":
        edge, move = min(0.015, length / 4), _timing_shift(rng) / 2
        return [(s.start + edge + move, target), (s.end - edge + move, target)]
    return [((s.start + s.end) / 2 + _timing_shift(rng) * min(1.0, length / 0.1), target)]


def script_keys(spans: list[PhoneSpan], rng: np.random.Generator) -> list[Key]:
    """The articulatory script's keyframes, sorted by time (jitter may reorder neighbours)."""
    vowel_at = [i for i, s in enumerate(spans) if s.phone in SCRIPT_VOWELS]
    gain = {i: rng.uniform(*SCRIPT_STRESS) for i in vowel_at}
    keys: list[Key] = []
    for i, s in enumerate(spans):
        if s.phone == "SIL":
            keys += _silence_keys(s)
        elif s.phone in SCRIPT_VOWELS:
            keys += _vowel_keys(s, gain[i], rng)
        else:
            keys += _consonant_keys(spans, vowel_at, gain, i, rng)
    if spans and spans[-1].phone != "SIL":      # phones given without their closing pause: back to rest
        keys.append((spans[-1].end + 0.12, REST))
    return sorted(keys, key=lambda k: k[0])


def _eased(key_t: np.ndarray, values: np.ndarray, fine: np.ndarray) -> np.ndarray:
    """The targets joined by cosine easing (an articulator starts and stops gently), held before the first
    and after the last, then smoothed (SCRIPT_SMOOTH_S)."""
    seg = np.clip(np.searchsorted(key_t, fine) - 1, 0, len(key_t) - 2)
    u = np.clip((fine - key_t[seg]) / np.maximum(key_t[seg + 1] - key_t[seg], 1e-6), 0.0, 1.0)
    curve = values[seg] + (values[seg + 1] - values[seg]) * (1 - np.cos(np.pi * u)) / 2
    sd = SCRIPT_SMOOTH_S / SCRIPT_STEP_S
    kernel = np.exp(-0.5 * (np.arange(-int(3 * sd), int(3 * sd) + 1) / sd) ** 2)
    return np.convolve(np.pad(curve, len(kernel) // 2, mode="edge"), kernel / kernel.sum(), mode="valid")


def script_features(keys: list[Key], times: np.ndarray) -> dict[str, np.ndarray]:
    """Each feature's curve at `times`."""
    fine = np.arange(0.0, float(times[-1]) + 0.2, SCRIPT_STEP_S)
    key_t = np.array([k[0] for k in keys])
    return {name: np.interp(times, fine, _eased(key_t, np.array([k[1][name] for k in keys]), fine))
            for name in FEATURES}


def script_arkit(feats: dict[str, np.ndarray], speaker: dict[str, float]) -> np.ndarray:
    """The features on the ARKit mouth channels, (N, 52). The mapping follows ARKit's shape definitions:
    rounding protrudes the lips (pucker) when the jaw is nearly shut and funnels them as it opens; sealed
    lips over a jaw opening are mouthClose (<= jawOpen, as ARKit requires, since close <= 1) and roll
    the lips in a little; a bite rolls the lower lip in and lifts the upper; spread stretches and smiles.
    The speaker's left side moves a little more or less than the right."""
    jaw = np.clip(feats["jaw"] * speaker["jaw"], 0.0, 1.0)
    rnd, spread = feats["round"] * speaker["round"], feats["spread"] * speaker["spread"]
    close, bite = feats["close"], feats["bite"]
    arkit = np.zeros((len(jaw), len(ARKIT_NAMES)))

    def put(name: str, value: np.ndarray, sided: bool = False) -> None:
        if not sided:
            arkit[:, ARKIT_INDEX[name]] = value
            return
        arkit[:, ARKIT_INDEX[name + "Left"]] = value * speaker["left"]
        arkit[:, ARKIT_INDEX[name + "Right"]] = value
    put("jawOpen", jaw)
    put("mouthClose", close * jaw)
    put("mouthPucker", rnd * np.maximum(0.9 - jaw, 0.0))
    put("mouthFunnel", rnd * (0.25 + 0.9 * jaw))
    put("mouthRollLower", 0.15 * close + 0.55 * bite)
    put("mouthRollUpper", 0.12 * close)
    put("mouthPress", feats["press"], sided=True)
    put("mouthStretch", 0.6 * spread, sided=True)
    put("mouthSmile", 0.3 * spread, sided=True)
    put("mouthUpperUp", 0.2 * bite, sided=True)
    put("mouthLowerDown", 0.5 * np.maximum(jaw - 0.15, 0.0), sided=True)
    return np.clip(arkit, 0.0, 1.0)


def script_truth(phones, times: np.ndarray, seed: str) -> np.ndarray:
    """ARKit (N, 52) truth at `times` from the articulatory script: a speaker drawn per sentence (jaw gain
    0.6-1.3, rounding 0.7-1.2, spread 0.6-1.2, left side 0.9-1.1), per vowel a stress gain, every target
    10-40 ms early or late. Seeded by `seed` (the sentence): the same sentence, the same face."""
    if len(times) == 0:
        return np.zeros((0, len(ARKIT_NAMES)))
    rng = np.random.default_rng(int(hashlib.sha1(f"script{SCRIPT_VERSION}/{seed}".encode()).hexdigest()[:8], 16))
    speaker = {"jaw": rng.uniform(0.6, 1.3), "round": rng.uniform(0.7, 1.2), "spread": rng.uniform(0.6, 1.2),
               "left": rng.uniform(0.9, 1.1)}
    return script_arkit(script_features(script_keys(phone_spans(phones), rng), times), speaker)


def truth_curves(kind: str, clip: dict, audio, times: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """(ARKit, face board of the truth's visemes or None) of the chosen truth for `clip`."""
    if kind == "engine":
        return engine_truth(clip["truth"], audio, times)
    return script_truth(clip["truth"], times, clip["text"]), None


# ---------------------------------------------------------------------------------------------- video

def motion_blur(image: np.ndarray, rng=None) -> np.ndarray:
    """A straight-line blur (camera shake): MOTION_BLUR_PX_AT_512 long at MOTION_BLUR_DEG."""
    import cv2   # here, not above: OpenCV loads only when videos are written
    length = max(3, int(round(MOTION_BLUR_PX_AT_512 * image.shape[1] / 512)) | 1)
    kernel = np.zeros((length, length), np.float32)
    kernel[length // 2, :] = 1.0
    rot = cv2.getRotationMatrix2D((length / 2 - 0.5, length / 2 - 0.5), MOTION_BLUR_DEG, 1.0)
    kernel = cv2.warpAffine(kernel, rot, (length, length))
    return cv2.filter2D(image, -1, kernel / kernel.sum())


def mouth_boxes(landmarks: np.ndarray, detected: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """(N, 4) pixel boxes x0, y0, x1, y1 around the outer lips (1.5x their extent), gaps interpolated."""
    from engine_dev.render.renderer import LIPS_OUTER   # here, not above: bench-only renderer constant
    pts = np.asarray(landmarks, float)[:, list(LIPS_OUTER), :2] * size
    lo, hi = pts.min(axis=1), pts.max(axis=1)
    centre, half = (lo + hi) / 2, (hi - lo) * 0.75 + 4
    boxes = np.column_stack([centre - half, centre + half])
    index = np.arange(len(boxes))
    if detected.any():
        for k in range(4):
            boxes[:, k] = np.interp(index, index[detected], boxes[detected, k])
    return boxes


def render_sentence(clip: dict, folder: Path, yaw_deg: float, name: str, truth_kind: str) -> tuple[Path, np.ndarray]:
    """Render the ICT head saying `clip` (the `truth_kind` truth) to folder/name.mp4 (25 fps); returns (path,
    frame times)."""
    from engine_dev.render.ict_head import IctHead   # here, not above: only a cache miss renders
    from engine_dev.render.renderer import Camera, Look, TruthRenderer
    from engine_dev.render.sequences import HeadMotion

    audio = load_audio(clip["audio"])
    times = np.arange(int(audio.duration * FPS)) / FPS
    truth = truth_curves(truth_kind, clip, audio, times)[0]
    angles = HeadMotion(6, 4, 2, period_s=5).at(times) + [yaw_deg, 0, 0]
    out = folder / f"{name}.mp4"
    if out.exists():
        return out, times
    head = IctHead.load()
    camera = Camera(SIZE, SIZE)

    def make(tmp: Path) -> None:
        writer = rf._Writer(tmp, SIZE, SIZE, FPS)
        try:
            with TruthRenderer(head, camera) as renderer:
                for i, t in enumerate(times):
                    writer.write(renderer.render(head.vertices(truth[i]), *angles[i], camera=camera,
                                                 look=Look()), float(t))
        finally:
            writer.close()
    return rf._atomic(out, make), times


def write_frames(source: Path, out: Path, degrade, keep=lambda index: True) -> Path:
    """`source` frame by frame through degrade(image, index, time), frames where keep(index) is False left
    out (their timestamps skipped)."""
    from engine.media.video import iter_frames   # here, not above: the decoder loads only on a cache miss

    def make(tmp: Path) -> None:
        writer = None
        try:
            for frame in iter_frames(source):
                if not keep(frame.index):
                    continue
                image = degrade(frame.image, frame.index, frame.time)
                writer = writer or rf._Writer(tmp, image.shape[1], image.shape[0], FPS)
                writer.write(image, frame.time)
        finally:
            if writer is not None:
                writer.close()
    if not out.exists():
        rf._atomic(out, make)
    return out


def degraded_video(kind: str, clip: dict, folder: Path, clean: Path, clean_take: Path, truth_kind: str) -> Path:
    stem = clean.stem
    rng = np.random.default_rng(int(hashlib.sha1(f"{stem}/{kind}".encode()).hexdigest()[:8], 16))
    if kind == "clean":
        return clean
    if kind == "turned_60":
        return render_sentence(clip, folder, TURNED_YAW_DEG, f"{stem}_turned_60", truth_kind)[0]
    out = folder / f"{stem}_{kind}.mp4"
    if kind == "occluded":
        landmarks = np.load(clean_take / "landmarks.npy", mmap_mode="r")
        _, _, detected = read_curves_csv(clean_take / "head_pose.csv")
        boxes = mouth_boxes(landmarks, detected[:, 0] > 0.5, (SIZE, SIZE))

        def patch(image, index, t):
            if not any(a <= t < b for a, b in OCCLUDED_S):
                return image
            x0, y0, x1, y1 = (int(round(v)) for v in boxes[min(index, len(boxes) - 1)])
            image = image.copy()
            image[max(y0, 0):y1, max(x0, 0):x1] = (150, 110, 95)   # a hand-coloured flat patch
            return image
        return write_frames(clean, out, patch)
    if kind == "dropped":
        return write_frames(clean, out, lambda image, i, t: image,
                            keep=lambda i: not 5 <= i % DROP_EVERY < 5 + DROP_RUN)
    degrade = {"motion_blur": motion_blur, "dim": rf.dim, "gray_ir": rf.gray_ir}[kind]
    return write_frames(clean, out, lambda image, i, t: degrade(image, rng))


# ---------------------------------------------------------------------------------------------- engine runs

def engine_take(args: list[str], cache: Path, inputs: list[Path]) -> Path:
    """The take folder of `faceretarget-engine ARGS --out <cached>`; cached by the command and the inputs'
    sha256. The engine runs in this process (engine.cli.main), its output kept out of the tables."""
    from engine.cli import main   # here, not above: MediaPipe and pocketsphinx load only on a cache miss

    key = hashlib.sha1(json.dumps([args, [rf.file_sha256(p, _MEMO) for p in inputs], RECIPE_VERSION,
                                   engine_digest()]).encode())
    out = cache / "takes" / key.hexdigest()[:16]
    if (out / "take.json").exists():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()) as captured:
        code = main([*args, "--out", str(out), "--overwrite", "--progress", "json"])
    if code != 0:
        raise RuntimeError(f"engine {' '.join(args)} failed ({code}): {captured.getvalue()[-800:]}")
    log(f"  engine {args[0]} {' '.join(a for a in args[1:] if a.startswith('--'))} "
        f"{time.perf_counter() - start:.1f}s")
    return out


_MEMO: dict = {}


@functools.lru_cache(maxsize=None)
def engine_digest() -> str:
    """sha1 of the engine's source and data: a changed engine makes new takes."""
    digest = hashlib.sha1()
    for path in sorted((REPO / "engine").rglob("*")):
        if path.is_file() and path.suffix in (".py", ".json", ".csv") and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(REPO)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


# ---------------------------------------------------------------------------------------------- scores

@dataclass
class Score:
    mouth: float            # ARKit mouth-group MAE
    jaw: float              # jawOpen MAE
    board: float            # face-board mouth MAE against the truth ARKit retargeted
    board_visemes: float    # ... against the face board of the truth's visemes (NaN: the script truth has none)
    weight: float = float("nan")   # mean audio weight (fused takes)


def take_curves(take: Path, times: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(ARKit (N, 52), face board (N, attrs), face-board names) of a take at `times` (held at the ends)."""
    t, names, board = read_curves_csv(take / "faceboard.csv")
    arkit = read_livelink_csv(take / "arkit.csv").arkit()     # the same rows as faceboard.csv
    at = lambda values: np.column_stack([np.interp(times, t, v) for v in values.T])  # noqa: E731
    return at(arkit), at(board), names


def score(take: Path, truth: tuple[np.ndarray, np.ndarray | None], times: np.ndarray) -> Score:
    """`take` against truth_curves' (ARKit, face board of the truth's visemes or None) at `times`."""
    truth_arkit, truth_visemes = truth
    arkit, board, names = take_curves(take, times)
    cols = [ARKIT_INDEX[n] for n in MOUTH_CHANNELS]
    jaw = ARKIT_INDEX["jawOpen"]
    truth_board = retarget(truth_arkit, RIG, times).faceboard
    mouth = mouth_attribute_mask(RIG)
    record = json.loads((take / "take.json").read_text())
    weight = (record.get("lipsync") or {}).get("mean_audio_weight", float("nan"))
    board_visemes = (float(np.abs(board[:, mouth] - truth_visemes[:, mouth]).mean()) if truth_visemes is not None
                     else float("nan"))
    return Score(float(np.abs(arkit[:, cols] - truth_arkit[:, cols]).mean()),
                 float(np.abs(arkit[:, jaw] - truth_arkit[:, jaw]).mean()),
                 float(np.abs(board[:, mouth] - truth_board[:, mouth]).mean()), board_visemes, weight)


def mouth_mad(a: Path, b: Path, times: np.ndarray) -> float:
    """Mean absolute difference of two takes' ARKit mouth groups."""
    cols = [ARKIT_INDEX[n] for n in MOUTH_CHANNELS]
    return float(np.abs(take_curves(a, times)[0][:, cols] - take_curves(b, times)[0][:, cols]).mean())


@dataclass
class RenderedResults:
    rows: dict[str, dict[str, list[Score]]] = field(default_factory=dict)   # degradation -> path -> scores
    loudness: list[dict] = field(default_factory=list)


def video_stem(clip: dict, truth_kind: str) -> str:
    """The clean video's name: the engine truth keeps its first name (its cached videos stay valid)."""
    if truth_kind == "engine":
        return f"{clip['name']}_r{RECIPE_VERSION}"
    return f"{clip['name']}_{truth_kind}{SCRIPT_VERSION}_r{RECIPE_VERSION}"


def run_rendered(sentences: int, degradations: list[str], cache: Path, truth_kind: str = "script") -> RenderedResults:
    from lipsync import SENTENCES, festival_set   # here, not above: bench/lipsync.py loads the Rhubarb helpers

    clips = festival_set(cache / "festival", SENTENCES[:sentences])
    if not clips:
        raise SystemExit("festival is needed for the rendered part (apt-get install festival festvox-us-slt-hts)")
    res = RenderedResults()
    videos = cache / "videos"
    videos.mkdir(parents=True, exist_ok=True)
    for clip in clips:
        log(f"{clip['name']}: {clip['text']}")
        text = clip["text"]
        clean, times = render_sentence(clip, videos, 0.0, video_stem(clip, truth_kind), truth_kind)
        audio = load_audio(clip["audio"])
        truth = truth_curves(truth_kind, clip, audio, times)
        fps = ["--fps-out", f"{FPS:g}"]
        clean_take = engine_take(["run", "--video", str(clean), *fps], cache, [clean])
        audio_take = engine_take(["lipsync", "--audio", str(clip["audio"]), "--transcript", text, "--fps", f"{FPS:g}"],
                                 cache, [clip["audio"]])
        audio_score = score(audio_take, truth, times)
        for kind in degradations:
            video = degraded_video(kind, clip, videos, clean, clean_take, truth_kind)
            alone = engine_take(["run", "--video", str(video), *fps], cache, [video])
            fused = engine_take(["run", "--video", str(video), *fps, "--audio", str(clip["audio"]), "--transcript", text],
                                cache, [video, clip["audio"]])
            slot = res.rows.setdefault(kind, {"video": [], "audio": [], "fused": []})
            slot["video"].append(score(alone, truth, times))
            slot["audio"].append(audio_score)
            slot["fused"].append(score(fused, truth, times))
        if "clean" in degradations:
            zh = engine_take(["run", "--video", str(clean), *fps, "--audio", str(clip["audio"]), "--language", "zh"],
                             cache, [clean, clip["audio"]])
            words = engine_take(["run", "--video", str(clean), *fps, "--audio", str(clip["audio"])],
                                cache, [clean, clip["audio"]])
            res.loudness.append({"clip": clip["name"], "zh_mad": mouth_mad(zh, clean_take, times),
                                 "words_mad": mouth_mad(words, clean_take, times),
                                 "video": score(clean_take, truth, times), "zh": score(zh, truth, times),
                                 "words": score(words, truth, times)})
    return res


def _means(slot: dict[str, list[Score]]) -> dict[str, Score]:
    fields = ("mouth", "jaw", "board", "board_visemes", "weight")
    return {p: Score(*(float(np.mean([getattr(s, f) for s in scores])) for f in fields)) for p, scores in slot.items()}


def _board_cell(s: Score) -> str:
    return f"{s.board:.4f} / " + (f"{s.board_visemes:.4f}" if np.isfinite(s.board_visemes) else "-")


def rendered_report(res: RenderedResults, truth_kind: str = "script") -> str:
    lines = [f"### Rendered speech: mouth error against the truth (`--truth {truth_kind}`; MAE, lower is better)\n",
             "ARKit mouth group (27 channels) / jawOpen alone; mean over the sentences. The verdicts compare the "
             "ARKit mouth group.\n",
             "| degradation | video alone | audio alone | fused | fused audio weight (mean) | fused <= video | "
             "fused <= audio |",
             "|---|---|---|---|---:|---|---|"]
    for kind, slot in res.rows.items():
        mean = _means(slot)
        cell = lambda s: f"{s.mouth:.4f} / {s.jaw:.3f}"  # noqa: E731
        v, a, f = mean["video"], mean["audio"], mean["fused"]
        lines.append(f"| {kind} | {cell(v)} | {cell(a)} | {cell(f)} | {f.weight:.2f} | "
                     f"{'yes' if f.mouth <= v.mouth else 'NO'} ({f.mouth - v.mouth:+.4f}) | "
                     f"{'yes' if f.mouth <= a.mouth else 'no'} ({f.mouth - a.mouth:+.4f}) |")
    lines += ["\nFace-board mouth attributes (MAE): against the truth ARKit retargeted by the engine / against the "
              "face board of the truth's visemes (the audio path's own poses; `-`: the script truth has none). The "
              "video path reaches the face board through that same retarget and the audio path through its viseme "
              "poses, so each favours one side; the ARKit columns above are the measure:\n",
              "| degradation | video alone | audio alone | fused |", "|---|---|---|---|"]
    for kind, slot in res.rows.items():
        mean = _means(slot)
        lines.append(f"| {kind} | " + " | ".join(_board_cell(mean[p]) for p in ("video", "audio", "fused")) + " |")
    per = ["\nPer sentence (ARKit mouth-group MAE: video / audio / fused):\n",
           "| degradation | " + " | ".join(f"sentence {i + 1}" for i in range(len(next(iter(res.rows.values()))["video"])))
           + " |", "|---|" + "---|" * len(next(iter(res.rows.values()))["video"])]
    for kind, slot in res.rows.items():
        per.append(f"| {kind} | " + " | ".join(f"{v.mouth:.4f} / {a.mouth:.4f} / {f.mouth:.4f}" for v, a, f in
                                               zip(slot["video"], slot["audio"], slot["fused"])) + " |")
    lines += per
    if res.loudness:
        lines += ["\n### Loudness-only audio on the clean video\n",
                  "MAD = mean absolute difference of the fused take's ARKit mouth group from the video-only take's "
                  f"(target <= {LOUDNESS_MARGIN}); MAE against the truth as above.\n",
                  "| sentence | video MAE | `--language zh` (loudness) MAD | its MAE | within 0.05 | "
                  "`--audio` no transcript (words) MAD | its MAE |",
                  "|---|---:|---:|---:|---|---:|---:|"]
        for row in res.loudness:
            lines.append(f"| {row['clip']} | {row['video'].mouth:.4f} | {row['zh_mad']:.4f} | {row['zh'].mouth:.4f} | "
                         f"{'PASS' if row['zh_mad'] <= LOUDNESS_MARGIN else 'FAIL'} | {row['words_mad']:.4f} | "
                         f"{row['words'].mouth:.4f} |")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------- real footage

def closure_events(closed: np.ndarray, times: np.ndarray) -> list[tuple[float, float]]:
    """(start, end) times of the runs of True in `closed`."""
    edges = np.diff(np.concatenate([[0], closed.astype(int), [0]]))
    return [(float(times[a]), float(times[b - 1])) for a, b in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1))]


def closure_f1(seen: np.ndarray, take: np.ndarray, times: np.ndarray, tolerance: float = CLOSURE_TOLERANCE_S) -> float:
    """F1 of closure events: a seen closure is found when a take closure overlaps it within `tolerance`,
    and the other way round. NaN when neither closes."""
    a, b = closure_events(seen, times), closure_events(take, times)
    if not a and not b:
        return float("nan")
    near = lambda x, ys: any(s - tolerance <= x[1] and x[0] <= e + tolerance for s, e in ys)  # noqa: E731
    recall = np.mean([near(x, b) for x in a]) if a else 0.0
    precision = np.mean([near(x, a) for x in b]) if b else 0.0
    return float(2 * recall * precision / (recall + precision)) if recall + precision else 0.0


def agreement(take: Path) -> dict[str, float]:
    """The take's mouth against its own landmarks' lip gap (see the module docstring)."""
    record = json.loads((take / "take.json").read_text())
    video = record["inputs"]["video"]
    size = (video["width"], video["height"]) if video.get("rotation", 0) % 180 == 0 else (video["height"], video["width"])
    times, names, board = read_curves_csv(take / "faceboard.csv")
    arkit = read_livelink_csv(take / "arkit.csv").arkit()
    _, _, pose = read_curves_csv(take / "head_pose.csv")
    valid = pose[:, 0] > 0.5
    gap = rf.geometry(np.load(take / "landmarks.npy"), size)["lip_gap"]
    together = board[:, [names.index(c) for c in names if "lipsTogether" in c]].mean(axis=1)
    jaw, close = arkit[:, ARKIT_INDEX["jawOpen"]], arkit[:, ARKIT_INDEX["mouthClose"]]
    seen_closed = valid & (gap <= np.quantile(gap[valid], CLOSED_GAP_SHARE))
    cols = [names.index(c) for c in closure_attributes() if c in names]
    take_closed = valid & ((board[:, cols].mean(axis=1) >= closure_threshold()) | (jaw - close <= 0.02))
    r = lambda x: rf.correlation(gap[valid], x[valid])  # noqa: E731
    return {"jaw": r(jaw), "close": -r(close), "together": -r(together),
            "closure_f1": closure_f1(seen_closed, take_closed, times),
            "weight": (record.get("lipsync") or {}).get("mean_audio_weight", float("nan")),
            "method": ((record.get("lipsync") or {}).get("speech") or {}).get("method", "-")}


def run_real(clips: list[str] | None, cache: Path, shared: Path) -> list[dict]:
    found = rf.find_clips(shared)
    rows = []
    for name in clips or sorted(found):
        video = found[name]
        try:
            load_audio(video)
        except Exception as exc:    # no sound track, or a silent one: nothing to fuse
            log(f"{name}: skipped ({exc})")
            continue
        log(f"{name}: {video.name}")
        alone = engine_take(["run", "--video", str(video)], cache, [video])
        row = {"clip": name, "video": agreement(alone)}
        for label, extra in (("fused", []), ("fused_zh", ["--language", "zh"])):
            take = engine_take(["run", "--video", str(video), "--lip-correction", "auto", *extra], cache, [video])
            record = json.loads((take / "take.json").read_text())
            if record.get("lipsync") is None:
                log(f"{name}: no speech found for {label}")
                continue
            row[label] = agreement(take)
        rows.append(row)
    return rows


def real_report(rows: list[dict]) -> str:
    lines = ["### Real clips: agreement with the visible lip geometry (no truth; higher is better)\n",
             "Signed correlations with the inner-lip gap of the take's own landmarks (expected sign folded in) and "
             f"closure-timing F1 (tolerance {CLOSURE_TOLERANCE_S * 1000:.0f} ms); fused = the clip's own sound track, "
             "`--lip-correction auto`.\n",
             "| clip | take | speech path | audio weight | gap ~ jawOpen | gap ~ mouthClose | gap ~ lipsTogether | "
             "closure F1 | not lower than video (all four, 0.01 slack) |",
             "|---|---|---|---:|---:|---:|---:|---:|---|"]
    keys = ("jaw", "close", "together", "closure_f1")
    flat = lambda x: x if np.isfinite(x) else 0.0  # noqa: E731
    silent = [row["clip"] for row in rows if "fused" not in row and "fused_zh" not in row]
    for row in rows:
        if row["clip"] in silent:
            continue
        for label in ("video", "fused", "fused_zh"):
            if label not in row:
                continue
            a = row[label]
            verdict = "-" if label == "video" else (
                "yes" if all(flat(a[k]) >= flat(row["video"][k]) - 0.01 for k in keys) else "NO")
            lines.append(f"| {row['clip']} | {label} | {a['method'] if label != 'video' else '-'} | "
                         f"{a['weight'] if label != 'video' else 0:.2f} | "
                         + " | ".join(f"{a[k]:+.3f}" if np.isfinite(a[k]) else "flat" for k in keys) + f" | {verdict} |")
    lines.append("\n(flat: the curve does not move, counted as 0; the correlation of a take that does not close is "
                 "that of a constant)")
    if silent:
        lines.append(f"Sound track without speech the engine finds (nothing fused): {', '.join(silent)}")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--truth", choices=TRUTHS, default="script",
                        help="the rendered mouth: an articulatory script neither path is built from (default), or "
                             "the engine's own viseme path (biased towards the audio)")
    parser.add_argument("--sentences", type=int, default=3, help="how many Festival sentences (default: 3)")
    parser.add_argument("--degradations", nargs="+", choices=DEGRADATIONS, default=list(DEGRADATIONS))
    parser.add_argument("--real", nargs="+", default=None, help="real clips (d11 d6 ...; default: all with sound)")
    parser.add_argument("--no-rendered", action="store_true")
    parser.add_argument("--no-real", action="store_true")
    parser.add_argument("--cache", type=Path, default=default_cache())
    parser.add_argument("--shared-data", type=Path, default=None)
    args = parser.parse_args(argv)
    print(f"# Lip fusion yardstick ({datetime.date.today()}, {platform.node()}, {os.cpu_count()} cores, "
          f"{platform.machine()}, Python {platform.python_version()})\n", flush=True)
    start = time.perf_counter()
    if not args.no_rendered:
        results = run_rendered(args.sentences, args.degradations, args.cache, args.truth)
        print(rendered_report(results, args.truth), flush=True)
    if not args.no_real:
        print("\n" + real_report(run_real(args.real, args.cache, rf.shared_data_dir(args.shared_data))), flush=True)
    print(f"\n{time.perf_counter() - start:.0f}s; cache {args.cache}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
