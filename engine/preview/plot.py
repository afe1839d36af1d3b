"""`plot`: publication-quality plots of a take's curves (matplotlib, Agg backend: no display needed).

Channels are named as in the take: face-board attributes (`CTRL_C_jaw.ty`), ARKit names (`jawOpen`), raw
curves (`CTRL_expressions_jawOpen`) or head-pose columns (`yaw_deg`); shell-style wildcards select several
(`CTRL_*_eye_blink.ty`). One row per channel (or all in one axes with `overlay`), time in seconds on a
shared axis, frames without a face shaded. The format follows the file's extension (.png, .pdf, .svg).
"""
from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.config.preview import PlotOptions
from engine.errors import BadInput
from engine.media.files import check_output_file
from engine.export.take import TAKE_FILES, read_curves_csv
from engine.preview.take_data import ARKIT, load_take

MAX_ROWS = 24
PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf")


def _all_channels(take) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """name -> (times, values) for every curve in the take."""
    out: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for i, name in enumerate(take.faceboard_names):
        out[name] = (take.times, take.faceboard[:, i])
    for i, name in enumerate(ARKIT):
        out[name] = (take.times, take.arkit[:, i])
    raw_file = take.folder / {**TAKE_FILES, **take.meta.get("files", {})}["raw_curves"]
    if raw_file.is_file():
        times, names, values = read_curves_csv(raw_file)
        for i, name in enumerate(names):
            out.setdefault(name, (times, values[:, i]))
    for i, name in enumerate(("tx_cm", "ty_cm", "tz_cm", "yaw_deg", "pitch_deg", "roll_deg")):
        out[name] = (take.times, take.head[:, 1 + i])
    return out


def select_channels(available: list[str], patterns: tuple[str, ...]) -> list[str]:
    chosen: list[str] = []
    for pattern in patterns:
        hits = [n for n in available if fnmatch.fnmatchcase(n, pattern)] if any(c in pattern for c in "*?[") \
            else ([pattern] if pattern in available else [])
        if not hits:
            close = [n for n in available if pattern.lower() in n.lower()][:5]
            raise BadInput(f"no channel named {pattern!r} in the take",
                           ("did you mean: " + ", ".join(close)) if close else
                           "use a face-board attribute (CTRL_C_jaw.ty), an ARKit name (jawOpen), a raw curve "
                           "(CTRL_expressions_jawOpen) or a head-pose column (yaw_deg)")
        chosen += [h for h in hits if h not in chosen]
    if len(chosen) > MAX_ROWS:
        raise BadInput(f"{len(chosen)} channels selected; at most {MAX_ROWS} fit one figure",
                       "narrow the wildcard, or make several plots")
    return chosen


PLOT_SUFFIXES = (".png", ".pdf", ".svg")


def plot_take(take_dir: Path, out: Path, options: PlotOptions | None = None) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    options = options or PlotOptions()
    check_output_file(out, (), "image")
    if Path(out).suffix.lower() not in PLOT_SUFFIXES:
        raise BadInput(f"--out {out}: the image type is named by its suffix", f"end it in {', '.join(PLOT_SUFFIXES)}")
    take = load_take(Path(take_dir))
    curves = _all_channels(take)
    names = select_channels(list(curves), options.channels)
    t0 = options.start if options.start is not None else float(take.times[0])
    t1 = options.end if options.end is not None else float(take.times[-1])
    if t1 <= t0:
        raise BadInput(f"empty time range {t0}..{t1}", "--end must be after --start")
    rows = 1 if options.overlay else len(names)
    style = {"font.size": 8, "axes.titlesize": 9, "axes.labelsize": 8, "legend.fontsize": 7,
             "xtick.labelsize": 7, "ytick.labelsize": 7, "axes.spines.top": False, "axes.spines.right": False,
             "axes.linewidth": 0.6, "lines.linewidth": 1.1, "savefig.bbox": "tight", "pdf.fonttype": 42}
    with plt.rc_context(style):
        fig, axes = plt.subplots(rows, 1, sharex=True, squeeze=False, layout="constrained",
                                 figsize=(options.width_in, 0.8 + options.row_height_in * rows))
        axes = axes[:, 0]
        gaps = take.head[:, 0] < 0.5
        for k, name in enumerate(names):
            ax = axes[0 if options.overlay else k]
            times, values = curves[name]
            keep = (times >= t0) & (times <= t1)
            ax.plot(times[keep], values[keep], color=PALETTE[k % len(PALETTE)], label=name)
            if not options.overlay:
                ax.set_ylabel(name, rotation=0, ha="right", va="center")
        for ax in axes:
            if gaps.any():
                ax.fill_between(take.times, 0, 1, where=gaps, transform=ax.get_xaxis_transform(),
                                color="0.85", linewidth=0, step="mid", label="_no face")
            ax.grid(True, color="0.9", linewidth=0.5)
            ax.set_xlim(t0, t1)
        if options.overlay:
            axes[0].legend(loc="upper right", frameon=False, ncol=min(3, len(names)))
        axes[-1].set_xlabel("time (s)")
        fig.suptitle(options.title if options.title is not None else
                     f"{take.folder.name} ({take.rig}, {take.fps:g} fps)", fontsize=10)
        fig.align_ylabels(axes)
        out = Path(out)
        try:
            fig.savefig(out, dpi=options.dpi)
        except (ValueError, OSError) as exc:
            raise BadInput(f"cannot write {out}: {exc}", "use a .png, .pdf or .svg file in an existing folder") from exc
        finally:
            plt.close(fig)
    return out
