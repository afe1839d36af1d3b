"""`faceretarget-engine lipsync --audio A [--transcript T] --out TAKE`: an audio-only take."""
from __future__ import annotations

import argparse
from pathlib import Path

from engine.arguments import OFFSET, RATE, add_overwrite_option, add_progress_option, add_rig_option
from engine.config import LIP_CORRECTION_MODES, AudioOptions

DEFAULTS = AudioOptions()


def add_speech_options(parser: argparse.ArgumentParser) -> None:
    """Options shared by `lipsync` and `run` (defaults from engine.config.AudioOptions)."""
    parser.add_argument("--transcript", default=DEFAULTS.transcript,
                        help="transcript file, or the text itself (default: recognise phones)")
    parser.add_argument("--language", default=DEFAULTS.language,
                        help="en: pocketsphinx; zh: Mandarin (pinyin alignment with a transcript, loudness "
                             "track without); anything else: loudness/spectral mouth track (default: %(default)s)")
    parser.add_argument("--recognizer", choices=["words", "phones"], default=DEFAULTS.recognizer,
                        help="without a transcript: recognise words then align them, or phones only "
                             "(default: %(default)s)")


def register(subparsers) -> None:
    parser = subparsers.add_parser("lipsync", help="speech audio to a mouth-only take folder")
    parser.add_argument("--audio", type=Path, required=True,
                        help="speech recording: wav, flac, mp3, m4a, ... or a video with sound")
    parser.add_argument("--out", type=Path, required=True, help="take folder to write (must not exist)")
    add_speech_options(parser)
    parser.add_argument("--fps", type=RATE, default=DEFAULTS.fps, help="curve rate (default: %(default)s)")
    add_rig_option(parser)
    add_overwrite_option(parser)
    add_progress_option(parser)
    parser.set_defaults(handler=command_lipsync)


def command_lipsync(args: argparse.Namespace, reporter) -> None:
    from engine.audio.take import lipsync_take   # here, not above: pocketsphinx and SciPy load only for a run

    options = AudioOptions(audio=args.audio, transcript=args.transcript, language=args.language, fps=args.fps,
                           recognizer=args.recognizer)
    take = lipsync_take(args.audio, args.out, options, args.rig, args.overwrite, reporter)
    reporter.result(str(take), {"warnings": len(reporter.warnings)})


def add_run_audio_options(parser: argparse.ArgumentParser) -> None:
    """`run --audio A [--transcript T] [--lip-correction MODE] [--audio-offset S]`."""
    parser.add_argument("--audio", type=Path, default=DEFAULTS.audio,
                        help="speech recording for mouth correction (wav, flac, mp3, m4a, ...)")
    add_speech_options(parser)
    parser.add_argument("--lip-correction", choices=LIP_CORRECTION_MODES, default=DEFAULTS.lip_correction,
                        help="how the audio's mouth enters the take (default: auto with --audio, else off; "
                             "without --audio a mode other than off uses the video's own sound track)")
    parser.add_argument("--audio-offset", type=OFFSET, default=DEFAULTS.audio_offset,
                        help="seconds the sound lags the picture; negative if it leads (default: %(default)s)")


def audio_options_from(args: argparse.Namespace) -> AudioOptions:
    """AudioOptions of a parsed command line (defaults where the command has no such option)."""
    return AudioOptions(**{name: getattr(args, name) for name in
                           ("audio", "transcript", "language", "lip_correction", "audio_offset", "recognizer")
                           if hasattr(args, name)})
