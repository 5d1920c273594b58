"""Fallback offline speech-to-text: pocketsphinx, whose US English model ships in its wheel.

Less accurate than Whisper but truly streaming: audio is decoded as it arrives, in
batches on a worker thread, and every change of the hypothesis is a partial. Decoders
are costly to create (about 0.5 s) and hold one utterance each, so idle ones are kept
in a process-wide free list and lent to one stream at a time.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from config import Settings
from services.base import ASRCapabilities, ASRResult
from services.engines import EnginePool, engine_pool
from utils.audio import bytes_for_ms
from utils.free_list import FreeList

if TYPE_CHECKING:
    from pocketsphinx import Decoder

SAMPLE_RATE = 16000
WORKERS = 2
MAX_IDLE_DECODERS = 4
BATCH_BYTES = bytes_for_ms(100, SAMPLE_RATE)  # partials lag the audio by at most this much


def _new_decoder() -> Decoder:
    from pocketsphinx import Decoder

    return Decoder(samprate=SAMPLE_RATE, loglevel="FATAL")


decoders: FreeList[Decoder] = FreeList(_new_decoder, MAX_IDLE_DECODERS)


class PocketsphinxASR:
    capabilities = ASRCapabilities(streaming_partials=True, per_utterance=False, sample_rate=SAMPLE_RATE)

    def __init__(self, settings: Settings) -> None:
        self.pool: EnginePool = engine_pool("pocketsphinx", WORKERS, settings.engine_max_pending)
        self.max_bytes = bytes_for_ms(settings.max_utterance_s * 1000 + 1000, SAMPLE_RATE)

    @classmethod
    def warm_up(cls, settings: Settings) -> None:
        cls(settings).pool.call(lambda: decoders.preload(1))

    def open_stream(self, language: str) -> PocketsphinxStream:
        return PocketsphinxStream(self)


class PocketsphinxStream:
    def __init__(self, engine: PocketsphinxASR) -> None:
        self._engine = engine
        self._pending = bytearray()
        self._received = 0
        self._finished = False
        self._changed = asyncio.Event()
        self._decoder: Decoder | None = None
        self._started = False

    def push(self, pcm16: bytes) -> None:
        if not self._finished and self._received < self._engine.max_bytes:
            self._pending.extend(pcm16)
            self._received += len(pcm16)
            if len(self._pending) >= BATCH_BYTES:
                self._changed.set()  # one thread hop per batch, not per 20 ms frame

    def finish(self) -> None:
        self._finished = True
        self._changed.set()

    def _decode(self, audio: bytes, last: bool) -> str:
        """Feed a batch to this stream's decoder (worker thread); the hypothesis so far."""
        decoder = self._decoder
        if decoder is None:
            decoder = self._decoder = decoders.borrow()
        if not self._started:
            decoder.start_utt()
            self._started = True
        if audio:
            decoder.process_raw(audio, False, False)
        if last:
            decoder.end_utt()
            self._started = False
        hypothesis = decoder.hyp()
        return hypothesis.hypstr if hypothesis is not None else ""

    async def results(self) -> AsyncIterator[ASRResult]:
        last_partial = ""
        while True:
            await self._changed.wait()
            self._changed.clear()
            finished = self._finished
            batch, self._pending = bytes(self._pending), bytearray()
            text = await self._engine.pool.run("asr", self._decode, batch, finished)
            if finished:
                self._release()
                yield ASRResult(text, is_final=True)
                return
            if text and text != last_partial:
                last_partial = text
                yield ASRResult(text, is_final=False)

    def _release(self) -> None:
        decoder, self._decoder = self._decoder, None
        if decoder is not None and not self._started:
            decoders.give_back(decoder)

    async def aclose(self) -> None:
        self._finished = True
        self._pending = bytearray()
        self._changed.set()
        self._release()  # a decoder left mid-utterance (cancelled) is dropped, not reused
