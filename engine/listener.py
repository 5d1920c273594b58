"""The microphone side of a conversation: audio in, user turns out.

PCM at the session's input rate -> resampler (16 kHz) -> speech gate (webrtcvad confirmed
by Silero) -> TurnDetector -> one Utterance (ASR stream) per stretch of speech; the EndWatch
ends a finished turn at a short silence. The Listener decides nothing about replies: it
tells its SpeechHandler (the Conversation) when speech starts, grows, pauses and ends, and
hands over each final transcript as a user turn.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from dataclasses import replace
from typing import Any, Protocol, cast

from engine import events as ev
from engine.options import ConversationState, ListenOptions
from engine.turns.detector import VAD_RATE, SpeechEnded, SpeechStarted, TurnConfig, TurnDetector, TurnEvent
from engine.turns.end_of_turn import EndOfTurn, TurnEndModel
from engine.turns.end_watch import EndWatch, Speculator
from engine.turns.order import TurnOrder
from engine.turns.silero_batch import SileroBatcher
from engine.turns.speech_gate import SpeechGate
from engine.utterance import Utterance
from services.base import ASR, SessionASR
from services.errors import ProviderError
from utils.aio import cancel_and_wait
from utils.audio import StreamResampler, bytes_for_ms
from utils.deadline import MovingDeadline
from utils.rates import Share

log = logging.getLogger(__name__)


class SpeechHandler(Speculator, Protocol):
    def speech_started(self, utterance: Utterance) -> None: ...

    def speech_heard(self, utterance: Utterance) -> None:
        """More of the utterance arrived (its voiced_ms is up to date)."""

    def speech_ended(self, utterance: Utterance) -> bool:
        """The utterance ended; False drops it unrecognized (a backchannel)."""

    def speech_dropped(self) -> None:
        """Speech in progress was forgotten (stop, reset, a cleared buffer)."""

    def takes_turn(self, utterance: Utterance, text: str) -> bool:
        """Whether the final transcript is a turn (False: a backchannel; nothing is answered)."""

    async def user_turn(self, utterance: Utterance, text: str) -> None:
        """The utterance's final transcript, to be answered."""


class Listener:
    def __init__(
        self,
        state: ConversationState,
        asr: ASR,
        options: ListenOptions,
        sink: ev.EventSink,
        handler: SpeechHandler,
        is_speech: Callable[[bytes], bool] | None = None,
        vad_share: Share | None = None,
        turn_end_model: TurnEndModel | None = None,
        batcher: SileroBatcher | None = None,
    ) -> None:
        self.listening = True
        self._state = state
        self._asr = asr
        self._options = options
        self._sink = sink
        self._handler = handler
        self._resampler = self._input_resampler()
        self._gate = None if is_speech else SpeechGate(options.turn.aggressiveness, options.vad_confirm,
                                                       options.vad_confirm_threshold, vad_share, batcher)  # fmt: skip
        self._batched_gate = self._gate if self._gate is not None and self._gate.batched else None
        self._end = EndWatch(EndOfTurn(options.end_of_turn, turn_end_model), handler,
                             self._end_now, options.asr_final_timeout_s)  # fmt: skip
        self._turn = self._with_end(options.turn)
        classifier = is_speech or self._gate
        assert classifier is not None  # one of them is always there
        self._classifier: Callable[[bytes], bool] = classifier
        self._detector = TurnDetector(self._turn, self._classifier)
        self._max_bytes = bytes_for_ms(options.turn.max_utterance_ms + options.turn.preroll_ms + 1000, VAD_RATE)
        self._utterance: Utterance | None = None
        self._finalizers: set[asyncio.Task[None]] = set()
        self._last_voiced_at = self._pushed_at = 0.0
        self.heard_ms = 0.0  # input audio listened to since the conversation began
        self._retuned: TurnConfig | None = None
        self._stall = MovingDeadline(self._stalled)
        self.order = TurnOrder()  # typed turns join it too (the Conversation's text_input)

    def start(self) -> None:
        """Open the ASR's session recognizer now, for engines that keep one per session."""
        if self._asr.capabilities.session_stream:
            cast(SessionASR, self._asr).open_session(self._state.settings.language)

    @property
    def last_voiced_at(self) -> float:
        """Loop time the user's voice last ended (the gate's last voiced audio, less the gate's lag):
        where the wait for an answer is measured from."""
        return self._last_voiced_at - (self._utterance.gate_lag_s if self._utterance is not None else 0.0)

    @property
    def talking(self) -> Utterance | None:
        """The utterance in progress, if the user is speaking."""
        return self._utterance

    async def hear(self, pcm: bytes, received_at: float) -> None:
        """Microphone PCM16 at the session's input rate; with a batched gate, each frame waits for
        Silero's batch (one turn of the event loop) and is taken whole after it."""
        gate = self._batched_gate
        if gate is None:
            self.push(pcm, received_at)
            return
        if not self._begin_push(pcm, received_at):
            return
        for frame in self._detector.split(self._resampler.process(pcm)):
            voiced = await gate.classify(frame)
            if not self.listening:  # paused meanwhile: the rest is ignored
                return
            self._take(frame, voiced, received_at)
        self._watch_for_stall()

    def push(self, pcm: bytes, received_at: float) -> None:
        """Microphone PCM16 at the session's input rate, classified here and now."""
        if not self._begin_push(pcm, received_at):
            return
        for frame in self._detector.split(self._resampler.process(pcm)):
            self._take(frame, self._classifier(frame), received_at)
        self._watch_for_stall()

    def _begin_push(self, pcm: bytes, received_at: float) -> bool:
        if not self.listening:
            return False
        self._pushed_at = received_at
        self.heard_ms += len(pcm) / 2 / self._state.settings.input_sample_rate * 1000
        return True

    def _take(self, frame: bytes, voiced: bool, received_at: float) -> None:
        if voiced:
            self._last_voiced_at = received_at
        if (event := self._detector.step(frame, voiced)) is not None:
            self._on_turn_event(event)

    def _watch_for_stall(self) -> None:
        """While the user speaks, expect more audio: if none comes for `stall_s`, end the utterance."""
        if self._detector.in_speech and self.listening:
            self._stall.move(self._options.stall_s)
        else:
            self._stall.clear()

    def _stalled(self) -> None:
        """Audio stopped arriving mid-utterance (a client that pings but sends nothing)."""
        log.info("no audio for %.1f s in the middle of speech: the utterance ends", self._options.stall_s)
        self.end_speech()

    def end_speech(self) -> None:
        """End the utterance in progress now, as if the silence that ends a turn had come."""
        if self._utterance is None:
            return
        silence_ms = self._turn.end_silence_ms + 100
        self.push(bytes(bytes_for_ms(silence_ms, self._state.settings.input_sample_rate)), self._last_voiced_at)

    def retune(self, turn: TurnConfig, threshold: float | None = None, semantic: bool | None = None) -> None:
        """New turn-taking settings for this conversation (from the next utterance on); `semantic`
        False: the silence alone ends turns (if the end-of-turn model is loaded, True brings it back)."""
        if self._gate is not None and threshold is not None:
            self._gate.set_threshold(threshold)
        if semantic is not None:
            self._end.semantic = semantic and self._end.end.semantic
        self._retuned = self._with_end(turn)
        if self._utterance is None:
            self._apply_tuning()

    def _with_end(self, turn: TurnConfig) -> TurnConfig:
        """With an end-of-turn model, the detector's silence is the longest an unfinished turn waits."""
        return replace(turn, end_silence_ms=self._end.end.options.max_silence_ms) if self._end.semantic else turn

    def _end_now(self, utterance: Utterance) -> None:
        """The end-of-turn model found the utterance finished after a short silence."""
        if self._utterance is utterance and (event := self._detector.end_now()) is not None:
            self._on_turn_event(event)
            self._watch_for_stall()

    def _apply_tuning(self) -> None:
        if self._retuned is not None:
            self._turn, self._retuned = self._retuned, None
            self._detector = TurnDetector(self._turn, self._classifier)

    def input_rate_changed(self) -> None:
        self._resampler = self._input_resampler()

    def resume(self) -> None:
        """Listen again after `pause` (audio received meanwhile was ignored)."""
        if not self.listening:
            self.listening = True
            self._resampler = self._input_resampler()

    async def pause(self) -> None:
        self.listening = False
        await self.drop_speech()

    async def drop_speech(self) -> None:
        """Forget speech in progress and turns not yet answered."""
        self._stall.clear()
        self._detector.reset()
        self._end.ended()
        if self._gate is not None:
            self._gate.reset()
        utterance, self._utterance = self._utterance, None
        if utterance is not None:
            self._handler.speech_dropped()
        await cancel_and_wait(self._finalizers, self._options.cancel_timeout_s)
        if utterance is not None:
            await utterance.aclose()

    async def aclose(self) -> None:
        await self.pause()
        await self._end.aclose(self._options.cancel_timeout_s)
        if self._gate is not None:
            self._gate.close()

    def _on_turn_event(self, event: TurnEvent) -> None:
        if isinstance(event, SpeechStarted):
            turn_id, language = self._state.next_turn_id(), self._state.settings.language
            self._utterance = Utterance(
                turn_id, self._asr, language, self._sink, self._max_bytes, self._handler.speech_heard
            )
            self._utterance.onset_at = self._pushed_at - event.voiced_ms / 1000  # audio arrives at real time
            self._utterance.audio_start_ms = max(0, round(self.heard_ms - event.voiced_ms))
            self._handler.speech_started(self._utterance)
        utterance = self._utterance
        if utterance is None:
            return
        utterance.push(event.audio)
        quiet = event.voiced_ms == utterance.voiced_ms and not isinstance(event, SpeechStarted)
        utterance.quiet_ms = utterance.quiet_ms + len(event.audio) // 32 if quiet else 0  # 16 kHz PCM16: 32 B/ms
        utterance.voiced_ms = event.voiced_ms
        self._handler.speech_heard(utterance)
        if not isinstance(event, SpeechEnded):
            self._end.heard(utterance)
            return
        self._end.ended()
        self._utterance = None
        utterance.audio_end_ms = round(self.heard_ms)
        self._apply_tuning()
        if not self._handler.speech_ended(utterance):
            self._spawn(utterance.aclose())
            return
        utterance.speech_end_at = self._last_voiced_at - utterance.gate_lag_s
        utterance.finish()
        self.order.enter(utterance.turn_id)
        self._spawn(self._finalize(utterance))

    async def _finalize(self, utterance: Utterance) -> None:
        try:
            text = await utterance.final_text(self._options.asr_final_timeout_s)
        except ProviderError as error:
            self._sink.emit(ev.ErrorEvent(error.code, str(error), utterance.turn_id, stage=error.stage))
            text = ""
        finally:
            await utterance.aclose()
        try:
            await self.order.wait_for_older(utterance.turn_id)
            taken = self.listening and self._handler.takes_turn(utterance, text)  # "" too: it may resume a reply
            if text and taken:
                self._sink.emit(ev.Transcript(utterance.turn_id, text, final=True))
                await self._handler.user_turn(utterance, text)
            else:
                self._sink.emit(ev.UserSpeechDropped(utterance.turn_id, utterance.item_id))
        finally:
            self.order.leave(utterance.turn_id)

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        """Run an utterance's last steps as a task this listener owns (cancelled on close)."""
        task = asyncio.create_task(coro)
        self._finalizers.add(task)
        task.add_done_callback(self._finalizer_done)

    def _finalizer_done(self, task: asyncio.Task[None]) -> None:
        self._finalizers.discard(task)
        if not task.cancelled() and (error := task.exception()) is not None:
            log.error("turn finalizer failed", exc_info=error)
            self._sink.emit(ev.ErrorEvent("internal_error", "internal error; the conversation continues"))

    def _input_resampler(self) -> StreamResampler:
        """Microphone audio at the session's declared rate -> the VAD's 16 kHz."""
        return StreamResampler(self._state.settings.input_sample_rate, VAD_RATE)
