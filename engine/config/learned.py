"""Options of the learned backends: the single source of their defaults (CLI and callers read them here).

Model configs are stored inside checkpoints as plain dicts (`asdict`), so every field is JSON-able.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from engine.config.rigs import DEFAULT_RIG

MODEL_KINDS = ("video", "audio")
DEVICES = ("auto", "cpu", "cuda")
BACKBONES = ("tiny", "resnet18", "resnet34", "resnet50")
TEMPORAL_MODELS = ("conv", "transformer")


@dataclass
class VideoModelConfig:
    """Per-frame features (tracker landmarks and scores relative to the actor's neutral, optionally a face
    crop through a ResNet) -> a temporal model -> the rig's face-board values."""
    fps: float = 30.0                  # features are resampled to this uniform rate (clips differ: 25/30/60)
    landmarks: bool = True             # 478 landmarks, head-pose aligned, minus the actor's neutral (cm)
    scores: bool = True                # the 52 calibrated ARKit scores (neutral-relative, as the solver's)
    backbone: str | None = None        # face crop through: None (no image), tiny, resnet18/34/50
    backbone_weights: str | None = None  # local ImageNet state dict for a resnet (torchvision names); never fetched
    freeze_backbone: bool = False
    crop_size: int = 128               # face crop side in pixels (ResNet input)
    image_features: int = 128          # the crop embedding's size after projection
    temporal: str = "conv"             # conv: dilated residual 1D convolutions; transformer: a small encoder
    hidden: int = 256
    layers: int = 4
    kernel: int = 5                    # conv: taps per layer (dilation doubles per layer)
    heads: int = 4                     # transformer: attention heads
    dropout: float = 0.1


@dataclass
class AudioModelConfig:
    """wav2vec 2.0 encoder + emotion embedding + transformer encoder + linear head -> face board at `fps`."""
    encoder: str | None = None         # a local wav2vec2 model directory (from_pretrained, local files only)
    encoder_config: dict | None = None # or a Wav2Vec2Config as a dict (weights trained from scratch / tests)
    freeze_encoder: bool = True        # True: only the head trains, encoder features are cached per clip
    normalize_audio: bool = True       # zero mean, unit variance per clip (as Wav2Vec2FeatureExtractor)
    fps: float = 60.0                  # output rate: the published models predict 60 fps
    emotion_dim: int = 32
    hidden: int = 256
    layers: int = 4
    heads: int = 4
    dropout: float = 0.1
    encoder_chunk_s: float = 20.0      # long audio is encoded in chunks of this length ...
    encoder_context_s: float = 1.0     # ... with this much context on each side


@dataclass
class TrainOptions:
    kind: str = "video"
    data: Path | None = None           # folder of take folders and/or 174-column text files with media
    out: Path | None = None            # checkpoint file to write
    rig: str = DEFAULT_RIG
    device: str = "auto"
    overwrite: bool = False
    val_fraction: float = 0.2          # share of clips held out for validation (split by clip, never by frame)
    window_s: float = 3.0              # training windows (seconds); inference slides windows of this length
    batch_size: int = 16
    max_steps: int = 20000
    learning_rate: float = 1e-3
    encoder_learning_rate: float = 2e-5  # wav2vec2 when fine-tuned end to end
    weight_decay: float = 1e-4
    warmup_steps: int = 200
    eval_every: int = 250              # steps between validations (and checkpoints on improvement)
    patience: int = 8                  # stop after this many validations without improvement
    seed: int = 0
    cache_dir: Path | None = None      # tracked features / encoder outputs; None: <data>/.faceretarget-cache
    emotion: str = "neutral"           # emotion of clips that name none (audio)
    threads: int | None = None         # torch CPU threads; None: torch's default
    video: VideoModelConfig = field(default_factory=VideoModelConfig)
    audio: AudioModelConfig = field(default_factory=AudioModelConfig)

    def model_config(self) -> dict:
        return asdict(self.video if self.kind == "video" else self.audio)


@dataclass
class LearnedOptions:
    """`run --video-model/--audio-model`: where learned predictions replace or blend with the pipeline's."""
    video_model: Path | None = None
    audio_model: Path | None = None
    # group[=weight],...: weight 1 replaces the pipeline's values of that control group, 0 < w < 1 blends,
    # groups not named keep the pipeline's. "all" = every group (engine.models.groups.CONTROL_GROUPS).
    video_groups: str = "all"
    audio_groups: str = "mouth,jaw,tongue"
    emotion: str = "neutral"           # audio model's emotion (one the checkpoint was trained with)
    device: str = "auto"

    @property
    def active(self) -> bool:
        return self.video_model is not None or self.audio_model is not None


def config_from_dict(cls, doc: dict):
    """A config dataclass from a stored dict, ignoring keys this version does not know."""
    known = {f.name for f in fields(cls)}
    return cls(**{k: v for k, v in doc.items() if k in known})
