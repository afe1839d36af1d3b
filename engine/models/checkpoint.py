"""Checkpoints of the learned backends: one file, loadable with `torch.load(..., weights_only=True)`.

Everything in it is tensors or JSON-able values (dicts, lists, strings, numbers): the model kind and
config, the rig generation and its control order, which controls were trained, the feature and target
normalisation, the weights, and what the training saw. Loading checks the rig and the control order
against the run's and refuses a mismatch with a message that says what differs.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from engine.errors import BadInput, ModelMissing
from engine.models.device import require_torch
from engine.config.learned import MODEL_KINDS

CHECKPOINT_FORMAT = "faceretarget-model/1"


def jsonable(value):
    """A deep copy made only of JSON types (what weights_only loading accepts without exceptions)."""
    return json.loads(json.dumps(value, default=lambda v: str(v) if isinstance(v, Path) else v.item()
                                 if hasattr(v, "item") else repr(v)))


def save_checkpoint(path: Path, doc: dict) -> Path:
    """Write atomically (temp file + rename): a crash mid-write never leaves a truncated checkpoint."""
    torch = require_torch()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        torch.save(doc, tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def load_checkpoint(path: Path, kind: str | None = None, rig: str | None = None,
                    controls: list[str] | None = None) -> dict:
    """Load and check a checkpoint (weights_only=True: no code in the file can run)."""
    torch = require_torch()
    path = Path(path)
    if not path.is_file():
        raise ModelMissing(f"model checkpoint not found: {path}",
                           "train one with `faceretarget-engine train video|audio --data DIR --out CKPT`")
    try:
        doc = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # pickle errors, zip errors, unsafe globals: all mean "not ours"
        raise BadInput(f"{path.name} is not a FaceRetarget model checkpoint ({type(exc).__name__})",
                       "give a .pt file written by `faceretarget-engine train`") from exc
    if not isinstance(doc, dict) or doc.get("format") != CHECKPOINT_FORMAT:
        raise BadInput(f"{path.name} is not a FaceRetarget model checkpoint (format {doc.get('format') if isinstance(doc, dict) else None!r})",
                       f"expected format {CHECKPOINT_FORMAT}; give a file written by `faceretarget-engine train`")
    if doc.get("kind") not in MODEL_KINDS or (kind is not None and doc["kind"] != kind):
        raise BadInput(f"{path.name} is a {doc.get('kind')} model, not a {kind} model",
                       f"pass it as --{doc.get('kind')}-model")
    check_compatible(doc, path, rig, controls)
    return doc


def check_compatible(doc: dict, path: Path, rig: str | None, controls: list[str] | None) -> None:
    if rig is not None and doc["rig"] != rig:
        raise BadInput(f"{Path(path).name} was trained for the {doc['rig']!r} rig; this run targets {rig!r}",
                       f"run with --rig {doc['rig']}, or train a model on {rig} takes")
    if controls is not None and list(doc["controls"]) != list(controls):
        mine, theirs = list(controls), list(doc["controls"])
        if len(mine) != len(theirs):
            what = f"{len(theirs)} controls in the checkpoint, {len(mine)} on the rig"
        else:
            i = next(i for i, (a, b) in enumerate(zip(mine, theirs)) if a != b)
            what = f"column {i} is {theirs[i]!r} in the checkpoint but {mine[i]!r} on the rig"
        raise BadInput(f"{Path(path).name}: the control order differs from the {rig or doc['rig']} face board ({what})",
                       "the checkpoint was made for another face-board definition; retrain it with this engine")
