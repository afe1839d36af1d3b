"""The track sources `run` takes: a face video (tracked by MediaPipe), an iPhone ARKit recording, a FLAME
parameter sequence. Each checks what it needs before any work and yields a SourceTrack
(engine.track.facetrack); engine.pipeline.stages runs the one path after it."""
from __future__ import annotations

from importlib.metadata import version
from pathlib import Path

from engine.config import RunOptions
from engine.errors import BadInput, NoFaceFound
from engine.export.take import TAKE_FILES, file_sha256
from engine.media.video import VideoInfo, probe
from engine.protocol import Reporter
from engine.solve.actor import load_profile, tracking_name
from engine.track.arkit_source import arkit_source
from engine.track.facetrack import FaceTrack, SourceTrack
from engine.track.landmarker import TrackerOptions
from engine.track.model_bundle import MODEL_SHA256
from engine.track.run_tracker import track_video

# A clip where the face is found in less than this share of frames is still written, with a warning.
LOW_DETECTION_SHARE = 0.5


class VideoSource:
    """`run --video`: MediaPipe's landmarks and scores per frame; landmarks.npy goes into the take."""

    kind = "video"
    takes_audio = True     # lip correction from --audio, or from the video's own sound track
    has_video = True       # the learned video model and the preview need the frames

    def check(self, options: RunOptions) -> None:
        if options.video is None:
            raise BadInput("both --video and --out are needed")

    def read(self, options: RunOptions, folder: Path, reporter: Reporter, timer) -> SourceTrack:
        with timer.stage("probe"):
            info = probe(options.video)
        if info.still:
            raise BadInput(f"{Path(options.video).name} is a still image, not a video",
                           "give the recording; a still of the actor at rest belongs to `calibrate`")
        with timer.stage("track"):
            track = track_video(info, folder / TAKE_FILES["landmarks"], reporter,
                                TrackerOptions(model_path=options.model_path, symmetric=options.symmetric), timer)
        check_track(track, info, reporter)
        check_profile_tracking(options, reporter)
        inputs = {"video": {"path": str(Path(options.video).absolute()), "sha256": file_sha256(info.path),
                            "width": info.width, "height": info.height, "rotation": info.rotation}}
        return SourceTrack(self.kind, track, info.fps or None, inputs,
                           {"source": self.kind, "symmetric": options.symmetric})

    def engine_info(self) -> dict:
        return {"mediapipe": version("mediapipe"), "face_landmarker_sha256": MODEL_SHA256}


class ArkitSource:
    """`run --arkit`: the recording replaces the video; what only a video's tracking uses is refused."""

    kind = "arkit"
    takes_audio = True
    has_video = False

    def check(self, options: RunOptions) -> None:
        conflicts = [flag for flag, given in (("--video", options.video is not None),
                                              ("--flame-params", options.flame is not None),
                                              ("--actor", options.solve.actor is not None),
                                              ("--neutral-time", options.solve.neutral_time is not None),
                                              ("--preview", options.preview),
                                              ("--symmetric", options.symmetric),
                                              ("--video-model/--audio-model", options.learned.active)) if given]
        if conflicts:
            raise BadInput(f"--arkit cannot be combined with {', '.join(conflicts)}",
                           "an ARKit recording replaces the video: its scores are calibrated by the device (no "
                           "actor profile or neutral), and there is no video to track (`faceretarget-engine "
                           "preview TAKE` works on the finished take)")
        if options.audio.audio is None and options.audio.lip_correction not in (None, "off"):
            raise BadInput("--lip-correction needs --audio with --arkit: a CSV has no sound track",
                           "give the speech recording with --audio")
        if options.arkit_fps is not None and not 1 <= options.arkit_fps <= 1000:
            raise BadInput(f"--arkit-fps {options.arkit_fps:g} is out of range",
                           "use the recording's rate, e.g. 30 or 60")

    def read(self, options: RunOptions, folder: Path, reporter: Reporter, timer) -> SourceTrack:
        with timer.stage("read"):
            source = arkit_source(options.arkit, options.arkit_fps)
        reporter.progress("read", 1, 1)
        return source

    def engine_info(self) -> dict:
        return {}


class FlameSource:
    """`run --flame-params`: FLAME parameters converted to ARKit-52 weights on a target head."""

    kind = "flame_params"
    takes_audio = False
    has_video = False

    def check(self, options: RunOptions) -> None:
        if options.video is not None:
            raise BadInput("give either --video or --flame-params, not both")
        # here, not above: the FLAME reader and the rig conversion (SciPy) load only for a FLAME run
        from engine.blendshapes.source import check_flame_options

        check_flame_options(options.flame)

    def read(self, options: RunOptions, folder: Path, reporter: Reporter, timer) -> SourceTrack:
        if options.audio.audio is not None or options.preview or options.learned.active:
            reporter.warning("flame_input_only", "with --flame-params, --audio, --preview and the learned models "
                             "are not applied (they need the video)")
        from engine.blendshapes.source import flame_source   # loaded by check above

        with timer.stage("convert"):
            return flame_source(options.flame, reporter)

    def engine_info(self) -> dict:
        return {}


def pick_source(options: RunOptions) -> VideoSource | ArkitSource | FlameSource:
    if options.arkit is not None:
        return ArkitSource()
    if options.flame is not None:
        return FlameSource()
    return VideoSource()


def check_profile_tracking(options: RunOptions, reporter: Reporter) -> None:
    """An actor profile tracked the other way (single pass vs --symmetric) rests at slightly other levels."""
    if options.solve.actor is None:
        return
    profile = load_profile(options.solve.actor)
    made = profile.tracking
    wanted = tracking_name(options.symmetric)
    if profile.read_as(options.symmetric) is None:
        reporter.warning("actor_tracking_differs",
                         f"the actor profile was made with {made} tracking, this run uses {wanted} tracking: its "
                         "resting levels may be off by MediaPipe's left/right bias",
                         hint="re-run calibrate: it now reads the capture both ways")


def check_track(track: FaceTrack, info: VideoInfo, reporter: Reporter) -> None:
    """A video with no decodable frame or no face at all is refused; gaps and a low share are warned."""
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
