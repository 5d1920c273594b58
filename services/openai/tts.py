"""TTS over the OpenAI speech API: raw PCM (24 kHz, 16-bit, mono) streamed as it is made.

Each chunk is passed on as it arrives, resampled to the session's rate; a call that fails
before its first byte is retried. Any OpenAI-compatible speech server works with
OPENAI_TTS_BASE_URL.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

import openai

from config import ConfigProblem
from services.base import TTSCapabilities, TTSChunk
from services.openai.client import openai_client, provider_error, retry_policy
from services.openai.settings import OpenAISettings, OpenAITTSSettings
from services.retry import retry_before_first
from services.shared import SharedResources
from utils.audio import EvenBytes, StreamResampler

NATIVE_RATE = 24000
READ_BYTES = 4800  # 100 ms at 24 kHz


class OpenAITTS:
    uses_shared = True
    capabilities = TTSCapabilities(word_timings=False)

    def __init__(self, settings: OpenAISettings, tts: OpenAITTSSettings, *, shared: SharedResources) -> None:
        self._client: openai.AsyncOpenAI = openai_client(shared, settings, tts)
        self._tts = tts
        self._retry = retry_policy(settings)

    @classmethod
    def problems(cls, settings: OpenAISettings, tts: OpenAITTSSettings) -> list[ConfigProblem]:
        return tts.problems_with(settings)

    async def synthesize(self, text: str, *, voice: str, language: str, sample_rate: int) -> AsyncIterator[TTSChunk]:
        resampler = StreamResampler(NATIVE_RATE, sample_rate)
        async for pcm in retry_before_first(lambda: self._pcm(text, voice or self._tts.voice), self._retry):
            if out := resampler.process(pcm):
                yield TTSChunk(out)
        if tail := resampler.flush():
            yield TTSChunk(tail)

    async def _pcm(self, text: str, voice: str) -> AsyncGenerator[bytes, None]:
        options: dict[str, Any] = {"model": self._tts.model, "voice": voice, "input": text, "response_format": "pcm"}
        if self._tts.speed != 1.0:
            options["speed"] = self._tts.speed
        if self._tts.instructions:
            options["instructions"] = self._tts.instructions
        even = EvenBytes()
        try:
            async with self._client.audio.speech.with_streaming_response.create(**options) as response:
                async for data in response.iter_bytes(READ_BYTES):
                    if pcm := even(data):
                        yield pcm
        except Exception as error:
            raise provider_error("tts", error) from None
