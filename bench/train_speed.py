"""Training speed of the learned backends on this machine (CPU), and FLOPs per frame for a GPU estimate.

    .venv/bin/python bench/train_speed.py [--threads N] [--steps N] [--skip-large]

Random weights and random inputs: the speed of a network does not depend on what it has learned, so the
real architectures (ResNet-50, wav2vec2-base) are measured without any download. Prints a markdown table:
training frames per second, FLOPs per training frame (forward + backward, torch's FlopCounterMode), and
hours of training per hour of data for EPOCHS passes over it. docs/learned_backends.md has the figures.
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch
from torch.utils.flop_counter import FlopCounterMode

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.models.audio_model import ENCODER_HZ, AudioToFaceboard  # noqa: E402
from engine.models.features import feature_size  # noqa: E402
from engine.config.learned import AudioModelConfig, VideoModelConfig  # noqa: E402
from engine.models.video_model import VideoRegressor  # noqa: E402

EPOCHS = 30                  # passes over the data a run typically needs before early stopping ends it
GPU_TFLOPS = 20.0            # sustained mixed-precision throughput assumed for a current 24 GB+ GPU
CONTROLS = 174


def timed_steps(step, steps: int) -> float:
    step()                   # warm-up (allocations, first-call overheads)
    start = time.perf_counter()
    for _ in range(steps):
        step()
    return (time.perf_counter() - start) / steps


def flops_of(step) -> float:
    with FlopCounterMode(display=False) as counter:
        step()
    return float(counter.get_total_flops())


def train_step(model, make_inputs, frames: int):
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4)
    model.train()

    def step():
        out = model(**make_inputs())
        loss = out.float().pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return step


def video_case(name: str, batch: int, window: int, **config):
    cfg = asdict(VideoModelConfig(**config))
    model = VideoRegressor(cfg, feature_size(cfg), CONTROLS)
    size = cfg["crop_size"]

    def inputs():
        crops = torch.randint(0, 255, (batch, window, size, size, 3), dtype=torch.uint8) if cfg["backbone"] else None
        return {"features": torch.randn(batch, window, feature_size(cfg)), "crops": crops}
    return name, model, inputs, batch * window, cfg["fps"]


def audio_case(name: str, batch: int, seconds: float, encoder_config: dict, frozen: bool):
    cfg = asdict(AudioModelConfig(encoder_config=encoder_config, freeze_encoder=frozen))
    model = AudioToFaceboard(cfg, CONTROLS, 4)
    frames = int(seconds * cfg["fps"])
    hidden = model.encoder.config.hidden_size
    if frozen:   # training runs on cached encoder states: only the decoder trains
        class Head(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.inner = model

            def forward(self, hidden_states, emotion):
                return self.inner.decode(hidden_states, emotion, frames)

        def inputs():
            return {"hidden_states": torch.randn(batch, int(seconds * ENCODER_HZ), hidden),
                    "emotion": torch.zeros(batch, dtype=torch.long)}
        return name, Head(), inputs, batch * frames, cfg["fps"]

    def inputs():
        return {"samples": torch.randn(batch, int(seconds * 16000)), "emotion": torch.zeros(batch, dtype=torch.long),
                "n_frames": frames}
    return name, model, inputs, batch * frames, cfg["fps"]


def encode_rate(encoder_config: dict, seconds: float = 10.0) -> tuple[float, float]:
    """(seconds of audio encoded per second, FLOPs per second of audio): the one-off caching pass."""
    model = AudioToFaceboard(asdict(AudioModelConfig(encoder_config=encoder_config)), CONTROLS, 1).eval()
    x = torch.randn(1, int(seconds * 16000))
    with torch.no_grad():
        per = timed_steps(lambda: model.encode(x), 2)
        flops = flops_of(lambda: model.encode(x))
    return seconds / per, flops / seconds


def hours(frames_per_hour: float, rate: float) -> float:
    return EPOCHS * frames_per_hour / rate / 3600.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--skip-large", action="store_true", help="leave out ResNet-50 and wav2vec2-base")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    base = {}          # Wav2Vec2Config() defaults = wav2vec2-base (95M parameters)
    small = {"hidden_size": 256, "num_hidden_layers": 4, "num_attention_heads": 4, "intermediate_size": 1024,
             "conv_dim": [256] * 7}
    cases = [video_case("video: landmarks + scores, conv (default)", 16, 90),
             video_case("video: landmarks + scores, transformer", 16, 90, temporal="transformer")]
    if not args.skip_large:
        cases += [video_case("video: + ResNet-50 face crops 128 px, end to end", 1, 16, backbone="resnet50"),
                  video_case("video: + ResNet-18 face crops 128 px, end to end", 1, 16, backbone="resnet18")]
    cases += [audio_case("audio: wav2vec2-base frozen (decoder on cached states)", 16, 3.0, base, True)]
    if not args.skip_large:
        cases += [audio_case("audio: wav2vec2-base fine-tuned end to end", 1, 3.0, base, False)]
    cases += [audio_case("audio: small wav2vec2 (4 x 256) fine-tuned", 2, 3.0, small, False)]

    load = os.getloadavg()[0]
    print(f"Machine: {platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}, "
          f"{args.threads} threads; load average at start {load:.1f} (other jobs share the cores)\n")
    print(f"| model | params | training frames/s (CPU) | GFLOPs / training frame | CPU h per data hour ({EPOCHS} epochs) "
          f"| GPU h per data hour (est., {GPU_TFLOPS:.0f} TFLOP/s) |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, model, inputs, frames, fps in cases:
        step = train_step(model, inputs, frames)
        per_step = timed_steps(step, args.steps)
        rate = frames / per_step
        flops = flops_of(step) / frames
        per_hour = 3600 * fps
        gpu_rate = GPU_TFLOPS * 1e12 / max(flops, 1.0)
        params = sum(p.numel() for p in model.parameters()) / 1e6
        print(f"| {name} | {params:.1f} M | {rate:,.0f} | {flops / 1e9:.3f} | {hours(per_hour, rate):,.2f} "
              f"| {hours(per_hour, gpu_rate):,.3f} |", flush=True)
    for name, cfg in (("wav2vec2-base", base), ("small wav2vec2", small)):
        if name == "wav2vec2-base" and args.skip_large:
            continue
        speed, flops = encode_rate(cfg)
        print(f"\nCaching {name} states (frozen encoder, once per clip): {speed:.1f} s of audio per s on the CPU "
              f"= {3600 / speed / 3600:.2f} h per data hour; {flops / 1e9:.0f} GFLOPs per s of audio "
              f"(GPU est. {3600 * flops / (GPU_TFLOPS * 1e12):.1f} s per data hour)")


if __name__ == "__main__":
    np.set_printoptions(precision=3)
    main()
