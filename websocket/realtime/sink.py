"""Engine events and history changes -> Realtime server events.

Responses go through ResponseEvents; user speech becomes speech_started / speech_stopped /
committed and an in-progress user item completed by its transcript; every other item added
to history (a client's item, a server tool's call and result) is told as it lands, once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from engine import events as ev
from engine.history import History, HistoryChange, UserMessage
from services.secrets import REDACTOR
from utils.audio import StreamResampler
from websocket.outbound import OutboundQueue
from websocket.realtime.codec import Encoder
from websocket.realtime.items import to_wire
from websocket.realtime.responses import ResponseEvents, ResponseState
from websocket.realtime.session_config import SAMPLE_RATE, RealtimeSession


class RealtimeSink:
    def __init__(self, outbound: OutboundQueue, encoder: Encoder, config: RealtimeSession, output_rate: int) -> None:
        self._outbound, self._encoder, self._config = outbound, encoder, config
        self._output_rate = output_rate
        self._resampler: tuple[int, StreamResampler] | None = None
        self.responses = ResponseEvents(self.send)
        # what the response a client asks for next overrides: its metadata and token limit
        self.next_response: tuple[dict[str, str] | None, int | None] | None = None
        self._told: set[str] = set()  # items already told as a response's output
        self._pending: dict[int, tuple[str, str, float]] = {}  # turn -> (user item, transcript told, audio s)
        self._partials: dict[int, tuple[str, int]] = {}  # turn -> (partial transcript, audio_start_ms)

    def send(self, event: dict[str, Any], audio_of_turn: int | None = None) -> None:
        self._outbound.push(self._encoder.encode(event), audio_of_turn)

    # ----- EventSink ------------------------------------------------------------------

    def emit(self, event: ev.Event) -> None:
        responses = self.responses
        if isinstance(event, ev.AudioOut):
            responses.audio(event, self._at_24k(event))
        elif isinstance(event, ev.SpeechStart):
            responses.sentence(event)
        elif isinstance(event, ev.LlmText):
            responses.text(event)
        elif isinstance(event, ev.ReplyStarted):
            self._told.add(event.item_id)
            overrides, self.next_response = self.next_response, None
            metadata, limit = overrides or (None, None)
            responses.started(ResponseState(event.turn_id, event.response_id, event.item_id, event.speak, metadata,
                                            self._config.voice, limit or self._config.max_output_tokens))  # fmt: skip
            self.send({"type": "rate_limits.updated", "rate_limits": []})
        elif isinstance(event, ev.ClientToolCall):
            self._told.add(event.item_id)
            responses.tool_call(event)
        elif isinstance(event, ev.ReplyEnded):
            if responses.current is not None:
                self._told.discard(responses.current.item_id)  # a reply that said nothing leaves no item
            responses.ended(event)
        else:
            self._user_side(event)

    def clear_audio(self, turn_id: int) -> int:
        return self._outbound.clear_audio(turn_id)

    def _user_side(self, event: ev.Event) -> None:
        if isinstance(event, ev.UserSpeechStarted):
            self._partials[event.turn_id] = ("", event.audio_start_ms)
            self.send({"type": "input_audio_buffer.speech_started", "audio_start_ms": event.audio_start_ms,
                       "item_id": event.item_id})  # fmt: skip
        elif isinstance(event, ev.UserSpeechStopped):
            self.send({"type": "input_audio_buffer.speech_stopped", "audio_end_ms": event.audio_end_ms,
                       "item_id": event.item_id})  # fmt: skip
            partial, start_ms = self._partials.pop(event.turn_id, ("", event.audio_end_ms))
            self.committed(event.turn_id, event.item_id, partial, (event.audio_end_ms - start_ms) / 1000)
        elif isinstance(event, ev.Transcript) and not event.final:
            self._partial(event.turn_id, event.text)
        elif isinstance(event, ev.UserSpeechDropped):
            self._partials.pop(event.turn_id, None)
            self.dropped(event.turn_id, "no words were recognized")
        elif isinstance(event, ev.ErrorEvent) and not self.responses.failed(event):
            if event.stage == "asr" and event.turn_id in self._pending:
                self.dropped(event.turn_id, REDACTOR(event.message))
            self.send({"type": "error", "error": {"type": "server_error", "code": event.code,
                       "message": REDACTOR(event.message), "param": None, "event_id": None}})  # fmt: skip

    # ----- committed user audio ---------------------------------------------------------

    def committed(self, turn_id: int, item_id: str, partial: str, seconds: float, previous: str | None = None) -> None:
        """The user's audio is committed as `item_id`; its transcript is to come."""
        self._pending[turn_id] = (item_id, "", seconds)
        self.send({"type": "input_audio_buffer.committed", "item_id": item_id, "previous_item_id": previous})
        item = {"id": item_id, "object": "realtime.item", "type": "message", "role": "user",
                "status": "in_progress", "content": [{"type": "input_audio", "transcript": None}]}  # fmt: skip
        self.send({"type": "conversation.item.added", "previous_item_id": previous, "item": item})
        if partial:
            self._partial(turn_id, partial)

    def forget_speech(self) -> None:
        """Speech in progress was dropped (the client cleared the buffer)."""
        self._partials.clear()

    def _partial(self, turn_id: int, text: str) -> None:
        if turn_id in self._partials:
            self._partials[turn_id] = (text, self._partials[turn_id][1])
        if (pending := self._pending.get(turn_id)) is None or not text.startswith(pending[1]) or text == pending[1]:
            return
        item_id, told, seconds = pending
        self._pending[turn_id] = (item_id, text, seconds)
        self._transcript_delta(item_id, told, text)

    def dropped(self, turn_id: int, why: str) -> None:
        if (pending := self._pending.pop(turn_id, None)) is None:
            return
        item_id = pending[0]
        self.send({"type": "conversation.item.input_audio_transcription.failed", "item_id": item_id,
                   "content_index": 0, "error": {"type": "transcription_error", "code": "no_transcript",
                                                 "message": why, "param": None}})  # fmt: skip
        self.send({"type": "conversation.item.deleted", "item_id": item_id})

    # ----- history ----------------------------------------------------------------------

    def follow(self, history: History) -> Callable[[], None]:
        def changed(change: HistoryChange) -> None:
            if change.op == "append" and change.item is not None:
                self._appended(change.item, history)
            elif change.op == "delete" and change.item_id is not None:
                self.send({"type": "conversation.item.deleted", "item_id": change.item_id})

        return history.follow(changed)

    def _appended(self, item: Any, history: History) -> None:
        if isinstance(item, UserMessage) and (pending := self._pending.get(item.turn_id)) and pending[0] == item.id:
            del self._pending[item.turn_id]
            self._transcript_delta(item.id, pending[1], item.text)
            self.send({"type": "conversation.item.input_audio_transcription.completed", "item_id": item.id,
                       "content_index": 0, "transcript": item.text,
                       "usage": {"type": "duration", "seconds": round(pending[2], 3)}})  # fmt: skip
            self.send({"type": "conversation.item.done", "item": to_wire(item)})
            return
        if item.id in self._told:  # told as a response's output
            self._told.discard(item.id)
            return
        items = history.items
        previous = items[-2].id if len(items) > 1 and items[-1].id == item.id else None
        self.send({"type": "conversation.item.added", "previous_item_id": previous, "item": to_wire(item)})
        self.send({"type": "conversation.item.done", "previous_item_id": previous, "item": to_wire(item)})

    def _transcript_delta(self, item_id: str, told: str, text: str) -> None:
        """What `text` adds to the transcript already told of the item (nothing if it does not extend it)."""
        if text.startswith(told) and len(text) > len(told):
            self.send({"type": "conversation.item.input_audio_transcription.delta", "item_id": item_id,
                       "content_index": 0, "delta": text[len(told):]})  # fmt: skip

    def _at_24k(self, event: ev.AudioOut) -> bytes:
        if self._output_rate == SAMPLE_RATE:
            return event.pcm
        if self._resampler is None or self._resampler[0] != event.turn_id:
            self._resampler = (event.turn_id, StreamResampler(self._output_rate, SAMPLE_RATE))
        return self._resampler[1].process(event.pcm)
