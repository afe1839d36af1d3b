"""Options of an engine run: the single source of every default (CLI and callers read them from here)."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path


@dataclass
class SolveOptions:
    # Frames in the least-active share of the clip are averaged into the actor's neutral face.
    neutral_quantile: float = 0.1
    neutral_time: float | None = None          # seconds; overrides the automatic estimate
    # Offline takes are smoothed with a zero-phase low-pass filter of this cutoff (Hz); blinks last
    # ~100-150 ms, so the cutoff stays well above 4 Hz.
    smoothing_cutoff_hz: float = 8.0
    # Gaps (frames with no face) up to this long are bridged by interpolation; longer ones ease to
    # the neutral face. Both are recorded in take.json.
    max_bridged_gap_s: float = 0.5
    # One-Euro filter (live use): minimum cutoff (Hz) and speed coefficient.
    one_euro_min_cutoff: float = 1.5
    one_euro_beta: float = 0.3


@dataclass
class RunOptions:
    video: Path | None = None
    out: Path | None = None
    rig: str = "mh4"
    fps_out: float | None = None               # None: keep the video's own frame times
    progress: str = "human"                    # "human" (stderr bar) or "json" (stdout events)
    overwrite: bool = False
    model_path: Path | None = None             # face_landmarker.task; None: resolve (see track.model_bundle)
    solve: SolveOptions = field(default_factory=SolveOptions)

    def to_json(self) -> dict:
        doc = asdict(self)
        return {k: (str(v) if isinstance(v, Path) else v) for k, v in doc.items()}
