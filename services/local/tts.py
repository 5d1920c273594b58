"""Offline text-to-speech: hibari (Apache-2.0), 24 kHz, with its bundled voice "heart".

hibari's other voices download on first use, which an offline server must never do, so
only bundled voices are accepted. The Reply hands over one sentence at a time; hibari
splits a very long one at clause punctuation, and each piece is streamed as soon as it
is synthesized, cut into CHUNK_MS chunks at the requested rate.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import numpy as np

from services.base import TTSCapabilities, TTSChunk
from services.errors import ProviderError
from services.local.engines import EnginePool, SharedModel, engine_pool, shared_model
from services.local.settings import LocalEngineSettings, LocalTTSSettings
from utils.audio import StreamResampler

if TYPE_CHECKING:
    from hibari import Hibari

NATIVE_RATE = 24000
DEFAULT_VOICE = "heart"
CHUNK_MS = 100


def bundled_voices() -> list[str]:
    from hibari.voices import VOICES

    return [name for name, voice in VOICES.items() if voice.get("bundled")]


def _load(voice: str) -> Hibari:
    from hibari import Hibari
    from hibari.voices import voice_path

    try:
        path = voice_path(voice, download_missing=False)
    except (ValueError, FileNotFoundError):
        raise ProviderError("tts", f"voice {voice!r} is not bundled; choose one of {bundled_voices()}") from None
    tts = Hibari(voice=voice, model=path, threads=1)
    tts.g2p  # noqa: B018 - loads the lexicons now, not in the first sentence
    return tts


def to_pcm16(samples: np.ndarray) -> bytes:
    pcm: bytes = (np.clip(samples, -1.0, 1.0) * 32767.0).astype("<i2").tobytes()
    return pcm


class HibariTTS:
    capabilities = TTSCapabilities(word_timings=False)

    def __init__(self, settings: LocalTTSSettings, engine: LocalEngineSettings) -> None:
        self.speed = settings.speed
        self.pool: EnginePool = engine_pool("hibari", 1, engine.max_pending)

    def model(self, voice: str) -> SharedModel[Hibari]:
        name = voice or DEFAULT_VOICE
        return shared_model("hibari", name, lambda: _load(name))

    @classmethod
    def warm_up(cls, settings: LocalTTSSettings, engine: LocalEngineSettings, *, voice: str) -> None:
        """Load the server's default voice and speak once (an unbundled voice fails here, at start)."""
        tts = cls(settings, engine)
        tts.pool.call(lambda: tts.model(voice).get()("Ready.", speed=tts.speed))

    def _phonemize(self, voice: str, text: str) -> list[str]:
        pieces: list[str] = self.model(voice).get().phonemize(text)
        return pieces

    def _synthesize(self, voice: str, phonemes: str) -> np.ndarray:
        tts = self.model(voice).get()
        audio: np.ndarray = tts.from_ids(tts.ids(phonemes), self.speed)
        return audio

    async def synthesize(self, text: str, *, voice: str, language: str, sample_rate: int) -> AsyncIterator[TTSChunk]:
        pieces = await self.pool.run("tts", self._phonemize, voice, text)
        resampler = StreamResampler(NATIVE_RATE, sample_rate)
        step = sample_rate * CHUNK_MS // 1000 * 2
        for index, phonemes in enumerate(pieces):
            audio = await self.pool.run("tts", self._synthesize, voice, phonemes)
            pcm = resampler.process(to_pcm16(audio))
            if index == len(pieces) - 1:
                pcm += resampler.flush()
            for start in range(0, len(pcm), step):
                yield TTSChunk(pcm[start : start + step])
