"""A language-independent mouth track from loudness and spectral shape (no recogniser needed).

Per 10 ms frame: loudness between the recording's noise floor and its speech level drives the jaw;
the share of energy in the first-formant band (open vowels carry much of it) scales how far it opens;
energy high in the spectrum spreads the lips (EE/S), a low spectral centroid in voiced frames rounds them
(OO/O). Pauses fall to the rest pose: the jaw closes in silence.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.audio.io import Audio, frame_rms_db
from engine.audio.visemes import GROUPS, VisemeTable
from engine.rig.arkit import ARKIT_INDEX

HOP_S = 0.01


@dataclass
class EnergyOptions:
    floor_percentile: float = 10.0
    speech_percentile: float = 97.0
    silence_margin_db: float = 6.0    # frames within this of the floor are silence
    jaw_max: float = 0.55
    smoothing_s: float = 0.05         # moving-average length of the tracks


@dataclass
class EnergyTracks:
    times: np.ndarray      # (F,) frame centres, seconds
    loudness: np.ndarray   # (F,) 0..1
    jaw: np.ndarray        # (F,) jaw opening 0..1
    spread: np.ndarray     # (F,) 0..1
    rounding: np.ndarray   # (F,) 0..1
    voiced: np.ndarray     # (F,) bool: loud enough to be speech


def _smooth(x: np.ndarray, frames: int) -> np.ndarray:
    if frames <= 1:
        return x
    kernel = np.ones(frames) / frames
    return np.convolve(np.pad(x, (frames // 2, frames - 1 - frames // 2), mode="edge"), kernel, mode="valid")


def _normalize(x: np.ndarray, mask: np.ndarray, lo_pct: float = 10, hi_pct: float = 90) -> np.ndarray:
    if mask.sum() < 3:
        return np.zeros_like(x)
    lo, hi = np.percentile(x[mask], [lo_pct, hi_pct])
    return np.clip((x - lo) / max(hi - lo, 1e-9), 0.0, 1.0)


def loudness_track(audio: Audio, options: EnergyOptions | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(frame times, loudness 0..1) with 0 at the noise floor and 1 at the speech level."""
    options = options or EnergyOptions()
    db = frame_rms_db(audio.samples, audio.rate, HOP_S)
    floor, speech = np.percentile(db, [options.floor_percentile, options.speech_percentile])
    low = floor + options.silence_margin_db
    loud = np.clip((db - low) / max(speech - low, 1.0), 0.0, 1.0)
    return np.arange(len(db)) * HOP_S, loud


def energy_tracks(audio: Audio, options: EnergyOptions | None = None) -> EnergyTracks:
    options = options or EnergyOptions()
    times, loud = loudness_track(audio, options)
    hop, win, nfft = int(audio.rate * HOP_S), int(audio.rate * 0.025), 512
    padded = np.pad(audio.samples.astype(np.float64), (win // 2, win + nfft))
    starts = np.arange(len(times)) * hop
    frames = padded[starts[:, None] + np.arange(win)[None, :]] * np.hanning(win)
    power = np.abs(np.fft.rfft(frames, nfft, axis=1)) ** 2
    freqs = np.fft.rfftfreq(nfft, 1.0 / audio.rate)

    def band(lo, hi):
        return power[:, (freqs >= lo) & (freqs < hi)].sum(axis=1)

    total = band(150, 4000) + 1e-12
    f1_share = band(450, 1100) / total
    high_share = band(2000, 4000) / total
    centroid = (power[:, (freqs >= 150) & (freqs < 4000)] * freqs[(freqs >= 150) & (freqs < 4000)]).sum(1) / total
    voiced = loud > 0.05
    openness = _normalize(f1_share, voiced)
    spread = _normalize(high_share, voiced) * np.clip(loud * 2, 0, 1)
    rounding = (1.0 - _normalize(centroid, voiced, 5, 60)) * (1 - openness) * np.clip(loud * 2, 0, 1)
    n = max(1, int(round(options.smoothing_s / HOP_S)))
    jaw = options.jaw_max * np.clip(loud, 0, 1) ** 0.8 * (0.35 + 0.65 * openness)
    return EnergyTracks(times, _smooth(loud, n), _smooth(jaw, n), _smooth(spread, n), _smooth(rounding, n), voiced)


def animate_energy(tracks: EnergyTracks, times: np.ndarray, table: VisemeTable) -> tuple[np.ndarray, np.ndarray]:
    """(face board (N, 174), ARKit (N, 52)) at `times` from energy tracks: rest pose plus jaw, spread and
    rounding components taken from the AA, EE and OO visemes."""
    jaw = np.interp(times, tracks.times, tracks.jaw)
    spread = np.interp(times, tracks.times, tracks.spread) * 0.8
    rounding = np.interp(times, tracks.times, tracks.rounding) * 0.8
    rest, aa, ee, oo = (table.index(v) for v in ("rest", "AA", "EE", "OO"))
    lips = table.faceboard_group == GROUPS.index("lips")
    ak_lips = table.arkit_group == GROUPS.index("lips")
    jaw_col = table.faceboard_names.index("CTRL_C_jaw.ty")
    faceboard = np.repeat(table.faceboard[rest][None, :], len(times), axis=0)
    arkit = np.zeros((len(times), table.arkit.shape[1]))
    for weight, v in ((spread, ee), (rounding, oo)):
        faceboard[:, lips] += weight[:, None] * (table.faceboard[v, lips] - table.faceboard[rest, lips])
        arkit[:, ak_lips] += weight[:, None] * table.arkit[v, ak_lips]
    aa_jaw = table.faceboard[aa, jaw_col]
    faceboard[:, lips] += (jaw / aa_jaw)[:, None] * 0.5 * (table.faceboard[aa, lips] - table.faceboard[rest, lips])
    faceboard[:, jaw_col] = jaw

    arkit[:, ARKIT_INDEX["jawOpen"]] = jaw
    return faceboard, np.clip(arkit, 0.0, 1.0)
