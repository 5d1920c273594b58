"""Mock speech-to-text: each utterance becomes a scripted text, deterministically.

Partials reveal the text word by word as audio arrives; the final comes after a set
delay once the utterance is finished. Without a script, the text says how long the
utterance was, so tests can still tell turns apart.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from config import Settings
from services.base import ASRCapabilities, ASRResult
from services.mock_faults import FaultPlan
from utils.audio import duration_ms


class MockASR:
    capabilities = ASRCapabilities(streaming_partials=True, per_utterance=False)

    def __init__(self, settings: Settings) -> None:
        self.script = [text.strip() for text in settings.mock_asr_script.split("|") if text.strip()]
        self.final_delay_s = settings.mock_asr_final_delay_ms / 1000
        self.partial_every_ms = settings.mock_asr_partial_every_ms
        self.faults = FaultPlan.parse(settings.mock_asr_fault, settings.mock_asr_fault_on)
        self.utterances_finished = 0

    def open_stream(self, language: str) -> MockASRStream:
        return MockASRStream(self)

    def text_for(self, index: int, audio_ms: float) -> str:
        if self.script:
            return self.script[index % len(self.script)]
        return f"I spoke for {audio_ms / 1000:.1f} seconds"


class MockASRStream:
    def __init__(self, engine: MockASR) -> None:
        self._engine = engine
        self._audio_bytes = 0
        self._index: int | None = None
        self._changed = asyncio.Event()

    def push(self, pcm16: bytes) -> None:
        self._audio_bytes += len(pcm16)
        self._changed.set()

    def finish(self) -> None:
        if self._index is None:
            self._engine.utterances_finished += 1
            self._index = self._engine.utterances_finished
        self._changed.set()

    async def results(self) -> AsyncIterator[ASRResult]:
        engine = self._engine
        partials_sent = 0
        while self._index is None:
            await self._changed.wait()
            self._changed.clear()
            audio_ms = duration_ms(self._audio_bytes, engine.capabilities.sample_rate)
            due = int(audio_ms // engine.partial_every_ms)
            if due > partials_sent and self._index is None:
                partials_sent = due
                words = engine.text_for(engine.utterances_finished, audio_ms).split()
                yield ASRResult(" ".join(words[: min(due, len(words))]), is_final=False)
        await engine.faults.strike("asr", self._index)
        await asyncio.sleep(engine.final_delay_s)
        audio_ms = duration_ms(self._audio_bytes, engine.capabilities.sample_rate)
        yield ASRResult(engine.text_for(self._index - 1, audio_ms), is_final=True)

    async def aclose(self) -> None:
        self._changed.set()
