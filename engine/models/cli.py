"""CLI of what a studio learns from its own recordings (torch is imported only when training runs):

    faceretarget-engine train video|audio --data DIR --out CKPT [--device auto|cpu|cuda] ...
    faceretarget-engine run --video V --out TAKE --video-model CKPT --audio-model CKPT ...
    faceretarget-engine fit-mapping --arkit take.csv --faceboard curves.csv --out mapping.json
        (a linear ARKit -> face-board mapping, engine.rig.fit_mapping; `run --mapping mapping.json`)
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from engine.arguments import OFFSET, RATE, add_progress_option, add_rig_option, number
from engine.config.learned import (BACKBONES, DEVICES, MODEL_KINDS, TEMPORAL_MODELS, AudioModelConfig,
                                   LearnedOptions, TrainOptions, VideoModelConfig)
from engine.errors import BadInput
from engine.export.livelink import read_livelink_csv
from engine.export.take import read_curves_csv
from engine.media.files import check_output_file, reading_input
from engine.protocol import JsonLinesReporter
from engine.rig.fit_mapping import FitOptions, error_table, fit

TRAIN = TrainOptions()
VIDEO = VideoModelConfig()
AUDIO = AudioModelConfig()
LEARNED = LearnedOptions()


def register(subparsers) -> None:
    register_train(subparsers)
    register_fit_mapping(subparsers)


def register_train(subparsers) -> None:
    p = subparsers.add_parser("train", help="train a video or audio -> face-board model on your own takes",
                              description="Train a learned backend on take folders (engine or Maya exports) "
                                          "and/or 174-column curve files with their media. See "
                                          "docs/learned_backends.md.")
    p.add_argument("kind", choices=MODEL_KINDS, help="video: landmarks/scores (+ face crops) -> face board; "
                                                     "audio: wav2vec2 -> face board at 60 fps")
    p.add_argument("--data", type=Path, required=True, help="folder of take folders / curve files with media")
    p.add_argument("--out", type=Path, required=True, help="checkpoint file to write (e.g. video_model.pt)")
    p.add_argument("--device", default=TRAIN.device, help="auto | cpu | cuda (default: %(default)s)")
    add_rig_option(p, TRAIN.rig)
    p.add_argument("--overwrite", action="store_true", help="replace an existing checkpoint file")
    p.add_argument("--max-steps", type=number(int, 1, 10_000_000), default=TRAIN.max_steps, help="default: %(default)s")
    p.add_argument("--batch-size", type=number(int, 1, 4096), default=TRAIN.batch_size, help="default: %(default)s")
    p.add_argument("--lr", type=number(float, above=0, high=10), default=TRAIN.learning_rate, help="default: %(default)s")
    p.add_argument("--window", type=number(float, above=0, high=60), default=TRAIN.window_s, help="training window in seconds (default: %(default)s)")
    p.add_argument("--eval-every", type=number(int, 1), default=TRAIN.eval_every, help="default: %(default)s")
    p.add_argument("--patience", type=number(int, 0), default=TRAIN.patience,
                   help="validations without improvement before stopping (default: %(default)s)")
    p.add_argument("--val-fraction", type=number(float, 0, 0.9), default=TRAIN.val_fraction, help="default: %(default)s")
    p.add_argument("--seed", type=number(int), default=TRAIN.seed)
    p.add_argument("--cache", type=Path, default=TRAIN.cache_dir,
                   help="feature cache folder (default: DATA/.faceretarget-cache)")
    p.add_argument("--threads", type=number(int, 1, 256), default=TRAIN.threads, help="torch CPU threads (default: torch's)")
    p.add_argument("--hidden", type=number(int, 1, 4096), default=None, help=f"model width (default: video {VIDEO.hidden}, audio {AUDIO.hidden})")
    p.add_argument("--layers", type=number(int, 1, 64), default=None, help=f"temporal layers (default: video {VIDEO.layers}, audio {AUDIO.layers})")
    v = p.add_argument_group("video model")
    v.add_argument("--temporal", choices=TEMPORAL_MODELS, default=VIDEO.temporal, help="default: %(default)s")
    v.add_argument("--fps", type=RATE, default=VIDEO.fps, help="model rate of the video features (default: %(default)s)")
    v.add_argument("--no-landmarks", action="store_true", help="leave the landmark features out")
    v.add_argument("--no-scores", action="store_true", help="leave the ARKit score features out")
    v.add_argument("--backbone", choices=BACKBONES, default=VIDEO.backbone,
                   help="also feed face crops through this ResNet (default: none)")
    v.add_argument("--backbone-weights", default=VIDEO.backbone_weights,
                   help="local ImageNet state dict for the ResNet (torchvision's file; never downloaded)")
    v.add_argument("--freeze-backbone", action="store_true")
    v.add_argument("--crop-size", type=number(int, 16, 1024), default=VIDEO.crop_size, help="default: %(default)s")
    a = p.add_argument_group("audio model")
    a.add_argument("--encoder", default=AUDIO.encoder,
                   help="local wav2vec2 model folder (save_pretrained layout); nothing is downloaded")
    a.add_argument("--encoder-config", default=None,
                   help="a Wav2Vec2Config as JSON (file or text): train an encoder from scratch instead")
    a.add_argument("--finetune-encoder", action="store_true",
                   help="train wav2vec2 end to end (default: frozen, its features cached per clip)")
    a.add_argument("--emotion", default=TRAIN.emotion,
                   help="emotion of clips that name none (take.json 'emotion' or DATA/emotions.json)")
    add_progress_option(p)
    p.set_defaults(handler=command_train)


def train_options_from(args: argparse.Namespace) -> TrainOptions:
    video = VideoModelConfig(fps=args.fps, landmarks=not args.no_landmarks, scores=not args.no_scores,
                             backbone=args.backbone, backbone_weights=args.backbone_weights,
                             freeze_backbone=args.freeze_backbone, crop_size=args.crop_size, temporal=args.temporal,
                             hidden=args.hidden or VIDEO.hidden, layers=args.layers or VIDEO.layers)
    if not (video.landmarks or video.scores or video.backbone):
        raise BadInput("the video model has no input left", "keep landmarks or scores, or add --backbone")
    audio = AudioModelConfig(encoder=args.encoder, encoder_config=_json_arg(args.encoder_config),
                             freeze_encoder=not args.finetune_encoder, hidden=args.hidden or AUDIO.hidden,
                             layers=args.layers or AUDIO.layers)
    return TrainOptions(kind=args.kind, data=args.data, out=args.out, rig=args.rig, device=args.device,
                        overwrite=args.overwrite, val_fraction=args.val_fraction, window_s=args.window,
                        batch_size=args.batch_size, max_steps=args.max_steps, learning_rate=args.lr,
                        eval_every=args.eval_every, patience=args.patience, seed=args.seed, cache_dir=args.cache,
                        emotion=args.emotion, threads=args.threads, video=video, audio=audio)


def _json_arg(value: str | None) -> dict | None:
    if value is None:
        return None
    text = Path(value).read_text() if Path(value).is_file() else value
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadInput(f"--encoder-config is neither a JSON file nor JSON text: {exc}",
                       'e.g. {"hidden_size": 256, "num_hidden_layers": 4, "num_attention_heads": 4}') from exc
    if not isinstance(doc, dict):
        raise BadInput("--encoder-config must be a JSON object", "keys of transformers.Wav2Vec2Config")
    return doc


def command_train(args: argparse.Namespace, reporter) -> None:
    # here, not above: torch loads only when training starts
    from engine.models.train import train

    import sys

    check_output_file(args.out, (), "checkpoint")
    summary = train(train_options_from(args), reporter)
    if isinstance(reporter, JsonLinesReporter):
        reporter.result(summary.pop("checkpoint"), {k: v for k, v in summary.items() if k != "table"})
    else:   # the validation table was logged; say where the model went
        sys.stderr.write(f"checkpoint written: {summary['checkpoint']} (best step {summary['best_step']}, "
                         f"{summary['frames_per_s']:.0f} training frames/s on {summary['device']})\n")


# ---------------------------------------------------------------------------------------------------
# `run` options
# ---------------------------------------------------------------------------------------------------

def add_run_options(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("learned models (docs/learned_backends.md)")
    g.add_argument("--video-model", type=Path, default=LEARNED.video_model,
                   help="video -> face-board checkpoint from `train video`")
    g.add_argument("--audio-model", type=Path, default=LEARNED.audio_model,
                   help="audio -> face-board checkpoint from `train audio` (sound: --audio, else the video's)")
    g.add_argument("--video-model-groups", default=LEARNED.video_groups,
                   help="control groups the video model drives: group[=weight],... ; 1 replaces, <1 blends "
                        "(default: %(default)s)")
    g.add_argument("--audio-model-groups", default=LEARNED.audio_groups,
                   help="control groups the audio model drives (default: %(default)s)")
    g.add_argument("--emotion", default=LEARNED.emotion, help="audio model emotion (default: %(default)s)")
    g.add_argument("--device", default=LEARNED.device, choices=DEVICES,
                   help="where the learned models run (default: %(default)s)")


def learned_options_from(args: argparse.Namespace) -> LearnedOptions:
    if getattr(args, "video_model", None) is None and getattr(args, "audio_model", None) is None:
        return LearnedOptions()
    return LearnedOptions(video_model=args.video_model, audio_model=args.audio_model,
                          video_groups=args.video_model_groups, audio_groups=args.audio_model_groups,
                          emotion=args.emotion, device=args.device)


def register_fit_mapping(subparsers) -> None:
    d = FitOptions()
    p = subparsers.add_parser("fit-mapping", help="learn an ARKit -> face-board mapping from paired recordings")
    p.add_argument("--arkit", type=Path, required=True, help="Live Link Face CSV (or a take's arkit.csv)")
    p.add_argument("--faceboard", type=Path, required=True, help="face-board curves CSV: time,CTRL_*... (any rate)")
    p.add_argument("--out", type=Path, required=True, help="mapping JSON to write (use with run --mapping)")
    add_rig_option(p, d.rig)
    p.add_argument("--ridge", type=number(float, 0), default=d.ridge, help="regularisation (default: %(default)s)")
    p.add_argument("--bound", type=number(float, above=0), default=d.bound, help="largest |weight| (default: %(default)s)")
    p.add_argument("--holdout", type=number(float, 0, 0.9), default=d.holdout, help="held-out share at the end (default: %(default)s)")
    p.add_argument("--offset", type=OFFSET, default=d.offset, help="seconds the face-board file starts after the ARKit one")
    p.add_argument("--no-features", action="store_true", help="ARKit-52 inputs only (no derived features)")
    add_progress_option(p)
    p.set_defaults(handler=command_fit_mapping)


def command_fit_mapping(args, reporter) -> None:
    for path in (args.arkit, args.faceboard):
        if not Path(path).is_file():
            raise BadInput(f"file not found: {path}", "give the recording's Live Link CSV and its face-board CSV")
    if not 0 <= args.holdout < 0.9:
        raise BadInput(f"--holdout {args.holdout} must be in [0, 0.9)")
    check_output_file(args.out, (args.arkit, args.faceboard), "mapping JSON")
    with reading_input(args.arkit, "Live Link Face CSV", "export it from the Live Link Face app"):
        take = read_livelink_csv(args.arkit)
    with reading_input(args.faceboard, "face-board curves CSV", "the file needs `time,CTRL_...` columns"):
        fb_times, fb_names, fb_values = read_curves_csv(args.faceboard)
    for path, values in ((args.arkit, take.arkit()), (args.faceboard, fb_values)):
        if not np.isfinite(values).all():
            raise BadInput(f"{Path(path).name} holds non-finite values (NaN or infinity)",
                           "fill or drop the frames where tracking was lost, then fit again")
    options = FitOptions(rig=args.rig, ridge=args.ridge, bound=args.bound, holdout=args.holdout, offset=args.offset,
                         features=not args.no_features)
    reporter.progress("fit", 0, 1)
    mapping = fit(take.times, take.arkit(), fb_times, fb_names, fb_values, options)
    reporter.progress("fit", 1, 1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(mapping.to_json(), indent=1))
    print(error_table(mapping))
    reporter.result(str(args.out), {"held_out_mae": mapping.report["held_out_mae"]})
