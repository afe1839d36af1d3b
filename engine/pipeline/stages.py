"""The engine's one path: a track source (engine.pipeline.sources) -> validate -> solve -> retarget ->
(lip correction, learned models) -> export, as one take folder (engine.export.take)."""
from __future__ import annotations

import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from engine.config import RunOptions, check_rig
from engine.errors import BadInput
from engine.export.rigmapper import rigmapper_rate
from engine.export.take import (TAKE_FILES, TakeCurveFiles, TakeWriter, file_sha256, rigmapper_on_grid, take_record,
                               write_take_files)
from engine.pipeline.sources import pick_source
from engine.protocol import Reporter
from engine.rig.arkit import ARKIT_NAMES
from engine.rig.faceboard import load_faceboard
from engine.rig.retarget import RigCurves, check_mapping, retarget, retarget_blocks
from engine.solve.actor import PROFILE_FORMAT, load_profile
from engine.solve.solver import SolvedTake, landmarks_usable, resample_take, solve, solve_calibrated
from engine.track.facetrack import FaceTrack, SourceTrack


class StageTimer:
    def __init__(self) -> None:
        self.timings: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str):
        start = time.perf_counter()
        try:
            yield
        finally:   # a stage run in blocks adds up
            self.timings[name] = round(self.timings.get(name, 0.0) + time.perf_counter() - start, 4)


def validate(options: RunOptions, source=None) -> None:
    """Every check that needs no work, before any: the source's own, then the rig, rate, mapping, learned
    models and actor profile (a bad profile, or one made for the other rig, fails before tracking)."""
    if options.out is None:
        raise BadInput("--out is needed")
    (source or pick_source(options)).check(options)
    check_rig(options.rig)
    if options.fps_out is not None and not 1 <= options.fps_out <= 1000:
        raise BadInput(f"--fps-out {options.fps_out} is out of range", "use a rate such as 24, 30 or 60")
    check_mapping(options.mapping, options.rig)
    if options.learned.active:   # engine/models: checkpoints exist, group specs parse
        # here, not above: the learned backends load only for a run that asks for them
        from engine.models.apply import validate_learned

        validate_learned(options.learned, options.rig)
    if options.solve.actor is not None:
        if options.solve.neutral_time is not None:
            raise BadInput("--actor and --neutral-time both name the actor's neutral",
                           "give one: the profile from `calibrate`, or a moment of rest in this clip")
        load_profile(options.solve.actor, options.rig)


def run(options: RunOptions, reporter: Reporter, startup_s: float | None = None) -> Path:
    """Write the take folder of options' source (--video, --arkit or --flame-params) at options.out.
    startup_s: the process's time before this call (imports, arguments), kept in the take's timings."""
    source = pick_source(options)
    validate(options, source)
    timer = StageTimer()
    if startup_s is not None:
        timer.timings["startup"] = round(startup_s, 4)
    with TakeWriter(options.out, options.overwrite) as writer:
        speech_audio = None
        if source.takes_audio and options.audio.correction != "off":
            # here, not above: the speech stage (pocketsphinx, SciPy) loads only for a run with lip correction
            from engine.audio.correction import prepare_audio

            with timer.stage("audio"):   # before tracking, so that bad audio fails fast
                speech_audio = prepare_audio(options, reporter)
        got = source.read(options, writer.path, reporter, timer)
        source_solved, solved = solve_stage(got, options, reporter, timer)
        of_source = source_fields(got, solved)
        rig_fps = options.fps_out or got.fps
        use_learned = options.learned.active and source.has_video
        lipsync = learned = None
        if speech_audio is None and not use_learned and rigmapper_on_grid(solved.times, rig_fps):
            # The track is read no more: a long clip's raw scores and head poses are not held through the
            # rig and export stages (of_source keeps what take.json says of it).
            del got, source_solved
            files = rig_and_export_in_blocks(writer.path, solved, options, rig_fps, reporter, timer)
        else:   # the corrections work on the whole take's curves
            files, lipsync, learned = correct_and_export(writer.path, got, source_solved, solved, speech_audio,
                                                         use_learned, rig_fps, options, reporter, timer)
        reporter.progress("export", 1, 1)
        if "landmarks" not in of_source["files_absent"]:
            files["landmarks"] = TAKE_FILES["landmarks"]
        if lipsync is not None:
            from engine.audio.take import AUDIO_TAKE_FILES   # loaded with the correction above

            files.update(AUDIO_TAKE_FILES)
        meta = take_record(rig=options.rig, times=solved.times, fps=options.fps_out or of_source["source_fps"],
                           fps_out=options.fps_out, rig_fps=rig_fps, options=options.to_json(),
                           actor=actor_record(options), timings=timer.timings, warnings=reporter.warnings,
                           files=files, lipsync=lipsync, learned=learned, engine_extra=source.engine_info(),
                           **of_source)
        if options.preview and source.has_video:   # preview.mp4 goes into the take before it is committed
            # here, not above: OpenCV, the encoder and OpenGL load only for a run with --preview
            from engine.preview.preview import add_preview_to_take

            with timer.stage("preview"):
                add_preview_to_take(writer.path, meta, options.preview_options, reporter)
        return writer.commit(meta)


def correct_and_export(folder: Path, got: SourceTrack, source_solved: SolvedTake, solved: SolvedTake, speech_audio,
                       use_learned: bool, rig_fps: float | None, options: RunOptions, reporter: Reporter,
                       timer: StageTimer) -> tuple[dict[str, str], dict | None, dict | None]:
    """Rig the whole take, correct its mouth from the speech and/or blend the learned models in, and write
    it: (files written, the lip-sync record, the learned models' record)."""
    lipsync = learned = None
    curves = rig_stage(solved, options, reporter, timer)
    if speech_audio is not None:
        from engine.audio.correction import apply_correction   # loaded with prepare_audio in run

        with timer.stage("lip_correction"):
            lipsync = apply_correction(speech_audio, options, solved, curves, folder, reporter, got.track.confidence)
    if use_learned:   # learned predictions replace/blend per control group
        from engine.models.apply import apply_learned   # loaded by validate

        with timer.stage("learned"):
            curves, learned = apply_learned(curves, solved.times, got.track, source_solved, options, reporter)
    with timer.stage("export"):
        files = write_take_files(folder, solved.times, curves, solved.arkit, solved.head_pose, solved.detected,
                                 rig_fps, solved.eyes)
    return files, lipsync, learned


def solve_stage(source: SourceTrack, options: RunOptions, reporter: Reporter, timer: StageTimer):
    """(solved at the track's own frame times, solved at the output times). The first is what the learned
    video model reads."""
    track = source.track
    with timer.stage("solve"):
        source_solved = (solve_calibrated(track, options.solve) if source.calibrated
                         else solve(track, options.solve, symmetric=options.symmetric))
        solved = resample_take(source_solved, options.fps_out) if options.fps_out else source_solved
    if landmarks_usable(track, options.solve) and not source_solved.sources.get("landmarks"):
        why = "no actor profile was given" if options.solve.actor is None else \
            "the actor profile holds no neutral landmark shape"
        reporter.warning("no_actor_profile", f"{why}: cheek puff, cheek squint, sneer, jaw forward, lips together "
                         "and lip roll come from MediaPipe alone (which barely moves them)",
                         hint="make a profile once per actor (`faceretarget-engine calibrate`) and pass --actor")
    reporter.progress("solve", 1, 1)
    return source_solved, solved


def rig_and_export_in_blocks(folder: Path, solved: SolvedTake, options: RunOptions, rig_fps: float | None,
                             reporter: Reporter, timer: StageTimer) -> dict[str, str]:
    """The rig and export stages a block of frames at a time, so that a long clip's curves are never all
    held (engine.rig.retarget.retarget_blocks: the same values as retargeting it whole)."""
    board = load_faceboard(options.rig)
    blocks = retarget_blocks(solved.arkit, options.rig, solved.times, options.mapping)
    with TakeCurveFiles(folder, list(board.names), list(board.raw_curve_names),
                        rigmapper_rate(rig_fps, solved.times)) as files:
        while True:
            with timer.stage("rig"):
                block = next(blocks, None)
            if block is None:
                break
            rows, curves = block
            eyes = None if solved.eyes is None else solved.eyes[rows]
            with timer.stage("export"):
                files.write(solved.times[rows], curves, solved.arkit[rows], solved.head_pose[rows],
                            solved.detected[rows], eyes)
    reporter.progress("rig", 1, 1)
    return files.names


def rig_stage(solved: SolvedTake, options: RunOptions, reporter: Reporter, timer: StageTimer) -> RigCurves:
    """ARKit -> raw curves -> face board (engine.rig.retarget) at the solved take's times."""
    with timer.stage("rig"):
        curves = retarget(solved.arkit, options.rig, solved.times, options.mapping)
    reporter.progress("rig", 1, 1)
    return curves


def solve_record(track: FaceTrack, solved: SolvedTake) -> dict:
    """take.json's "tracking" fields every source has: how much was found and which neutral was used."""
    neutral = solved.sources.get("neutral", {})
    return {"detected_share": round(track.detected_share, 4),
            "neutral_frames": [float(track.times[i]) for i in solved.neutral_frames[:50]],
            "neutral_scores": dict(zip(ARKIT_NAMES, np.round(solved.neutral, 4).tolist())),
            "neutral_source": neutral.get("source"),
            "neutral_lowered_to_clip_rest": neutral.get("lowered_to_clip_rest", []),
            "gaps": [g.to_json() for g in solved.gaps]}


def source_fields(got: SourceTrack, solved: SolvedTake) -> dict:
    """take_record's fields that say what the source was and what its track held."""
    return {"kind": got.kind, "source_fps": got.fps, "source_frame_count": len(got.track), "inputs": got.inputs,
            "tracking": {**got.tracking, **solve_record(got.track, solved)}, "files_absent": got.files_absent}


def actor_record(options: RunOptions) -> dict | None:
    """take.json's record of the actor profile the solve used (None: the population resting model)."""
    if options.solve.actor is None:
        return None
    path = Path(options.solve.actor)
    profile = load_profile(path)
    return {"path": str(path.absolute()), "sha256": file_sha256(path), "name": profile.name,
            "format": PROFILE_FORMAT, "reading": profile.for_run(options.symmetric).tracking}
