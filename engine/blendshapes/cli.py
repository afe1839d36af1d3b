"""`faceretarget-engine blendshapes {info,inspect,correspond,convert}` and the `run --flame-params` options.

  blendshapes info RIG
  blendshapes inspect RIG --out sheet.png
  blendshapes correspond --source flame:generic_model.pkl --target ict:ICT.npz --out corr.npz
  blendshapes convert --source flame:MODEL.pkl --params smirk.npz --target arkit:HEAD --out arkit.csv

RIG specs: flame:generic_model.pkl | arkit:DIR (neutral.obj + ARKit-named OBJs) | arkit:HEAD.npz |
ict:ict_facekit_light_expr.npz (a bare path is recognised by its content).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from engine.arguments import RATE, add_progress_option, number
from engine.config.blendshapes import ConvertOptions, CorrespondenceOptions, FlameRunOptions, InspectOptions
from engine.errors import BadInput
from engine.media.files import check_output_file
from engine.protocol import Reporter
from engine.rig.arkit import ARKIT_NAMES

CONVERT = ConvertOptions()
CORRESPOND = CorrespondenceOptions()
INSPECT = InspectOptions()


def register(subparsers) -> None:
    parser = subparsers.add_parser("blendshapes", help="FLAME / ARKit-52 rigs: inspect and convert between them")
    sub = parser.add_subparsers(dest="blendshapes_command", required=True)

    info = sub.add_parser("info", help="print what a rig holds")
    info.add_argument("rig", help="flame:MODEL.pkl | arkit:DIR_OR_NPZ | ict:ICT.npz")
    info.add_argument("--landmarks", type=Path, default=None, help="a landmark file for the rig")
    add_progress_option(info)
    info.set_defaults(handler=command_info)

    inspect = sub.add_parser("inspect", help="contact sheet: every shape rendered on its mesh, labelled")
    inspect.add_argument("rig", help="flame:MODEL.pkl | arkit:DIR_OR_NPZ | ict:ICT.npz")
    inspect.add_argument("--out", type=Path, required=True, help="PNG to write (a .json with the grid beside it)")
    inspect.add_argument("--cell", type=number(int, 32, 2048), default=INSPECT.cell, help="cell size in pixels (default: %(default)s)")
    inspect.add_argument("--columns", type=number(int, 1, 64), default=INSPECT.columns, help="cells per row (default: about square)")
    inspect.add_argument("--weight", type=number(float, 0, 10), default=INSPECT.weight,
                         help="blendshape rigs: each shape at this weight (default: %(default)s)")
    inspect.add_argument("--sigma", type=number(float, 0, 10), default=INSPECT.sigma,
                         help="FLAME: components at -/+ this many standard deviations (default: %(default)s)")
    inspect.add_argument("--components", type=number(int, 1, 1000), default=INSPECT.components,
                         help="FLAME: the first N expression components (default: all)")
    inspect.add_argument("--shapes", default=None, help="comma-separated shape names (default: every shape; "
                         "ICT: its 53 expression shapes)")
    inspect.add_argument("--no-heat", action="store_true", help="plain shading, no displacement colours")
    add_progress_option(inspect)
    inspect.set_defaults(handler=command_inspect)

    corr = sub.add_parser("correspond", help="dense correspondence between two meshes (reusable .npz)")
    add_pair_options(corr)
    corr.add_argument("--out", type=Path, required=True, help="correspondence file to write (.npz)")
    add_progress_option(corr)
    corr.set_defaults(handler=command_correspond)

    convert = sub.add_parser("convert", help="convert a parameter sequence of one rig into another rig's weights")
    add_pair_options(convert)
    convert.add_argument("--params", type=Path, required=True,
                         help="FLAME source: .npy/.npz/.pkl parameter sequence (a tracker's output); "
                              "blendshape source: Live Link CSV or .npy/.npz weights")
    convert.add_argument("--out", type=Path, required=True, help="Live Link Face CSV to write")
    convert.add_argument("--correspondence", type=Path, default=None,
                         help="use this correspondence file (made by `correspond`) instead of building one")
    convert.add_argument("--save-correspondence", type=Path, default=None, help="also save the correspondence")
    add_convert_options(convert)
    add_progress_option(convert)
    convert.set_defaults(handler=command_convert)


def add_pair_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--source", required=True, help="rig the parameters drive, e.g. flame:generic_model.pkl")
    parser.add_argument("--target", required=True, help="ARKit head, e.g. arkit:HEAD_DIR or ict:ICT.npz")
    parser.add_argument("--source-landmarks", type=Path, default=None,
                        help="landmarks of the source mesh (FLAME: landmark_embedding.npy; JSON; vertex ids)")
    parser.add_argument("--target-landmarks", type=Path, default=None, help="landmarks of the target mesh")
    parser.add_argument("--landmark-set", default=CORRESPOND.landmark_set,
                        help="landmark set that pairs the meshes (default: the first both have)")
    parser.add_argument("--max-points", type=number(int, 10, 1_000_000), default=CORRESPOND.max_points,
                        help="corresponding points sampled (default: %(default)s)")
    parser.add_argument("--tps-smoothing", type=number(float, 0, 1000), default=CORRESPOND.tps_smoothing,
                        help="warp smoothing, 0 = interpolate landmarks exactly (default: %(default)s)")


def add_convert_options(parser: argparse.ArgumentParser, prefix: str = "") -> None:
    parser.add_argument(f"--{prefix}smoothness", type=number(float, 0, 1e6), default=CONVERT.smoothness,
                        help="temporal smoothness of the weights, 0 = off, 0.1-1 removes jitter "
                             "(default: %(default)s)")
    parser.add_argument(f"--{prefix}fps", type=RATE, default=CONVERT.fps,
                        help="frame rate of parameter files without times (default: %(default)s)")
    parser.add_argument(f"--{prefix}expression-count", type=number(int, 1, 1000), default=CONVERT.expression_count,
                        help="use only the first N FLAME expression components")
    parser.add_argument(f"--{prefix}no-eyes", action="store_true", help="ignore FLAME eye rotations")


def correspond_options(args) -> CorrespondenceOptions:
    return CorrespondenceOptions(landmark_set=args.landmark_set, max_points=args.max_points,
                                 tps_smoothing=args.tps_smoothing)


def convert_options(args, prefix: str = "") -> ConvertOptions:
    get = lambda name: getattr(args, prefix + name)  # noqa: E731
    return ConvertOptions(smoothness=get("smoothness"), fps=get("fps"), expression_count=get("expression_count"),
                          eyes=not get("no_eyes"))


# -------------------------------------------------------------------------------------------------------

def command_info(args, reporter: Reporter) -> None:
    # here, not above: the mesh readers and SciPy load only when a blendshapes command runs
    from engine.blendshapes.flame import FlameModel
    from engine.blendshapes.readers import load_model

    model = load_model(args.rig, args.landmarks)
    if isinstance(model, FlameModel):
        lines = [f"FLAME model {model.source}: {model.vertex_count} vertices, {len(model.faces)} triangles, "
                 f"{model.shape_count} shape + {model.expression_count} expression components, "
                 f"joints {model.joint_count}, pose correctives {'yes' if model.posedirs is not None else 'no'}, "
                 f"eyelids {'yes' if model.eyelids is not None else 'no'}"]
        lines += [f"landmarks {k}: {len(v)}" for k, v in model.landmarks.items()]
    else:
        lines = [model.summary(), "shapes: " + ", ".join(model.shape_names)]
        try:
            view = model.arkit_view()
            missing = [n for n in ARKIT_NAMES if n not in view.shape_names]
            lines.append(f"ARKit-52: {view.shape_count} present" + (f"; missing {', '.join(missing)}" if missing else ""))
        except BadInput as exc:
            lines.append(f"ARKit-52: {exc.message}")
    print("\n".join(lines))


def command_inspect(args, reporter: Reporter) -> None:
    # here, not above: the mesh readers and SciPy load only when a blendshapes command runs
    from engine.blendshapes.readers import ict_expression_shapes, load_model, parse_spec
    from engine.blendshapes.render import contact_sheet

    check_output_file(args.out, (), "contact sheet")
    model = load_model(args.rig)
    options = InspectOptions(cell=args.cell, columns=args.columns, weight=args.weight, sigma=args.sigma,
                             components=args.components, heat=not args.no_heat)
    shapes = None
    if args.shapes:
        shapes = [s.strip() for s in args.shapes.split(",") if s.strip()]
        unknown = [s for s in shapes if s not in getattr(model, "shape_names", [])]
        if unknown:
            raise BadInput(f"unknown shape(s): {', '.join(unknown)}", "`blendshapes info RIG` lists them")
    elif parse_spec(args.rig)[0] == "ict" or getattr(model, "name", "") == "ict-facekit":
        shapes = ict_expression_shapes(model)
    layout = contact_sheet(model, args.out, options, reporter, shapes)
    reporter.result(str(args.out), {"cells": len(layout["cells"])})
    print(f"{args.out}: {len(layout['cells'])} cells ({layout['columns']} x {layout['rows']})", file=sys.stderr)


def command_correspond(args, reporter: Reporter) -> None:
    # here, not above: the mesh readers and SciPy load only when a blendshapes command runs
    from engine.blendshapes.tools import prepare

    check_output_file(args.out, (), "correspondence file")
    setup = prepare(args.source, args.target, source_landmarks=args.source_landmarks,
                    target_landmarks=args.target_landmarks, save_correspondence=args.out,
                    correspond_options=correspond_options(args), reporter=reporter)
    print(setup.correspondence.report(), file=sys.stderr)
    reporter.result(str(args.out), {"points": len(setup.correspondence), **_plain(setup.correspondence.residuals)})


def command_convert(args, reporter: Reporter) -> None:
    # here, not above: the mesh readers and SciPy load only when a blendshapes command runs
    from engine.blendshapes.flame import FlameModel
    from engine.blendshapes.readers import load_model
    from engine.blendshapes.tools import convert_file, flame_shape, prepare
    from engine.export.livelink import write_livelink_csv

    check_output_file(args.out, (args.params,), "Live Link CSV")
    options = convert_options(args)
    shape = None
    if args.source.lower().startswith("flame:") or args.source.lower().endswith((".pkl", ".pickle")):
        shape = flame_shape(args.params, options.fps)
    setup = prepare(args.source, args.target, source_landmarks=args.source_landmarks,
                    target_landmarks=args.target_landmarks, correspondence=args.correspondence,
                    save_correspondence=args.save_correspondence, correspond_options=correspond_options(args),
                    convert_options=options, shape=shape, reporter=reporter)
    print(setup.correspondence.report(), file=sys.stderr)
    result = convert_file(setup, args.params, options, reporter)
    write_livelink_csv(args.out, result.times, result.arkit(), head=result.head, eyes=result.eyes)
    reporter.result(str(args.out), {"frames": len(result.times), "shapes": len(result.target_names),
                                    "unobserved": result.unobserved})


def _plain(values: dict) -> dict:
    return {k: (round(v, 6) if isinstance(v, float) else v) for k, v in values.items()}


# -------------------------------------------------------------------------------------------------------
# `run --flame-params`
# -------------------------------------------------------------------------------------------------------

def add_flame_run_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("FLAME input (instead of --video)",
                                      "a FLAME parameter sequence from a tracker (SMIRK, EMOCA, DECA, ...) is "
                                      "converted to ARKit-52 on a target head, then solved, retargeted and "
                                      "exported like a video's tracking")
    group.add_argument("--flame-params", type=Path, default=None, help="the sequence (.npy/.npz/.pkl)")
    group.add_argument("--flame-model", type=Path, default=None, help="FLAME generic_model.pkl (required)")
    group.add_argument("--flame-target", default=None,
                       help="ARKit head the conversion solves on: ict:ICT.npz or arkit:HEAD (required)")
    group.add_argument("--flame-correspondence", type=Path, default=None,
                       help="correspondence file from `blendshapes correspond` (else built from landmarks)")
    group.add_argument("--flame-landmarks", type=Path, default=None,
                       help="FLAME landmark embedding (landmark_embedding.npy) for building the correspondence")
    group.add_argument("--flame-target-landmarks", type=Path, default=None, help="landmarks of the target head")
    add_convert_options(group, prefix="flame-")


def flame_run_options(args) -> FlameRunOptions | None:
    if getattr(args, "flame_params", None) is None:
        return None
    return FlameRunOptions(params=args.flame_params, model=args.flame_model, target=args.flame_target,
                           correspondence=args.flame_correspondence, source_landmarks=args.flame_landmarks,
                           target_landmarks=args.flame_target_landmarks,
                           convert=convert_options(args, prefix="flame_"))
