"""The audio -> face-board network: wav2vec 2.0 (transformers) -> 60 fps -> + emotion embedding ->
transformer encoder -> linear head to every face-board control.

The encoder comes from a local model directory the user has (`Wav2Vec2Model.from_pretrained(dir,
local_files_only=True)`: nothing is fetched), or is built from a Wav2Vec2Config dict. A checkpoint stores
the encoder's config and weights, so loading it needs neither the original directory nor the network.
"""
from __future__ import annotations

from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F

from engine.errors import BadInput, ModelMissing
from engine.models.video_model import sinusoid

ENCODER_HZ = 50.0            # wav2vec 2.0: one hidden state per 20 ms (320 samples at 16 kHz)


def _transformers():
    try:
        import transformers
        from transformers import Wav2Vec2Config, Wav2Vec2Model
    except ImportError as exc:
        raise ModelMissing("the audio model needs the `transformers` package, which is not installed",
                           "pip install -r requirements-ml.txt") from exc
    transformers.logging.set_verbosity_error()
    return Wav2Vec2Config, Wav2Vec2Model


def build_encoder(config: dict, encoder_config: dict | None = None):
    """(encoder, its config as a dict). encoder_config (from a checkpoint) wins over config's sources."""
    Wav2Vec2Config, Wav2Vec2Model = _transformers()
    if encoder_config is not None:
        return Wav2Vec2Model(Wav2Vec2Config.from_dict(encoder_config)), encoder_config
    if config.get("encoder"):
        folder = Path(config["encoder"])
        if not (folder / "config.json").is_file():
            raise ModelMissing(f"no wav2vec2 model in {folder} (config.json missing)",
                               "give a local folder saved with save_pretrained (config.json + weights), e.g. "
                               "a copy of facebook/wav2vec2-base-960h; nothing is downloaded at run time")
        try:
            model = Wav2Vec2Model.from_pretrained(str(folder), local_files_only=True)
        except (OSError, ValueError) as exc:
            raise ModelMissing(f"cannot load the wav2vec2 model in {folder}: {exc}",
                               "the folder needs config.json and model.safetensors (or pytorch_model.bin)") from exc
        return model, model.config.to_dict()
    if config.get("encoder_config") is not None:
        cfg = Wav2Vec2Config(**config["encoder_config"])
        return Wav2Vec2Model(cfg), cfg.to_dict()
    raise BadInput("the audio model needs a wav2vec2 encoder",
                   "pass --encoder DIR (a local wav2vec2 model folder, e.g. wav2vec2-base-960h saved with "
                   "save_pretrained) or --encoder-config JSON to train one from scratch")


class AudioToFaceboard(nn.Module):
    def __init__(self, config: dict, n_outputs: int, n_emotions: int, encoder=None,
                 encoder_config: dict | None = None):
        super().__init__()
        self.config = dict(config)
        if encoder is None:
            encoder, encoder_config = build_encoder(config, encoder_config)
        self.encoder = encoder
        self.encoder_config = encoder_config
        self.encoder.feature_extractor._freeze_parameters()   # the CNN stays as loaded (standard fine-tuning)
        if config["freeze_encoder"]:
            self.encoder.requires_grad_(False)
        width = config["hidden"]
        self.proj = nn.Linear(self.encoder.config.hidden_size, width)
        self.emotion = nn.Embedding(max(1, n_emotions), config["emotion_dim"])
        self.emotion_proj = nn.Linear(config["emotion_dim"], width)
        self.position_scale = nn.Parameter(torch.tensor(0.1))   # positions must not drown the audio at first
        layer = nn.TransformerEncoderLayer(width, config["heads"], 2 * width, config["dropout"], batch_first=True,
                                           norm_first=True)
        self.decoder = nn.TransformerEncoder(layer, config["layers"], enable_nested_tensor=False)
        self.norm = nn.LayerNorm(width)
        self.head = nn.Linear(width, n_outputs)

    def train(self, mode: bool = True):
        super().train(mode)
        if self.config["freeze_encoder"]:
            self.encoder.eval()       # no dropout / SpecAugment in a frozen encoder
        return self

    def encode(self, samples: torch.Tensor) -> torch.Tensor:
        """(B, S) 16 kHz samples -> (B, T50, H) hidden states."""
        return self.encoder(samples).last_hidden_state

    def decode(self, hidden: torch.Tensor, emotion: torch.Tensor, n_frames: int) -> torch.Tensor:
        """(B, T50, H) hidden states -> (B, n_frames, C) at the output rate."""
        h = F.interpolate(hidden.transpose(1, 2).float(), size=n_frames, mode="linear",
                          align_corners=False).transpose(1, 2)
        x = self.proj(h) + self.emotion_proj(self.emotion(emotion))[:, None, :]
        x = x + self.position_scale * sinusoid(n_frames, x.shape[-1], x.device).to(x.dtype)
        return self.head(self.norm(self.decoder(x)))

    def forward(self, samples: torch.Tensor, emotion: torch.Tensor, n_frames: int) -> torch.Tensor:
        return self.decode(self.encode(samples), emotion, n_frames)


@torch.no_grad()
def encode_long(model: AudioToFaceboard, samples: torch.Tensor, rate: int = 16000) -> torch.Tensor:
    """(S,) samples of any length -> (T50, H), encoded in chunks with context on both sides (attention cost
    stays bounded); the hidden states of the context are dropped."""
    chunk = int(model.config["encoder_chunk_s"] * rate)
    context = int(model.config["encoder_context_s"] * rate)
    hop = int(rate / ENCODER_HZ)
    total = int(len(samples) // hop)
    if len(samples) <= chunk + 2 * context:
        return model.encode(samples[None])[0]
    parts = []
    for start in range(0, len(samples), chunk):
        lo, hi = max(0, start - context), min(len(samples), start + chunk + context)
        h = model.encode(samples[lo:hi][None])[0]
        skip = (start - lo) // hop
        keep = min(chunk, len(samples) - start) // hop
        parts.append(h[skip: skip + keep])
    out = torch.cat(parts)
    if len(out) < total:   # rounding at chunk ends: hold the last state
        out = torch.cat([out, out[-1:].expand(total - len(out), -1)])
    return out[:max(total, 1)]
