"""Sound files made by the audio tests themselves (PyAV encoders, numpy signals, Festival speech)."""
from __future__ import annotations

import os
import shutil
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest


def write_audio(path: Path, samples: np.ndarray, rate: int, codec: str | None = None, channels: int = 1) -> Path:
    """Encode float samples (-1..1; (N,) mono, duplicated to `channels`) into any container PyAV writes."""
    codec = codec or {".wav": "pcm_s16le", ".flac": "flac", ".mp3": "libmp3lame", ".m4a": "aac",
                      ".ogg": "libopus", ".mp4": "aac"}[path.suffix]
    layout = "mono" if channels == 1 else "stereo"
    data = np.tile(samples.astype(np.float32)[None, :], (channels, 1))
    with av.open(str(path), "w") as out:
        stream = out.add_stream(codec, rate=rate)
        stream.layout = layout
        fmt = stream.codec_context.codec.audio_formats[0].name
        step = 1024
        for i in range(0, data.shape[1], step):
            frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(data[:, i:i + step]), format="fltp", layout=layout)
            frame.sample_rate = rate
            frame.pts = i
            frame.time_base = Fraction(1, rate)
            for packet in stream.encode(_convert(frame, fmt, layout, rate)):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def _convert(frame, fmt, layout, rate):
    resampler = av.AudioResampler(format=fmt, layout=layout, rate=rate)
    frames = resampler.resample(frame)
    return frames[0] if frames else None


def syllables(rate: int = 16000, seconds: float = 3.0, syllable_hz: float = 4.0, pause: tuple = (1.2, 1.8),
              seed: int = 0) -> np.ndarray:
    """Speech-like sound: voiced pulses (120 Hz harmonics) modulated at a syllable rate, with a pause."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(rate * seconds)) / rate
    voice = sum(np.sin(2 * np.pi * 120 * k * t) / k for k in range(1, 12))
    envelope = np.clip(np.sin(2 * np.pi * syllable_hz * t), 0, None) ** 1.5
    envelope[(t > pause[0]) & (t < pause[1])] = 0
    return (0.2 * voice * envelope / 3 + 0.001 * rng.standard_normal(len(t))).astype(np.float32)


def festival_or_skip() -> None:
    if shutil.which("festival") is None:
        if os.environ.get("CI"):
            pytest.fail("festival is missing (.ci/run installs festival and festvox-us-slt-hts)")
        pytest.skip("festival not installed (apt-get install festival festvox-us-slt-hts)")
