"""Parley's router: client messages -> engine commands, engine events -> Parley messages.

It is the EventSink of the connection's Conversation and the only place that knows both
the engine and Parley's messages. An unexpected failure of a command reaches the client
as `error{internal_error}` with a generic message; the detail goes to the log.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from engine import events as ev
from engine.commands import CommandRefused
from engine.conversation import Conversation
from engine.history import AssistantMessage, Item, UserMessage
from services.secrets import REDACTOR
from session import Session
from websocket.connection import WireProtocol
from websocket.outbound import OutboundQueue
from websocket.parley import codec, messages as m

log = logging.getLogger(__name__)
INTERNAL_ERROR = "internal error; the session continues"


class ConnectionControl(Protocol):
    """What a router may ask of its connection."""

    def rejected(self) -> None:
        """A bad message was answered with an error (counted against the error budget)."""

    def loop_time(self) -> float: ...


@dataclass(frozen=True)
class AudioOutFormat:
    """The server's audio out: its rate, and the frame size a session has unless it asks for another."""

    sample_rate: int
    frame_ms: int


class ParleyRouter:
    def __init__(
        self, session: Session, outbound: OutboundQueue, control: ConnectionControl, audio_out: AudioOutFormat,
        max_text_chars: int,
    ) -> None:  # fmt: skip
        self.session = session
        self._outbound = outbound
        self._control = control
        self._output_rate = audio_out.sample_rate
        self._default_frame_ms = audio_out.frame_ms
        self._max_text_chars = max_text_chars
        self._conversation: Conversation | None = None

    def bind(self, conversation: Conversation, resumed: bool) -> None:
        """Start routing for `conversation`: the `session` message goes out first."""
        self._conversation = conversation
        settings = self.session.settings
        self._send(m.SessionMessage(
            session_id=self.session.id, protocol_version=m.PROTOCOL_VERSION, resumed=resumed,
            history_messages=len(self.session.history.items), input_sample_rate=settings.input_sample_rate,
            output_sample_rate=self._output_rate,
        ))  # fmt: skip
        self._send(m.HistoryMessage(session_id=self.session.id, items=history_entries(self.session.history.items)))

    def close(self) -> None:
        """Nothing to release: this router follows nothing of the session."""

    def going_away(self, reconnect_after_s: float) -> None:
        self._send(m.GoingAway(session_id=self.session.id, reconnect_after_s=reconnect_after_s))

    # ----- client -> engine ------------------------------------------------------

    async def on_text(self, raw: str) -> None:
        decoded = codec.decode_text(raw, self._max_text_chars)
        if isinstance(decoded, codec.Rejected):
            self._reject(decoded.code, decoded.message)
            return
        try:
            await self._dispatch(decoded)
        except CommandRefused as refused:
            self._reject(refused.code, refused.message)
        except Exception:
            log.exception("session %s: %s failed", self.session.log_name, decoded.type)
            self._send(m.Error(session_id=self.session.id, code="internal_error", message=INTERNAL_ERROR))

    async def on_bytes(self, raw: bytes) -> None:
        decoded = codec.decode_audio(raw, self.session.settings.input_sample_rate)
        if isinstance(decoded, codec.Rejected):
            self._reject(decoded.code, decoded.message)
            return
        try:
            await self._engine.push_audio(decoded.pcm, self._control.loop_time())
        except CommandRefused as refused:
            self._reject(refused.code, refused.message)
            return
        self.session.live.audio_bytes_in += len(decoded.pcm)

    async def _dispatch(self, message: m.AnyClientMessage) -> None:
        conversation, sid = self._engine, self.session.id
        match message:
            case m.Playback(turn_id=turn_id, played_ms=played_ms):
                self.session.live.playback_acks += 1
                conversation.playback(turn_id, played_ms)
            case m.TextInput(text=text):
                await conversation.text_input(text.strip())
            case m.Interrupt():
                self._send(m.InterruptAcknowledged(session_id=sid, turn_id=await conversation.interrupt()))
            case m.Stop():
                cut = await conversation.stop()
                self._send(m.StopAcknowledged(session_id=sid, turn_id=cut, queues_cleared=True))
            case m.Start():
                if not await conversation.start():  # always answer a start, even when nothing changed
                    self._send(m.Status(session_id=sid, state="listening"))
            case m.Reset():
                self._send(m.ResetAcknowledged(session_id=sid, turn_id=await conversation.reset()))
            case m.Configure():
                fields = message.model_dump(exclude={"type"}, exclude_none=True)
                settings = conversation.configure(**fields)
                self._send(m.Configured(
                    session_id=sid, input_sample_rate=settings.input_sample_rate, output_sample_rate=self._output_rate,
                    language=settings.language, system_prompt=settings.system_prompt, voice=settings.voice,
                    output_frame_ms=settings.output_frame_ms or self._default_frame_ms,
                ))  # fmt: skip

    # ----- engine -> client (EventSink) ------------------------------------------

    def emit(self, event: ev.Event) -> None:
        if isinstance(event, ev.AudioOut):
            self._outbound.push(codec.encode_audio_out(event.turn_id, event.sequence, event.pcm), event.turn_id)
        elif not isinstance(event, ev.ENGINE_DETAIL):  # Parley tells these through its own messages
            self._send(to_message(event, self.session.id))

    def clear_audio(self, turn_id: int) -> int:
        return self._outbound.clear_audio(turn_id)

    # ----- helpers ---------------------------------------------------------------

    @property
    def _engine(self) -> Conversation:
        assert self._conversation is not None, "bind() first"
        return self._conversation

    def _send(self, message: m.ServerMessage) -> None:
        self._outbound.push(codec.encode(message))

    def _reject(self, code: str, message: str) -> None:
        self._send(m.Error(session_id=self.session.id, code=code, message=message))
        self._control.rejected()


def to_message(event: ev.Event, session_id: str) -> m.ServerMessage:
    """The Parley message for an engine event (audio excepted: it goes out as a binary frame)."""
    sid = session_id
    match event:
        case ev.StateChanged(state):
            return m.Status(session_id=sid, state=state)
        case ev.Transcript(turn_id, text, final, source):
            kind = m.FinalTranscript if final else m.PartialTranscript
            return kind(session_id=sid, turn_id=turn_id, content=text, source=source)
        case ev.LlmStatus(turn_id, status):
            return m.LlmStatusMessage(session_id=sid, turn_id=turn_id, status=status)
        case ev.LlmText(turn_id, delta, content, complete):
            return m.LlmResponse(session_id=sid, turn_id=turn_id, delta=delta, content=content, is_complete=complete)
        case ev.SpeechStart(turn_id, rate, text, index, offset):
            return m.TtsStart(session_id=sid, turn_id=turn_id, sample_rate=rate, text=text, sentence_index=index,
                              offset_ms=round(offset, 1))  # fmt: skip
        case ev.SpeechEnd(turn_id, audio_ms):
            return m.TtsEnd(session_id=sid, turn_id=turn_id, audio_ms=round(audio_ms, 1))
        case ev.SpeechStop(turn_id, reason, played_ms):
            return m.TtsStop(session_id=sid, turn_id=turn_id, reason=reason, played_ms=round(played_ms, 1))
        case ev.SpeechPause(turn_id, played_ms):
            return m.TtsPause(session_id=sid, turn_id=turn_id, played_ms=round(played_ms, 1))
        case ev.SpeechResume(turn_id, played_ms):
            return m.TtsResume(session_id=sid, turn_id=turn_id, played_ms=round(played_ms, 1))
        case ev.ErrorEvent(code, message, turn_id, retry_after_s):
            said = REDACTOR(message)  # a service may echo a key back; it never reaches a client
            return m.Error(session_id=sid, code=code, message=said, turn_id=turn_id, retry_after_s=retry_after_s)
        case ev.TurnMetrics(turn_id, values, interrupted):
            return m.Metrics(session_id=sid, turn_id=turn_id, interrupted=interrupted, **values)
        case ev.ServiceStatus(state, reason):
            return m.ServerStatus(session_id=sid, state=state, reason=reason)
    raise TypeError(f"{type(event).__name__} has no Parley message")


def history_entries(items: Sequence[Item]) -> list[m.HistoryEntry]:
    """The messages of a history, as a page shows them (tool calls and results are not shown)."""
    entries: list[m.HistoryEntry] = []
    for item in items:
        if isinstance(item, UserMessage):
            entries.append(m.HistoryEntry(id=item.id, role="user", turn_id=item.turn_id, text=item.text,
                                          source=item.source, heard_text=None, status=None))  # fmt: skip
        elif isinstance(item, AssistantMessage):
            entries.append(m.HistoryEntry(id=item.id, role="assistant", turn_id=item.turn_id, text=item.text,
                                          source=None, heard_text=item.heard_text, status=item.status))  # fmt: skip
    return entries


def parley_protocol(audio_out: AudioOutFormat, max_text_chars: int) -> WireProtocol:
    """Parley's protocol for the generic connection."""

    def router(session: Session, outbound: OutboundQueue, control: ConnectionControl) -> ParleyRouter:
        return ParleyRouter(session, outbound, control, audio_out, max_text_chars)

    def refusal(code: str, message: str) -> str:
        return codec.encode(m.Error(session_id="", code=code, message=message))

    return WireProtocol(router=router, refusal=refusal, subprotocol="parley")
