"""Options of the blendshape tools: the single source of their defaults (the CLI reads them from here)."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class CorrespondenceOptions:
    # Which named landmark set pairs the two meshes (None: the first set both rigs have, preferring
    # mediapipe468 then ibug68); pairs are matched by landmark name.
    landmark_set: str | None = None
    min_landmarks: int = 6                 # fewer landmark pairs than this cannot fix a similarity + warp
    # Thin-plate-spline smoothing relative to the mean kernel value: 0 interpolates the landmarks exactly;
    # a little keeps noisy landmark placements from folding the warp.
    tps_smoothing: float = 1e-3
    max_points: int = 4000                 # target vertices sampled for the fit (the moving ones first)
    # A sample whose closest source point is farther than this share of the landmarks' RMS radius, or
    # whose normals disagree by more than the angle, has no counterpart (teeth vs. a rig without teeth).
    max_distance: float = 0.04
    max_normal_angle_deg: float = 60.0
    moving_threshold: float = 1e-3         # a vertex "moves" if a shape displaces it by this share of the
                                           # mesh's size; only moving vertices are sampled
    seed: int = 0                          # sampling is deterministic


@dataclass
class ConvertOptions:
    # Bounded least squares: weights in [0, 1]; a small ridge (relative to the mean diagonal of the normal
    # equations) keeps near-duplicate shapes from trading off against each other.
    ridge: float = 1e-8
    iterations: int = 40                   # accelerated projected-gradient iterations per frame, then
    polish_steps: int = 6                  # exact active-set re-solves for frames not yet optimal
    # Temporal smoothness: penalty on frame-to-frame weight changes, relative to the mean diagonal
    # (0 = off; 0.1-1 removes tracker jitter). Done as a second pass over the whole sequence.
    smoothness: float = 0.0
    smooth_iterations: int = 200
    fps: float = 30.0                      # frame rate of parameter files that carry no times
    expression_count: int | None = None    # use only the first E FLAME expression components (None: all given)
    eyes: bool = True                      # FLAME eye rotations drive the eyes (eyeLook* when corresponded)
    head_rotation: bool = True             # FLAME global + neck rotation -> the CSV's head yaw/pitch/roll
    chunk: int = 1024                      # frames per block (memory)


@dataclass
class InspectOptions:
    cell: int = 256                        # pixel size of one cell's image (square)
    columns: int | None = None             # None: about square
    weight: float = 1.0                    # blendshape rigs: each shape at this weight
    sigma: float = 2.0                     # FLAME: each expression component at -sigma and +sigma
    components: int | None = None          # FLAME: the first N expression components (None: all)
    heat: bool = True                      # colour by displacement from the neutral
    label_height: int = 18


@dataclass
class FlameRunOptions:
    """`run --flame-params`: a FLAME parameter sequence instead of a video's tracking."""

    params: Path | None = None             # the sequence (.npy/.npz/.pkl)
    model: Path | None = None              # FLAME generic_model.pkl
    target: str | None = None              # ARKit head the conversion solves on, e.g. ict:PATH or arkit:DIR
    correspondence: Path | None = None     # reusable correspondence file (else built from landmarks)
    source_landmarks: Path | None = None   # FLAME landmark embedding (landmark_embedding.npy, ...)
    target_landmarks: Path | None = None
    convert: ConvertOptions = field(default_factory=ConvertOptions)
    correspond: CorrespondenceOptions = field(default_factory=CorrespondenceOptions)
