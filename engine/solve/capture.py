"""An actor profile from its captures: track the neutral capture (and the range-of-motion clip) both ways,
single-pass and as `run --symmetric` does, build the profile of each reading (engine.solve.actor), write
them as one profile. `calibrate` (engine/solve/cli.py) and the demo call this."""
from __future__ import annotations

import tempfile
from dataclasses import replace
from pathlib import Path

from engine.errors import BadInput, EngineError
from engine.media.video import probe
from engine.protocol import Reporter
from engine.solve.actor import build_profile, capture_source, save_profile, tracking_name
from engine.track.landmarker import TrackerOptions
from engine.track.run_tracker import track_video


def calibrate_video(video: Path, out: Path, reporter: Reporter, *, rig: str, name: str, time: float | None = None,
                    rom: Path | None = None, model: Path | None = None, symmetric: bool = False):
    """Track the neutral capture (and the range-of-motion clip) both ways, build the actor profile, write it
    to `out`. `symmetric` names the reading the profile's own fields hold (the other is its `alternate`):
    either way the profile serves single-pass runs and `run --symmetric` alike."""
    info = probe(video)                            # a corrupt file fails before any tracking
    rom_info = probe(rom) if rom is not None else None
    readings = []
    source = capture_source(video, rom, symmetric)    # hashes the captures once, for both readings
    with tempfile.TemporaryDirectory(prefix="faceretarget-calibrate-") as tmp:
        for reads_symmetric in (symmetric, not symmetric):
            suffix = "" if reads_symmetric == symmetric else "_other_way"
            tracker = TrackerOptions(model_path=model, symmetric=reads_symmetric)
            track = track_capture(info, Path(tmp) / f"neutral{suffix}.npy", reporter, f"track{suffix}", tracker)
            rom_track = (track_capture(rom_info, Path(tmp) / f"range{suffix}.npy", reporter, f"track_range{suffix}",
                                       tracker) if rom_info is not None else None)
            reporter.progress("profile", len(readings), 2)
            try:
                readings.append(build_profile(track, rom_track, name=name, rig=rig, time=time,
                                              source={**source, "tracking": tracking_name(reads_symmetric)}))
            except EngineError as exc:
                if not readings:
                    raise
                # The capture passed as the profile's own reading: the other one is a convenience.
                reporter.warning("alternate_reading_skipped", f"the profile holds no {_reading_name(reads_symmetric)} "
                                 f"reading: {exc.message}", hint=f"runs tracked {_reading_name(reads_symmetric)} warn "
                                 "actor_tracking_differs")
    profile = replace(readings[0], alternate=readings[1] if len(readings) > 1 else None)
    save_profile(profile, out)
    reporter.progress("profile", 2, 2)
    return profile


def _reading_name(symmetric: bool) -> str:
    return "symmetric" if symmetric else "single-pass"


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
