"""Fallback offline speech-to-text: pocketsphinx, whose US English model ships in its wheel.

Less accurate than Whisper but truly streaming: audio is decoded as it arrives, in
batches on a worker thread, and every change of the hypothesis is a partial. Decoders
are costly to create (about 0.5 s) and hold one utterance each, so idle ones are kept
in a process-wide free list and lent to one stream at a time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from services.base import ASRCapabilities, ASRResult
from services.local.engines import EnginePool, engine_pool
from services.local.settings import LocalEngineSettings
from services.streams import ChannelASRStream
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
    capabilities = ASRCapabilities(sample_rate=SAMPLE_RATE)

    def __init__(self, engine: LocalEngineSettings) -> None:
        self.pool: EnginePool = engine_pool("pocketsphinx", WORKERS, engine.max_pending)

    @classmethod
    def warm_up(cls, engine: LocalEngineSettings) -> None:
        cls(engine).pool.call(lambda: decoders.preload(1))

    def open_stream(self, language: str) -> PocketsphinxStream:
        return PocketsphinxStream(self)


class PocketsphinxStream(ChannelASRStream):
    def __init__(self, engine: PocketsphinxASR) -> None:
        super().__init__(wake_every_bytes=BATCH_BYTES)  # one thread hop per batch, not per 20 ms frame
        self._engine = engine
        self._decoder: Decoder | None = None
        self._started = False

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

    async def _recognize(self) -> None:
        last_partial = ""
        while True:
            await self._wait_for_audio()
            finished = self.finished
            text = await self._engine.pool.run("asr", self._decode, self._take_audio(), finished)
            if finished:
                self._release()
                await self._emit(ASRResult(text, is_final=True))
                return
            if text and text != last_partial:
                last_partial = text
                await self._emit(ASRResult(text, is_final=False))

    def _release(self) -> None:
        decoder, self._decoder = self._decoder, None
        if decoder is not None and not self._started:  # a decoder left mid-utterance is dropped, not reused
            decoders.give_back(decoder)
