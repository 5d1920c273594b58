"""The reply handle: one assistant turn, owning its LLM, TTS and playout tasks.

LLM deltas -> SentenceSegmenter -> bounded sentence queue -> TTS -> bounded audio queue
-> Pacer. `stop()` cancels all three tasks as one unit, drops the turn's unsent audio,
and commits to history only what the user heard, marked interrupted; `wait_closed()`
then waits for the tasks with a bound. Interruption is a method call, not a message
racing through queues.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass

from services.base import ChatMessage, Providers, TTSChunk
from services.errors import ProviderError
from session import History, HistoryEntry
from utils.streams import with_step_timeouts
from utils.text import SentenceSegmenter
from websocket import events as ev
from websocket.metrics import TurnTimer
from websocket.pacer import Pacer
from websocket.timeline import SpokenSentence, Timeline

log = logging.getLogger(__name__)

SENTENCE_QUEUE_SIZE = 16
AUDIO_QUEUE_SIZE = 64  # TTS chunks synthesized ahead of playout


@dataclass(frozen=True)
class ReplyOptions:
    voice: str
    language: str
    sample_rate: int
    frame_ms: int
    lead_ms: float
    llm_first_token_timeout_s: float
    llm_idle_timeout_s: float
    tts_first_byte_timeout_s: float
    tts_idle_timeout_s: float


class Reply:
    def __init__(
        self,
        turn_id: int,
        history: History,
        providers: Providers,
        options: ReplyOptions,
        sink: ev.EventSink,
        timer: TurnTimer,
        on_state: Callable[[str], None],
        on_done: Callable[[Reply], None],
    ) -> None:
        self.turn_id = turn_id
        self.done = False
        self.stop_reason: str | None = None
        self.timeline = Timeline()
        self.pacer = Pacer(options.sample_rate, options.frame_ms, options.lead_ms, self._send_frame)
        self._messages: list[ChatMessage] = history.llm_messages()
        self._history = history
        self._providers = providers
        self._options = options
        self._sink = sink
        self._timer = timer
        self._on_state = on_state
        self._on_done = on_done
        self._sentences: asyncio.Queue[str | None] = asyncio.Queue(SENTENCE_QUEUE_SIZE)
        self._audio: asyncio.Queue[tuple[int, str, TTSChunk] | None] = asyncio.Queue(AUDIO_QUEUE_SIZE)
        self._tasks: list[asyncio.Task[None]] = []
        self._sequence = 0
        self._llm_done = False
        self._entry: HistoryEntry | None = None

    def start(self) -> None:
        self._on_state("thinking")
        name = f"reply-{self.turn_id}"
        self._tasks = [
            asyncio.create_task(self._run_llm(), name=f"{name}-llm"),
            asyncio.create_task(self._run_tts(), name=f"{name}-tts"),
            asyncio.create_task(self._run_playout(), name=f"{name}-playout"),
        ]

    def stop(self, reason: str) -> bool:
        """Cut the reply now; returns False if it had already ended."""
        if self.done:
            return False
        self.done = True
        self.stop_reason = reason
        for task in self._tasks:
            task.cancel()
        played = self.pacer.played_ms()
        self._sink.clear_audio(self.turn_id)
        self._commit(self.timeline.heard_text(played), interrupted=True)
        if not self._llm_done:
            self._sink.emit(ev.LlmStatus(self.turn_id, "failed" if reason == "error" else "cancelled"))
        self._sink.emit(ev.SpeechStop(self.turn_id, reason, played))
        self._sink.emit(ev.TurnMetrics(self.turn_id, self._timer.report(), interrupted=True))
        self._on_done(self)
        return True

    async def wait_closed(self, timeout_s: float) -> bool:
        """Wait for the tasks to end; False (and a log line) if one outlives the bound."""
        if not self._tasks:
            return True
        _, pending = await asyncio.wait(self._tasks, timeout=timeout_s)
        for task in pending:
            log.error("reply task %s did not stop within %.1f s", task.get_name(), timeout_s)
        return not pending

    def on_playback(self, played_ms: float) -> None:
        """A client `playback` ack for this turn, during the reply or after it was cut."""
        self.pacer.on_playback(played_ms)
        if self.done and self.stop_reason is not None:
            self._commit(self.timeline.heard_text(self.pacer.played_ms()), interrupted=True)

    def _commit(self, text: str, interrupted: bool) -> None:
        if self._entry is not None:
            if text:
                self._entry.content = text
            else:
                self._history.remove(self._entry)
                self._entry = None
        elif text:
            self._entry = self._history.add("assistant", text, self.turn_id, interrupted)

    def _complete(self) -> None:
        if self.done:
            return
        self.done = True
        self._commit(self.timeline.full_text(), interrupted=False)
        self._sink.emit(ev.TurnMetrics(self.turn_id, self._timer.report(), interrupted=False))
        self._on_done(self)

    def _fail(self, error: ProviderError) -> None:
        log.warning("turn %d: %s", self.turn_id, error)
        retry = getattr(error, "retry_after_s", None)
        self._sink.emit(ev.ErrorEvent(error.code, str(error), self.turn_id, retry))
        self.stop("error")

    async def _run_llm(self) -> None:
        opts, content = self._options, ""
        segmenter = SentenceSegmenter()
        self._sink.emit(ev.LlmStatus(self.turn_id, "processing"))
        try:
            deltas = self._providers.llm.stream(self._messages)
            async for delta in with_step_timeouts(
                deltas, stage="llm", first_s=opts.llm_first_token_timeout_s, idle_s=opts.llm_idle_timeout_s
            ):
                if not delta:
                    continue
                self._timer.mark("llm_first_token_ms")
                content += delta
                self._sink.emit(ev.LlmText(self.turn_id, delta, content, complete=False))
                for sentence in segmenter.push(delta):
                    await self._queue_sentence(sentence)
            if rest := segmenter.flush():
                await self._queue_sentence(rest)
        except ProviderError as error:
            self._fail(error)
            return
        self._llm_done = True
        self._sink.emit(ev.LlmText(self.turn_id, "", content, complete=True))
        self._sink.emit(ev.LlmStatus(self.turn_id, "complete"))
        await self._sentences.put(None)

    async def _queue_sentence(self, sentence: str) -> None:
        self._timer.mark("first_sentence_ms")
        await self._sentences.put(sentence)

    async def _run_tts(self) -> None:
        opts, index = self._options, 0
        try:
            while (sentence := await self._sentences.get()) is not None:
                chunks = self._providers.tts.synthesize(
                    sentence, voice=opts.voice, language=opts.language, sample_rate=opts.sample_rate
                )
                async for chunk in with_step_timeouts(
                    chunks, stage="tts", first_s=opts.tts_first_byte_timeout_s, idle_s=opts.tts_idle_timeout_s
                ):
                    self._timer.mark("tts_first_byte_ms")
                    await self._audio.put((index, sentence, chunk))
                index += 1
        except ProviderError as error:
            self._fail(error)
            return
        await self._audio.put(None)

    async def _run_playout(self) -> None:
        current: SpokenSentence | None = None
        current_index = -1
        while (item := await self._audio.get()) is not None:
            index, text, chunk = item
            if index != current_index:
                if current is not None:
                    current.end_ms = self.pacer.sent_ms
                current, current_index = self.timeline.begin(text, self.pacer.sent_ms), index
                rate = self._options.sample_rate
                self._sink.emit(ev.SpeechStart(self.turn_id, rate, text, index, self.pacer.sent_ms))
            assert current is not None
            current.words.extend(chunk.words)
            await self.pacer.send(chunk.pcm)
        if current is not None:
            current.end_ms = self.pacer.sent_ms
            self._sink.emit(ev.SpeechEnd(self.turn_id, self.pacer.sent_ms))
        await self.pacer.wait_for_playout()
        self._complete()

    def _send_frame(self, frame: bytes) -> None:
        if self._sequence == 0:
            self._timer.mark("first_audio_sent_ms")
            self._on_state("speaking")
        self._sink.emit(ev.AudioOut(self.turn_id, self._sequence, frame))
        self._sequence += 1
