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
        return np.clip(np.round(self.samples * 32767.0), -32768, 32767).astype(np.int16)


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
    samples = np.concatenate(chunks).astype(np.float32) if chunks else np.zeros(0, np.float32)
    return Audio(np.clip(samples, -1.0, 1.0), source=path, source_rate=rate, source_channels=channels,
                 start_time=max(start, 0.0))


def frame_rms_db(samples: np.ndarray, rate: int = SAMPLE_RATE, hop_s: float = 0.01,
                 win_s: float = 0.025) -> np.ndarray:
    """RMS level in dBFS of each `hop_s` frame (window `win_s`, centred)."""
    hop, win = int(rate * hop_s), int(rate * win_s)
    n = max(1, int(np.ceil(len(samples) / hop)))
    padded = np.pad(samples.astype(np.float64), (win // 2, win))
    power = np.concatenate([[0.0], np.cumsum(padded ** 2)])
    starts = np.arange(n) * hop
    energy = (power[starts + win] - power[starts]) / win
    return 10.0 * np.log10(energy + 1e-12)


def peak_dbfs(samples: np.ndarray) -> float:
    return float(frame_rms_db(samples).max()) if len(samples) else -120.0


def write_wav(path: str | Path, audio: Audio) -> None:
    """16-bit PCM wav of the (16 kHz mono) audio."""
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(audio.rate)
        out.writeframes(audio.pcm16().tobytes())
