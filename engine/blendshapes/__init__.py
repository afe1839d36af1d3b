"""FLAME and ARKit-52 blendshape tools: rigs as data, readers, mesh correspondence, rig-to-rig conversion,
contact sheets. Pure numpy/scipy (no torch, no GL): importable anywhere the engine runs.

Facade (import the modules for more):
  load_model(spec)                       flame:MODEL.pkl | arkit:DIR_OR_NPZ | ict:ICT.npz
  correspond(source_rig, target_rig)     -> Correspondence (save/load as .npz)
  Converter(source, target, corr)        .convert_flame(params) / .convert_weights(w) -> Conversion
  load_flame_params(path)                tracker outputs (.npy/.npz/.pkl)
  contact_sheet(model, out_png)          every shape (or FLAME component at +/- 2 sigma), labelled
"""
from __future__ import annotations

import importlib

__all__ = ["load_model", "correspond", "Converter", "load_flame_params", "contact_sheet"]


_FACADE = {"load_model": "engine.blendshapes.readers", "correspond": "engine.blendshapes.correspondence",
           "Converter": "engine.blendshapes.convert", "load_flame_params": "engine.blendshapes.flame",
           "contact_sheet": "engine.blendshapes.render"}


def __getattr__(name: str):
    if name not in _FACADE:
        raise AttributeError(name)
    # Lazy: every import of a blendshapes module runs this file, and must not load SciPy and the renderer.
    return getattr(importlib.import_module(_FACADE[name]), name)
