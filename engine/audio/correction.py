"""Mouth correction of a video take from its speech (`run --audio A [--lip-correction MODE]`).

The audio-derived mouth, jaw, tongue and teeth controls (engine/audio/data/visemes.json: mouth_controls)
are blended into the video's; eyes, brows, cheeks and nose stay exactly as the video solved them. Audio
and video meet by time: audio clock = video clock + audio_offset.

Modes:
  off      the video take unchanged
  blend    the audio's share is `blend_weight` during speech (ramped in and out), 0 elsewhere
  replace  the audio drives the mouth wherever the recording covers the video
  auto     per speech segment, evidence weighed by its reliability: the video's (face found, not turned
           away, tracking confidence) against the audio's (AUDIO_RELIABILITY: a transcript aligned to the
           speech is strong, recognised words or phones weaker, a loudness-only track weakest). Where the
           mouth is not seen the audio replaces it; where it is seen, the jaws' agreement is judged frame by
           frame (over +-0.4 s, so that a mouth hidden for a second of a long sentence counts; a video jaw
           moving less than a quarter as much as the audio's disagrees) and a strong
           audio (a transcript aligned) leads as far as its reliability allows: more where the video's jaw
           disagrees with it (or stays still while it moves), less where they agree. Weaker audio
           (recognised words or phones without a transcript, a loudness-only track) never touches a visible
           mouth: it fills only where the mouth is not seen. Every decision is written to take.json.
The audio's closures win where the audio knows them: where it closes the lips (P/B/M) or bites the lower
lip (F/V), those controls are at least the audio's and the jaw no more open than the audio's (not where
weak audio meets a visible mouth: a recognised guess or loudness does not know a P from an A).
Measured by bench/lip_fusion.py (docs/lipsync.md).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.audio.io import Audio, load_audio, write_wav
from engine.audio.lipsync import NoSpeechFound, Speech, analyse_speech, animate_speech
from engine.audio.take import AUDIO_TAKE_FILES, audio_input_json, write_phone_files
from engine.audio.visemes import arkit_mouth_mask, viseme_table
from engine.config import LIP_CORRECTION_MODES, AudioOptions, RunOptions
from engine.errors import BadInput
from engine.protocol import Reporter
from engine.rig.arkit import ARKIT_INDEX
from engine.rig.faceboard import load_faceboard

RAMP_S = 0.12                     # weights ease in and out over this long
LENGTH_MISMATCH_S = 1.0           # audio and video lengths differing by more than this get a warning


@dataclass
class AutoRules:
    min_visible_share: float = 0.6     # below: the mouth is not seen -> replace
    max_yaw_deg: float = 40.0          # a face turned further than this hides the mouth
    min_confidence: float = 0.5
    disagree_corr: float = 0.2         # jaw correlation below: lean on the audio
    agree_corr: float = 0.5            # jaw correlation above: keep most of the video
    weight_disagree: float = 0.8
    weight_agree: float = 0.35
    weight_between: float = 0.6
    local_window_s: float = 0.4        # jaw agreement is also judged frame by frame over +- this long
    local_moving_std: float = 0.02     # an audio jaw this lively (sd) against a video jaw moving less than
    local_still_ratio: float = 0.25    # ... this share of it (sd): disagreement
    min_override_reliability: float = 0.8   # weaker audio (no transcript) leaves a visible mouth alone,
                                            # closures included; it fills only where the mouth is not seen


# How far each speech path (SpeechSegment.method) may lead a visible mouth: its share of the auto weights.
AUDIO_RELIABILITY = {"align": 1.0, "align-pinyin": 0.8, "words": 0.6, "phones": 0.4, "phones-fallback": 0.4,
                     "energy": 0.0}


@dataclass
class PreparedAudio:
    mode: str
    source: Path
    audio: Audio
    speech: Speech


def correction_mode(options: AudioOptions) -> str:
    mode = options.correction
    if mode not in LIP_CORRECTION_MODES:
        raise BadInput(f"unknown --lip-correction {mode!r}", f"use one of: {', '.join(LIP_CORRECTION_MODES)}")
    return mode


def prepare_audio(options: RunOptions, reporter: Reporter) -> PreparedAudio | None:
    """Decode and time the speech before the video is tracked, so that bad audio fails fast. A given
    --audio that cannot be read is an error; silent audio or audio without speech is a warning (the take
    keeps the video's mouth). Without --audio the video's own sound track is used."""
    mode = correction_mode(options.audio)
    if mode == "off":
        return None
    source = Path(options.audio.audio or options.video)
    try:
        audio = load_audio(source)
        speech = analyse_speech(audio, options.audio, reporter)
    except NoSpeechFound as exc:
        reporter.warning("no_speech", f"{exc.message} ({source.name}): the mouth stays as the video shows it")
        return None
    except BadInput as exc:
        if options.audio.audio is not None and "silent" not in exc.message:
            raise
        reporter.warning("no_audio", f"{exc.message}: the mouth stays as the video shows it")
        return None
    return PreparedAudio(mode, source, audio, speech)


def local_jaw_correlation(audio_jaw: np.ndarray, video_jaw: np.ndarray, half: int,
                          moving_std: float = 0.02, still_ratio: float = 0.25) -> np.ndarray:
    """Per frame, the agreement of the two jaw curves over frames [i - half, i + half]: their correlation;
    0 where the audio's jaw moves (sd > moving_std) while the video's barely does (sd below still_ratio x
    the audio's: a hidden, blurred or frozen mouth, whose last traces correlate but do not show the
    motion); NaN where neither moves enough to say. Window sums come from running totals, so a long take
    costs a few array operations, not a loop over its frames."""
    a, v = np.asarray(audio_jaw, float), np.asarray(video_jaw, float)
    n = len(a)
    lo = np.maximum(np.arange(n) - half, 0)
    hi = np.minimum(np.arange(n) + half + 1, n)
    count = (hi - lo).astype(float)

    def window_mean(x: np.ndarray) -> np.ndarray:
        total = np.concatenate([[0.0], np.cumsum(x)])
        return (total[hi] - total[lo]) / count

    ma, mv = window_mean(a), window_mean(v)
    sa = np.sqrt(np.maximum(window_mean(a * a) - ma * ma, 0.0))
    sv = np.sqrt(np.maximum(window_mean(v * v) - mv * mv, 0.0))
    out = np.full(n, np.nan)
    judged = (sa > 1e-3) & (sv > 1e-3) & (count > 3)
    out[judged] = np.clip((window_mean(a * v) - ma * mv)[judged] / (sa * sv)[judged], -1.0, 1.0)
    out[(sa > moving_std) & (sv < still_ratio * sa)] = 0.0
    return out


def _ramped(mask_weights: np.ndarray, times: np.ndarray) -> np.ndarray:
    """Weights eased over RAMP_S: a running maximum then a moving average in time."""
    if len(times) < 2:
        return mask_weights
    step = float(np.median(np.diff(times))) or 1 / 30
    n = max(1, int(round(RAMP_S / step)))
    padded = np.pad(mask_weights, n, mode="edge")
    grown = np.array([padded[i:i + 2 * n + 1].max() for i in range(len(mask_weights))])
    kernel = np.ones(2 * n + 1) / (2 * n + 1)
    return np.convolve(np.pad(grown, n, mode="edge"), kernel, mode="valid")


def apply_correction(prepared: PreparedAudio, options: RunOptions, solved, curves, folder: Path,
                     reporter: Reporter, confidence: np.ndarray | None = None) -> dict:
    """Blend the audio mouth into `curves` (face board, raw) and `solved.arkit` in place; write phones.csv,
    visemes.csv and audio.wav into `folder`; return the take.json section."""
    audio_options = options.audio
    times = np.asarray(solved.times, float)
    audio_times = times + audio_options.audio_offset
    rig = options.rig
    table = viseme_table(rig)
    board = load_faceboard(rig)
    fb_audio, ak_audio = animate_speech(prepared.speech, audio_times, rig)
    covered = (audio_times >= 0) & (audio_times <= prepared.audio.duration)
    if not covered.any():
        raise BadInput(f"--audio-offset {audio_options.audio_offset:g}: the audio ({prepared.audio.duration:.1f} s) "
                       f"and the video ({float(times[-1]) if len(times) else 0.0:.1f} s) do not overlap at all",
                       "the offset is how many seconds the sound lags the picture; it is usually under a second")
    video_span = float(times[-1] - times[0]) if len(times) > 1 else 0.0
    if abs(prepared.audio.duration - video_span) > LENGTH_MISMATCH_S:
        reporter.warning("audio_length", f"the audio lasts {prepared.audio.duration:.2f}s and the video "
                         f"{video_span:.2f}s: the mouth is corrected only where both exist",
                         audio_s=round(prepared.audio.duration, 3), video_s=round(video_span, 3))
    in_speech = np.zeros(len(times), bool)
    for seg in prepared.speech.segments:
        in_speech |= (audio_times >= seg.start) & (audio_times <= seg.end)

    video_jaw = solved.arkit[:, ARKIT_INDEX["jawOpen"]]
    decisions: list[dict] = []
    weights = np.zeros(len(times))
    no_closures = np.zeros(len(times), bool)   # frames where the audio may not force closures
    if prepared.mode == "replace":
        weights[:] = 1.0
    elif prepared.mode == "blend":
        weights[in_speech] = audio_options.blend_weight
    else:
        rules = AutoRules()
        yaw = np.abs(np.asarray(solved.head_pose)[:, 3])
        conf = confidence if confidence is not None and len(confidence) == len(times) else solved.detected.astype(float)
        for seg in prepared.speech.speech_parts():
            frames = (audio_times >= seg.start) & (audio_times <= seg.end)
            if frames.sum() == 0:
                continue
            visible = float((solved.detected[frames] & (yaw[frames] < rules.max_yaw_deg)).mean())
            mean_conf = float(np.mean(conf[frames]))
            a, v = ak_audio[frames, ARKIT_INDEX["jawOpen"]], video_jaw[frames]
            corr = float(np.corrcoef(a, v)[0, 1]) if frames.sum() > 3 and a.std() > 1e-6 and v.std() > 1e-6 else 0.0
            reliability = AUDIO_RELIABILITY.get(seg.method, 0.5)
            if visible < rules.min_visible_share or mean_conf < rules.min_confidence:
                weight, reason = 1.0, "mouth not visible or tracking unsure: audio replaces the mouth"
                frame_weight = weight
            elif reliability < rules.min_override_reliability:
                # measured on real clips (bench/lip_fusion.py): even a light blend of recognised words or of
                # loudness lowers a visible mouth's agreement with its own lips; the video keeps it
                weight, frame_weight = 0.0, 0.0
                reason = ("loudness-only audio never overrides a visible mouth" if reliability == 0.0 else
                          "recognised speech without a transcript never overrides a visible mouth")
                no_closures[frames] = True
            else:
                # within the segment, frame by frame: the jaws' agreement over a short window (a mouth
                # hidden or blurred for a second of a longer sentence), the segment's where it says nothing
                step = float(np.median(np.diff(times))) if len(times) > 1 else 1 / 30
                local = local_jaw_correlation(a, v, max(1, int(round(rules.local_window_s / step))),
                                              rules.local_moving_std, rules.local_still_ratio)
                local = np.where(np.isfinite(local), local, corr)
                frame_weight = reliability * np.where(
                    local < rules.disagree_corr, rules.weight_disagree,
                    np.where(local >= rules.agree_corr, rules.weight_agree, rules.weight_between))
                weight = round(float(frame_weight.mean()), 4)
                if corr < rules.disagree_corr:
                    reason = "video jaw disagrees with the audio: audio leads as far as it is reliable"
                elif corr >= rules.agree_corr:
                    reason = "video jaw agrees with the audio: video leads, audio adds closures"
                else:
                    reason = "partial agreement: even blend"
                disagreeing = float((local < rules.disagree_corr).mean())
                if disagreeing > 0:
                    reason += f"; the jaws disagree locally on {disagreeing:.0%} of its frames: the audio leads there"
            weights[frames] = np.maximum(weights[frames], frame_weight)
            decisions.append({"start": seg.start, "end": seg.end, "method": seg.method, "weight": weight,
                              "audio_reliability": reliability,
                              "visible_share": round(visible, 3), "confidence": round(mean_conf, 3),
                              "jaw_correlation": round(corr, 3), "decision": reason})
    weights = np.clip(_ramped(weights, times), 0.0, 1.0) * covered

    # face board: mouth attributes only
    index = {n: j for j, n in enumerate(curves.faceboard_names)}
    mouth_cols = [index[n] for n, m in zip(table.faceboard_names, table.mouth_mask) if m and n in index]
    table_cols = [table.faceboard_names.index(curves.faceboard_names[j]) for j in mouth_cols]
    video_fb = curves.faceboard[:, mouth_cols]
    audio_fb = fb_audio[:, table_cols]
    blended = (1 - weights[:, None]) * video_fb + weights[:, None] * audio_fb
    blended = _keep_closures(blended, audio_fb, [table.faceboard_names[c] for c in table_cols],
                             covered & ~no_closures)
    curves.faceboard[:, mouth_cols] = board.clamp(_full(curves.faceboard, mouth_cols, blended))[:, mouth_cols]
    # raw curves driven by the mouth attributes follow the face board
    mouth_attrs = {curves.faceboard_names[j] for j in mouth_cols}
    raw_index = {c: i for i, c in enumerate(curves.raw_names)}
    for name in mouth_attrs:
        attribute = board[name]
        for curve, values in attribute.to_raw(curves.faceboard[:, index[name]]).items():
            if curve in raw_index:
                curves.raw[:, raw_index[curve]] = values
    # ARKit (arkit.csv): the mouth shapes the same way
    ak_mask = arkit_mouth_mask()
    solved.arkit[:, ak_mask] = np.clip((1 - weights[:, None]) * solved.arkit[:, ak_mask]
                                       + weights[:, None] * ak_audio[:, ak_mask], 0.0, 1.0)
    write_phone_files(folder, prepared.speech)
    write_wav(folder / AUDIO_TAKE_FILES["audio"], prepared.audio)
    return {"lip_correction": prepared.mode,
            "audio": audio_input_json(prepared.source, prepared.audio),
            "audio_is_video_track": options.audio.audio is None,
            "audio_offset": audio_options.audio_offset,
            "covered_share": round(float(covered.mean()), 4),
            "mean_audio_weight": round(float(weights.mean()), 4),
            "decisions": decisions,
            "speech": prepared.speech.summary()}


def _full(faceboard: np.ndarray, cols: list[int], values: np.ndarray) -> np.ndarray:
    out = faceboard.copy()
    out[:, cols] = values
    return out


def _keep_closures(blended: np.ndarray, audio: np.ndarray, names: list[str], covered: np.ndarray) -> np.ndarray:
    """Where the audio closes the lips or bites the lower lip, those controls keep at least the audio's
    value and the jaw opens no further than the audio's (plus a little)."""
    out = blended.copy()
    col = {n: i for i, n in enumerate(names)}
    together = [col[n] for n in names if "lipsTogether" in n or "_pressU" in n or "_pressD" in n]
    bite = [col[n] for n in names if "lipBiteD" in n or "lipsTowardsTeethD" in n]
    jaw = [col[n] for n in names if n == "CTRL_C_jaw.ty"]
    for group, gate in ((together, 0.5), (bite, 0.35)):
        if not group:
            continue
        active = (audio[:, group].max(axis=1) >= gate) & covered
        out[np.ix_(active, group)] = np.maximum(out[np.ix_(active, group)], audio[np.ix_(active, group)])
        if jaw:
            out[np.ix_(active, jaw)] = np.minimum(out[np.ix_(active, jaw)], audio[np.ix_(active, jaw)] + 0.05)
    return out
