"""Scale-out: many clips from a manifest, on a local process pool or a Ray cluster, resumably.

`run_batch(BatchOptions, Reporter) -> BatchReport` (engine/scale/runner.py) is the facade;
`faceretarget-engine batch` its CLI (engine/scale/cli.py); the manifest format is in engine/scale/manifest.py.
"""
from engine.config.batch import BatchOptions

__all__ = ["BatchOptions"]
