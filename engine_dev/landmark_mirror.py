"""Derive which MediaPipe face landmark is the mirror partner of which: engine/track/data/landmark_mirror.json.

    .venv/bin/python -m engine_dev.landmark_mirror [--model face_landmarker.task]

The Face Landmarker bundle carries its canonical face mesh (read by engine/preview/head/canonical.py). That
mesh is exactly symmetric about x = 0, so each of the 468 face points has a partner at (-x, y, z) at
distance 0 (28 points on the midline are their own). The 10 iris points (468-477: each eye's centre, then the
points at +x, -y, -x, +y in the picture) are not in the mesh; their partners follow from that order.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from engine.preview.head.canonical import load_canonical_mesh
from engine.track.model_bundle import resolve_model

OUTPUT = Path(__file__).resolve().parents[1] / "engine" / "track" / "data" / "landmark_mirror.json"
# Left eye's iris (468 centre, 469 +x, 470 -y, 471 -x, 472 +y) and the right eye's (473...477): mirrored,
# the centre stays the centre, +x becomes the other eye's -x, the vertical points keep their direction.
IRIS_PARTNERS = {468: 473, 469: 476, 470: 475, 471: 474, 472: 477}


def canonical_vertices(model: Path) -> np.ndarray:
    """(468, 3) x, y, z of the canonical face mesh inside the Face Landmarker bundle."""
    return load_canonical_mesh(model)[0].astype(np.float64)


def mirror_partners(vertices: np.ndarray) -> list[int]:
    """Each face point's partner across the mesh's x = 0 plane, then the iris points' (478 in all)."""
    reflected = vertices * [-1.0, 1.0, 1.0]
    distance = np.linalg.norm(vertices[:, None, :] - reflected[None, :, :], axis=2)
    partners = distance.argmin(axis=0)
    if distance[partners, np.arange(len(vertices))].max() > 1e-4:
        raise ValueError("the canonical mesh is not symmetric: some point has no partner")
    iris = {**IRIS_PARTNERS, **{b: a for a, b in IRIS_PARTNERS.items()}}
    return [int(p) for p in partners] + [iris[i] for i in range(len(vertices), len(vertices) + len(iris))]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=None, help="face_landmarker.task (default: resolve)")
    args = parser.parse_args(argv)
    partners = mirror_partners(canonical_vertices(resolve_model(args.model)))
    OUTPUT.write_text(json.dumps({
        "about": "MediaPipe face landmark i's mirror partner (the same point on the other side of the face); "
                 "from the Face Landmarker bundle's canonical mesh by engine_dev/landmark_mirror.py",
        "partner": partners}, separators=(",", ":")) + "\n")
    print(f"wrote {OUTPUT} ({len(partners)} points, {sum(p == i for i, p in enumerate(partners))} on the midline)")


if __name__ == "__main__":
    main()
