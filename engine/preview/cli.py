"""Sub-commands of the preview stage: `preview`, `compare` and `plot` (a preview for every clip of many:
`batch VIDEO_OR_FOLDER... --out FOLDER --preview`).

    faceretarget-engine preview TAKE_DIR [--out preview.mp4] [--head-model ict.npz] [--video SOURCE]
    faceretarget-engine compare --left original.mp4 --right render.mp4 --out side_by_side.mp4
    faceretarget-engine plot TAKE_DIR --channels CTRL_C_jaw.ty,jawOpen --out curves.png
"""
from __future__ import annotations

import argparse
from pathlib import Path

from engine.arguments import OFFSET, SECONDS, add_progress_option, number, size
from engine.config.preview import CompareOptions, PlotOptions, PreviewOptions
from engine.media.files import check_output_file

DEFAULTS = PreviewOptions()
COMPARE_DEFAULTS = CompareOptions()
PLOT_DEFAULTS = PlotOptions()


def add_preview_options(parser: argparse.ArgumentParser) -> None:
    """Options shared by `preview` and `batch --preview`."""
    parser.add_argument("--size", type=size, default=(DEFAULTS.width, DEFAULTS.height),
                        help=f"output size WIDTHxHEIGHT (default: {DEFAULTS.width}x{DEFAULTS.height})")
    parser.add_argument("--head-model", type=Path, default=DEFAULTS.head_model,
                        help="ICT-FaceKit head npz (ict_facekit_light_expr.npz); default: $FACERETARGET_HEAD_MODEL, "
                             "else the built-in head from MediaPipe's canonical face mesh")
    parser.add_argument("--head-renderer", choices=["auto", "gl", "soft"], default=DEFAULTS.head_renderer,
                        help="auto: OpenGL over EGL when available, else software (default: %(default)s)")
    parser.add_argument("--codec", default=DEFAULTS.codec, help="video encoder (default: %(default)s)")
    parser.add_argument("--crf", type=number(int, 0, 51), default=DEFAULTS.crf, help="H.264 quality, lower is better "
                        "(default: %(default)s)")
    parser.add_argument("--no-audio", action="store_true", help="do not mux the take's audio")


def preview_options_from(args: argparse.Namespace, video: Path | None = None) -> PreviewOptions:
    width, height = args.size
    return PreviewOptions(width=width, height=height, head_model=args.head_model, head_renderer=args.head_renderer,
                          codec=args.codec, crf=args.crf, audio=not args.no_audio, video=video)


def register(subparsers) -> None:
    p = subparsers.add_parser("preview", help="side-by-side review video of a take")
    p.add_argument("take", type=Path, help="take folder")
    p.add_argument("--out", type=Path, default=None, help="output MP4 (default: TAKE/preview.mp4)")
    p.add_argument("--video", type=Path, default=None, help="the source video, if it moved since the take was made")
    add_preview_options(p)
    add_progress_option(p)
    p.set_defaults(handler=command_preview)

    p = subparsers.add_parser("compare", help="original video beside a render made elsewhere, matched by time")
    p.add_argument("--left", type=Path, required=True, help="the original video (its timeline and audio lead)")
    p.add_argument("--right", type=Path, required=True, help="a render (Maya playblast, Unreal movie)")
    p.add_argument("--out", type=Path, required=True, help="output MP4")
    p.add_argument("--labels", nargs=2, default=list(COMPARE_DEFAULTS.labels), metavar=("LEFT", "RIGHT"),
                   help="labels drawn on each side (default: %(default)s)")
    p.add_argument("--offset", type=OFFSET, default=COMPARE_DEFAULTS.offset,
                   help="seconds into the left video where the right one starts (default: %(default)s)")
    p.add_argument("--height", type=number(int, 16, 4320), default=COMPARE_DEFAULTS.height,
                   help="output height; both sides are scaled to it (default: %(default)s)")
    p.add_argument("--audio", choices=["left", "right", "none"], default=COMPARE_DEFAULTS.audio,
                   help="whose audio to keep (default: %(default)s; falls back to the other side)")
    p.add_argument("--codec", default=COMPARE_DEFAULTS.codec, help="video encoder (default: %(default)s)")
    add_progress_option(p)
    p.set_defaults(handler=command_compare)

    p = subparsers.add_parser("plot", help="publication-quality plots of a take's curves (matplotlib)")
    p.add_argument("take", type=Path, help="take folder")
    p.add_argument("--channels", default=",".join(PLOT_DEFAULTS.channels),
                   help="comma-separated face-board attributes, ARKit names, raw curves or head-pose columns; "
                        "shell-style wildcards allowed, e.g. 'CTRL_*_eye_blink.ty' (default: key curves)")
    p.add_argument("--out", type=Path, default=Path("curves.png"), help="image file (.png, .pdf, .svg)")
    p.add_argument("--start", type=SECONDS, default=None, help="first second to show")
    p.add_argument("--end", type=SECONDS, default=None, help="last second to show")
    p.add_argument("--overlay", action="store_true", help="all channels in one axes instead of one per row")
    p.add_argument("--dpi", type=number(int, 10, 1200), default=PLOT_DEFAULTS.dpi, help="dots per inch (default: %(default)s)")
    p.add_argument("--title", default=None, help="figure title (default: the take's name)")
    add_progress_option(p)
    p.set_defaults(handler=command_plot)


def command_preview(args: argparse.Namespace, reporter) -> None:
    # here, not above: OpenCV, the codecs and OpenGL load only when a preview is drawn
    from engine.preview.preview import render_preview

    if args.out is not None:
        check_output_file(args.out, (args.video,), "preview video")
    result = render_preview(args.take, args.out, preview_options_from(args, args.video), reporter)
    reporter.result(str(result.path), {"frames": result.frames, "seconds": round(result.seconds, 2),
                                       "fps": round(result.fps, 1), "head": result.head,
                                       "head_backend": result.head_backend})


def command_compare(args: argparse.Namespace, reporter) -> None:
    # here, not above: OpenCV and the codecs load only when a comparison is drawn
    from engine.preview.compare import compare_videos

    options = CompareOptions(labels=tuple(args.labels), offset=args.offset, height=args.height, audio=args.audio,
                             codec=args.codec)
    result = compare_videos(args.left, args.right, args.out, options, reporter)
    reporter.result(str(result), {})


def command_plot(args: argparse.Namespace, reporter) -> None:
    # here, not above: matplotlib loads only when a plot is drawn
    from engine.preview.plot import plot_take

    channels = tuple(c.strip() for c in args.channels.split(",") if c.strip())
    options = PlotOptions(channels=channels, start=args.start, end=args.end, overlay=args.overlay, dpi=args.dpi,
                          title=args.title)
    result = plot_take(args.take, args.out, options)
    reporter.result(str(result), {})
