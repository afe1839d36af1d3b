"""Coarticulation: viseme targets blended over time with Cohen-Massaro dominance functions.

Every phone i has a target pose T_i and, per control group g (lips, jaw, tongue), a dominance

    D_ig(t) = alpha_ig * exp(-theta_ig * d_i(t))

where d_i(t) is the distance from t to the phone's core (its middle `core_share`). A control of group g
is the dominance-weighted mean of the targets, so neighbours pull on each other (anticipatory rounding
shows before an OO, a T takes its lips from the vowels around it) while strong, fast-decaying groups
(lips of P/B/M and F/V) hold their own shape. Closures are never blended away: over every P/B/M
the lips-together controls are set to the viseme's full target and the jaw held no higher than it, and in
F/V the lip bite keeps at least `bite_hold` of its target. The jaw amplitude finally follows loudness.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.audio.visemes import GROUPS, VisemeTable, phone_viseme


@dataclass
class CoarticulationOptions:
    core_share: float = 0.7        # middle share of a phone where its dominance is at full strength (0.6-0.8 measured)
    window_s: float = 0.35         # a phone influences frames at most this far from its edges
    min_core_s: float = 0.02       # closures keep their shape for at least this long
    bite_hold: float = 0.9
    hold_edge_s: float = 0.0       # closures hold over the whole phone but this far from its ends (0: the
                                   # whole aligned span, where the lips are shut; 0.02 measured worse)
    jaw_gain_min: float = 0.75     # jaw amplitude at the quietest speech ...
    jaw_gain_max: float = 1.1      # ... and at the loudest


@dataclass
class PhoneSpan:
    start: float
    end: float
    phone: str


def animate(phones: list[PhoneSpan], times: np.ndarray, table: VisemeTable,
            loudness: np.ndarray | None = None, options: CoarticulationOptions | None = None
            ) -> tuple[np.ndarray, np.ndarray]:
    """(face board (N, 174), ARKit (N, 52)) at `times` for a phone sequence.

    `loudness` (N,) in 0..1 scales the jaw; frames outside every phone get the rest pose.
    """
    options = options or CoarticulationOptions()
    times = np.asarray(times, float)
    n = len(times)
    rest = table.index("rest")
    n_groups = len(GROUPS)
    # weighted sums per group: numerator (N, attrs) and denominator (N, groups)
    fb_num = np.zeros((n, table.faceboard.shape[1]))
    ak_num = np.zeros((n, table.arkit.shape[1]))
    den = np.zeros((n, n_groups))
    # a weak rest dominance everywhere keeps silence at rest and the sums well defined
    base = 1e-3
    den += base
    fb_num += base * table.faceboard[rest]
    ak_num += base * table.arkit[rest]
    fb_cols = [np.flatnonzero(table.faceboard_group == g) for g in range(n_groups)]
    ak_cols = [np.flatnonzero(table.arkit_group == g) for g in range(n_groups)]
    closures: list[tuple[int, int, int]] = []
    for span in phones:
        v = table.index(phone_viseme(span.phone))
        mid, half = (span.start + span.end) / 2, max(span.end - span.start, 1e-3) / 2
        core = max(half * options.core_share, options.min_core_s / 2)
        a = np.searchsorted(times, span.start - options.window_s)
        b = np.searchsorted(times, span.end + options.window_s)
        if b <= a:
            continue
        distance = np.maximum(np.abs(times[a:b] - mid) - core, 0.0)
        for g in range(n_groups):
            d = table.alpha[v, g] * np.exp(-table.theta[v, g] * distance)
            den[a:b, g] += d
            fb_num[a:b, fb_cols[g]] += d[:, None] * table.faceboard[v, fb_cols[g]]
            ak_num[a:b, ak_cols[g]] += d[:, None] * table.arkit[v, ak_cols[g]]
        if table.names[v] in ("PBM", "FV"):
            hold = max(core, half - options.hold_edge_s)
            ca = np.searchsorted(times, mid - hold)
            cb = max(np.searchsorted(times, mid + hold, side="right"), ca + 1)
            if ca >= n:
                continue
            if ca == cb - 1 and ca + 1 < n and abs(times[ca] - mid) > abs(times[ca + 1] - mid):
                ca, cb = ca + 1, ca + 2   # the nearest frame to the middle holds the closure
            closures.append((v, ca, min(cb, n)))
    faceboard = table.faceboard[rest][None, :].repeat(n, axis=0)
    arkit = np.zeros((n, table.arkit.shape[1]))
    for g in range(n_groups):
        faceboard[:, fb_cols[g]] = fb_num[:, fb_cols[g]] / den[:, g:g + 1]
        arkit[:, ak_cols[g]] = ak_num[:, ak_cols[g]] / den[:, g:g + 1]
    if loudness is not None:
        gain = options.jaw_gain_min + (options.jaw_gain_max - options.jaw_gain_min) * np.clip(loudness, 0, 1)
        jaw_fb = [j for j, name in enumerate(table.faceboard_names) if name == "CTRL_C_jaw.ty"]
        faceboard[:, jaw_fb] *= gain[:, None]
        jaw_ak = [k for k, g in enumerate(table.arkit_group) if g == GROUPS.index("jaw")]
        arkit[:, jaw_ak] *= gain[:, None]
    _hold_closures(faceboard, arkit, closures, table, options)
    return faceboard, np.clip(arkit, 0.0, 1.0)


def _hold_closures(faceboard, arkit, closures, table: VisemeTable, options: CoarticulationOptions) -> None:
    lips = table.faceboard_group == GROUPS.index("lips")
    jaw = table.faceboard_group == GROUPS.index("jaw")
    ak_lips = table.arkit_group == GROUPS.index("lips")
    ak_jaw = table.arkit_group == GROUPS.index("jaw")
    for v, a, b in closures:
        target, ak_target = table.faceboard[v], table.arkit[v]
        if table.names[v] == "PBM":
            faceboard[a:b, lips] = target[lips]
            faceboard[a:b, jaw] = np.minimum(faceboard[a:b, jaw], target[jaw])
            arkit[a:b, ak_lips] = ak_target[ak_lips]
            arkit[a:b, ak_jaw] = np.minimum(arkit[a:b, ak_jaw], ak_target[ak_jaw])
        else:
            active = lips & (target > 0)
            faceboard[a:b, active] = np.maximum(faceboard[a:b, active], options.bite_hold * target[active])
            faceboard[a:b, jaw] = np.minimum(faceboard[a:b, jaw], target[jaw] * 1.5)
            ak_active = ak_lips & (ak_target > 0)
            arkit[a:b, ak_active] = np.maximum(arkit[a:b, ak_active], options.bite_hold * ak_target[ak_active])
