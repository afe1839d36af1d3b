"""Synthetic training data for the learned-backend tests: take folders whose face-board curves are a known,
learnable function of the inputs (tracker features for video, the loudness envelope for audio)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from engine.audio.io import Audio, write_wav
from engine.export.livelink import write_livelink_csv
from engine.export.take import write_curves_csv
from engine.rig.faceboard import load_faceboard
from engine.export.take import HEAD_POSE_COLUMNS

# Face-board attributes the synthetic truth drives (one per group the tests look at).
VIDEO_TARGETS = ("CTRL_C_jaw.ty", "CTRL_L_mouth_cornerPull.ty", "CTRL_R_mouth_cornerPull.ty",
                 "CTRL_L_brow_raiseIn.ty", "CTRL_L_eye_blink.ty", "CTRL_L_nose_wrinkleUpper.ty")
AUDIO_TARGETS = ("CTRL_C_jaw.ty", "CTRL_L_mouth_funnelU.ty")
EMOTION_TARGET = "CTRL_L_brow_raiseIn.ty"


def smooth_signal(rng, n: int, fps: float, k: int) -> np.ndarray:
    """(n, k) smooth random signals in 0..1 (sums of a few slow sinusoids)."""
    t = np.arange(n) / fps
    out = np.zeros((n, k))
    for j in range(k):
        for _ in range(3):
            out[:, j] += rng.uniform(0.3, 1.0) * np.sin(2 * np.pi * rng.uniform(0.2, 1.5) * t + rng.uniform(0, 6.3))
    return (out - out.min(0)) / np.ptp(out, 0)


def write_video_take(folder: Path, rng, seconds: float = 8.0, fps: float = 30.0, rig: str = "mh4") -> Path:
    """A take folder with landmarks.npy, arkit.csv, head_pose.csv and faceboard.csv, no video: 6 latent
    expression signals move the landmarks and the ARKit scores, and the face board is a non-linear function
    of them. The head moves rigidly (translation, scale, roll), which the features must remove."""
    folder.mkdir(parents=True)
    n = int(seconds * fps)
    times = np.arange(n) / fps
    z = smooth_signal(rng, n, fps, 6)
    rest = int(0.5 * fps)                          # the actor starts at rest, then eases into the performance
    z *= np.clip((np.arange(n) - rest) / rest, 0, 1)[:, None]
    shape_rng = np.random.default_rng(7)          # the same face and the same expression bases in every take
    neutral = np.column_stack([shape_rng.uniform(0.35, 0.65, 478), shape_rng.uniform(0.3, 0.7, 478),
                               shape_rng.normal(0, 0.02, 478)])
    basis = shape_rng.normal(0, 0.004, (6, 478, 3))
    mix = np.abs(shape_rng.normal(0, 0.5, (6, 52)))
    points = neutral[None] + np.einsum("nk,kld->nld", z, basis)
    roll = 0.1 * np.sin(2 * np.pi * 0.3 * times + rng.uniform(0, 6))
    scale = 1 + 0.1 * np.sin(2 * np.pi * 0.2 * times)
    shift = 0.03 * np.sin(2 * np.pi * np.array([0.25, 0.15]) * times[:, None])
    c, s = np.cos(roll), np.sin(roll)
    centre = np.array([0.5, 0.5])
    xy = points[..., :2] - centre
    xy = np.stack([c[:, None] * xy[..., 0] - s[:, None] * xy[..., 1],
                   s[:, None] * xy[..., 0] + c[:, None] * xy[..., 1]], axis=-1)
    landmarks = np.concatenate([xy * scale[:, None, None] + centre + shift[:, None, :],
                                points[..., 2:] * scale[:, None, None]], axis=-1).astype(np.float32)
    np.save(folder / "landmarks.npy", landmarks)
    arkit = np.clip(z @ mix / 3, 0, 1)
    write_livelink_csv(folder / "arkit.csv", times, arkit)
    write_curves_csv(folder / "head_pose.csv", times, ["detected", *HEAD_POSE_COLUMNS],
                     np.column_stack([np.ones(n), np.zeros((n, len(HEAD_POSE_COLUMNS)))]))
    board = load_faceboard(rig)
    values = np.tile(board.defaults, (n, 1))
    truth = [z[:, 0], z[:, 1] * z[:, 2], z[:, 1] * (1 - z[:, 3]), np.sqrt(z[:, 3]), z[:, 4] ** 2, 1 - z[:, 5]]
    for name, curve in zip(VIDEO_TARGETS, truth):
        values[:, board.names.index(name)] = curve
    write_curves_csv(folder / "faceboard.csv", times, board.names, board.clamp(values))
    neutral_frames = times[:rest].tolist()
    meta = {"format": "faceretarget-take/1", "rig": rig, "fps": fps, "frame_count": n,
            "inputs": {"video": {"path": str(folder / "missing.mp4"), "width": 512, "height": 512}},
            "tracking": {"neutral_frames": neutral_frames}}
    (folder / "take.json").write_text(json.dumps(meta))
    return folder


def write_audio_take(folder: Path, rng, emotion: str, seconds: float = 6.0, rig: str = "mh4") -> Path:
    """A take folder with audio.wav and faceboard.csv at 30 fps: the jaw follows the balance of a low and
    a high tone, the funnel the level of a middle tone, the brow the emotion."""
    folder.mkdir(parents=True)
    rate, fps = 16000, 30.0
    n = int(seconds * fps)
    env = smooth_signal(rng, n, fps, 2)
    t = np.arange(int(seconds * rate)) / rate
    low = np.interp(t, np.arange(n) / fps, env[:, 0])
    mid = np.interp(t, np.arange(n) / fps, env[:, 1])
    tones = low * np.sin(2 * np.pi * 180 * t) + (1 - low) * np.sin(2 * np.pi * 1400 * t) \
        + mid * np.sin(2 * np.pi * 600 * t)
    samples = (0.3 * tones + 0.02 * rng.normal(size=len(t))).astype(np.float32)
    write_wav(folder / "audio.wav", Audio(np.clip(samples, -1, 1)))
    board = load_faceboard(rig)
    values = np.tile(board.defaults, (n, 1))
    values[:, board.names.index("CTRL_C_jaw.ty")] = env[:, 0]
    values[:, board.names.index("CTRL_L_mouth_funnelU.ty")] = env[:, 1]
    values[:, board.names.index(EMOTION_TARGET)] = 0.8 if emotion == "happy" else 0.0
    write_curves_csv(folder / "faceboard.csv", np.arange(n) / fps, board.names, values)
    (folder / "take.json").write_text(json.dumps({"format": "faceretarget-take/1", "source": "maya-export",
                                                  "rig": rig, "emotion": emotion}))
    return folder


def tiny_wav2vec2_config() -> dict:
    """A Wav2Vec2Config a few ten thousand parameters big, with wav2vec2's real 320-sample hop."""
    return {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 64,
            "conv_dim": [32] * 7, "num_conv_pos_embeddings": 16, "num_conv_pos_embedding_groups": 4,
            "vocab_size": 8, "mask_time_prob": 0.0}
