"""The reply handle: one assistant turn, owning its LLM, TTS and playout tasks.

LLM events (engine/reply_text.py) -> bounded sentence queue -> TTS -> bounded audio queue
-> Pacer. `stop()` cancels all three tasks as one unit, drops the turn's unsent audio,
and records in history only what the user heard; `wait_closed()` then joins the tasks
with a bound. Interruption is a method call on this handle, never a message racing
through queues. A reply can be awaited for its outcome.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable, Generator
from typing import Any, Literal

from engine import events as ev
from engine.heard import SpokenSentence, Timeline
from engine.history import AssistantMessage, AssistantStatus, History, new_item_id
from engine.language import system_prompt
from engine.metrics import TurnTimer
from engine.options import ReplyOptions, ReplyRequest, SessionSettings
from engine.pacer import Pacer
from engine.reply_text import ReplyText
from engine.tool_runner import ToolSession
from services.base import ChatMessage, Providers, TTSChunk, Usage
from services.errors import ProviderError
from services.streams import with_step_timeouts
from utils.aio import cancel_and_wait

log = logging.getLogger(__name__)

SENTENCE_QUEUE_SIZE = 16
AUDIO_QUEUE_SIZE = 64  # TTS chunks synthesized ahead of playout
ReplyOutcome = Literal["completed", "interrupted", "failed"]


class Reply:
    def __init__(
        self,
        turn_id: int,
        session: SessionSettings,
        history: History,
        providers: Providers,
        options: ReplyOptions,
        sink: ev.EventSink,
        timer: TurnTimer,
        on_state: Callable[[ev.State], None],
        on_done: Callable[[Reply], None],
        allow_interruptions: bool = True,
        messages: list[ChatMessage] | None = None,
        tools: ToolSession | None = None,
        request: ReplyRequest | None = None,
        held: bool = False,
    ) -> None:
        self.id = f"reply_{secrets.token_hex(8)}"  # the response id a protocol shows
        self.item_id = new_item_id()  # the id of its assistant message, known before it exists
        self.turn_id = turn_id
        self.allow_interruptions = allow_interruptions
        self.stop_reason: ev.StopReason | None = None
        self.timeline = Timeline(word_timings=providers.tts.capabilities.word_timings)
        frame_ms = session.output_frame_ms or options.frame_ms
        self.pacer = Pacer(options.sample_rate, frame_ms, options.lead_ms, self._send_frame)
        self._adopted = asyncio.Event()  # a held (speculative) reply: no audio and no tool runs before
        if held:
            self.pacer.pause()
        else:
            self._adopted.set()
        request = request or ReplyRequest()
        self.speaks = request.speak
        prompt = system_prompt(request.instructions or session.system_prompt, session.language)
        self._text = ReplyText(
            (turn_id, self.id), providers.llm, messages if messages is not None else history.llm_messages(prompt),
            request, tools, history, options, sink, timer, self._queue_sentence, self._adopted.wait,
        )  # fmt: skip
        self._voice, self._language = session.voice, session.language
        self._history, self._providers, self._options, self._sink = history, providers, options, sink
        self._timer, self._on_state, self._on_done = timer, on_state, on_done
        self._sentences: asyncio.Queue[str | None] = asyncio.Queue(SENTENCE_QUEUE_SIZE)
        self._audio: asyncio.Queue[tuple[int, str, TTSChunk] | None] = asyncio.Queue(AUDIO_QUEUE_SIZE)
        self._tasks: list[asyncio.Task[None]] = []
        self._sequence = 0
        self._llm_done = False
        self._recorded = False
        self._failure: ProviderError | None = None
        self._outcome: asyncio.Future[ReplyOutcome] = asyncio.get_running_loop().create_future()

    @property
    def done(self) -> bool:
        return self._outcome.done()

    def __await__(self) -> Generator[Any, None, ReplyOutcome]:
        """`await reply`: its outcome once it has ended (awaiting never cancels it)."""
        return asyncio.shield(self._outcome).__await__()

    @property
    def usage(self) -> Usage | None:
        return self._text.usage

    def start(self) -> None:
        self._sink.emit(ev.ReplyStarted(self.turn_id, self.id, self.item_id, self.speaks))
        self._on_state("thinking")
        name = f"reply-{self.turn_id}"
        self._tasks = [
            asyncio.create_task(self._run_llm(), name=f"{name}-llm"),
            asyncio.create_task(self._run_tts(), name=f"{name}-tts"),
            asyncio.create_task(self._run_playout(), name=f"{name}-playout"),
        ]

    def stop(self, reason: ev.StopReason, speech_onset_at: float | None = None) -> bool:
        """Cut the reply now; returns False if it had already ended. `speech_onset_at` (loop
        time): when the speech that cut it began, for the barge-in latency metric."""
        if self.done:
            return False
        self.stop_reason = reason
        for task in self._tasks:
            task.cancel()
        played = self.pacer.played_ms()
        self._sink.clear_audio(self.turn_id)
        self._record("failed" if reason == "error" else "interrupted", played)
        if not self._llm_done:
            self._sink.emit(ev.LlmStatus(self.turn_id, "failed" if reason == "error" else "cancelled"))
        after = None if speech_onset_at is None else (asyncio.get_running_loop().time() - speech_onset_at) * 1000
        self._sink.emit(ev.SpeechStop(self.turn_id, reason, played, after))
        self._finish("failed" if reason == "error" else "interrupted")
        return True

    def adopt(self) -> None:
        """A held reply is the turn's answer after all: its audio plays, its tools may run."""
        self._adopted.set()
        self.pacer.resume()

    def discard(self) -> None:
        """A held reply the user went on past: its tasks end; nothing is recorded or told."""
        if self.done:
            return
        for task in self._tasks:
            task.cancel()
        self._outcome.set_result("interrupted")

    def pause(self, speech_onset_at: float | None = None) -> bool:
        """Hold the reply's audio where it is (the LLM and TTS go on, bounded by their queues)."""
        if self.done or self.pacer.paused:
            return False
        self.pacer.pause()
        after = None if speech_onset_at is None else (asyncio.get_running_loop().time() - speech_onset_at) * 1000
        self._sink.emit(ev.SpeechPause(self.turn_id, self.pacer.played_ms(), after))
        return True

    def resume(self) -> bool:
        if self.done or not self.pacer.paused:
            return False
        self.pacer.resume()
        self._sink.emit(ev.SpeechResume(self.turn_id, self.pacer.played_ms()))
        return True

    async def wait_closed(self, timeout_s: float) -> bool:
        """Join the tasks; False (and a log line) if one outlives the bound."""
        return await cancel_and_wait(self._tasks, timeout_s)

    def on_playback(self, played_ms: float) -> None:
        """A client `playback` ack for this turn, during the reply or after it was cut."""
        self.pacer.on_playback(played_ms)
        if self.stop_reason is not None and self._recorded:
            played = self.pacer.played_ms()
            self._history.revise(self.item_id, heard_text=self.timeline.heard_text(played), audio_ms=played)

    def _record(self, status: AssistantStatus, played_ms: float) -> None:
        """Append the reply to history: what was generated, and what of it was heard (a filler
        line spoken while a tool ran is heard, not generated)."""
        content = self._text.content.strip()
        if not self.speaks:  # a text reply: what was shown is what was read
            heard = content
        else:
            heard = self.timeline.full_text() if status == "completed" else self.timeline.heard_text(played_ms)
        if not content and not heard:
            return
        timings = {key: value for key, value in self._timer.report().items() if value is not None}
        self._history.append(
            AssistantMessage(self.turn_id, content or heard, heard, status, played_ms, timings, id=self.item_id)
        )
        self._recorded = True

    def _finish(self, outcome: ReplyOutcome) -> None:
        self._sink.emit(ev.TurnMetrics(self.turn_id, self._timer.report(), outcome != "completed", self._timer.origin))
        usage = self._text.usage or Usage(None, None)
        self._sink.emit(ev.ReplyEnded(
            self.turn_id, self.id, outcome, self.stop_reason, usage.input_tokens, usage.output_tokens,
            self._text.incomplete,
        ))  # fmt: skip
        self._outcome.set_result(outcome)
        self._on_done(self)

    def _complete(self) -> None:
        if not self.done:
            self._record("completed", self.pacer.sent_ms)
            self._finish("completed")

    def _failed(self, error: ProviderError) -> None:
        """A provider failed: the client hears of it now; what is already synthesized still plays,
        and the turn ends as failed after it (nothing the user was hearing is cut)."""
        if self._failure is not None:
            return
        log.warning("turn %d: %s", self.turn_id, error)
        self._failure = error
        self._sink.emit(ev.ErrorEvent(error.code, str(error), self.turn_id, error.retry_after_s, error.stage))

    def _end_failed(self) -> None:
        if not self.done:
            if not self._llm_done:
                self._sink.emit(ev.LlmStatus(self.turn_id, "failed"))
            self._record("failed", self.pacer.sent_ms)
            self._finish("failed")

    async def _run_llm(self) -> None:
        self._sink.emit(ev.LlmStatus(self.turn_id, "processing"))
        try:
            await self._text.run()
        except Exception as error:
            self._failed(_as_provider_error("llm", error))
            await self._sentences.put(None)  # the sentences already queued are still spoken
            return
        self._llm_done = True
        self._sink.emit(ev.LlmText(self.turn_id, "", self._text.content, complete=True))
        self._sink.emit(ev.LlmStatus(self.turn_id, "complete"))
        await self._sentences.put(None)

    async def _queue_sentence(self, sentence: str) -> None:
        self._timer.mark("first_sentence_ms")
        if self.speaks:
            await self._sentences.put(sentence)

    async def _run_tts(self) -> None:
        opts, index = self._options, 0
        try:
            while (sentence := await self._sentences.get()) is not None:
                chunks = self._providers.tts.synthesize(
                    sentence, voice=self._voice, language=self._language, sample_rate=opts.sample_rate
                )
                async for chunk in with_step_timeouts(
                    chunks, stage="tts", first_s=opts.tts_first_byte_timeout_s, idle_s=opts.tts_idle_timeout_s
                ):
                    self._timer.mark("tts_first_byte_ms")
                    await self._audio.put((index, sentence, chunk))
                index += 1
        except Exception as error:
            self._failed(_as_provider_error("tts", error))
            self._tasks[0].cancel()  # no more sentences: the LLM stops
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
        await self._adopted.wait()  # a held reply (text only, or failed before speaking) ends only once adopted
        await self.pacer.wait_for_playout()
        if self._failure is not None:
            self._end_failed()
        else:
            self._complete()

    def _send_frame(self, frame: bytes) -> None:
        if self._sequence == 0:
            self._timer.mark("first_audio_sent_ms")
            self._on_state("speaking")
        self._sink.emit(ev.AudioOut(self.turn_id, self._sequence, frame))
        self._sequence += 1


def _as_provider_error(stage: str, error: Exception) -> ProviderError:
    """A provider's failure as the client will see it; an unexpected one is logged in full."""
    if isinstance(error, ProviderError):
        return error
    log.error("%s failed unexpectedly", stage, exc_info=error)
    return ProviderError(stage, "the provider failed unexpectedly")
