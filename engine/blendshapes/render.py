"""Contact sheets: every shape of a rig (or every FLAME expression component at +/- 2 sigma) rendered on its
mesh, labelled, in one PNG. Headless and dependency-light: a vectorised numpy z-buffer rasteriser
(orthographic front view, Lambert shading, optional heat colouring by displacement) and Pillow for text.

Beside the PNG a JSON file (same name, .json) gives the grid: cell boxes and labels, so tools and tests can
find each cell.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.errors import BadInput
from engine.blendshapes.flame import FlameModel
from engine.config.blendshapes import InspectOptions
from engine.blendshapes.rig import BlendshapeRig
from engine.protocol import Reporter

BACKGROUND = (40, 40, 44)
BASE_COLOUR = np.array([0.78, 0.76, 0.74])
HEAT_COLOUR = np.array([1.0, 0.35, 0.1])
LIGHT = np.array([0.35, 0.45, 1.0]) / np.linalg.norm([0.35, 0.45, 1.0])


@dataclass
class View:
    """Orthographic front view (looking down -Z, Y up) fitted to a mesh's bounding box."""

    center: np.ndarray
    scale: float          # pixels per unit
    size: int

    @classmethod
    def fit(cls, vertices: np.ndarray, size: int, margin: float = 0.06) -> "View":
        lo, hi = vertices.min(0), vertices.max(0)
        extent = max(hi[0] - lo[0], hi[1] - lo[1], 1e-12)
        return cls((lo + hi) / 2, size * (1 - 2 * margin) / extent, size)

    def project(self, vertices: np.ndarray) -> np.ndarray:
        p = (vertices - self.center) * self.scale
        return np.column_stack([p[:, 0] + self.size / 2, self.size / 2 - p[:, 1], p[:, 2]])


def rasterize(vertices: np.ndarray, faces: np.ndarray, view: View, colours: np.ndarray | None = None) -> np.ndarray:
    """(size, size, 3) uint8 image of the mesh: flat Lambert shading (two-sided), per-vertex colours
    interpolated across triangles (default: a neutral skin grey)."""
    size = view.size
    image = np.empty((size, size, 3), np.float32)
    image[:] = np.asarray(BACKGROUND, np.float32) / 255
    p = view.project(np.asarray(vertices, np.float64))
    tri = p[faces]                                                      # (F, 3, 3)
    world = vertices[faces]
    normal = np.cross(world[:, 1] - world[:, 0], world[:, 2] - world[:, 0])
    normal /= np.maximum(np.linalg.norm(normal, axis=1, keepdims=True), 1e-20)
    shade = 0.25 + 0.75 * np.abs(normal @ LIGHT)
    x0 = np.clip(np.ceil(tri[:, :, 0].min(1) - 0.5), 0, size).astype(np.int64)
    x1 = np.clip(np.floor(tri[:, :, 0].max(1) - 0.5), -1, size - 1).astype(np.int64)
    y0 = np.clip(np.ceil(tri[:, :, 1].min(1) - 0.5), 0, size).astype(np.int64)
    y1 = np.clip(np.floor(tri[:, :, 1].max(1) - 0.5), -1, size - 1).astype(np.int64)
    w = x1 - x0 + 1
    h = y1 - y0 + 1
    keep = (w > 0) & (h > 0)
    area = ((tri[:, 1, 0] - tri[:, 0, 0]) * (tri[:, 2, 1] - tri[:, 0, 1])
            - (tri[:, 2, 0] - tri[:, 0, 0]) * (tri[:, 1, 1] - tri[:, 0, 1]))
    keep &= np.abs(area) > 1e-12
    idx = np.flatnonzero(keep)
    if idx.size == 0:
        return (image * 255).astype(np.uint8)
    counts = (w * h)[idx]
    owner = np.repeat(idx, counts)
    local = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    px = x0[owner] + local % w[owner]
    py = y0[owner] + local // w[owner]
    cx, cy = px + 0.5, py + 0.5
    t = tri[owner]
    a = area[owner]
    l1 = ((t[:, 2, 0] - t[:, 1, 0]) * (cy - t[:, 1, 1]) - (t[:, 2, 1] - t[:, 1, 1]) * (cx - t[:, 1, 0])) / a
    l2 = ((t[:, 0, 0] - t[:, 2, 0]) * (cy - t[:, 2, 1]) - (t[:, 0, 1] - t[:, 2, 1]) * (cx - t[:, 2, 0])) / a
    l0 = 1 - l1 - l2
    inside = (l0 >= -1e-6) & (l1 >= -1e-6) & (l2 >= -1e-6)
    owner, px, py, l0, l1, l2 = owner[inside], px[inside], py[inside], l0[inside], l1[inside], l2[inside]
    depth = l0 * tri[owner, 0, 2] + l1 * tri[owner, 1, 2] + l2 * tri[owner, 2, 2]
    pixel = py * size + px
    order = np.lexsort((-depth, pixel))                                  # nearest (largest z) first
    first = order[np.concatenate([[True], pixel[order][1:] != pixel[order][:-1]])]
    f = owner[first]
    if colours is None:
        colour = np.broadcast_to(BASE_COLOUR, (len(f), 3))
    else:
        c = colours[faces[f]]
        colour = l0[first, None] * c[:, 0] + l1[first, None] * c[:, 1] + l2[first, None] * c[:, 2]
    flat = image.reshape(-1, 3)
    flat[pixel[first]] = colour * shade[f, None]
    return (np.clip(image, 0, 1) * 255).astype(np.uint8)


def heat_colours(displacement: np.ndarray, reference: float) -> np.ndarray:
    """Per-vertex colours: skin grey where nothing moves, orange-red where the shape moves the most."""
    amount = np.linalg.norm(displacement, axis=1) / max(reference, 1e-20)
    t = np.clip(amount, 0, 1)[:, None] ** 0.7
    return (1 - t) * BASE_COLOUR + t * HEAT_COLOUR


@dataclass
class Cell:
    label: str
    vertices: np.ndarray


def rig_cells(rig: BlendshapeRig, options: InspectOptions, shapes: list[str] | None = None) -> list[Cell]:
    names = rig.shape_names if shapes is None else shapes
    index = {n: i for i, n in enumerate(rig.shape_names)}
    cells = [Cell("neutral", rig.neutral)]
    for name in names:
        cells.append(Cell(name, rig.neutral + options.weight * rig.deltas[index[name]].astype(np.float64)))
    return cells


def flame_cells(model: FlameModel, options: InspectOptions) -> list[Cell]:
    count = model.expression_count if options.components is None else min(options.components, model.expression_count)
    cells = [Cell("neutral", model.v_template)]
    for k in range(count):
        for sign in (-1, 1):
            expr = np.zeros(k + 1)
            expr[k] = sign * options.sigma
            cells.append(Cell(f"exp{k:03d} {'+' if sign > 0 else '-'}{options.sigma:g}sd",
                              model.evaluate(expression=expr)))
    cells.append(Cell("jaw open 0.3 rad", model.evaluate(jaw=np.array([0.3, 0.0, 0.0]))))
    if model.eyelids is not None:
        cells.append(Cell("eyelids 1.0", model.evaluate(eyelids=np.array([1.0, 1.0]))))
    return cells


def contact_sheet(model: BlendshapeRig | FlameModel, out: str | Path, options: InspectOptions | None = None,
                  reporter: Reporter | None = None, shapes: list[str] | None = None) -> dict:
    """Render the sheet to `out` (PNG) and its layout to out.json; returns the layout."""
    from PIL import Image, ImageDraw, ImageFont

    options = options or InspectOptions()
    reporter = reporter or Reporter()
    if options.cell < 32:
        raise BadInput(f"cell size {options.cell} px is too small", "use at least 32")
    if isinstance(model, FlameModel):
        cells, faces = flame_cells(model, options), model.faces
    else:
        cells, faces = rig_cells(model, options, shapes), model.visible_faces()
    if len(cells) < 2:
        raise BadInput("the rig has no shapes to show")
    neutral = cells[0].vertices
    view = View.fit(_framed_vertices(cells, faces), options.cell)
    cols = options.columns or math.ceil(math.sqrt(len(cells)))
    rows = math.ceil(len(cells) / cols)
    cell_h = options.cell + options.label_height
    sheet = Image.new("RGB", (cols * options.cell, rows * cell_h), BACKGROUND)
    draw = ImageDraw.Draw(sheet)
    font = _font(options.label_height - 4)
    moves = [np.linalg.norm(c.vertices - neutral, axis=1).max() for c in cells[1:]]
    layout = {"cell": options.cell, "label_height": options.label_height, "columns": cols, "rows": rows,
              "cells": []}
    for i, cell in enumerate(cells):
        col, row = i % cols, i // cols
        x, y = col * options.cell, row * cell_h
        colours = None
        if options.heat:
            reference = moves[i - 1] if i else 1.0
            colours = heat_colours(cell.vertices - neutral, reference) if i else heat_colours(0 * neutral, 1.0)
        image = rasterize(cell.vertices, faces, view, colours)
        sheet.paste(Image.fromarray(image), (x, y))
        draw.text((x + 4, y + options.cell + 1), cell.label, fill=(235, 235, 235), font=font)
        layout["cells"].append({"label": cell.label, "x": x, "y": y, "width": options.cell,
                                "height": options.cell})
        reporter.progress("render", i + 1, len(cells))
    out = Path(out)
    sheet.save(out)
    out.with_suffix(".json").write_text(json.dumps(layout, indent=1))
    return layout


def _framed_vertices(cells: list[Cell], faces: np.ndarray) -> np.ndarray:
    """What the view frames: the region the shapes move (the face), else the whole mesh."""
    neutral = cells[0].vertices
    drawn = np.unique(faces)
    moving = np.zeros(len(neutral), bool)
    for cell in cells[1:]:
        amount = np.linalg.norm(cell.vertices - neutral, axis=1)
        if amount.max() > 0:
            moving |= amount > 0.3 * amount.max()      # where each shape mainly acts
    moving = drawn[moving[drawn]]
    if len(moving) < 3:
        return neutral[drawn]
    lo, hi = np.percentile(neutral[moving], 1, axis=0), np.percentile(neutral[moving], 99, axis=0)
    pad = 0.15 * (hi - lo)
    return np.vstack([lo - pad, hi + pad])


def _font(size: int):
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=max(size, 8))
    except TypeError:  # Pillow < 10.1 has one bitmap size
        return ImageFont.load_default()
