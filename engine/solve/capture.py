"""An actor profile from its captures: track the neutral capture (and the range-of-motion clip), build the
profile (engine.solve.actor), write it. `calibrate` (engine/solve/cli.py) and the demo call this."""
from __future__ import annotations

import tempfile
from pathlib import Path

from engine.errors import BadInput
from engine.media.video import probe
from engine.protocol import Reporter
from engine.solve.actor import build_profile, capture_source, save_profile
from engine.track.landmarker import TrackerOptions
from engine.track.run_tracker import track_video


def calibrate_video(video: Path, out: Path, reporter: Reporter, *, rig: str, name: str, time: float | None = None,
                    rom: Path | None = None, model: Path | None = None, symmetric: bool = False):
    """Track the neutral capture (and the range-of-motion clip), build the actor profile, write it to `out`.
    `symmetric`: track as `run --symmetric` does, for the runs that will use the profile that way."""
    info = probe(video)                            # a corrupt file fails before any tracking
    rom_info = probe(rom) if rom is not None else None
    with tempfile.TemporaryDirectory(prefix="faceretarget-calibrate-") as tmp:
        tracker = TrackerOptions(model_path=model, symmetric=symmetric)
        track = track_capture(info, Path(tmp) / "neutral.npy", reporter, "track", tracker)
        rom_track = (track_capture(rom_info, Path(tmp) / "range.npy", reporter, "track_range", tracker)
                     if rom_info is not None else None)
        reporter.progress("profile", 0, 1)
        profile = build_profile(track, rom_track, name=name, rig=rig, time=time, source=capture_source(video, rom, symmetric))
    save_profile(profile, out)
    reporter.progress("profile", 1, 1)
    return profile


class _StageReporter(Reporter):
    """Passes a stage's events on under another stage name (two clips are tracked, each its own stage)."""

    def __init__(self, inner: Reporter, stage: str):
        super().__init__()
        self.inner, self.stage = inner, stage
        self.warnings = inner.warnings

    def progress(self, stage: str, done: int, total: int | None) -> None:
        self.inner.progress(self.stage, done, total)

    def warning(self, code: str, message: str, **details) -> None:
        self.inner.warning(code, message, **details)


def track_capture(info, landmarks_path: Path, reporter: Reporter, stage: str, tracker: TrackerOptions):
    track = track_video(info, landmarks_path, _StageReporter(reporter, stage), tracker)
    if len(track) == 0:
        raise BadInput(f"no frame could be decoded from {info.path.name}", "the file is corrupt; re-export it")
    return track
