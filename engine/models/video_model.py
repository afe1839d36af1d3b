"""The video -> face-board network: per-frame features (+ an optional face-crop backbone) -> temporal model
-> one value per face-board control.

The ResNets are written in plain torch with torchvision's parameter names, so an ImageNet state dict saved
from torchvision (e.g. `resnet50-11ad3fa6.pth`, the file torchvision caches) loads into them from a local
path (`backbone_weights`) without torchvision installed and without any download.
"""
from __future__ import annotations

import math
from pathlib import Path

import torch
from torch import nn

from engine.errors import BadInput, ModelMissing
from engine.config.learned import BACKBONES, TEMPORAL_MODELS

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


# ---------------------------------------------------------------------------------------------------
# Image backbones
# ---------------------------------------------------------------------------------------------------

class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, inplanes: int, planes: int, stride: int = 1, downsample: nn.Module | None = None):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        return self.relu(self.bn2(self.conv2(out)) + identity)


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, inplanes: int, planes: int, stride: int = 1, downsample: nn.Module | None = None):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        return self.relu(self.bn3(self.conv3(out)) + identity)


class ResNet(nn.Module):
    """torchvision's ResNet (v1.5) layout and parameter names, without the classifier (fc = Identity)."""

    def __init__(self, block, layers: list[int], widths=(64, 128, 256, 512), stem: int = 64):
        super().__init__()
        self.inplanes = stem
        self.conv1 = nn.Conv2d(3, stem, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(stem)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.layer1 = self._layer(block, widths[0], layers[0])
        self.layer2 = self._layer(block, widths[1], layers[1], 2)
        self.layer3 = self._layer(block, widths[2], layers[2], 2)
        self.layer4 = self._layer(block, widths[3], layers[3], 2)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Identity()
        self.out_features = widths[3] * block.expansion
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def _layer(self, block, planes: int, blocks: int, stride: int = 1) -> nn.Sequential:
        downsample = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(nn.Conv2d(self.inplanes, planes * block.expansion, 1, stride, bias=False),
                                       nn.BatchNorm2d(planes * block.expansion))
        layers = [block(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes * block.expansion
        layers += [block(self.inplanes, planes) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return torch.flatten(self.avgpool(x), 1)


def build_backbone(name: str, weights: str | None = None) -> ResNet:
    """tiny (a 4-stage ResNet-10 with 8..64 channels, for tests and small data), resnet18/34/50."""
    if name == "tiny":
        model = ResNet(BasicBlock, [1, 1, 1, 1], widths=(8, 16, 32, 64), stem=8)
    elif name == "resnet18":
        model = ResNet(BasicBlock, [2, 2, 2, 2])
    elif name == "resnet34":
        model = ResNet(BasicBlock, [3, 4, 6, 3])
    elif name == "resnet50":
        model = ResNet(Bottleneck, [3, 4, 6, 3])
    else:
        raise BadInput(f"unknown backbone {name!r}", f"use one of: {', '.join(BACKBONES)}")
    if weights:
        load_backbone_weights(model, Path(weights))
    return model


def load_backbone_weights(model: ResNet, path: Path) -> None:
    if not path.is_file():
        raise ModelMissing(f"backbone weights not found: {path}",
                           "give a local ImageNet state dict (e.g. torchvision's resnet50-11ad3fa6.pth); "
                           "nothing is downloaded")
    state = torch.load(path, map_location="cpu", weights_only=True)
    if isinstance(state, dict) and "state_dict" in state:
        state = state["state_dict"]
    state = {k.removeprefix("module."): v for k, v in state.items() if not k.startswith("fc.")}
    missing, unexpected = model.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise BadInput(f"{path.name} does not fit the backbone ({len(missing)} missing, {len(unexpected)} "
                       f"unexpected tensors, e.g. {(missing or unexpected)[:3]})",
                       "give the ImageNet weights of the same ResNet depth, with torchvision's names")


# ---------------------------------------------------------------------------------------------------
# Temporal models
# ---------------------------------------------------------------------------------------------------

class ConvBlock(nn.Module):
    def __init__(self, width: int, kernel: int, dilation: int, dropout: float):
        super().__init__()
        self.norm = nn.GroupNorm(1, width)
        self.conv = nn.Conv1d(width, width, kernel, padding=dilation * (kernel // 2), dilation=dilation)
        self.mix = nn.Conv1d(width, width, 1)
        self.act = nn.GELU()
        self.drop = nn.Dropout(dropout)

    def forward(self, x):   # (B, W, T)
        return x + self.drop(self.mix(self.act(self.conv(self.norm(x)))))


def sinusoid(length: int, width: int, device) -> torch.Tensor:
    pos = torch.arange(length, device=device, dtype=torch.float32)[:, None]
    freq = torch.exp(torch.arange(0, width, 2, device=device, dtype=torch.float32) * (-math.log(10000.0) / width))
    table = torch.zeros(length, width, device=device)
    table[:, 0::2] = torch.sin(pos * freq)
    table[:, 1::2] = torch.cos(pos * freq[: width // 2])
    return table


class TemporalModel(nn.Module):
    """(B, T, W) -> (B, T, W): dilated residual 1D convolutions, or a transformer encoder."""

    def __init__(self, kind: str, width: int, layers: int, kernel: int, heads: int, dropout: float):
        super().__init__()
        if kind not in TEMPORAL_MODELS:
            raise BadInput(f"unknown temporal model {kind!r}", f"use one of: {', '.join(TEMPORAL_MODELS)}")
        self.kind = kind
        if kind == "conv":
            self.blocks = nn.ModuleList(ConvBlock(width, kernel, 2 ** i, dropout) for i in range(layers))
        else:
            layer = nn.TransformerEncoderLayer(width, heads, 2 * width, dropout, batch_first=True, norm_first=True)
            self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
            self.position_scale = nn.Parameter(torch.tensor(0.1))
        self.norm = nn.LayerNorm(width)

    def forward(self, x):
        if self.kind == "conv":
            y = x.transpose(1, 2)
            for block in self.blocks:
                y = block(y)
            x = y.transpose(1, 2)
        else:
            x = self.encoder(x + self.position_scale * sinusoid(x.shape[1], x.shape[2], x.device).to(x.dtype))
        return self.norm(x)


# ---------------------------------------------------------------------------------------------------
# The video model
# ---------------------------------------------------------------------------------------------------

class VideoRegressor(nn.Module):
    def __init__(self, config: dict, n_features: int, n_outputs: int):
        super().__init__()
        hidden = config["hidden"]
        self.config = dict(config)
        self.frame = nn.Sequential(nn.Linear(n_features, hidden), nn.GELU(), nn.Dropout(config["dropout"]))
        self.backbone = None
        if config.get("backbone"):
            self.backbone = build_backbone(config["backbone"], config.get("backbone_weights"))
            if config.get("freeze_backbone"):
                self.backbone.requires_grad_(False)
            self.image = nn.Sequential(nn.Linear(self.backbone.out_features, config["image_features"]), nn.GELU())
            self.fuse = nn.Linear(hidden + config["image_features"], hidden)
            self.register_buffer("pixel_mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
            self.register_buffer("pixel_std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)
        self.temporal = TemporalModel(config["temporal"], hidden, config["layers"], config["kernel"],
                                      config["heads"], config["dropout"])
        self.head = nn.Linear(hidden, n_outputs)

    def train(self, mode: bool = True):
        super().train(mode)
        if self.backbone is not None and self.config.get("freeze_backbone"):
            self.backbone.eval()      # frozen batch-norm statistics stay as loaded
        return self

    def forward(self, features: torch.Tensor, crops: torch.Tensor | None = None) -> torch.Tensor:
        """features (B, T, F) normalised; crops (B, T, S, S, 3) uint8 when the model has a backbone."""
        x = self.frame(features)
        if self.backbone is not None:
            if crops is None:
                raise ValueError("this model needs face crops")
            b, t = crops.shape[:2]
            images = crops.reshape(b * t, *crops.shape[2:]).permute(0, 3, 1, 2).float() / 255.0
            images = (images - self.pixel_mean) / self.pixel_std
            emb = self.image(self.backbone(images)).reshape(b, t, -1)
            x = self.fuse(torch.cat([x, emb.to(x.dtype)], dim=-1))
        return self.head(self.temporal(x))
