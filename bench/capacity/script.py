"""The scripted caller's audio, prepared once: frames (20 ms unless asked) with their header flags.

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
    frame_ms: int
    onset_ms: float  # the start of the first voiced 20 ms (webrtcvad)
    end_ms: float  # just after the last voiced 20 ms

    def holds(self, index: int, at_ms: float) -> bool:
        """Whether frame `index` holds the moment `at_ms` of the recording."""
        return index * self.frame_ms <= at_ms < (index + 1) * self.frame_ms


def utterance(name: str, from_ms: int = 0, frame_ms: int = FRAME_MS) -> Utterance:
    """tests/data/`name`.wav from `from_ms` on, as the caller sends it in `frame_ms` frames."""
    pcm = load_speech(name, RATE)[from_ms * RATE // 1000 * 2 :]
    frame_bytes = RATE * frame_ms // 1000 * 2
    pcm += bytes(-len(pcm) % frame_bytes)
    vad = webrtcvad.Vad(2)
    steps = range(0, len(pcm) - FRAME_BYTES + 1, FRAME_BYTES)
    voiced = [i // FRAME_BYTES for i in steps if vad.is_speech(pcm[i : i + FRAME_BYTES], RATE)]
    frames = tuple(pcm[i : i + frame_bytes] for i in range(0, len(pcm), frame_bytes))
    return Utterance(
        frames=frames,
        flags=tuple(energy_flag(frame) for frame in frames),
        frame_ms=frame_ms,
        onset_ms=voiced[0] * FRAME_MS,
        end_ms=(voiced[-1] + 1) * FRAME_MS,
    )


def silent_frame(frame_ms: int) -> bytes:
    return bytes(RATE * frame_ms // 1000 * 2)


SILENT_FLAGS = SILENCE_FLAG


def frame_message(timestamp_ms: int, flags: int, pcm: bytes) -> bytes:
    return HEADER.pack(timestamp_ms % (1 << 32), flags) + pcm
