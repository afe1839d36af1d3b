"""`faceretarget-engine live`: stream a camera or a video file to Unreal as Live Link Face UDP packets."""
from __future__ import annotations

import argparse
from pathlib import Path

from engine.arguments import RATE, SECONDS, add_progress_option, number
from engine.config import SolveOptions
from engine.errors import BadInput
from engine.config.live import LiveOptions
from engine.protocol import Reporter

DEFAULTS = LiveOptions()
SOLVE_DEFAULTS = SolveOptions()


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "live", help="stream a camera or video to Unreal's Live Link Face source (UDP)",
        description="Track a face from a camera or a video file and send Live Link Face packets (version 6: "
                    "ARKit-52, head and eye rotations) at the source's frame rate, so that Unreal's Live Link "
                    "Face source drives a MetaHuman without an iPhone. Prints the capture-to-send latency of "
                    "every frame. Stop with Ctrl+C.")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--camera", type=number(int, 0), metavar="INDEX", help="OpenCV camera index (0 = the first camera)")
    source.add_argument("--video", type=Path, metavar="FILE", help="stream a video file instead of a camera")
    parser.add_argument("--realtime", action="store_true",
                        help="with --video: play the file at its own frame times, like a camera (frames that "
                             "arrive while the previous one is still processed are dropped)")
    parser.add_argument("--livelink", required=True, metavar="HOST:PORT",
                        help="where Unreal listens (its Live Link Face source; port 11111 by default)")
    parser.add_argument("--subject", default=DEFAULTS.subject, help="Live Link subject name (default: %(default)s)")
    parser.add_argument("--device-id", default=DEFAULTS.device_id,
                        help="device id in the packets (default: FaceRetarget-<host name>)")
    parser.add_argument("--seconds", type=number(float, above=0), default=DEFAULTS.max_seconds,
                        help="stop after this many seconds of source time (default: until the end / Ctrl+C)")
    parser.add_argument("--camera-fps", type=RATE, default=DEFAULTS.camera_fps,
                        help="ask the camera for this frame rate (default: the camera's own)")
    parser.add_argument("--timecode-start", type=number(float, 0, 24 * 3600), default=DEFAULTS.timecode_start_s, metavar="SECONDS",
                        help="time of day (s since midnight) of the first frame's timecode (default: now)")
    parser.add_argument("--neutral-time", type=SECONDS, default=SOLVE_DEFAULTS.neutral_time,
                        help="seconds into the stream where the actor's face is at rest (default: the actor "
                             "profile, else `run`'s population rule over the frames seen)")
    parser.add_argument("--actor", type=Path, default=SOLVE_DEFAULTS.actor,
                        help="actor profile from `calibrate`: its neutral from the first frame on")
    parser.add_argument("--neutral-window", type=number(float, above=0, high=3600), default=DEFAULTS.neutral_window_s,
                        help="seconds of history the running neutral estimate looks at (default: %(default)s)")
    parser.add_argument("--min-cutoff", type=number(float, above=0, high=1000), default=SOLVE_DEFAULTS.one_euro_min_cutoff,
                        help="One-Euro filter minimum cutoff in Hz (default: %(default)s)")
    parser.add_argument("--beta", type=number(float, 0, 1000), default=SOLVE_DEFAULTS.one_euro_beta,
                        help="One-Euro filter speed coefficient (default: %(default)s)")
    parser.add_argument("--quiet", action="store_true", help="no line per frame, only the summary")
    parser.add_argument("--model", type=Path, default=DEFAULTS.model_path, help="path to face_landmarker.task")
    add_progress_option(parser)
    parser.set_defaults(handler=command_live)


def options_from(args: argparse.Namespace) -> LiveOptions:
    if args.actor is not None and args.neutral_time is not None:
        raise BadInput("--actor and --neutral-time both name the actor's neutral", "give one of them")
    solve = SolveOptions(neutral_time=args.neutral_time, one_euro_min_cutoff=args.min_cutoff,
                         one_euro_beta=args.beta, actor=args.actor)
    return LiveOptions(camera=args.camera, video=args.video, realtime=args.realtime, livelink=args.livelink,
                       subject=args.subject, device_id=args.device_id, max_seconds=args.seconds,
                       timecode_start_s=args.timecode_start, neutral_window_s=args.neutral_window,
                       camera_fps=args.camera_fps, model_path=args.model, frame_log=not args.quiet,
                       progress=args.progress, solve=solve)


def command_live(args: argparse.Namespace, reporter: Reporter) -> None:
    # here, not above: OpenCV's camera and MediaPipe load only when streaming starts
    from engine.live.stream import stream

    stream(options_from(args), reporter)
