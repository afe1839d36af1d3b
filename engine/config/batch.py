"""Options of `faceretarget-engine batch`: the single source of its defaults (the CLI reads them here)."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from engine.config.preview import PreviewOptions
from engine.config.rigs import DEFAULT_RIG

VIDEO_SUFFIXES = (".mp4", ".mov", ".mkv", ".webm", ".avi", ".m4v")   # what a folder of videos holds
MANIFEST_SUFFIXES = (".csv", ".tsv", ".txt", ".json")


@dataclass
class BatchOptions:
    manifest: Path | None = None
    # Instead of a manifest: videos (or folders of them), each to `out`/<video name> with `rig`.
    videos: tuple[Path, ...] = ()
    out: Path | None = None
    rig: str = DEFAULT_RIG
    preview: bool = False                # also write preview.mp4 into every take (engine/preview)
    preview_options: PreviewOptions = field(default_factory=PreviewOptions)
    workers: int | None = None           # clips at a time; None: one per CPU (locally), the cluster's CPUs (Ray)
    ray: str | None = None               # None: local process pool; "local": start a Ray instance here;
                                         # "auto" or "ray://host:10001" / "host:6379": join that cluster
    report: Path | None = None           # JSON report; None: <manifest folder>/<manifest name>.report.json,
                                         # or <out>/batch.report.json for videos
    force: bool = False                  # redo clips whose take is already complete (replacing it)
    progress: str = "human"
