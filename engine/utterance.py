"""One stretch of user speech: owns its ASR stream and the task reading its results."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from engine import events as ev
from engine.history import new_item_id
from engine.turns.detector import VAD_RATE
from engine.turns.voice_level import VoiceLevel
from services.base import ASR, DraftingASRStream
from services.errors import ProviderError, ProviderTimeout
from utils.aio import bounded, cancel_and_wait
from utils.audio import StreamResampler

log = logging.getLogger(__name__)
CLOSE_BOUND_S = 1.0
RECENT_BYTES = 8 * VAD_RATE * 2  # the last 8 s at 16 kHz: what the end-of-turn model hears


class Utterance:
    def __init__(
        self, turn_id: int, asr: ASR, language: str, sink: ev.EventSink, max_bytes: int,
        on_words: Callable[[Utterance], None] | None = None,
    ) -> None:  # fmt: skip
        self.turn_id = turn_id
        self.item_id = new_item_id()  # its user message's id, told before the message exists
        self.announced = False  # UserSpeechStarted was emitted
        self.deferred = False  # it ended holding a paused reply: its final transcript decides
        self.audio_start_ms = self.audio_end_ms = 0  # in the conversation's input audio
        self.voiced_ms = 0
        self.quiet_ms = 0  # unvoiced audio since the last voiced frame
        self.level = VoiceLevel()  # where the voice really ended (the gate lags it)
        self.partial_text = ""  # the words recognized so far
        self.started_during_reply = False
        self.speech_end_at: float | None = None
        self.onset_at: float | None = None  # loop time of the first voiced audio's arrival
        self.finished = False
        self.draft_text: str | None = None  # the transcript of the speech up to a short silence, if none followed
        self.recent = bytearray()  # at least its last 8 s at 16 kHz (at most 16 s)
        self._sink = sink
        self._on_words = on_words
        self._stream = asr.open_stream(language)
        rate = asr.capabilities.sample_rate
        self._resampler = StreamResampler(VAD_RATE, rate) if rate != VAD_RATE else None
        self._room = max_bytes * rate // VAD_RATE  # the longest turn, plus its pre-roll
        self._final: str | None = None
        self.exact_drafts = asr.capabilities.drafts  # a draft is the final (else only a partial: the final decides)
        self.punctuated_drafts = asr.capabilities.drafts and asr.capabilities.punctuates
        self._reader = asyncio.create_task(self._read(), name=f"utterance-{turn_id}-asr")

    def push(self, pcm16k: bytes) -> None:
        """Audio at the VAD's 16 kHz, passed on at the rate the engine declares."""
        if self.finished:
            return
        self.recent += pcm16k
        self.level.push(pcm16k)
        if len(self.recent) > 2 * RECENT_BYTES:  # trimmed now and then, not per frame (the model takes the last 8 s)
            del self.recent[: len(self.recent) - RECENT_BYTES]
        pcm = self._resampler.process(pcm16k) if self._resampler else pcm16k
        if len(pcm) <= self._room:
            self._room -= len(pcm)
            self._stream.push(pcm)

    @property
    def silence_ms(self) -> int:
        """How long the user has been silent: the gate's count, corrected for its lag."""
        return self.level.silence_ms(self.quiet_ms)

    @property
    def gate_lag_s(self) -> float:
        """How long after the voice's real end the gate's last voiced frame came."""
        return (self.silence_ms - self.quiet_ms) / 1000

    def finish(self) -> None:
        """No more audio. With a draft of the whole speech, that is its final: nothing is decoded again."""
        if not self.finished:
            self.finished = True
            if self._resampler is not None and (tail := self._resampler.flush()):
                self._stream.push(tail[: self._room])
            self._stream.finish()
            if self.draft_text is not None:
                self._final = self.draft_text
                self._reader.cancel()

    async def draft(self, timeout_s: float) -> str:
        """The words of the speech so far, as final as the recognizer can make them without the
        stream ending (an exact decode where the ASR drafts, else its latest partial)."""
        if not self.exact_drafts:
            return self.partial_text
        stream: DraftingASRStream = self._stream  # type: ignore[assignment]
        async with asyncio.timeout(timeout_s):
            return (await stream.draft()).strip()

    async def final_text(self, timeout_s: float) -> str:
        """The final transcript, once the stream has been finished; ProviderError on failure."""
        if self.finished and self.draft_text is not None:
            return self.draft_text
        done, _ = await asyncio.wait([self._reader], timeout=timeout_s)
        if not done:
            raise ProviderTimeout("asr", f"no final transcript within {timeout_s:g} s")
        if self._reader.cancelled():
            raise ProviderError("asr", "recognition was cancelled")
        error = self._reader.exception()
        if isinstance(error, ProviderError):
            raise error
        if error is not None:
            log.error("turn %d: speech recognition failed", self.turn_id, exc_info=error)
            raise ProviderError("asr", "speech recognition failed")
        return self._final or ""

    async def aclose(self) -> None:
        """Stop recognition and release the stream, each step bounded in time."""
        await cancel_and_wait([self._reader], CLOSE_BOUND_S)
        await bounded(self._stream.aclose(), CLOSE_BOUND_S, f"turn {self.turn_id}: ASR stream close")

    async def _read(self) -> None:
        async for result in self._stream.results():
            if result.is_final:
                self._final = result.text.strip()
                return
            if result.text:
                self.partial_text = result.text
                self._sink.emit(ev.Transcript(self.turn_id, result.text, final=False))
                if self._on_words is not None and not self.finished:
                    self._on_words(self)
