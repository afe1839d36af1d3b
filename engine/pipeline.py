"""The engine's main path: video -> track -> solve -> rig -> export, as one take folder."""
from __future__ import annotations

import platform
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np

import engine
from engine.audio.correction import apply_correction, prepare_audio
from engine.audio.take import AUDIO_TAKE_FILES
from engine.config import RunOptions
from engine.errors import BadInput, NoFaceFound
from engine.export.livelink import write_livelink_csv
from engine.export.rigmapper import rigmapper_rate, write_rigmapper_csv
from engine.export.take import TAKE_FILES, TakeWriter, file_sha256, write_curves_csv
from engine.media.video import VideoInfo, probe
from engine.protocol import Reporter
from engine.rig.arkit import ARKIT_NAMES
from engine.rig.faceboard import RIG_GENERATIONS
from engine.rig.retarget import retarget
from engine.solve.actor import PROFILE_FORMAT, load_profile
from engine.solve.head_pose import HEAD_POSE_COLUMNS
from engine.solve.solver import SolvedTake, landmarks_usable, resample_take, solve
from engine.track.facetrack import FaceTrack
from engine.track.landmarker import TrackerOptions
from engine.track.model_bundle import MODEL_SHA256
from engine.track.run_tracker import track_video

# A clip where the face is found in less than this share of frames is still written, with a warning.
LOW_DETECTION_SHARE = 0.5


class StageTimer:
    def __init__(self) -> None:
        self.timings: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str):
        start = time.perf_counter()
        try:
            yield
        finally:
            self.timings[name] = round(time.perf_counter() - start, 4)


def validate(options: RunOptions) -> None:
    if options.video is None or options.out is None:
        raise BadInput("both --video and --out are needed")
    if options.rig not in RIG_GENERATIONS:
        raise BadInput(f"unknown rig {options.rig!r}", f"use one of: {', '.join(RIG_GENERATIONS)}")
    if options.fps_out is not None and not 1 <= options.fps_out <= 1000:
        raise BadInput(f"--fps-out {options.fps_out} is out of range", "use a rate such as 24, 30 or 60")
    if options.mapping not in (None, "pose") and not Path(options.mapping).is_file():
        raise BadInput(f"--mapping {options.mapping}: file not found",
                       "give a fit-mapping JSON, a full-face rules JSON, or 'pose'")
    if options.learned.active:   # engine/models: checkpoints exist, group specs parse
        from engine.models.apply import validate_learned

        validate_learned(options.learned, options.rig)
    if options.solve.actor is not None:   # a bad profile, or one made for the other rig, fails before tracking
        if options.solve.neutral_time is not None:
            raise BadInput("--actor and --neutral-time both name the actor's neutral",
                           "give one: the profile from `calibrate`, or a moment of rest in this clip")
        load_profile(options.solve.actor, options.rig)


def run(options: RunOptions, reporter: Reporter) -> Path:
    """Write a take folder for options.video at options.out and return its path."""
    if options.flame is not None:   # engine/blendshapes: a FLAME parameter sequence instead of the video
        from engine.blendshapes.run import run_flame

        return run_flame(options, reporter)
    validate(options)
    timer = StageTimer()
    with TakeWriter(options.out, options.overwrite) as writer:
        with timer.stage("audio"):   # engine/audio: speech timing for lip correction (fails fast on bad audio)
            speech_audio = prepare_audio(options, reporter)
        with timer.stage("probe"):
            info = probe(options.video)
        with timer.stage("track"):
            track = track_video(info, writer.path / TAKE_FILES["landmarks"], reporter,
                                TrackerOptions(model_path=options.model_path))
        check_track(track, info, reporter)
        source_solved, solved, curves = solve_and_retarget(track, options, reporter, timer)
        lipsync_meta = None
        if speech_audio is not None:
            with timer.stage("lip_correction"):
                lipsync_meta = apply_correction(speech_audio, options, solved, curves, writer.path, reporter,
                                                track.confidence)
        learned = None
        if options.learned.active:   # engine/models: learned predictions replace/blend per control group
            from engine.models.apply import apply_learned

            with timer.stage("learned"):
                curves, learned = apply_learned(curves, solved.times, track, source_solved, options, reporter)
        with timer.stage("export"):
            write_take_files(writer.path, solved, curves, rigmapper_fps(options, info))
        reporter.progress("export", 1, 1)
        meta = take_metadata(options, info, track, solved, timer.timings, reporter.warnings)
        if learned is not None:
            meta["learned"] = learned
        if lipsync_meta is not None:
            meta["lipsync"] = lipsync_meta
            meta["files"].update(AUDIO_TAKE_FILES)
        if options.preview:   # engine/preview: preview.mp4 goes into the take before it is committed
            from engine.preview.preview import add_preview_to_take

            with timer.stage("preview"):
                add_preview_to_take(writer.path, meta, options.preview_options, reporter)
        return writer.commit(meta)


def solve_and_retarget(track: FaceTrack, options: RunOptions, reporter: Reporter, timer: StageTimer):
    """The solve and rig stages: (solved at the track's own frame times, solved at the output times,
    rig curves at the output times). The first is what the learned video model reads."""
    with timer.stage("solve"):
        source_solved = solve(track, options.solve)
        solved = resample_take(source_solved, options.fps_out) if options.fps_out else source_solved
    if landmarks_usable(track, options.solve) and not source_solved.sources.get("landmarks"):
        reporter.warning("no_rest", "the clip holds no resting moment and no actor profile was given: cheek "
                         "puff, cheek squint, sneer, jaw forward, lips together and lip roll come from MediaPipe "
                         "alone (which barely moves them)",
                         hint="make a profile once per actor (`faceretarget-engine calibrate`) and pass --actor")
    reporter.progress("solve", 1, 1)
    with timer.stage("rig"):
        curves = retarget(solved.arkit, options.rig, solved.times, options.mapping)
    reporter.progress("rig", 1, 1)
    return source_solved, solved, curves


def check_track(track: FaceTrack, info: VideoInfo, reporter: Reporter) -> None:
    if len(track) == 0:
        raise BadInput(f"no frame could be decoded from {info.path.name}", "the file is corrupt; re-export it")
    if not track.detected.any():
        raise NoFaceFound(f"no face found in any of the {len(track)} frames of {info.path.name}",
                          "the actor's face must be visible, lit and at least ~80 px wide")
    for a, b in track.gaps():
        end = track.times[b] if b < len(track) else track.times[-1]
        reporter.warning("face_lost", f"no face from {track.times[a]:.2f}s to {end:.2f}s ({b - a} frames)",
                         start=float(track.times[a]), end=float(end), frames=b - a)
    if track.detected_share < LOW_DETECTION_SHARE:
        reporter.warning("low_detection", f"face found in only {track.detected_share:.0%} of frames")


def rigmapper_fps(options: RunOptions, info: VideoInfo) -> float | None:
    """The frame rate of rigmapper.csv's frame numbers: --fps-out, else the video's own rate."""
    return options.fps_out or info.fps or None


def write_take_files(folder: Path, solved: SolvedTake, curves, fps: float | None = None) -> None:
    write_curves_csv(folder / TAKE_FILES["faceboard"], solved.times, curves.faceboard_names, curves.faceboard)
    write_curves_csv(folder / TAKE_FILES["raw_curves"], solved.times, curves.raw_names, curves.raw)
    head_rad = np.deg2rad(solved.head_pose[:, 3:6])
    write_livelink_csv(folder / TAKE_FILES["arkit"], solved.times, solved.arkit, head=head_rad)
    write_curves_csv(folder / TAKE_FILES["head_pose"], solved.times, ["detected", *HEAD_POSE_COLUMNS],
                     np.column_stack([solved.detected.astype(float), solved.head_pose]))
    write_rigmapper_csv(folder / TAKE_FILES["rigmapper"], solved.times, curves.raw_names, curves.raw, fps)


def take_metadata(options: RunOptions, info: VideoInfo, track: FaceTrack, solved: SolvedTake,
                  timings: dict[str, float], warnings: list[dict]) -> dict:
    import mediapipe

    return {
        "rig": options.rig,
        "fps": info.fps,
        "frame_count": len(solved.times),
        "source_frame_count": len(track),
        "duration": float(solved.times[-1]) if len(solved.times) else 0.0,
        "time_sampling": f"uniform {options.fps_out} fps" if options.fps_out else "source frame times",
        "rigmapper_fps": rigmapper_rate(rigmapper_fps(options, info), solved.times),
        "inputs": {"video": {"path": str(Path(options.video).absolute()), "sha256": file_sha256(info.path),
                             "width": info.width, "height": info.height, "rotation": info.rotation}},
        "options": options.to_json(),
        "actor": actor_record(options),
        "engine": {"version": engine.__version__, "python": platform.python_version(),
                   "mediapipe": mediapipe.__version__, "face_landmarker_sha256": MODEL_SHA256},
        "tracking": {"detected_share": round(track.detected_share, 4),
                     "neutral_frames": [float(track.times[i]) for i in solved.neutral_frames[:50]],
                     "neutral_scores": dict(zip(ARKIT_NAMES, np.round(solved.neutral, 4).tolist())),
                     "neutral_source": solved.sources.get("neutral", {}).get("source"),
                     "neutral_lowered_to_clip_rest": solved.sources.get("neutral", {}).get("lowered_to_clip_rest", []),
                     "gaps": [g.to_json() for g in solved.gaps]},
        "timings": timings,
        "warnings": warnings,
        "files": dict(TAKE_FILES),
    }


def actor_record(options: RunOptions) -> dict | None:
    """take.json's record of the actor profile the solve used (None: the population resting model)."""
    if options.solve.actor is None:
        return None
    path = Path(options.solve.actor)
    return {"path": str(path.absolute()), "sha256": file_sha256(path), "name": load_profile(path).name,
            "format": PROFILE_FORMAT}
