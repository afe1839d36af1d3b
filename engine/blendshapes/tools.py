"""The blendshape tools as whole operations (what the CLI and `run --flame-params` call)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.errors import BadInput
from engine.media.files import reading_input
from engine.blendshapes.convert import Conversion, Converter, weights_for_source
from engine.blendshapes.correspondence import Correspondence, correspond
from engine.blendshapes.flame import FlameModel, load_flame_params
from engine.config.blendshapes import ConvertOptions, CorrespondenceOptions
from engine.blendshapes.readers import load_model
from engine.blendshapes.rig import BlendshapeRig
from engine.protocol import Reporter
from engine.rig.arkit import ARKIT_NAMES
from engine.export.livelink import read_livelink_csv


@dataclass
class Setup:
    source: FlameModel | BlendshapeRig       # what the parameters drive
    source_rig: BlendshapeRig                # its mesh for correspondence (FLAME: the linear part)
    target: BlendshapeRig                    # ARKit view of the target head
    correspondence: Correspondence
    converter: Converter


def source_rig_of(source: FlameModel | BlendshapeRig, shape=None) -> BlendshapeRig:
    if isinstance(source, FlameModel):
        return source.as_rig(shape=shape)
    return source.arkit_view() if _has_arkit(source) else source


def _has_arkit(rig: BlendshapeRig) -> bool:
    try:
        rig.arkit_view()
    except BadInput:
        return False
    return True


def target_rig_of(model) -> BlendshapeRig:
    if isinstance(model, FlameModel):
        raise BadInput("the target must be an ARKit-style blendshape head, not FLAME",
                       "give --target arkit:HEAD (OBJ folder or npz) or ict:ict_facekit_light_expr.npz")
    return model.arkit_view()


def prepare(source_spec: str, target_spec: str, *, source_landmarks=None, target_landmarks=None,
            correspondence: str | Path | None = None, save_correspondence: str | Path | None = None,
            correspond_options: CorrespondenceOptions | None = None,
            convert_options: ConvertOptions | None = None, shape: np.ndarray | None = None,
            reporter: Reporter | None = None) -> Setup:
    """Load both rigs, make (or load) the correspondence and precompute the converter."""
    reporter = reporter or Reporter()
    source = load_model(source_spec, source_landmarks)
    target = target_rig_of(load_model(target_spec, target_landmarks))
    source_rig = source_rig_of(source, shape)
    reporter.progress("correspond", 0, 1)
    if correspondence is not None:
        corr = Correspondence.load(correspondence)
    else:
        corr = correspond(source_rig, target, correspond_options)
        if save_correspondence is not None:
            corr.save(save_correspondence)
    reporter.progress("correspond", 1, 1)
    if save_correspondence is not None and correspondence is not None:
        corr.save(save_correspondence)
    converter = Converter(source, target, corr, convert_options, shape=shape)
    for name in converter.unobserved:
        reporter.warning("unobserved_shape", f"target shape {name} moves none of the corresponding points: "
                         "it stays 0", shape=name)
    return Setup(source, source_rig, target, corr, converter)


def read_source_weights(path: Path, setup: Setup, fps: float) -> tuple[np.ndarray, np.ndarray]:
    """(times, weights in the source rig's shape order) from a Live Link CSV or an .npy/.npz array."""
    names = setup.converter.source_names
    suffix = path.suffix.lower()
    if suffix == ".csv":
        try:
            take = read_livelink_csv(path)
        except ValueError as exc:
            raise BadInput(str(exc)) from None
        return take.times, weights_for_source(take.arkit(), ARKIT_NAMES, names)
    with reading_input(path, "weights file (.npz with weights/names/times, or an (N, K) .npy)"):
        if suffix == ".npz":
            with np.load(path, allow_pickle=False) as data:
                values = data["weights"] if "weights" in data.files else data[data.files[0]]
                given = [str(n) for n in data["names"]] if "names" in data.files else None
                times = data["times"] if "times" in data.files else None
        elif suffix == ".npy":
            values, given, times = np.load(path, allow_pickle=False), None, None
        else:
            raise BadInput(f"unsupported weights file {path.name}", "use a Live Link CSV, .npy or .npz")
        values = np.atleast_2d(np.asarray(values, np.float64))
    if not np.isfinite(values).all():
        raise BadInput(f"{path.name} holds non-finite weights (NaN or infinity)", "fix or re-export the file")
    if given is not None:
        values = weights_for_source(values, given, names)
    elif values.shape[1] == len(ARKIT_NAMES) and len(names) != len(ARKIT_NAMES):
        values = weights_for_source(values, ARKIT_NAMES, names)
    elif values.shape[1] != len(names):
        raise BadInput(f"mismatched parameter counts: {values.shape[1]} weights per frame, the source rig has "
                       f"{len(names)} shapes", "give one column per source shape or the 52 ARKit columns")
    if times is None:
        times = np.arange(len(values)) / fps
    return np.asarray(times, np.float64), values


def convert_file(setup: Setup, params_path: str | Path, options: ConvertOptions,
                 reporter: Reporter | None = None) -> Conversion:
    reporter = reporter or Reporter()
    params_path = Path(params_path)
    reporter.progress("convert", 0, 1)
    if isinstance(setup.source, FlameModel):
        params = load_flame_params(params_path, options.fps)
        result = setup.converter.convert_flame(params)
    else:
        times, weights = read_source_weights(params_path, setup, options.fps)
        result = setup.converter.convert_weights(weights, times)
    for message in result.warnings:
        reporter.warning("flame_params", message)
    reporter.progress("convert", 1, 1)
    return result


def flame_shape(params_path: str | Path, fps: float) -> np.ndarray | None:
    """The identity (shape parameters) a parameter file carries, if any."""
    return load_flame_params(params_path, fps).shape
