"""The coordinator of one conversation: the current reply, the state, and the commands.

Audio goes to the Listener, which reports speech; the BargeInPolicy decides what that
speech does to a running reply; a user turn stops any reply and starts the next as one
step. Commands return results and raise CommandRefused; the protocol layer builds the
acknowledgements. The engine knows no wire format.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from engine import events as ev
from engine.availability import AlwaysReady, Availability
from engine.commands import CommandRefused
from engine.history import UserMessage
from engine.items import Items
from engine.listener import Listener
from engine.metrics import TurnTimer
from engine.options import ConversationState, EngineOptions, ReplyRequest, SessionSettings
from engine.replies import Replies
from engine.reply import Reply
from engine.reply_factory import ReplyFactory
from engine.speculation import Speculations
from engine.summarizer import Summarizer
from engine.tool_runner import ToolSession
from engine.transcribe import transcribe
from engine.turns.barge_in import BargeIn
from engine.turns.end_of_turn import TurnEndModel, end_of_turn_model
from engine.turns.policy import BargeInPolicy
from engine.utterance import Utterance
from services.base import Providers
from tools.registry import ToolBox
from utils.rates import TokenBucket, loop_clock

log = logging.getLogger(__name__)


class Conversation:
    def __init__(
        self,
        state: ConversationState,
        providers: Providers,
        options: EngineOptions,
        sink: ev.EventSink,
        is_speech: Callable[[bytes], bool] | None = None,
        policy: BargeInPolicy | None = None,
        availability: Availability | None = None,
        tools: ToolBox | None = None,
        turn_end_model: TurnEndModel | None = None,
    ) -> None:
        self.session = state
        self._availability: Availability = availability or AlwaysReady()
        self._unwatch: Callable[[], None] = lambda: None
        self._winding_down = False
        self._providers, self._options, self._sink = providers, options, sink
        self._policy = policy or BargeInPolicy(options.barge_in_min_ms, options.turn_taking)
        vad_share = None if is_speech else options.budgets.vad.join()
        model = turn_end_model or end_of_turn_model(options.listen.end_of_turn.model, options.budgets.turn_end_model)
        batcher = options.budgets.silero if options.listen.vad_confirm_batch else None
        self._listener = Listener(
            state, providers.asr, options.listen, sink, self, is_speech, vad_share, model, batcher
        )
        self._audio = TokenBucket(1000.0, options.listen.audio_burst_ms, loop_clock)  # ms of audio, real time
        self._text_turns = options.budgets.text_turns.join()
        self._state: ev.State | None = None
        self._replies = Replies(options.reply.cancel_timeout_s)
        self._tools = ToolSession(tools or ToolBox(), state.memory, options.tools)
        self._make = ReplyFactory(state, providers, options, self._tools, lambda reply: reply is self.reply,
                                  self._set_state, self._reply_done)  # fmt: skip
        self.speculations = Speculations(self._replies, self._make, state.history, sink,
                                         lambda: self._listener.last_voiced_at)  # fmt: skip
        self._summarizer = Summarizer(providers.llm, state.history, state.memory, self._make.window,
                                      self._make.system_prompt)  # fmt: skip
        self.items = Items(state.history, self._replies)
        self.barge_in = BargeIn(self._policy, self._replies, sink)  # pause, cut or resume on speech
        self.auto_respond = True  # answer each user turn (a protocol may leave that to its client)
        self.reply_defaults = ReplyRequest()  # how replies are made, unless a request says otherwise

    @property
    def reply(self) -> Reply | None:
        return self._replies.current

    @property
    def state(self) -> ev.State | None:
        return self._state

    @property
    def listening(self) -> bool:
        return self._listener.listening

    @property
    def listener(self) -> Listener:
        """The microphone side, for a protocol that tunes turn taking or clears speech in progress."""
        return self._listener

    async def transcribe(self, pcm: bytes, sample_rate: int) -> str:
        """The words of audio the client committed itself (no turn detection); ProviderError on failure."""
        settings, timeout_s = self.session.settings, self._options.listen.asr_final_timeout_s
        return await transcribe(self._providers.asr, pcm, sample_rate, settings.language, timeout_s)

    def begin(self) -> None:
        self._listener.start()
        self._set_state("listening")
        self._service_changed()
        self._unwatch = self._availability.watch(self._service_changed)

    async def push_audio(self, pcm: bytes, received_at: float) -> None:
        """Microphone PCM16 at the session's input rate (ignored while stopped, or while the providers
        have failed)."""
        if self._availability.state == "failed":
            return
        if not self._audio.take(len(pcm) / 2 / self.session.settings.input_sample_rate * 1000):
            raise CommandRefused("audio_too_fast", "audio arrives faster than real time; the excess was dropped")
        await self._listener.hear(pcm, received_at)
        await self._replies.settle()

    def _service_changed(self) -> None:
        self._sink.emit(ev.ServiceStatus(self._availability.state, self._availability.reason))

    # ----- what the listener hears (SpeechHandler) ----------------------------------

    def speech_started(self, utterance: Utterance) -> None:
        self.speculations.discard()  # one made on an earlier utterance answers nothing now
        self.barge_in.started(utterance)

    def speech_heard(self, utterance: Utterance) -> None:
        self.barge_in.heard(utterance)

    def speech_ended(self, utterance: Utterance) -> bool:
        return self.barge_in.ended(utterance)

    def speech_dropped(self) -> None:
        self.speculations.discard()
        self.barge_in.resume("the speech was dropped")

    def speculate(self, utterance: Utterance, text: str) -> None:
        """A short silence: start the reply to these words, unheard, while the turn may still go on."""
        idle = self.reply is None and not utterance.started_during_reply and self.auto_respond and self.listening
        if idle and not self._winding_down and self._availability.state != "failed":
            self._summarizer.yield_to_turn()
            self.speculations.start(utterance, text, self.reply_defaults)
        else:
            self.speculations.discard()

    def speech_resumed(self, utterance: Utterance) -> None:
        self.speculations.discard()

    def takes_turn(self, utterance: Utterance, text: str) -> bool:
        return self.barge_in.takes_turn(utterance, text)

    async def user_turn(self, utterance: Utterance, text: str) -> None:
        reply = self.reply
        if reply is not None and not reply.allow_interruptions:
            await reply  # the user's words wait for a reply that may not be cut
        timer = TurnTimer(origin=utterance.speech_end_at)
        timer.mark("final_transcript_ms")
        user = UserMessage(utterance.turn_id, text, "speech", id=utterance.item_id)
        await self._begin_turn(user, timer, reason="barge_in")

    # ----- commands --------------------------------------------------------------

    async def text_input(self, text: str) -> int:
        """A typed user turn; returns its turn id."""
        if self._winding_down:
            raise CommandRefused("service_unavailable", "the server is shutting down; reconnect in a moment")
        if not self.listening:
            raise CommandRefused("not_listening", "the session is stopped; send start first")
        if self._availability.state == "failed":
            raise CommandRefused("service_unavailable", self._availability.reason or "the server cannot answer")
        if not self._text_turns.take():
            raise CommandRefused("rate_limited", "typed turns are arriving too fast; wait a moment")
        turn_id, order, timer = self.session.next_turn_id(), self._listener.order, TurnTimer()
        order.enter(turn_id)
        try:
            await order.wait_for_older(turn_id)  # speech still being transcribed was said first
            self._sink.emit(ev.Transcript(turn_id, text, final=True, source="text"))
            timer.mark("final_transcript_ms")
            await self._begin_turn(UserMessage(turn_id, text, "text"), timer, reason="text_input")
        finally:
            order.leave(turn_id)
        return turn_id

    async def interrupt(self) -> int | None:
        """Cut the current reply; returns its turn id, or None when nothing was replying."""
        turn_id = self._replies.stop("interrupt")
        await self._replies.settle()
        return turn_id

    async def stop(self) -> int | None:
        """Cut any reply, forget speech in progress and ignore audio until `start`."""
        self.speculations.discard()
        turn_id = self._replies.stop("stop")
        await self._listener.pause()
        await self._replies.settle()
        self._set_state("stopped")
        return turn_id

    async def start(self) -> bool:
        """Listen again; False when already listening (nothing changed)."""
        self._listener.resume()
        changed = self._state != "listening"
        self._set_state("listening")
        return changed

    async def reset(self) -> int | None:
        """Cut any reply, forget speech in progress and the history; listen."""
        self.speculations.discard()
        turn_id = self._replies.stop("reset")
        await self._listener.drop_speech()
        await self._replies.settle()
        self._summarizer.yield_to_turn()  # after the stop (its end may start a summary)
        self.session.history.clear()
        self.session.memory.clear()
        self._replies.forget_last()
        self._listener.resume()
        self._set_state("listening")
        return turn_id

    def configure(
        self, input_sample_rate: int | None = None, language: str | None = None, system_prompt: str | None = None,
        voice: str | None = None, output_frame_ms: int | None = None,
    ) -> SessionSettings:  # fmt: skip
        """Change this session's settings; returns them as they now are (a new frame size applies
        from the next reply on)."""
        if self.session.settings.update(input_sample_rate, language, system_prompt, voice, output_frame_ms):
            self._listener.input_rate_changed()
        return self.session.settings

    def wind_down(self) -> None:
        """The server is shutting down: the reply in flight may finish, no new turn begins."""
        self.speculations.discard()
        self._winding_down = True
        self._listener.listening = False  # audio from now on is ignored

    def playback(self, turn_id: int, played_ms: float) -> None:
        """What the client has played of a turn's audio (during the reply, or after it was cut)."""
        self._replies.playback(turn_id, played_ms)

    async def aclose(self) -> None:
        """End everything this conversation runs, each wait bounded."""
        self.speculations.discard()
        self._unwatch()
        self.barge_in.close()
        self._text_turns.leave()
        self._replies.stop("disconnect")
        await self._listener.aclose()
        await self._replies.settle()
        await self._summarizer.aclose()
        await self._tools.aclose(self._options.reply.cancel_timeout_s)
        await self._providers.aclose()

    # ----- replies ---------------------------------------------------------------

    async def _begin_turn(self, user: UserMessage, timer: TurnTimer, reason: ev.StopReason) -> None:
        """Stop any reply and start this turn's, with no await between (two turns may race). A turn
        a newer one waits behind is only remembered: the newer one is answered with it in view."""
        superseded = self._listener.order.superseded(user.turn_id)
        speculation = self.speculations.take(user)
        (timer if speculation is None else speculation.timer).mark("turn_taken_ms")
        if not superseded and self.auto_respond:
            self._replies.stop(reason)
        self._summarizer.yield_to_turn()  # after the stop: an ended reply may have started a summary
        self.session.history.append(user)
        if superseded:
            log.info("turn %d: a newer turn is waiting; this one is kept in history, unanswered", user.turn_id)
        elif self.auto_respond and not self._policy.holds_reply(self._listener.talking):
            if speculation is None:
                self._start_reply(user.turn_id, timer, self.reply_defaults)
            self.speculations.adopt(speculation, lambda: self._set_state("thinking"))
            speculation = None
        self.speculations.discard(speculation)  # a speculation not adopted: the user is already saying more,
        # or the client asks for replies itself
        await self._replies.settle()

    def respond(self, request: ReplyRequest | None = None) -> Reply:
        """Reply now to the conversation as it stands (a client that decides when replies begin)."""
        if self.reply is not None:
            raise CommandRefused("conversation_already_has_active_response", "a response is already in progress")
        self.speculations.discard()
        if self._winding_down or self._availability.state == "failed":
            raise CommandRefused("service_unavailable", self._availability.reason or "the server cannot answer now")
        self._summarizer.yield_to_turn()
        return self._start_reply(self.session.next_turn_id(), TurnTimer(), request or self.reply_defaults)

    def _start_reply(self, turn_id: int, timer: TurnTimer, request: ReplyRequest) -> Reply:
        reply = self._make.build(turn_id, timer, request, self._sink)
        self._replies.start(reply)
        return reply

    def _reply_done(self, reply: Reply) -> None:
        if self._replies.ended(reply) and self.listening:
            self._set_state("listening")
        self._summarizer.maybe_start()

    def _set_state(self, state: ev.State) -> None:
        if state != self._state:
            self._state = state
            self._sink.emit(ev.StateChanged(state))
