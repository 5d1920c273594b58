"""The conversation engine of one connection: audio and commands in, events out.

Microphone audio -> resampler (16 kHz) -> TurnDetector -> Utterance (ASR stream). When a
turn ends, its final transcript starts a Reply. Voiced speech of at least
BARGE_IN_MIN_MS while a reply thinks or speaks stops that reply as a unit, and the
speech, pre-roll included, becomes the next turn. The Conversation knows nothing of the
wire format; the handler translates.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from config import Settings
from services.base import Providers
from services.errors import ProviderError
from session import Session
from utils.audio import StreamResampler
from utils.speech_gate import SpeechGate
from utils.vad import VAD_RATE, SpeechAudio, SpeechEnded, SpeechStarted, TurnConfig, TurnDetector, TurnEvent
from websocket import events as ev
from websocket.metrics import TurnTimer
from websocket.reply import Reply, ReplyOptions
from websocket.utterance import Utterance

log = logging.getLogger(__name__)


class Conversation:
    def __init__(
        self,
        session: Session,
        providers: Providers,
        settings: Settings,
        sink: ev.EventSink,
        is_speech: Callable[[bytes], bool] | None = None,
    ) -> None:
        self.session = session
        self.listening = True
        self._providers = providers
        self._settings = settings
        self._sink = sink
        self._state = ""
        self._resampler = self._input_resampler()
        self._gate = (
            None
            if is_speech is not None
            else SpeechGate(settings.vad_aggressiveness, settings.vad_confirm, settings.vad_confirm_threshold)
        )
        self._detector = TurnDetector(
            TurnConfig(
                aggressiveness=settings.vad_aggressiveness,
                start_ms=settings.vad_start_ms,
                end_silence_ms=settings.vad_end_silence_ms,
                preroll_ms=settings.vad_preroll_ms,
                max_utterance_ms=int(settings.max_utterance_s * 1000),
            ),
            is_speech or self._gate,
        )
        self._utterance: Utterance | None = None
        self._utterance_started_during_reply = False
        self._finalizers: set[asyncio.Task[None]] = set()
        self._reply: Reply | None = None
        self._last_reply: Reply | None = None
        self._retired: set[Reply] = set()
        self._last_voiced_at = 0.0

    @property
    def reply(self) -> Reply | None:
        return self._reply

    def begin(self) -> None:
        self._set_state("listening")

    # ----- audio -----------------------------------------------------------------

    async def push_audio(self, pcm: bytes, received_at: float) -> None:
        """Microphone PCM16 at the session's input rate."""
        if not self.listening:
            return
        events = self._detector.push(self._resampler.process(pcm))
        if self._detector.last_push_voiced:
            self._last_voiced_at = received_at
        for event in events:
            self._on_turn_event(event)
        await self._settle()

    def _on_turn_event(self, event: TurnEvent) -> None:
        if isinstance(event, SpeechStarted):
            turn_id = self.session.next_turn_id()
            cfg = self.session.config
            self._utterance = Utterance(turn_id, self._providers.asr, cfg.language, self._sink)
            self._utterance_started_during_reply = self._reply is not None
        utterance = self._utterance
        if utterance is None:
            return
        utterance.push(event.audio)
        utterance.voiced_ms = event.voiced_ms
        self._check_barge_in(utterance)
        if isinstance(event, SpeechStarted | SpeechAudio):
            return
        assert isinstance(event, SpeechEnded)
        self._utterance = None
        if self._reply is not None:
            if self._utterance_started_during_reply:
                log.info("turn %d: %d ms of speech under the barge-in bar, ignored", utterance.turn_id, event.voiced_ms)
                self._spawn(utterance.aclose())
                return
            self._stop_reply("barge_in")  # it started while the user was already talking
        utterance.speech_end_at = self._last_voiced_at
        utterance.finish()
        self._spawn(self._finalize(utterance))

    def _check_barge_in(self, utterance: Utterance) -> None:
        if self._reply is not None and utterance.voiced_ms >= self._settings.barge_in_min_ms:
            log.info("turn %d: barge-in after %d ms of speech", utterance.turn_id, utterance.voiced_ms)
            self._stop_reply("barge_in")

    async def _finalize(self, utterance: Utterance) -> None:
        try:
            text = await utterance.final_text(self._settings.asr_final_timeout_s)
        except ProviderError as error:
            self._sink.emit(ev.ErrorEvent(error.code, str(error), utterance.turn_id))
            text = ""
        finally:
            await utterance.aclose()
        if not text or not self.listening:
            return
        self._sink.emit(ev.Transcript(utterance.turn_id, text, final=True))
        timer = TurnTimer(origin=utterance.speech_end_at)
        timer.mark("final_transcript_ms")
        await self._begin_turn(utterance.turn_id, text, timer, reason="barge_in")

    # ----- turns -----------------------------------------------------------------

    async def _begin_turn(self, turn_id: int, text: str, timer: TurnTimer, reason: str) -> None:
        """Stop any reply and start this turn's, with no await between (two turns may race)."""
        self._stop_reply(reason)
        self.session.history.add("user", text, turn_id)
        talking = self._utterance
        if talking is None or talking.voiced_ms < self._settings.barge_in_min_ms:
            self._start_reply(turn_id, timer)
        # else the user is already saying more; that speech becomes the next turn
        await self._settle()

    def _start_reply(self, turn_id: int, timer: TurnTimer) -> None:
        cfg, s = self.session.config, self._settings
        options = ReplyOptions(
            voice=cfg.voice,
            language=cfg.language,
            sample_rate=s.output_sample_rate,
            frame_ms=s.audio_out_frame_ms,
            lead_ms=s.playback_lead_ms,
            llm_first_token_timeout_s=s.llm_first_token_timeout_s,
            llm_idle_timeout_s=s.llm_idle_timeout_s,
            tts_first_byte_timeout_s=s.tts_first_byte_timeout_s,
            tts_idle_timeout_s=s.tts_idle_timeout_s,
        )
        reply = Reply(
            turn_id, self.session.history, self._providers, options, self._sink, timer,
            on_state=lambda state: self._reply_state(reply, state), on_done=self._reply_done,
        )  # fmt: skip
        self._reply = reply
        reply.start()

    def _reply_state(self, reply: Reply, state: str) -> None:
        if reply is self._reply:
            self._set_state(state)

    def _reply_done(self, reply: Reply) -> None:
        self._retired.add(reply)
        if reply is self._reply:
            self._reply = None
            self._last_reply = reply
            if self.listening:
                self._set_state("listening")

    def _stop_reply(self, reason: str) -> int | None:
        reply = self._reply
        if reply is None:
            return None
        reply.stop(reason)
        return reply.turn_id

    async def _settle(self) -> None:
        """Wait, bounded, for the tasks of replies that have ended."""
        while self._retired:
            reply = self._retired.pop()
            await reply.wait_closed(self._settings.reply_cancel_timeout_s)

    # ----- commands --------------------------------------------------------------

    async def text_input(self, text: str) -> None:
        turn_id = self.session.next_turn_id()
        self._sink.emit(ev.Transcript(turn_id, text, final=True, source="text"))
        timer = TurnTimer()
        timer.mark("final_transcript_ms")
        await self._begin_turn(turn_id, text, timer, reason="text_input")

    async def interrupt(self) -> None:
        turn_id = self._stop_reply("interrupt")
        await self._settle()
        self._sink.emit(ev.Acknowledged("interrupt", {"turn_id": turn_id}))

    async def stop(self) -> None:
        turn_id = self._stop_reply("stop")
        self.listening = False
        await self._drop_speech()
        await self._settle()
        self._sink.emit(ev.Acknowledged("stop", {"turn_id": turn_id, "queues_cleared": True}))
        self._set_state("stopped")

    async def start(self) -> None:
        if not self.listening:  # stop() already reset the detector; audio was ignored since
            self.listening = True
            self._resampler = self._input_resampler()
        if self._state == "listening":
            self._sink.emit(ev.StateChanged("listening"))  # always answer a start
        self._set_state("listening")

    async def reset(self) -> None:
        turn_id = self._stop_reply("reset")
        await self._drop_speech()
        await self._settle()
        self.session.history.clear()
        self._last_reply = None
        self.listening = True
        self._sink.emit(ev.Acknowledged("reset", {"turn_id": turn_id}))
        self._set_state("listening")

    def configure(
        self, input_sample_rate: int | None, language: str | None, system_prompt: str | None, voice: str | None
    ) -> None:
        cfg = self.session.config
        if input_sample_rate is not None and input_sample_rate != cfg.input_sample_rate:
            cfg.input_sample_rate = input_sample_rate
            self._resampler = self._input_resampler()
        if language is not None:
            cfg.language = language
        if voice is not None:
            cfg.voice = voice
        if system_prompt is not None:
            cfg.system_prompt = self.session.history.system_prompt = system_prompt
        values = dict(vars(cfg), output_sample_rate=self._settings.output_sample_rate)
        self._sink.emit(ev.Configured(values))

    def playback(self, turn_id: int, played_ms: float) -> None:
        for reply in (self._reply, self._last_reply):
            if reply is not None and reply.turn_id == turn_id:
                reply.on_playback(played_ms)
                return

    async def aclose(self) -> None:
        """End everything this conversation runs, each wait bounded."""
        self._stop_reply("disconnect")
        self.listening = False
        await self._drop_speech()
        await self._settle()
        if self._gate is not None:
            self._gate.close()

    # ----- helpers ---------------------------------------------------------------

    async def _drop_speech(self) -> None:
        """Forget speech in progress and turns not yet answered."""
        self._detector.reset()
        if self._gate is not None:
            self._gate.reset()
        utterance, self._utterance = self._utterance, None
        for task in self._finalizers:
            task.cancel()
        if self._finalizers:
            await asyncio.wait(self._finalizers, timeout=self._settings.reply_cancel_timeout_s)
        if utterance is not None:
            await utterance.aclose()

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        """Run an utterance's last steps as a task this conversation owns (cancelled on close)."""
        task = asyncio.create_task(coro)
        self._finalizers.add(task)
        task.add_done_callback(self._finalizer_done)

    def _finalizer_done(self, task: asyncio.Task[None]) -> None:
        self._finalizers.discard(task)
        if not task.cancelled() and (error := task.exception()) is not None:
            log.error("turn finalizer failed", exc_info=error)
            self._sink.emit(ev.ErrorEvent("provider_failed", f"internal error: {error!r}"))

    def _input_resampler(self) -> StreamResampler:
        """Microphone audio at the session's declared rate -> the VAD's 16 kHz."""
        return StreamResampler(self.session.config.input_sample_rate, VAD_RATE)

    def _set_state(self, state: str) -> None:
        if state != self._state:
            self._state = state
            self._sink.emit(ev.StateChanged(state))
