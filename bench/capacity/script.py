"""The scripted caller's audio, prepared once: 20 ms frames with their header flags.

Every caller plays the same two recordings (the ends of two pause-corpus sentences, which
Smart Turn hears as finished, p 0.99: the end of turn is the common, short-silence one): a
question, then, about a second into each reply, a cut-in whose words become the next
question. Frames carry the energy and silence flags of the protocol, so the transport floor
can follow the script without any VAD.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np
import webrtcvad

from tests.client import load_speech

RATE = 16000
FRAME_MS = 20
FRAME_BYTES = RATE * FRAME_MS // 1000 * 2
HEADER = struct.Struct("<II")
SILENCE_FLAG = 1 << 8


def energy_flag(pcm: bytes) -> int:
    """The protocol's energy byte (0-255, RMS in dBFS mapped from -60..0) and silence bit."""
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float32)
    rms = float(np.sqrt(np.mean(samples * samples))) if len(samples) else 0.0
    dbfs = 20 * np.log10(max(rms, 1.0) / 32768)
    energy = int(np.clip((dbfs + 60) / 60 * 255, 0, 255))
    return energy | (SILENCE_FLAG if energy < 96 else 0)  # below about -37 dBFS


@dataclass(frozen=True)
class Utterance:
    """A recording as frames (bytes after the 8-byte header), with where its voice is."""

    frames: tuple[bytes, ...]
    flags: tuple[int, ...]
    onset_ms: float  # the first voiced frame (webrtcvad)
    end_ms: float  # just after the last voiced frame


def utterance(name: str, from_ms: int = 0) -> Utterance:
    """tests/data/`name`.wav from `from_ms` on, as the caller sends it."""
    pcm = load_speech(name, RATE)[from_ms * RATE // 1000 * 2 :]
    pcm += bytes(-len(pcm) % FRAME_BYTES)
    frames = tuple(pcm[i : i + FRAME_BYTES] for i in range(0, len(pcm), FRAME_BYTES))
    vad = webrtcvad.Vad(2)
    voiced = [index for index, frame in enumerate(frames) if vad.is_speech(frame, RATE)]
    return Utterance(
        frames=frames,
        flags=tuple(energy_flag(frame) for frame in frames),
        onset_ms=voiced[0] * FRAME_MS,
        end_ms=(voiced[-1] + 1) * FRAME_MS,
    )


SILENT_FRAME = bytes(FRAME_BYTES)
SILENT_FLAGS = SILENCE_FLAG


def frame_message(timestamp_ms: int, flags: int, pcm: bytes) -> bytes:
    return HEADER.pack(timestamp_ms % (1 << 32), flags) + pcm
