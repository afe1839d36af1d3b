"""Where networks run: chosen once per command (`auto`: CUDA when present, else the CPU), logged, and never
silently changed. Mixed precision (float16 autocast + gradient scaling) only on CUDA."""
from __future__ import annotations

import contextlib
import logging

from engine.errors import BadInput, ModelMissing
from engine.config.learned import DEVICES

log = logging.getLogger("faceretarget.models")


def require_torch():
    """Import torch, or say how to install the learned backends' requirements."""
    try:
        import torch
    except ImportError as exc:
        raise ModelMissing("the learned backends need PyTorch, which is not installed",
                           "install them into the engine's environment: pip install -r requirements-ml.txt") from exc
    return torch


def resolve_device(request: str = "auto"):
    """torch.device for 'auto' | 'cpu' | 'cuda' (or 'cuda:N'); a CUDA request without CUDA is an error."""
    torch = require_torch()
    request = (request or "auto").lower()
    if request not in DEVICES and not request.startswith("cuda:"):
        raise BadInput(f"unknown device {request!r}", f"use one of: {', '.join(DEVICES)}")
    if request == "auto":
        device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    elif request.startswith("cuda"):
        if not torch.cuda.is_available():
            raise BadInput(f"--device {request} was asked for, but PyTorch sees no CUDA device",
                           "check the driver (nvidia-smi) and that a CUDA build of torch is installed, "
                           "or use --device cpu / auto")
        device = torch.device(request)
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise BadInput(f"--device {request}: only {torch.cuda.device_count()} CUDA device(s) present",
                           "use --device cuda")
    else:
        device = torch.device("cpu")
    log.info("learned models run on %s (asked: %s; mixed precision: %s)", describe(device), request,
             "float16" if device.type == "cuda" else "off")
    return device


def describe(device) -> str:
    torch = require_torch()
    if device.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(device)})"
    return f"cpu ({torch.get_num_threads()} threads)"


def autocast(device):
    """float16 autocast on CUDA; nothing on the CPU (bf16 CPU autocast is slower on most CPUs here)."""
    torch = require_torch()
    if device.type == "cuda":
        return torch.autocast(device_type="cuda", dtype=torch.float16)
    return contextlib.nullcontext()


def grad_scaler(device):
    torch = require_torch()
    return torch.amp.GradScaler("cuda", enabled=device.type == "cuda")
