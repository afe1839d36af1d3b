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

__all__ = ["load_model", "correspond", "Converter", "load_flame_params", "contact_sheet"]


def __getattr__(name: str):  # lazy: `import engine.blendshapes` stays cheap
    if name == "load_model":
        from engine.blendshapes.readers import load_model
        return load_model
    if name == "correspond":
        from engine.blendshapes.correspondence import correspond
        return correspond
    if name == "Converter":
        from engine.blendshapes.convert import Converter
        return Converter
    if name == "load_flame_params":
        from engine.blendshapes.flame import load_flame_params
        return load_flame_params
    if name == "contact_sheet":
        from engine.blendshapes.render import contact_sheet
        return contact_sheet
    raise AttributeError(name)
