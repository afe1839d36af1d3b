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
from engine.solve.solver import SolvedTake, landmarks_usable, resample, resample_take, solve
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
    if options.arkit is not None:
        validate_arkit(options)
    elif options.video is None or options.out is None:
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


def validate_arkit(options: RunOptions) -> None:
    """`run --arkit`: the recording replaces the video, and what only a video's tracking uses is refused."""
    if options.out is None:
        raise BadInput("--out is needed")
    conflicts = [flag for flag, given in (("--video", options.video is not None),
                                          ("--flame-params", options.flame is not None),
                                          ("--actor", options.solve.actor is not None),
                                          ("--neutral-time", options.solve.neutral_time is not None),
                                          ("--preview", options.preview),
                                          ("--video-model/--audio-model", options.learned.active)) if given]
    if conflicts:
        raise BadInput(f"--arkit cannot be combined with {', '.join(conflicts)}",
                       "an ARKit recording replaces the video: its scores are calibrated by the device (no actor "
                       "profile or neutral), and there is no video to track (`faceretarget-engine preview TAKE` "
                       "works on the finished take)")
    if options.audio.audio is None and options.audio.lip_correction not in (None, "off"):
        raise BadInput("--lip-correction needs --audio with --arkit: a CSV has no sound track",
                       "give the speech recording with --audio")
    if options.arkit_fps is not None and not 1 <= options.arkit_fps <= 1000:
        raise BadInput(f"--arkit-fps {options.arkit_fps:g} is out of range", "use the recording's rate, e.g. 30 or 60")


def run(options: RunOptions, reporter: Reporter) -> Path:
    """Write a take folder for options.video at options.out and return its path."""
    if options.arkit is not None:   # engine/track/arkit_source: an iPhone ARKit recording instead of the video
        return run_arkit(options, reporter)
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


def run_arkit(options: RunOptions, reporter: Reporter) -> Path:
    """`run --arkit`: the recording's scores (smoothed if asked, nothing subtracted) through the same rig and
    export stages as a video's; with --audio, the same lip correction."""
    from engine.track.arkit_source import as_solved, read_arkit_track, smoothed

    validate(options)
    timer = StageTimer()
    with TakeWriter(options.out, options.overwrite) as writer:
        with timer.stage("audio"):
            speech_audio = prepare_audio(options, reporter)
        with timer.stage("read"):
            track = read_arkit_track(options.arkit, options.arkit_fps)
        reporter.progress("read", 1, 1)
        with timer.stage("solve"):
            source = smoothed(track, options.solve.smoothing_cutoff_hz)
            solved = as_solved(source)
            eyes = source.eyes
            if options.fps_out:
                solved = resample_take(solved, options.fps_out)
                eyes = resample(source.times, source.eyes, solved.times)
        reporter.progress("solve", 1, 1)
        curves = rig_stage(solved, options, reporter, timer)
        lipsync_meta = None
        if speech_audio is not None:
            with timer.stage("lip_correction"):
                lipsync_meta = apply_correction(speech_audio, options, solved, curves, writer.path, reporter)
        fps = options.fps_out or track.record["fps"]
        with timer.stage("export"):
            write_take_files(writer.path, solved, curves, fps, eyes=eyes)
        reporter.progress("export", 1, 1)
        files = {key: name for key, name in TAKE_FILES.items() if key != "landmarks"}
        meta = {**take_summary(options, solved, len(track.times), fps, fps),
                "inputs": {"arkit": track.record},
                "options": options.to_json(),
                "actor": None,
                "engine": {"version": engine.__version__, "python": platform.python_version()},
                "tracking": {"source": "arkit", "calibration": solved.sources["neutral"]["source"],
                             "head": track.record["head"], "eyes": track.record["eyes"]},
                "timings": timer.timings,
                "warnings": reporter.warnings,
                "files": files,
                "files_absent": {"landmarks": "an ARKit recording has no image landmarks"}}
        if lipsync_meta is not None:
            meta["lipsync"] = lipsync_meta
            meta["files"].update(AUDIO_TAKE_FILES)
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
    return source_solved, solved, rig_stage(solved, options, reporter, timer)


def rig_stage(solved: SolvedTake, options: RunOptions, reporter: Reporter, timer: StageTimer):
    """ARKit -> raw curves -> face board (engine.rig.retarget) at the solved take's times."""
    with timer.stage("rig"):
        curves = retarget(solved.arkit, options.rig, solved.times, options.mapping)
    reporter.progress("rig", 1, 1)
    return curves


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


def write_take_files(folder: Path, solved: SolvedTake, curves, fps: float | None = None,
                     eyes: np.ndarray | None = None) -> None:
    """The take's curve files; `eyes` (N, 6 radians) go into arkit.csv when the source has them."""
    write_curves_csv(folder / TAKE_FILES["faceboard"], solved.times, curves.faceboard_names, curves.faceboard)
    write_curves_csv(folder / TAKE_FILES["raw_curves"], solved.times, curves.raw_names, curves.raw)
    head_rad = np.deg2rad(solved.head_pose[:, 3:6])
    write_livelink_csv(folder / TAKE_FILES["arkit"], solved.times, solved.arkit, head=head_rad, eyes=eyes)
    write_curves_csv(folder / TAKE_FILES["head_pose"], solved.times, ["detected", *HEAD_POSE_COLUMNS],
                     np.column_stack([solved.detected.astype(float), solved.head_pose]))
    write_rigmapper_csv(folder / TAKE_FILES["rigmapper"], solved.times, curves.raw_names, curves.raw, fps)


def take_metadata(options: RunOptions, info: VideoInfo, track: FaceTrack, solved: SolvedTake,
                  timings: dict[str, float], warnings: list[dict]) -> dict:
    import mediapipe

    return {
        **take_summary(options, solved, len(track), info.fps, rigmapper_fps(options, info)),
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


def take_summary(options: RunOptions, solved: SolvedTake, source_frames: int, fps: float | None,
                 rig_fps: float | None) -> dict:
    """take.json's rate and length fields, the same for every source (video, ARKit, FLAME)."""
    return {
        "rig": options.rig,
        "fps": fps,
        "frame_count": len(solved.times),
        "source_frame_count": source_frames,
        "duration": float(solved.times[-1]) if len(solved.times) else 0.0,
        "time_sampling": f"uniform {options.fps_out} fps" if options.fps_out else "source frame times",
        "rigmapper_fps": rigmapper_rate(rig_fps, solved.times),
    }


def actor_record(options: RunOptions) -> dict | None:
    """take.json's record of the actor profile the solve used (None: the population resting model)."""
    if options.solve.actor is None:
        return None
    path = Path(options.solve.actor)
    return {"path": str(path.absolute()), "sha256": file_sha256(path), "name": load_profile(path).name,
            "format": PROFILE_FORMAT}
