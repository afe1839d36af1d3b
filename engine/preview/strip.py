"""Panel 4: a scrolling strip of a few key curves with a cursor at the current time.

Curves are grouped into lanes (e.g. jaw + lips together, blinks, smiles); the window shows
`seconds` of the take, the cursor fixed at 40 % of the width so more of what comes is visible.
Curve y positions are computed once for the whole take; a frame only slices and draws polylines.
"""
from __future__ import annotations

import cv2
import numpy as np

BG = (22, 24, 30)
LANE_BG = (30, 33, 41)
GRID = (52, 56, 68)
TEXT = (170, 176, 190)
CURSOR = (255, 255, 255)
COLORS = ((255, 170, 60), (90, 200, 255), (255, 110, 160), (130, 230, 120), (200, 150, 255), (240, 230, 100))
FONT = cv2.FONT_HERSHEY_SIMPLEX
CURSOR_AT = 0.4
VALUE_RANGE = (-0.1, 1.05)


class CurveStrip:
    def __init__(self, size: tuple[int, int], times: np.ndarray,
                 lanes: list[list[tuple[str, np.ndarray]]], seconds: float = 6.0):
        self.width, self.height = size
        self.times = np.asarray(times, dtype=float)
        self.seconds = seconds
        self.pps = self.width / seconds                    # pixels per second
        self.cursor_x = int(self.width * CURSOR_AT)
        self.label_w = 0
        n = max(1, len(lanes))
        top_pad = 4
        self.lane_h = (self.height - top_pad - 14) / n
        self.background = np.empty((self.height, self.width, 3), np.uint8)
        self.background[:] = BG
        self.curves: list[tuple[np.ndarray, tuple[int, int, int]]] = []
        color_index = 0
        for k, lane in enumerate(lanes):
            y0 = top_pad + k * self.lane_h
            y1 = y0 + self.lane_h - 3
            cv2.rectangle(self.background, (0, int(y0)), (self.width - 1, int(y1)), LANE_BG, -1)
            lo, hi = VALUE_RANGE
            zero = y1 - (0 - lo) / (hi - lo) * (y1 - y0)
            one = y1 - (1 - lo) / (hi - lo) * (y1 - y0)
            for yy in (zero, one):
                cv2.line(self.background, (0, int(yy)), (self.width - 1, int(yy)), GRID, 1)
            x_text = 6
            for label, values in lane:
                color = COLORS[color_index % len(COLORS)]
                color_index += 1
                v = np.clip(np.nan_to_num(np.asarray(values, dtype=float)), lo, hi)
                ys = y1 - (v - lo) / (hi - lo) * (y1 - y0)
                self.curves.append((np.round(ys * 16).astype(np.int64), color))
                cv2.putText(self.background, label, (x_text, int(y0) + 13), FONT, 0.4, color, 1, cv2.LINE_AA)
                x_text += 10 + cv2.getTextSize(label, FONT, 0.4, 1)[0][0]
        self._time_row = self.height - 4

    def draw(self, out: np.ndarray, t: float) -> None:
        out[:] = self.background
        t0 = t - self.cursor_x / self.pps
        t1 = t0 + self.seconds
        i0 = max(0, int(np.searchsorted(self.times, t0)) - 1)
        i1 = min(len(self.times), int(np.searchsorted(self.times, t1)) + 1)
        xs = np.round((self.times[i0:i1] - t0) * self.pps * 16).astype(np.int64)
        for second in range(max(0, int(np.ceil(t0))), int(t1) + 1):
            x = int(round((second - t0) * self.pps))
            cv2.line(out, (x, 0), (x, self.height - 16), GRID, 1)
            if abs(x - self.cursor_x) > 45:     # leave room for the cursor's own time
                cv2.putText(out, f"{second}s", (x + 2, self._time_row), FONT, 0.35, TEXT, 1, cv2.LINE_AA)
        if i1 - i0 >= 2:
            for ys, color in self.curves:
                pts = np.stack([xs, ys[i0:i1]], axis=1).astype(np.int32)
                cv2.polylines(out, [pts], False, color, 1, cv2.LINE_AA, 4)
        cv2.line(out, (self.cursor_x, 0), (self.cursor_x, self.height - 16), CURSOR, 1)
        label = f"{t:.2f}s"
        (w, h), _ = cv2.getTextSize(label, FONT, 0.4, 1)
        cv2.rectangle(out, (self.cursor_x - w // 2 - 3, self._time_row - h - 3),
                      (self.cursor_x + w // 2 + 3, self.height - 1), BG, -1)
        cv2.putText(out, label, (self.cursor_x - w // 2, self._time_row), FONT, 0.4, CURSOR, 1, cv2.LINE_AA)
