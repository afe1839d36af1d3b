"""Options of `faceretarget-engine batch`: the single source of its defaults (the CLI reads them here)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass
class BatchOptions:
    manifest: Path | None = None
    workers: int | None = None           # clips at a time; None: one per CPU (locally), the cluster's CPUs (Ray)
    ray: str | None = None               # None: local process pool; "local": start a Ray instance here;
                                         # "auto" or "ray://host:10001" / "host:6379": join that cluster
    report: Path | None = None           # JSON report; None: <manifest folder>/<manifest name>.report.json
    force: bool = False                  # redo clips whose take is already complete (replacing it)
    progress: str = "human"
