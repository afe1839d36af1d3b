"""`run --video-model CKPT --audio-model CKPT`: learned predictions replace or blend with the pipeline's
face-board values per control group (LearnedOptions), recorded in take.json under "learned"."""
from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from engine.errors import BadInput
from engine.export.take import file_sha256
from engine.models.checkpoint import load_checkpoint
from engine.models.groups import column_weights, group_columns, parse_group_weights
from engine.config.learned import LearnedOptions
from engine.protocol import Reporter
from engine.rig.faceboard import load_faceboard
from engine.models.device import resolve_device
from engine.models.features import FEATURE_VERSION, feature_size
from engine.models.data import crops_for
from engine.models.features import frame_features, nearest_index, resample_rows, uniform_grid
from engine.models.data import prepare_samples
from engine.models.device import autocast
from engine.models.features import TrackRecord, resample_rows
from engine.rig.retarget import RigCurves
from engine.audio.io import load_audio

log = logging.getLogger("faceretarget.models")


def validate_learned(options: LearnedOptions, rig: str) -> None:
    """Checks before any work (the run's validate step): group specs parse, the checkpoints exist, are ours,
    of the right kind, and match the rig and its control order; the device exists."""
    parse_group_weights(options.video_groups)
    parse_group_weights(options.audio_groups)
    for flag, kind, path in (("--video-model", "video", options.video_model),
                             ("--audio-model", "audio", options.audio_model)):
        if path is not None and not Path(path).is_file():
            raise BadInput(f"{flag} {path}: file not found",
                           "give a checkpoint written by `faceretarget-engine train`")
        if path is not None:
            load_checkpoint(Path(path), kind, rig, list(load_faceboard(rig).names))

    resolve_device(options.device)


def load_model(doc: dict, device):
    """Rebuild the network a checkpoint describes and load its weights."""
    if doc["kind"] == "video":
        # torch loads only when a learned model runs (a run without one never imports it)
        from engine.models.video_model import VideoRegressor

        if doc.get("feature_version") != FEATURE_VERSION:
            raise BadInput(f"the video model was trained on features of version {doc.get('feature_version')}, "
                           f"this engine computes version {FEATURE_VERSION}", "retrain it with this engine")
        config = dict(doc["config"], backbone_weights=None)   # the weights are in the state dict
        model = VideoRegressor(config, feature_size(config), len(doc["controls"]))
    else:
        # torch loads only when a learned model runs (a run without one never imports it)
        from engine.models.audio_model import AudioToFaceboard, build_encoder

        encoder, encoder_config = build_encoder(doc["config"], doc["encoder_config"])
        model = AudioToFaceboard(doc["config"], len(doc["controls"]), len(doc["emotions"]), encoder,
                                 encoder_config)
    model.load_state_dict(doc["state_dict"])
    return model.to(device).eval()


def predict_video(doc: dict, model, record, device, work: Path) -> tuple[np.ndarray, np.ndarray]:
    """(grid times, (T, C) face-board values) for a TrackRecord."""
    # torch loads only when a learned model runs (a run without one never imports it)
    from engine.models.train import predict_video_frames

    config = doc["config"]
    grid = uniform_grid(record.times[0], record.times[-1], config["fps"])
    feats = resample_rows(record.times, frame_features(record, config), grid)
    crops = crops_for(record, config["crop_size"], work) if config.get("backbone") else None
    values = predict_video_frames(model, feats, doc["normalization"], doc["window"], device, crops,
                                  nearest_index(record.times, grid))
    return grid, values


def predict_audio(doc: dict, model, samples: np.ndarray, emotion: str, device) -> tuple[np.ndarray, np.ndarray]:
    """(frame times in the audio, (T, C) face-board values) for 16 kHz samples."""
    # torch loads only when a learned model runs (a run without one never imports it)
    import torch

    from engine.models.audio_model import encode_long
    from engine.models.train import predict_audio_frames

    emotions = list(doc["emotions"])
    if emotion not in emotions:
        raise BadInput(f"the audio model knows no emotion {emotion!r}", f"use one of: {', '.join(emotions)}")
    config = doc["config"]
    x = torch.from_numpy(prepare_samples(samples, config["normalize_audio"])).to(device)
    with autocast(device):
        hidden = encode_long(model, x).float().cpu()
    n_frames = max(1, int(np.floor(len(samples) / 16000 * config["fps"])))
    values = predict_audio_frames(model, hidden, emotions.index(emotion), n_frames, doc["window"], config["fps"],
                                  doc["normalization"], device)
    return np.arange(n_frames) / config["fps"], values


def blend(base: np.ndarray, learned: np.ndarray, weights: np.ndarray) -> np.ndarray:
    return base * (1.0 - weights) + learned * weights


def apply_learned(curves, out_times: np.ndarray, track, source_solved, options, reporter: Reporter):
    """Blend learned predictions into `curves` (engine.rig.retarget.RigCurves) at `out_times`.

    track: the run's FaceTrack; source_solved: the SolvedTake at the track's own frame times (before any
    --fps-out resampling): the same inputs the video model was trained on. Returns (RigCurves, take.json
    record)."""
    import tempfile

    learned: LearnedOptions = options.learned
    board = load_faceboard(options.rig)
    names = list(board.names)
    device = resolve_device(learned.device)
    values = np.array(curves.faceboard, dtype=float)
    record: dict = {"device": str(device)}
    total = int(learned.video_model is not None) + int(learned.audio_model is not None)
    if learned.video_model is not None:
        reporter.progress("learned", 0, total)
        doc = load_checkpoint(Path(learned.video_model), "video", options.rig, names)
        model = load_model(doc, device)
        track_record = TrackRecord(track.times, track.detected, source_solved.arkit, track.landmarks(),
                                   track.image_size, source_solved.neutral_frames, Path(options.video))
        with tempfile.TemporaryDirectory(prefix="faceretarget-crops-") as work:
            grid, pred = predict_video(doc, model, track_record, device, Path(work))
        pred = resample_rows(grid, pred, np.asarray(out_times, float))
        values, record["video"] = _blend_record(values, pred, doc, learned.video_model, learned.video_groups, names)
    if learned.audio_model is not None:
        reporter.progress("learned", total - 1, total)
        doc = load_checkpoint(Path(learned.audio_model), "audio", options.rig, names)
        model = load_model(doc, device)
        source = options.audio.audio or options.video
        audio = load_audio(source, check_silence=False)
        times, pred = predict_audio(doc, model, audio.samples, learned.emotion, device)
        # audio time = picture time + audio_offset (the sound lags the picture by audio_offset)
        pred = resample_rows(times - options.audio.audio_offset, pred, np.asarray(out_times, float))
        values, record["audio"] = _blend_record(values, pred, doc, learned.audio_model, learned.audio_groups, names)
        record["audio"].update({"source": str(Path(source).absolute()), "emotion": learned.emotion,
                                "audio_offset": options.audio.audio_offset})
    reporter.progress("learned", total, total)
    values = board.clamp(values)
    return RigCurves(options.rig, names, values, list(board.raw_curve_names), board.to_raw(values)), record


def _blend_record(values: np.ndarray, pred: np.ndarray, doc: dict, path, spec: str, names: list[str]):
    groups = parse_group_weights(spec)
    weights = column_weights(names, groups) * np.asarray(doc["trained_controls"], float)
    out = blend(values, pred, weights[None, :])
    per_group = {}
    for g, cols in group_columns(names).items():
        w = weights[cols]
        per_group[g] = {"weight": groups.get(g, 0.0), "controls": len(cols),
                        "learned_controls": int((w > 0).sum()),
                        "mode": "replace" if w.size and np.all(w[w > 0] == 1) and (w > 0).any() else
                        ("blend" if (w > 0).any() else "pipeline")}
    result = doc["training"].get("result", {})
    rec = {"checkpoint": str(Path(path).absolute()), "sha256": file_sha256(Path(path)),
           "rig": doc["rig"], "groups": per_group, "trained_on": doc["training"].get("clips", {}).get("train", []),
           "best_step": result.get("step"), "validation_loss": (result.get("validation") or {}).get("loss")}
    log.info("%s model %s: %s", doc["kind"], Path(path).name,
             ", ".join(f"{g} {v['mode']}" for g, v in per_group.items()))
    return out, rec
