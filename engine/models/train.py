"""Training of the learned backends: windows sampled from clips, masked MSE on normalised targets, AdamW
with warm-up and cosine decay, mixed precision on CUDA, validation on held-out clips with a per-group
table, a checkpoint on every improvement and early stopping."""
from __future__ import annotations

import logging
import math
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch

import engine
from engine.errors import BadInput
from engine.models.checkpoint import CHECKPOINT_FORMAT, jsonable, save_checkpoint
from engine.models.device import autocast, describe, grad_scaler, resolve_device
from engine.models.features import FEATURE_VERSION
from engine.models.groups import GROUP_NAMES, group_columns
from engine.config.learned import TrainOptions
from engine.protocol import Reporter
from engine.rig.faceboard import load_faceboard
from engine.models.audio_model import ENCODER_HZ
from engine.models.data import cache_folder, discover, split_clips, video_clip
from engine.models.features import feature_size
from engine.models.video_model import VideoRegressor
from engine.models.audio_model import ENCODER_HZ, AudioToFaceboard, encode_long
from engine.models.data import audio_clip, discover, split_clips

log = logging.getLogger("faceretarget.models")

FEATURE_STD_FLOOR = 0.05     # a feature that hardly varies in training must not blow up at inference
TARGET_STD_FLOOR = 0.01      # x the attribute's range
EVAL_BATCH = 16              # windows per forward pass at validation / inference


# ---------------------------------------------------------------------------------------------------
# Normalisation and prediction helpers (shared with engine.models.apply)
# ---------------------------------------------------------------------------------------------------

def target_stats(targets: list[np.ndarray], masks: list[np.ndarray], board) -> tuple[np.ndarray, np.ndarray]:
    values = np.concatenate(targets).astype(np.float64)
    weight = np.concatenate([np.broadcast_to(m, t.shape) for t, m in zip(targets, masks)]).astype(float)
    count = np.maximum(weight.sum(0), 1.0)
    mean = (values * weight).sum(0) / count
    std = np.sqrt((((values - mean) ** 2) * weight).sum(0) / count)
    mean = np.where(weight.sum(0) > 0, mean, board.defaults)
    return mean.astype(np.float32), np.maximum(std, TARGET_STD_FLOOR * (board.maxs - board.mins)).astype(np.float32)


def feature_stats(features: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    values = np.concatenate(features).astype(np.float64)
    return values.mean(0).astype(np.float32), np.maximum(values.std(0), FEATURE_STD_FLOOR).astype(np.float32)


def window_starts(n: int, window: int) -> list[int]:
    if n <= window:
        return [0]
    hop = max(1, window // 2)
    starts = list(range(0, n - window + 1, hop))
    if starts[-1] != n - window:
        starts.append(n - window)
    return starts


def overlap_add(n: int, window: int, run_batch, channels: int) -> np.ndarray:
    """Predict (n, channels) by sliding windows of `window` frames (half overlap), cross-faded with
    triangular weights. run_batch(starts, length) -> (len(starts), length, channels) numpy."""
    length = min(window, n)
    starts = window_starts(n, window)
    ramp = np.minimum(np.arange(1, length + 1), np.arange(length, 0, -1)).astype(np.float64)
    out = np.zeros((n, channels))
    weight = np.zeros(n)
    for i in range(0, len(starts), EVAL_BATCH):
        batch = starts[i:i + EVAL_BATCH]
        pred = run_batch(batch, length)
        for s, p in zip(batch, pred):
            w = ramp.copy()
            if s == 0:
                w[: length // 2] = ramp.max()        # the clip's own ends get full weight
            if s + length == n:
                w[length // 2:] = ramp.max()
            out[s:s + length] += p * w[:, None]
            weight[s:s + length] += w
    return out / np.maximum(weight, 1e-9)[:, None]


def predict_video_frames(model, features: np.ndarray, norm: dict, window: int, device,
                         crops: np.ndarray | None = None, crop_index: np.ndarray | None = None) -> np.ndarray:
    """(T, F) raw features on the model grid -> (T, C) face-board values."""
    f_mean, f_std = norm["feature_mean"].numpy(), norm["feature_std"].numpy()
    t_mean, t_std = norm["target_mean"].numpy(), norm["target_std"].numpy()
    x = torch.from_numpy(((features.astype(np.float32) - f_mean) / f_std).astype(np.float32))
    model.eval()

    @torch.no_grad()
    def run(starts, length):
        batch = torch.stack([x[s:s + length] for s in starts]).to(device)
        images = None
        if crops is not None:
            images = torch.from_numpy(np.stack([np.asarray(crops[crop_index[s:s + length]]) for s in starts])).to(device)
        with autocast(device):
            return model(batch, images).float().cpu().numpy()

    return overlap_add(len(x), window, run, len(t_mean)) * t_std + t_mean


def predict_audio_frames(model, hidden: torch.Tensor, emotion: int, n_frames: int, window: int, fps: float,
                         norm: dict, device) -> np.ndarray:
    """Encoder states (T50, H) of a whole clip -> (n_frames, C) face-board values at `fps`."""
    t_mean, t_std = norm["target_mean"].numpy(), norm["target_std"].numpy()
    model.eval()
    ratio = ENCODER_HZ / fps

    @torch.no_grad()
    def run(starts, length):
        chunks = [hidden_window(hidden, s, length, ratio) for s in starts]
        h = torch.stack(chunks).to(device)
        e = torch.full((len(starts),), emotion, dtype=torch.long, device=device)
        with autocast(device):
            return model.decode(h, e, length).float().cpu().numpy()

    return overlap_add(n_frames, window, run, len(t_mean)) * t_std + t_mean


def hidden_window(hidden: torch.Tensor, start: int, length: int, ratio: float) -> torch.Tensor:
    """The encoder states covering output frames [start, start + length) (ratio = encoder Hz / fps)."""
    lo = int(round(start * ratio))
    count = max(2, int(round(length * ratio)))
    h = hidden[lo:lo + count]
    if len(h) < count:
        h = torch.cat([h, (h[-1:] if len(h) else hidden[-1:]).expand(count - len(h), -1)])
    return h.float()


# ---------------------------------------------------------------------------------------------------
# Validation table
# ---------------------------------------------------------------------------------------------------

def sample_windows(rng: np.random.Generator, lengths: np.ndarray, batch_size: int, window: int):
    """(clip, start, end, pad) of `batch_size` training windows: clips drawn in proportion to their length,
    `window` frames from a random start, a clip shorter than the window padded by `pad` frames at its end."""
    for k in rng.choice(len(lengths), size=batch_size, p=lengths / lengths.sum()):
        n = int(lengths[k])
        s = int(rng.integers(0, max(1, n - window + 1)))
        e = min(n, s + window)
        yield int(k), s, e, window - (e - s)


def window_targets(targets: torch.Tensor, channel_mask: torch.Tensor, s: int, e: int, pad: int
                   ) -> tuple[torch.Tensor, torch.Tensor]:
    """A window's targets padded to full length, and its loss weights (0 on padding and masked channels)."""
    valid = torch.zeros(e - s + pad, 1)
    valid[: e - s] = 1.0
    return torch.nn.functional.pad(targets[s:e], (0, 0, 0, pad)), valid * channel_mask[None, :]


def validation_table(preds: list[np.ndarray], targets: list[np.ndarray], masks: list[np.ndarray],
                     constant: np.ndarray, target_std: np.ndarray, names: list[str]) -> dict:
    """Per control group: RMSE of the model and of a constant predictor (the training mean), in face-board
    units, over the validation clips' frames and the controls each clip has. `loss` is the normalised MSE
    over all of them (what early stopping watches)."""
    groups = group_columns(names)
    rows = []
    sq = {g: [0.0, 0.0, 0] for g in [*groups, "all"]}
    loss_num, loss_den = 0.0, 0
    for p, t, m in zip(preds, targets, masks):
        err, base = (p - t) ** 2, (constant - t) ** 2
        loss_num += float((err[:, m] / target_std[m] ** 2).sum())
        loss_den += int(m.sum()) * len(t)
        for g, cols in [*groups.items(), ("all", list(range(len(names))))]:
            cols = [c for c in cols if m[c]]
            if cols:
                sq[g][0] += float(err[:, cols].sum())
                sq[g][1] += float(base[:, cols].sum())
                sq[g][2] += len(cols) * len(t)
    for g in [*[g for g in GROUP_NAMES if g in groups], "all"]:
        model_sq, base_sq, n = sq[g]
        if n:
            rows.append({"group": g, "controls": len(groups.get(g, names)) if g != "all" else len(names),
                         "rmse": math.sqrt(model_sq / n), "constant_rmse": math.sqrt(base_sq / n)})
    return {"loss": loss_num / max(loss_den, 1), "groups": rows}


def format_table(table: dict) -> str:
    lines = ["| group | controls | model RMSE | constant RMSE | model / constant |", "|---|---:|---:|---:|---:|"]
    for r in table["groups"]:
        ratio = f"{r['rmse'] / r['constant_rmse']:.2f}" if r["constant_rmse"] > 1e-6 else "-"
        lines.append(f"| {r['group']} | {r['controls']} | {r['rmse']:.4f} | {r['constant_rmse']:.4f} | {ratio} |")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------------
# The loop
# ---------------------------------------------------------------------------------------------------

def lr_lambda(options: TrainOptions):
    def f(step: int) -> float:
        if step < options.warmup_steps:
            return (step + 1) / options.warmup_steps
        progress = (step - options.warmup_steps) / max(1, options.max_steps - options.warmup_steps)
        return 0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))
    return f


def fit(model, param_groups, next_batch, evaluate, save, options: TrainOptions, device, reporter: Reporter,
        frames_per_batch: int) -> dict:
    """Run the optimisation; returns what happened (steps, best validation, speed)."""
    optimizer = torch.optim.AdamW(param_groups, weight_decay=options.weight_decay)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_lambda(options))
    scaler = grad_scaler(device)
    params = [p for g in param_groups for p in g["params"]]
    best, best_step, stale, step = math.inf, 0, 0, 0
    best_table: dict | None = None
    train_time, train_frames = 0.0, 0
    history = []
    stopped = "max_steps"
    for step in range(1, options.max_steps + 1):
        model.train()
        start = time.perf_counter()
        inputs, target, weight = next_batch()
        with autocast(device):
            pred = model(**inputs)
        loss = (((pred.float() - target) ** 2) * weight).sum() / weight.sum().clamp(min=1.0)
        if not torch.isfinite(loss):
            raise BadInput(f"training diverged at step {step} (loss {loss.item()})",
                           "lower --lr, or check the curves for NaN / huge values")
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.unscale_(optimizer)
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        scaler.step(optimizer)
        scaler.update()
        scheduler.step()
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        train_time += time.perf_counter() - start
        train_frames += frames_per_batch
        reporter.progress("train", step, options.max_steps)
        if step % options.eval_every == 0 or step == options.max_steps:
            table = evaluate(model)
            history.append({"step": step, "train_loss": float(loss.item()), "val_loss": table["loss"]})
            improved = table["loss"] < best * (1 - 1e-4)
            log.info("step %d: train loss %.4f, validation loss %.4f%s", step, loss.item(), table["loss"],
                     " (best so far: checkpoint saved)" if improved else f" (best {best:.4f} at step {best_step})")
            if improved:
                best, best_step, best_table, stale = table["loss"], step, table, 0
                save(model, {"step": step, "validation": table, "history": history,
                             "frames_per_s": train_frames / max(train_time, 1e-9)})
            else:
                stale += 1
                if stale >= options.patience:
                    stopped = "early_stopping"
                    log.info("early stopping: no improvement in %d validations", stale)
                    break
    reporter.progress("train", options.max_steps, options.max_steps)
    return {"steps": step, "best_step": best_step, "best_val_loss": best, "validation": best_table,
            "stopped": stopped, "frames_per_s": train_frames / max(train_time, 1e-9),
            "train_seconds": train_time, "history": history}


def base_document(kind: str, options: TrainOptions, config: dict, board, mask: np.ndarray, norm: dict,
                  clips: dict, device) -> dict:
    return {
        "format": CHECKPOINT_FORMAT,
        "kind": kind,
        "config": jsonable(config),
        "rig": options.rig,
        "controls": list(board.names),
        "trained_controls": [bool(v) for v in mask],
        "normalization": {k: torch.from_numpy(np.asarray(v, np.float32)) for k, v in norm.items()},
        "training": jsonable({"engine": engine.__version__, "torch": torch.__version__, "device": describe(device),
                              "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                              "window_s": options.window_s, "batch_size": options.batch_size,
                              "learning_rate": options.learning_rate, "seed": options.seed, "clips": clips}),
    }


def prepare(options: TrainOptions):
    if options.data is None or options.out is None:
        raise BadInput("train needs --data and --out")
    out = Path(options.out)
    if out.exists() and not options.overwrite:
        raise BadInput(f"checkpoint already exists: {out}", "choose a new --out file, or pass --overwrite")
    if out.is_dir():
        raise BadInput(f"--out {out} is a folder", "give a checkpoint file name, e.g. video_model.pt")
    if options.threads:
        torch.set_num_threads(options.threads)
    torch.manual_seed(options.seed)
    return resolve_device(options.device), load_faceboard(options.rig)


# ---------------------------------------------------------------------------------------------------
# Video
# ---------------------------------------------------------------------------------------------------

def train_video(options: TrainOptions, reporter: Reporter) -> dict:
    device, board = prepare(options)
    config = asdict(options.video)
    train_src, val_src = split_clips(discover(options.data), options.val_fraction, options.seed)
    cache = cache_folder(options.data, options.cache_dir)
    clips = []
    for i, src in enumerate([*train_src, *val_src]):
        reporter.progress("data", i, len(train_src) + len(val_src))
        clips.append(video_clip(src, config, options.rig, cache, reporter))
    reporter.progress("data", len(clips), len(clips))
    train, val = clips[:len(train_src)], clips[len(train_src):]
    mask = np.any([c.mask for c in train], axis=0)
    t_mean, t_std = target_stats([c.targets for c in train], [c.mask for c in train], board)
    f_mean, f_std = feature_stats([c.features for c in train])
    norm = {"feature_mean": f_mean, "feature_std": f_std, "target_mean": t_mean, "target_std": t_std}
    n_features = feature_size(config)
    model = VideoRegressor(config, n_features, len(board.names)).to(device)
    window = max(4, int(round(options.window_s * config["fps"])))
    log.info("video model: %d training clips (%.1f min), %d validation clips (%.1f min), %d features, "
             "%d parameters, window %d frames", len(train), sum(len(c.times) for c in train) / config["fps"] / 60,
             len(val), sum(len(c.times) for c in val) / config["fps"] / 60, n_features,
             sum(p.numel() for p in model.parameters()), window)

    feats = [torch.from_numpy(((c.features.astype(np.float32) - f_mean) / f_std)) for c in train]
    targs = [torch.from_numpy((c.targets - t_mean) / t_std) for c in train]
    cmask = [torch.from_numpy(c.mask.astype(np.float32)) for c in train]
    lengths = np.array([len(c.times) for c in train], float)
    rng = np.random.default_rng(options.seed)

    def next_batch():
        x, y, w, images = [], [], [], []
        for k, s, e, pad in sample_windows(rng, lengths, options.batch_size, window):
            x.append(torch.nn.functional.pad(feats[k][s:e], (0, 0, 0, pad)))
            target, weight = window_targets(targs[k], cmask[k], s, e, pad)
            y.append(target)
            w.append(weight)
            if train[k].crops is not None:
                idx = np.concatenate([train[k].crop_index[s:e], np.repeat(train[k].crop_index[e - 1:e], pad)])
                images.append(torch.from_numpy(np.asarray(train[k].crops[idx])))
        inputs = {"features": torch.stack(x).to(device),
                  "crops": torch.stack(images).to(device) if images else None}
        return inputs, torch.stack(y).to(device), torch.stack(w).to(device)

    norm_t = {k: torch.from_numpy(v) for k, v in norm.items()}

    def evaluate(m) -> dict:
        preds = [predict_video_frames(m, c.features, norm_t, window, device, c.crops, c.crop_index) for c in val]
        return validation_table(preds, [c.targets for c in val], [c.mask & mask for c in val], t_mean, t_std,
                                board.names)

    summary_clips = {"train": [c.name for c in train], "validation": [c.name for c in val],
                     "train_frames": int(lengths.sum()), "validation_frames": int(sum(len(c.times) for c in val))}
    doc = base_document("video", options, config, board, mask, norm, summary_clips, device)
    doc.update({"feature_version": FEATURE_VERSION, "feature_size": n_features, "window": window})

    def save(m, info):
        doc["state_dict"] = {k: v.detach().cpu().clone() for k, v in m.state_dict().items()}
        doc["training"]["result"] = jsonable(info)
        save_checkpoint(options.out, doc)

    groups = [{"params": [p for p in model.parameters() if p.requires_grad], "lr": options.learning_rate}]
    result = fit(model, groups, next_batch, evaluate, save, options, device, reporter,
                 options.batch_size * window)
    return finish(options, result, summary_clips, device)


# ---------------------------------------------------------------------------------------------------
# Audio
# ---------------------------------------------------------------------------------------------------

def train_audio(options: TrainOptions, reporter: Reporter) -> dict:
    device, board = prepare(options)
    config = asdict(options.audio)
    train_src, val_src = split_clips(discover(options.data), options.val_fraction, options.seed)
    clips = []
    for i, src in enumerate([*train_src, *val_src]):
        reporter.progress("data", i, len(train_src) + len(val_src))
        clips.append(audio_clip(src, config, options.rig, options.emotion))
    reporter.progress("data", len(clips), len(clips))
    train, val = clips[:len(train_src)], clips[len(train_src):]
    emotions = sorted({c.emotion for c in clips} | {options.emotion})
    mask = np.any([c.mask for c in train], axis=0)
    t_mean, t_std = target_stats([c.targets for c in train], [c.mask for c in train], board)
    norm = {"target_mean": t_mean, "target_std": t_std}
    model = AudioToFaceboard(config, len(board.names), len(emotions)).to(device)
    fps = config["fps"]
    window = max(4, int(round(options.window_s * fps)))
    ratio = ENCODER_HZ / fps
    rate = 16000
    frozen = config["freeze_encoder"]
    log.info("audio model: %d training clips (%.1f min), %d validation clips, emotions %s, encoder %s "
             "(%d parameters, %s), window %d frames", len(train), sum(len(c.targets) for c in train) / fps / 60,
             len(val), emotions, config.get("encoder") or "from config",
             sum(p.numel() for p in model.encoder.parameters()), "frozen" if frozen else "fine-tuned", window)

    def encode_clip(c):
        model.eval()
        with autocast(device):
            return encode_long(model, torch.from_numpy(c.samples).to(device)).float().cpu()

    hidden_cache: dict[str, torch.Tensor] = {}
    if frozen:   # the encoder never changes: encode every clip once
        for i, c in enumerate(clips):
            reporter.progress("encode", i, len(clips))
            hidden_cache[c.name] = encode_clip(c).half()
        reporter.progress("encode", len(clips), len(clips))

    targs = [torch.from_numpy((c.targets - t_mean) / t_std) for c in train]
    cmask = [torch.from_numpy(c.mask.astype(np.float32)) for c in train]
    lengths = np.array([len(c.targets) for c in train], float)
    emo_index = {e: i for i, e in enumerate(emotions)}
    rng = np.random.default_rng(options.seed)
    win_samples = int(round(window / fps * rate))

    def next_batch():
        y, w, h, s_list = [], [], [], []
        emo = []
        for k, s, e, pad in sample_windows(rng, lengths, options.batch_size, window):
            target, weight = window_targets(targs[k], cmask[k], s, e, pad)
            y.append(target)
            w.append(weight)
            emo.append(emo_index[train[k].emotion])
            if frozen:
                h.append(hidden_window(hidden_cache[train[k].name], s, window, ratio))
            else:
                lo = int(round(s / fps * rate))
                piece = torch.from_numpy(train[k].samples[lo:lo + win_samples])
                s_list.append(torch.nn.functional.pad(piece, (0, win_samples - len(piece))))
        emotion = torch.tensor(emo, dtype=torch.long, device=device)
        if frozen:
            inputs = {"hidden": torch.stack(h).to(device), "emotion": emotion, "n_frames": window}
        else:
            inputs = {"samples": torch.stack(s_list).to(device), "emotion": emotion, "n_frames": window}
        return inputs, torch.stack(y).to(device), torch.stack(w).to(device)

    norm_t = {k: torch.from_numpy(v) for k, v in norm.items()}

    class Step(torch.nn.Module):   # one call signature for fit(): decode cached states, or run end to end
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, emotion, n_frames, hidden=None, samples=None):
            if hidden is not None:
                return self.inner.decode(hidden, emotion, n_frames)
            return self.inner(samples, emotion, n_frames)

    def evaluate(m) -> dict:
        preds = []
        for c in val:
            hidden = hidden_cache[c.name].float() if frozen else encode_clip(c)
            preds.append(predict_audio_frames(model, hidden, emo_index[c.emotion], len(c.targets), window, fps,
                                              norm_t, device))
        return validation_table(preds, [c.targets for c in val], [c.mask & mask for c in val], t_mean, t_std,
                                board.names)

    summary_clips = {"train": [c.name for c in train], "validation": [c.name for c in val],
                     "train_frames": int(lengths.sum()), "validation_frames": int(sum(len(c.targets) for c in val))}
    doc = base_document("audio", options, config, board, mask, norm, summary_clips, device)
    doc.update({"emotions": emotions, "encoder_config": jsonable(model.encoder_config), "window": window})

    def save(m, info):
        doc["state_dict"] = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
        doc["training"]["result"] = jsonable(info)
        save_checkpoint(options.out, doc)

    head = [p for n, p in model.named_parameters() if not n.startswith("encoder.") and p.requires_grad]
    groups = [{"params": head, "lr": options.learning_rate}]
    encoder_params = [p for p in model.encoder.parameters() if p.requires_grad]
    if encoder_params:
        groups.append({"params": encoder_params, "lr": options.encoder_learning_rate})
    result = fit(Step(model), groups, next_batch, evaluate, save, options, device, reporter,
                 options.batch_size * window)
    return finish(options, result, summary_clips, device)


def finish(options: TrainOptions, result: dict, clips: dict, device) -> dict:
    if result["validation"] is None:
        raise BadInput("training ended before the first validation", "raise --max-steps above --eval-every")
    table = format_table(result["validation"])
    log.info("validation at the best step (%d of %d, %s), face-board units:\n%s", result["best_step"],
             result["steps"], result["stopped"], table)
    return {"checkpoint": str(options.out), "kind": options.kind, "device": str(device),
            "steps": result["steps"], "best_step": result["best_step"], "stopped": result["stopped"],
            "best_val_loss": result["best_val_loss"], "validation": result["validation"],
            "frames_per_s": round(result["frames_per_s"], 1), "train_seconds": round(result["train_seconds"], 2),
            "clips": clips, "history": result["history"], "table": table}


def train(options: TrainOptions, reporter: Reporter) -> dict:
    if options.kind == "video":
        return train_video(options, reporter)
    if options.kind == "audio":
        return train_audio(options, reporter)
    raise BadInput(f"unknown model kind {options.kind!r}", "train video or train audio")
