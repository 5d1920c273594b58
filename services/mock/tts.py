"""Mock TTS: speech-like PCM whose length follows the text, with exact word timings.

Each word becomes a voiced buzz (harmonics of a gliding pitch under a syllable-rate
envelope) followed by a short pause, so the audio looks like speech to a VAD and its
length is known per word. Synthesis is paced at a configured real-time factor.
"""

from __future__ import annotations

import asyncio
import functools
import zlib
from collections.abc import AsyncIterator

import numpy as np

from services.base import TTSCapabilities, TTSChunk, WordTiming
from services.mock.faults import FaultPlan
from services.mock.settings import MockTTSSettings

WORD_GAP_MS = 50
CHUNK_MS = 100


@functools.lru_cache(maxsize=4096)
def word_audio(word: str, ms: float, sample_rate: int) -> np.ndarray:
    """A deterministic voiced burst for one word; made once and kept, so that the mock costs
    almost nothing and a benchmark on it measures Parley (read-only: it is shared)."""
    n = int(sample_rate * ms / 1000)
    t = np.arange(n) / sample_rate
    pitch = 110 + (zlib.crc32(word.encode()) % 60)
    phase = 2 * np.pi * np.cumsum(pitch * (1 + 0.1 * np.sin(2 * np.pi * 3 * t))) / sample_rate
    voice = sum(np.sin(k * phase) / k for k in range(1, 8))
    envelope = np.sin(np.pi * np.clip(t / max(ms / 1000, 1e-3), 0, 1)) ** 0.5
    audio = (voice * envelope * 5000).astype(np.int16)
    audio.flags.writeable = False
    return audio


class MockTTS:
    capabilities = TTSCapabilities(word_timings=True)

    def __init__(self, settings: MockTTSSettings) -> None:
        self.first_byte_s = settings.first_byte_ms / 1000
        self.ms_per_char = settings.ms_per_char
        self.rtf = settings.rtf
        self.faults = FaultPlan.parse(settings.fault, settings.fault_on)
        self.calls = 0

    def render(self, text: str, sample_rate: int) -> tuple[np.ndarray, list[WordTiming]]:
        """The whole utterance and its word timings."""
        pieces: list[np.ndarray] = []
        words: list[WordTiming] = []
        position = 0.0
        gap = np.zeros(int(sample_rate * WORD_GAP_MS / 1000), dtype=np.int16)
        for word in text.split():
            ms = len(word) * self.ms_per_char
            pieces.extend([word_audio(word, ms, sample_rate), gap])
            words.append(WordTiming(word, position, position + ms))
            position += ms + WORD_GAP_MS
        audio = np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.int16)
        return audio, words

    async def synthesize(self, text: str, *, voice: str, language: str, sample_rate: int) -> AsyncIterator[TTSChunk]:
        self.calls += 1
        await self.faults.strike("tts", self.calls)
        await asyncio.sleep(self.first_byte_s)
        audio, words = self.render(text, sample_rate)
        step = int(sample_rate * CHUNK_MS / 1000)
        for start in range(0, len(audio), step):
            if start:
                await asyncio.sleep(CHUNK_MS / 1000 * self.rtf)
            start_ms, end_ms = start * 1000 / sample_rate, (start + step) * 1000 / sample_rate
            chunk_words = tuple(w for w in words if start_ms <= w.start_ms < end_ms)
            yield TTSChunk(audio[start : start + step].astype("<i2").tobytes(), chunk_words)
