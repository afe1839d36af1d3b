"""Training the landmark network (engine.solve.landmark_regressor) with torch.

Used offline by tools/train_landmark_regressor.py on the benchmark's dev renders; the engine itself only
runs the trained network (numpy). torch is imported here, never by the solve.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.solve.landmark_regressor import LandmarkRegressor


@dataclass(frozen=True)
class NetworkOptions:
    hidden: int = 256
    epochs: int = 60
    batch: int = 256
    learning_rate: float = 2e-3        # peak of the one-cycle schedule
    weight_decay: float = 1e-4
    input_dropout: float = 0.1         # drops whole inputs: no channel may hang on one landmark
    input_noise: float = 0.1           # in standard deviations: tracking jitter
    # More noise on the head-angle inputs (pose networks only), in standard deviations (0.5: about 5 degrees): a clip's
    # pose trajectory is unique to it, and a network that reads it exactly can learn the clip, not the face.
    pose_noise: float = 0.5
    seed: int = 0
    members: int = 1                   # networks with seeds seed, seed+1, ... whose outputs are averaged


def train_network(x: np.ndarray, y: np.ndarray, landmarks: np.ndarray, options: NetworkOptions = NetworkOptions(),
                  about: str = "", pose_inputs: bool = False) -> LandmarkRegressor:
    """Fit (N, F) inputs (engine.solve.landmark_regressor.inputs) to (N, 52) weights in 0..1 by mean squared
    error; returns the network(s) as numpy arrays."""
    mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-6
    z = (x - mean) / scale
    members = tuple(_train_one(z, y, options, options.seed + m, pose_inputs) for m in range(options.members))
    return LandmarkRegressor(np.asarray(landmarks), mean.astype(np.float32), scale.astype(np.float32), members, about,
                             pose_inputs)


def _train_one(x: np.ndarray, y: np.ndarray, options: NetworkOptions, seed: int, pose_inputs: bool = False):
    import torch

    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    z = torch.tensor(x, dtype=torch.float32)
    target = torch.tensor(y, dtype=torch.float32)
    net = torch.nn.Sequential(torch.nn.Dropout(options.input_dropout), torch.nn.Linear(z.shape[1], options.hidden),
                              torch.nn.GELU(), torch.nn.Linear(options.hidden, options.hidden), torch.nn.GELU(),
                              torch.nn.Linear(options.hidden, y.shape[1]))
    steps = options.epochs * ((len(z) + options.batch - 1) // options.batch)
    optimiser = torch.optim.AdamW(net.parameters(), options.learning_rate / 2, weight_decay=options.weight_decay)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, options.learning_rate, total_steps=steps)
    net.train()
    for _ in range(options.epochs):
        order = torch.randperm(len(z), generator=generator)
        for i in range(0, len(z), options.batch):
            idx = order[i:i + options.batch]
            noisy = z[idx] + options.input_noise * torch.randn(len(idx), z.shape[1], generator=generator)
            if pose_inputs:   # the last three inputs are the head's angles
                noisy[:, -3:] += options.pose_noise * torch.randn(len(idx), 3, generator=generator)
            loss = ((torch.sigmoid(net(noisy)) - target[idx]) ** 2).mean()
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
    linear = [m for m in net if isinstance(m, torch.nn.Linear)]
    return tuple((m.weight.detach().numpy().T.astype(np.float32).copy(), m.bias.detach().numpy().astype(np.float32).copy())
                 for m in linear)
