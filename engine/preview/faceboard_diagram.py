"""A MetaHuman face-board diagram drawn by the project: every control of a rig generation with its knob.

There is no official coordinate table of Epic's board, so this is a clean schematic built from the control
names in engine/rig/data/faceboard.json:
- Controls are grouped into horizontal bands by region (brows, eyes, nose, mouth corners, lips, jaw,
  teeth & tongue, neck), top to bottom as on a face.
- In each band the centre column holds the `CTRL_C_*` (and un-sided) controls; the subject's right side
  (`CTRL_R_*`) is drawn on the viewer's left, the subject's left on the right, as on Epic's board, and
  the two sides are mirror images (items are placed outwards from the centre, in the same order).
- A 1D control (one attribute, e.g. `CTRL_L_eye_blink.ty`) is a vertical track: its minimum at the
  bottom, its maximum at the top, a tick at its default value. A 2D widget (`widget_2d`, e.g. `CTRL_C_jaw`
  with tx and ty) is a box: tx left to right, ty bottom to top, a cross at the default. Positive values
  go up / right, as the controls' translate values do in Maya.
- Knobs at their default are grey; displaced knobs are drawn in amber with a bar from the rest point.

The static board is rendered once (`FaceBoardDiagram.background`); `draw(values)` copies it and draws
only the knobs, so a frame costs well under a millisecond.

Finding a control's knob (what the tests do): `diagram.knob_xy(control, values)` returns the knob's pixel
(x, y) inside the diagram for the face-board values (a dict {attr: value} or an array in the rig's
attribute order); `diagram.rest_xy(control)` is its position at the default values, and
`diagram.widgets[control].rect` the widget's box (x0, y0, x1, y1). In a preview frame add the
board panel's origin (`PreviewLayout.board[:2]`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import cv2
import numpy as np

from engine.rig.faceboard import FaceBoard, load_faceboard

BANDS = ("brows", "eyes", "nose", "mouth corners", "lips", "jaw", "teeth & tongue", "neck")
CORNER_WORDS = ("corner", "dimple", "stretch")
BG = (28, 31, 38)
PANEL = (36, 40, 49)
TRACK = (92, 98, 112)
TICK = (140, 146, 160)
TEXT = (170, 176, 190)
KNOB_REST = (150, 155, 168)
KNOB_ON = (255, 176, 40)
BAR_ON = (230, 140, 30)
FONT = cv2.FONT_HERSHEY_SIMPLEX
CAPACITY_SLOTS = 42          # slots across the board (a slider takes 1, a 2D box 3)
BOX_SLOTS = 3


def control_side(control: str) -> str:
    """"L", "R" or "C" (un-sided controls such as CTRL_neck_* or CTRL_lookAtSwitch count as centre)."""
    parts = control.split("_")
    return parts[1] if len(parts) > 2 and parts[1] in ("L", "R", "C") else "C"


def control_body(control: str) -> str:
    """The control's name without CTRL_ and its side: "mouth_cornerPull", "jaw", "neck_throatUpDown"."""
    parts = control.split("_")[1:]
    if parts and parts[0] in ("L", "R", "C") and len(parts) > 1:
        parts = parts[1:]
    return "_".join(parts)


def control_band(control: str) -> str:
    body = control_body(control)
    head = body.split("_")[0]
    if head in ("brow", "ear"):
        return "brows"
    if head.startswith("eye") or head == "lookAtSwitch":
        return "eyes"
    if head == "nose":
        return "nose"
    if head == "mouth":
        rest = body[len("mouth_"):]
        if any(rest.startswith(w) or rest.startswith("sharp" + w.capitalize()) for w in CORNER_WORDS):
            return "mouth corners"
        return "lips"
    if head == "jaw":
        return "jaw"
    if head.startswith("teeth") or head.startswith("tongue"):
        return "teeth & tongue"
    if head.startswith("neck"):
        return "neck"
    return "neck"


@dataclass
class Widget:
    control: str
    is_2d: bool
    rect: tuple[int, int, int, int]              # x0, y0, x1, y1 in diagram pixels
    attrs: dict[str, int] = field(default_factory=dict)   # axis ("tx"/"ty") -> attribute column
    mins: dict[str, float] = field(default_factory=dict)
    maxs: dict[str, float] = field(default_factory=dict)
    defaults: dict[str, float] = field(default_factory=dict)


class FaceBoardDiagram:
    def __init__(self, rig: str = "mh4", size: tuple[int, int] = (480, 720)):
        self.rig = rig
        self.board: FaceBoard = load_faceboard(rig)
        self.width, self.height = int(size[0]), int(size[1])
        self.widgets: dict[str, Widget] = {}
        self._layout()
        self._vectorize()
        self.background = self._draw_static()

    # ------------------------------------------------------------------ layout
    def _items(self):
        """{band: {side: [(control, is_2d)]}} in drawing order."""
        controls: dict[str, list[int]] = {}
        for column, attr in enumerate(self.board.attributes):
            controls.setdefault(attr.control, []).append(column)
        bands: dict[str, dict[str, list[tuple[str, bool]]]] = {b: {"R": [], "C": [], "L": []} for b in BANDS}
        for control, columns in controls.items():
            is_2d = any(self.board.attributes[c].widget_2d for c in columns)
            bands[control_band(control)][control_side(control)].append((control, is_2d))
        for sides in bands.values():
            for side in sides:
                sides[side].sort(key=lambda item: (not item[1], control_body(item[0]).lower()))
        return {b: s for b, s in bands.items() if any(s.values())}, controls

    @staticmethod
    def _rows(items: list[tuple[str, bool]], per_row: int) -> list[list[tuple[str, bool]]]:
        rows: list[list[tuple[str, bool]]] = [[]]
        used = 0
        for item in items:
            width = BOX_SLOTS if item[1] else 1
            if used + width > per_row and rows[-1]:
                rows.append([])
                used = 0
            rows[-1].append(item)
            used += width
        return rows

    def _layout(self) -> None:
        bands, controls = self._items()
        margin = max(6, self.width // 60)
        self.pitch = pitch = (self.width - 2 * margin) / CAPACITY_SLOTS
        plans = []
        for band, sides in bands.items():
            side_slots = sum(BOX_SLOTS if b else 1 for _, b in sides["R"] + sides["L"]) / 2
            center_slots = sum(BOX_SLOTS if b else 1 for _, b in sides["C"])
            for n_rows in range(1, 8):
                per_side = max(1, math.ceil(side_slots / n_rows))
                per_center = max(1, math.ceil(center_slots / n_rows))
                per_side = max(per_side, BOX_SLOTS if any(b for _, b in sides["R"] + sides["L"]) else 1)
                per_center = max(per_center, BOX_SLOTS if any(b for _, b in sides["C"]) else 1)
                grids = {s: self._rows(sides[s], per_side if s != "C" else per_center) for s in sides}
                rows = max(len(g) for g in grids.values())
                width = 2 * (per_side + 1) + (per_center if sides["C"] else 1)
                if rows <= n_rows and width <= CAPACITY_SLOTS:
                    break
            plans.append((band, grids, rows, per_side, per_center if sides["C"] else 1))
        total_rows = sum(p[2] for p in plans)
        self.title_h = title_h = int(self.height * 0.045)
        self.header_h = header_h = max(10, int(self.height * 0.02))
        gap = max(4, int(self.height * 0.008))
        row_h = (self.height - title_h - len(plans) * (header_h + gap) - gap) / total_rows
        self.track_len = track = max(12, int(min(row_h * 0.78, pitch * BOX_SLOTS * 1.4)))
        self.knob_r = max(2, int(round(pitch * 0.36)))
        self.bands: list[tuple[str, int]] = []       # (name, y of its header)
        cx = self.width / 2
        y = title_h
        for band, grids, rows, per_side, per_center in plans:
            self.bands.append((band, int(y)))
            y += header_h
            half_c = per_center * pitch / 2
            for r in range(rows):
                top = y + r * row_h + (row_h - track) / 2
                for side, grid in grids.items():
                    if r >= len(grid):
                        continue
                    offset = 0.0
                    for control, is_2d in grid[r]:
                        slots = BOX_SLOTS if is_2d else 1
                        w = slots * pitch
                        if side == "C":
                            used = sum(BOX_SLOTS if b else 1 for _, b in grid[r]) * pitch
                            x0 = cx - used / 2 + offset
                        elif side == "R":
                            x0 = cx - half_c - pitch - offset - w
                        else:
                            x0 = cx + half_c + pitch + offset
                        offset += w
                        if is_2d:
                            size = min(w - pitch * 0.4, track)
                            bx0 = x0 + (w - size) / 2
                            rect = (int(round(bx0)), int(round(top + (track - size) / 2)),
                                    int(round(bx0 + size)), int(round(top + (track + size) / 2)))
                        else:
                            xm = int(round(x0 + w / 2))
                            rect = (xm, int(round(top)), xm, int(round(top + track)))
                        widget = Widget(control, is_2d, rect)
                        for column in controls[control]:
                            a = self.board.attributes[column]
                            widget.attrs[a.axis] = column
                            widget.mins[a.axis], widget.maxs[a.axis] = a.min, a.max
                            widget.defaults[a.axis] = a.default
                        self.widgets[control] = widget
            y += rows * row_h + gap

    # ------------------------------------------------------------------ drawing
    def _draw_static(self) -> np.ndarray:
        img = np.empty((self.height, self.width, 3), np.uint8)
        img[:] = BG
        scale = max(0.3, self.height / 1800)
        cv2.putText(img, f"MetaHuman face board ({self.rig})", (8, int(self.title_h * 0.62)), FONT, scale * 1.25,
                    TEXT, 1, cv2.LINE_AA)
        for text, x in (("R", 8), ("L", self.width - 18)):
            cv2.putText(img, text, (x, int(self.title_h * 0.95)), FONT, scale, TICK, 1, cv2.LINE_AA)
        band_tops = [y for _, y in self.bands] + [self.height]
        for (name, y), y_next in zip(self.bands, band_tops[1:]):
            cv2.rectangle(img, (3, y + 2), (self.width - 4, y_next - 3), PANEL, -1)
            cv2.putText(img, name, (8, y + self.header_h), FONT, scale, TEXT, 1, cv2.LINE_AA)
        rest_x, rest_y = self._positions(self._defaults)
        for i, w in enumerate(self.widgets.values()):
            x0, y0, x1, y1 = w.rect
            rx, ry = int(round(rest_x[i])), int(round(rest_y[i]))
            if w.is_2d:
                cv2.rectangle(img, (x0, y0), (x1, y1), TRACK, 1, cv2.LINE_AA)
                cv2.line(img, (rx - 3, ry), (rx + 3, ry), TICK, 1)
                cv2.line(img, (rx, ry - 3), (rx, ry + 3), TICK, 1)
            else:
                cv2.line(img, (x0, y0), (x0, y1), TRACK, 1, cv2.LINE_AA)
                for yy in (y0, y1):
                    cv2.line(img, (x0 - 2, yy), (x0 + 2, yy), TRACK, 1)
                cv2.line(img, (x0 - 3, ry), (x0 + 3, ry), TICK, 1)
        return img

    def _vectorize(self) -> None:
        """Per control: x = ax + bx * value[col_x], y = ay + by * value[col_y] (col -1: no attribute)."""
        n = len(self.widgets)
        self._defaults = self.board.defaults.copy()
        self._controls = list(self.widgets)
        self._ax, self._bx, self._ay, self._by = (np.zeros(n) for _ in range(4))
        self._cx = np.full(n, -1)
        self._cy = np.full(n, -1)
        for i, w in enumerate(self.widgets.values()):
            x0, y0, x1, y1 = w.rect
            vert = "ty" if "ty" in w.attrs else "tx"      # a 1D control's value runs along its track
            if w.is_2d and "tx" in w.attrs:
                span = w.maxs["tx"] - w.mins["tx"]
                self._bx[i] = (x1 - x0) / span
                self._ax[i] = x0 - w.mins["tx"] * self._bx[i]
                self._cx[i] = w.attrs["tx"]
            else:
                self._ax[i] = (x0 + x1) / 2
            if vert in w.attrs:
                span = w.maxs[vert] - w.mins[vert]
                self._by[i] = -(y1 - y0) / span
                self._ay[i] = y1 - w.mins[vert] * self._by[i]
                self._cy[i] = w.attrs[vert]
            else:
                self._ay[i] = (y0 + y1) / 2

    def _values_array(self, values) -> np.ndarray:
        if isinstance(values, dict):
            out = self._defaults.copy()
            for attr, v in values.items():
                out[self.board.names.index(attr)] = v
            return out
        return np.asarray(values, dtype=float)

    def _positions(self, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        v = np.nan_to_num(np.asarray(values, dtype=float), nan=0.0)
        v = np.clip(v, self.board.mins, self.board.maxs)
        vx = np.where(self._cx >= 0, v[np.maximum(self._cx, 0)], 0.0)
        vy = np.where(self._cy >= 0, v[np.maximum(self._cy, 0)], 0.0)
        return self._ax + self._bx * vx, self._ay + self._by * vy

    def knob_xy(self, control: str, values) -> tuple[float, float]:
        """Pixel position (x, y) of `control`'s knob for face-board `values` (dict or array)."""
        xs, ys = self._positions(self._values_array(values))
        i = self._controls.index(control)
        return float(xs[i]), float(ys[i])

    def rest_xy(self, control: str) -> tuple[float, float]:
        return self.knob_xy(control, self._defaults)

    def draw(self, values: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """The board with every knob at `values` (the rig's attribute order), into `out` if given."""
        img = out if out is not None else np.empty_like(self.background)
        img[:] = self.background
        values = self._values_array(values)
        xs, ys = self._positions(values)
        rx, ry = self._positions(self._defaults)
        moved = np.hypot(xs - rx, ys - ry) > 1.0
        r = self.knob_r
        for i in range(len(xs)):
            x, y = int(round(xs[i] * 16)), int(round(ys[i] * 16))
            if moved[i]:
                cv2.line(img, (int(round(rx[i] * 16)), int(round(ry[i] * 16))), (x, y), BAR_ON, 2, cv2.LINE_AA, 4)
                cv2.circle(img, (x, y), (r + 1) * 16, KNOB_ON, -1, cv2.LINE_AA, 4)
            else:
                cv2.circle(img, (x, y), r * 16, KNOB_REST, -1, cv2.LINE_AA, 4)
        return img

