"""The protocol client (clients/python) with the tests' speech: WAVs under tests/data."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import soxr

from clients.python.parley_client import Client as ProtocolClient, encode_audio_in

DATA = Path(__file__).parent / "data"
__all__ = ["Client", "encode_audio_in", "load_speech", "silence"]


def load_speech(name: str, rate: int = 24000) -> bytes:
    """A test WAV (16 kHz mono) as PCM16 at `rate`."""
    with wave.open(str(DATA / f"{name}.wav")) as wav:
        samples = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
        source_rate = wav.getframerate()
    if rate != source_rate:
        samples = soxr.resample(samples, source_rate, rate).astype("<i2")
    return samples.tobytes()


def silence(ms: float, rate: int = 24000) -> bytes:
    return bytes(int(rate * ms / 1000) * 2)


class Client(ProtocolClient):
    async def say(self, name: str, speed: float = 4.0, trailing_silence_ms: float = 0) -> None:
        """Speak the test WAV `name`, then optional silence."""
        await self.send_audio(load_speech(name, self.rate) + silence(trailing_silence_ms, self.rate), speed=speed)
