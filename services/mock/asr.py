"""Mock speech-to-text: each utterance becomes a scripted text, deterministically.

Partials reveal the text word by word as audio arrives; the final comes after a set
delay once the utterance is finished. Without a script, the text says how long the
utterance was, so tests can still tell turns apart.
"""

from __future__ import annotations

import asyncio

from services.base import ASRCapabilities, ASRResult
from services.mock.faults import FaultPlan
from services.mock.settings import MockASRSettings
from services.streams import ChannelASRStream
from utils.audio import bytes_for_ms, duration_ms


class MockASR:
    capabilities = ASRCapabilities(sample_rate=16000, drafts=True)

    def __init__(self, settings: MockASRSettings) -> None:
        self.script = [text.strip() for text in settings.script.split("|") if text.strip()]
        self.final_delay_s = settings.final_delay_ms / 1000
        self.partial_every_ms = settings.partial_every_ms
        self.faults = FaultPlan.parse(settings.fault, settings.fault_on)
        self.utterances_finished = 0

    def open_stream(self, language: str) -> MockASRStream:
        return MockASRStream(self, asyncio.get_running_loop().time())

    def text_for(self, index: int, audio_ms: float, opened_at: float) -> str:
        """The text of the `index`-th finished utterance (0-based), opened at loop time `opened_at`."""
        if self.script:
            return self.script[index % len(self.script)]
        return f"I spoke for {audio_ms / 1000:.1f} seconds"


class MockASRStream(ChannelASRStream):
    def __init__(self, engine: MockASR, opened_at: float) -> None:
        super().__init__(wake_every_bytes=bytes_for_ms(engine.partial_every_ms, engine.capabilities.sample_rate))
        self._engine = engine
        self._opened_at = opened_at
        self._index: int | None = None  # 1-based, in the order utterances finish

    def finish(self) -> None:
        if self._index is None:
            self._engine.utterances_finished += 1
            self._index = self._engine.utterances_finished
        super().finish()

    async def draft(self) -> str:
        """The text the final would give now (it takes the final's delay, as a decode would)."""
        engine = self._engine
        await engine.faults.strike("asr", engine.utterances_finished + 1)  # a decode that fails fails here too
        await asyncio.sleep(engine.final_delay_s)
        return engine.text_for(engine.utterances_finished, self._audio_ms(), self._opened_at)

    def _audio_ms(self) -> float:
        return duration_ms(self.received_bytes, self._engine.capabilities.sample_rate)

    async def _recognize(self) -> None:
        engine, partials_sent = self._engine, 0
        while not self.finished:
            await self._wait_for_audio()
            due = int(self._audio_ms() // engine.partial_every_ms)
            if due > partials_sent and not self.finished:
                partials_sent = due
                words = engine.text_for(engine.utterances_finished, self._audio_ms(), self._opened_at).split()
                await self._emit(ASRResult(" ".join(words[: min(due, len(words))]), is_final=False))
        if self._index is None:  # closed, not finished
            return
        await engine.faults.strike("asr", self._index)
        await asyncio.sleep(engine.final_delay_s)
        text = engine.text_for(self._index - 1, self._audio_ms(), self._opened_at)
        await self._emit(ASRResult(text, is_final=True))
