"""Audio input: any container or codec PyAV (FFmpeg) can read, resampled once to 16 kHz mono float32.

The audio track of a video is read the same way (the first audio stream of the container). Unreadable
files, files without sound and recordings that are silent throughout are refused with a clear message.
"""
from __future__ import annotations

import wave
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from engine.errors import BadInput
from engine.media.files import check_input_file, open_media

SAMPLE_RATE = 16000
# A recording whose loudest 10 ms frame stays below this level (dBFS) carries no usable speech.
SILENCE_DBFS = -55.0


@dataclass
class Audio:
    samples: np.ndarray        # (N,) float32 in -1..1, mono, SAMPLE_RATE
    rate: int = SAMPLE_RATE
    source: Path | None = None
    source_rate: int | None = None
    source_channels: int | None = None
    start_time: float = 0.0    # the stream's start time in its container (seconds), for A/V alignment

    @property
    def duration(self) -> float:
        return len(self.samples) / self.rate

    def pcm16(self) -> np.ndarray:
        return _pcm16(self.samples)


def _pcm16(samples: np.ndarray) -> np.ndarray:
    return np.clip(np.round(samples * 32767.0), -32768, 32767).astype(np.int16)


def load_audio(path: str | Path, check_silence: bool = True) -> Audio:
    """Decode the first audio stream of `path` (wav, flac, mp3, m4a/aac, ogg, or a video's audio track)."""
    path = check_input_file(path, "audio")
    if path.suffix.lower() in (".raw", ".pcm"):
        # headerless s16le 16 kHz mono, as pocketsphinx's own test data
        data = np.frombuffer(path.read_bytes()[: path.stat().st_size // 2 * 2], np.int16)
        audio = Audio(data.astype(np.float32) / 32768.0, source=path, source_rate=SAMPLE_RATE, source_channels=1)
    else:
        audio = _decode(path)
    if len(audio.samples) < SAMPLE_RATE // 10:
        raise BadInput(f"{path.name} holds less than 0.1 s of audio", "give a recording with speech in it")
    if check_silence and peak_dbfs(audio.samples) < SILENCE_DBFS:
        raise BadInput(f"{path.name} is silent (no 10 ms frame louder than {SILENCE_DBFS:.0f} dBFS)",
                       "check the microphone track: the file carries no sound")
    return audio


def _decode(path: Path) -> Audio:
    try:
        container = open_media(path)
    except (av.error.FFmpegError, UnicodeDecodeError, ValueError) as exc:
        raise BadInput(f"cannot read {path.name} as audio: {exc}",
                       "the file is corrupt or not a sound file; use wav, flac, mp3, m4a or a video") from exc
    with container:
        if not container.streams.audio:
            kind = "video without a sound track" if container.streams.video else "file without an audio stream"
            raise BadInput(f"{path.name} is a {kind}", "give the audio separately with --audio")
        stream = container.streams.audio[0]
        start = float(stream.start_time * stream.time_base) if stream.start_time is not None else 0.0
        resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
        chunks: list[np.ndarray] = []
        try:
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    chunks.append(out.to_ndarray().reshape(-1))
            for out in resampler.resample(None):
                chunks.append(out.to_ndarray().reshape(-1))
        except (av.error.FFmpegError, ValueError) as exc:
            if not chunks:
                raise BadInput(f"cannot decode the audio of {path.name}: {exc}",
                               "the file is corrupt or truncated; re-export it") from exc
        rate = stream.codec_context.sample_rate
        channels = stream.codec_context.channels
    samples = np.concatenate(chunks).astype(np.float32, copy=False) if chunks else np.zeros(0, np.float32)
    del chunks                                  # (one copy of a long recording in memory, not three)
    return Audio(np.clip(samples, -1.0, 1.0, out=samples), source=path, source_rate=rate, source_channels=channels,
                 start_time=max(start, 0.0))


RMS_BLOCK_FRAMES = 6000     # frame levels computed a minute at a time: memory stays flat in the length


def frame_rms_db(samples: np.ndarray, rate: int = SAMPLE_RATE, hop_s: float = 0.01,
                 win_s: float = 0.025) -> np.ndarray:
    """RMS level in dBFS of each `hop_s` frame (window `win_s`, centred)."""
    hop, win = int(rate * hop_s), int(rate * win_s)
    n = max(1, int(np.ceil(len(samples) / hop)))
    levels = np.empty(n)
    for first in range(0, n, RMS_BLOCK_FRAMES):
        count = min(RMS_BLOCK_FRAMES, n - first)
        a = first * hop - win // 2                       # frame k covers samples [k*hop - win//2, +win)
        b = (first + count - 1) * hop - win // 2 + win
        inside = samples[max(a, 0):min(b, len(samples))].astype(np.float64)
        block = np.concatenate([np.zeros(max(0, -a)), inside, np.zeros(b - a - max(0, -a) - len(inside))])
        power = np.concatenate([[0.0], np.cumsum(block ** 2)])
        starts = np.arange(count) * hop
        levels[first:first + count] = 10.0 * np.log10((power[starts + win] - power[starts]) / win + 1e-12)
    return levels


def peak_dbfs(samples: np.ndarray) -> float:
    return float(frame_rms_db(samples).max()) if len(samples) else -120.0


def write_wav(path: str | Path, audio: Audio) -> None:
    """16-bit PCM wav of the (16 kHz mono) audio."""
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(audio.rate)
        for first in range(0, len(audio.samples), 60 * audio.rate):     # a minute at a time
            out.writeframes(_pcm16(audio.samples[first:first + 60 * audio.rate]).tobytes())
