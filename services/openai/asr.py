"""ASR over the OpenAI transcription API: one request per utterance, sent when it ends.

Models that stream (gpt-4o-transcribe and its family) send text deltas, passed on as
partials before the final; whisper-1 answers with the whole text. Any OpenAI-compatible
transcription server works with OPENAI_ASR_BASE_URL (e.g. a local faster-whisper server).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator

import openai

from config import ConfigProblem
from services.base import ASRCapabilities, ASRResult
from services.openai.client import openai_client, provider_error, retry_policy
from services.openai.settings import OpenAIASRSettings, OpenAISettings
from services.retry import retry_before_first
from services.shared import SharedResources
from services.streams import ChannelASRStream
from utils.audio import wav_bytes

SAMPLE_RATE = 16000  # what Whisper-family models use; smaller uploads than 24 kHz
NEVER_WAKE = 1 << 40  # the whole utterance is sent at its end: no wake-ups while it grows


class OpenAIASR:
    uses_shared = True
    capabilities = ASRCapabilities(sample_rate=SAMPLE_RATE)

    def __init__(self, settings: OpenAISettings, asr: OpenAIASRSettings, *, shared: SharedResources) -> None:
        self.client: openai.AsyncOpenAI = openai_client(shared, settings, asr)
        self.model = asr.model
        self.stream = asr.stream if asr.stream is not None else not asr.model.startswith("whisper")
        self.prompt = asr.prompt
        self.retry = retry_policy(settings)

    @classmethod
    def problems(cls, settings: OpenAISettings, asr: OpenAIASRSettings) -> list[ConfigProblem]:
        return asr.problems_with(settings)

    def open_stream(self, language: str) -> OpenAITranscription:
        return OpenAITranscription(self, language.split("-")[0].lower())


class OpenAITranscription(ChannelASRStream):
    def __init__(self, engine: OpenAIASR, language: str) -> None:
        super().__init__(wake_every_bytes=NEVER_WAKE)
        self._engine = engine
        self._language = language

    async def _recognize(self) -> None:
        while not self.finished:
            await self._wait_for_audio()
        audio = self._take_audio()
        if not audio:
            return  # the base gives the one (empty) final
        wav = wav_bytes(audio, SAMPLE_RATE)
        async for text, final in retry_before_first(lambda: self._transcribe(wav), self._engine.retry):
            await self._emit(ASRResult(text.strip(), is_final=final))

    async def _transcribe(self, wav: bytes) -> AsyncGenerator[tuple[str, bool], None]:
        """(text so far, final?) pairs of one request."""
        engine = self._engine
        options = {"model": engine.model, "language": self._language, "file": ("speech.wav", wav, "audio/wav")}
        if engine.prompt:
            options["prompt"] = engine.prompt
        try:
            if not engine.stream:
                result = await engine.client.audio.transcriptions.create(**options)  # type: ignore[call-overload]
                yield str(result.text), True
                return
            events = await engine.client.audio.transcriptions.create(**options, stream=True)  # type: ignore[call-overload]
            text = ""
            async for event in events:
                if event.type == "transcript.text.delta":
                    text += event.delta
                    yield text, False
                elif event.type == "transcript.text.done":
                    yield event.text, True
                    return
        except Exception as error:
            raise provider_error("asr", error) from None
