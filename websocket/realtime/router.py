"""The OpenAI Realtime router (GA protocol): client events -> engine commands; engine events go
out through RealtimeSink. Same engine, same history, same turn taking as Parley's protocol.

With server VAD, appended audio feeds the engine's listener as a microphone would. With
`turn_detection: null` the client decides: appended audio is buffered (bounded), a commit
transcribes it into a user item, and replies begin only on `response.create`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from engine.commands import CommandRefused
from engine.conversation import Conversation
from engine.history import new_item_id
from engine.items import ItemRefused
from engine.options import EngineOptions
from services.errors import ProviderError
from session import Session
from websocket.connection import WireProtocol
from websocket.outbound import OutboundQueue
from websocket.parley.router import ConnectionControl
from websocket.realtime import items as wire_items
from websocket.realtime.codec import ClientEvent, Encoder, Rejected, decode
from websocket.realtime.session_config import (
    SAMPLE_RATE,
    ConfigRefused,
    RealtimeSession,
    ReplyPatch,
    SessionPatch,
    parse,
)  # fmt: skip
from websocket.realtime.sink import RealtimeSink

log = logging.getLogger(__name__)


class RealtimeControl(ConnectionControl, Protocol):
    @property
    def query_params(self) -> Mapping[str, str]: ...


CHUNK_BYTES = SAMPLE_RATE * 2 // 10  # audio reaches the listener in pieces of at most 100 ms
MIN_COMMIT_BYTES = SAMPLE_RATE * 2 // 10  # OpenAI's floor: 100 ms


class RealtimeRouter:
    def __init__(
        self, session: Session, outbound: OutboundQueue, control: ConnectionControl, options: EngineOptions,
        rate_and_text_limit: tuple[int, int], model: str,
    ) -> None:  # fmt: skip
        self.session = session
        self._control, self._options = control, options
        self._encoder = Encoder()
        self._outbound = outbound
        settings, turn = session.settings, options.listen.turn
        self.config = RealtimeSession(session.id, model, settings.system_prompt, settings.voice,
                                      turn.end_silence_ms, turn.preroll_ms)  # fmt: skip
        output_rate, self._max_text_chars = rate_and_text_limit
        self.sink = RealtimeSink(outbound, self._encoder, self.config, output_rate)
        self._buffer = bytearray()  # committed by the client itself (turn_detection null)
        self._max_buffer = SAMPLE_RATE * 2 * turn.max_utterance_ms // 1000
        self._conversation: Conversation | None = None
        self._unfollow: Callable[[], None] = lambda: None

    # ----- Router ---------------------------------------------------------------------

    def bind(self, conversation: Conversation, resumed: bool) -> None:
        self._conversation = conversation
        conversation.configure(input_sample_rate=SAMPLE_RATE)
        self._unfollow = self.sink.follow(self.session.history)
        self._apply()
        self.sink.send({"type": "session.created", "session": self.config.to_wire()})

    def close(self) -> None:
        self._unfollow()

    def going_away(self, reconnect_after_s: float) -> None:
        self._error(Rejected("server_shutting_down", f"The server is restarting; reconnect in {reconnect_after_s:g} s "
                             "with the same session_id", kind="server_error"))  # fmt: skip

    def emit(self, event: Any) -> None:
        self.sink.emit(event)

    def clear_audio(self, turn_id: int) -> int:
        return self.sink.clear_audio(turn_id)

    async def on_bytes(self, raw: bytes) -> None:
        self._reject(Rejected("invalid_request", "binary frames are not part of the Realtime protocol; send "
                              "input_audio_buffer.append with base64 audio"))  # fmt: skip

    async def on_text(self, raw: str) -> None:
        decoded = decode(raw)
        if isinstance(decoded, Rejected):
            self._reject(decoded)
            return
        try:
            await self._dispatch(decoded)
        except (ConfigRefused, wire_items.ItemError, ItemRefused) as refused:
            code = getattr(refused, "code", "invalid_value")
            self._reject(Rejected(code, refused.message, decoded.event_id, refused.param))
        except CommandRefused as refused:
            self._reject(Rejected(refused.code, refused.message, decoded.event_id))
        except ProviderError as error:
            self._error(Rejected(error.code, str(error), decoded.event_id, kind="server_error"))
        except Exception:
            log.exception("session %s: %s failed", self.session.log_name, decoded.type)
            self._error(Rejected("internal_error", "internal error; the session continues", decoded.event_id,
                                 kind="server_error"))  # fmt: skip

    # ----- client events --------------------------------------------------------------

    async def _dispatch(self, event: ClientEvent) -> None:
        body, kind = event.body, event.type
        if kind == "input_audio_buffer.append":
            await self._append(body)
        elif kind == "session.update":
            self.config.update(parse(SessionPatch, body.get("session") or {}, "session"))
            self._apply()
            if self.config.turn_detection is None:  # the client commits from now on
                await self._engine.listener.drop_speech()
            else:  # server VAD from now on: audio the client never committed is not kept
                self._buffer.clear()
            self.sink.send({"type": "session.updated", "session": self.config.to_wire()})
        elif kind == "input_audio_buffer.commit":
            await self._commit()
        elif kind == "input_audio_buffer.clear":
            self._buffer.clear()
            await self._engine.listener.drop_speech()
            self.sink.forget_speech()
            self.sink.send({"type": "input_audio_buffer.cleared"})
        elif kind == "conversation.item.create":
            await self._create_item(body)
        elif kind == "response.create":
            patch = parse(ReplyPatch, body.get("response") or {}, "response")
            request = self.config.request(patch)
            self.sink.next_response = (patch.metadata, request.max_output_tokens)
            try:
                self._engine.respond(request)
            finally:
                self.sink.next_response = None
        elif kind == "response.cancel":
            await self._cancel(body)
        else:
            self._item_command(kind, body)

    async def _append(self, body: dict[str, Any]) -> None:
        audio = body.get("audio")
        if not isinstance(audio, str):
            raise wire_items.ItemError("audio must be a base64 string", "audio")
        pcm = wire_items.decode_audio(audio, "audio")
        if self.config.turn_detection is None:
            if len(self._buffer) + len(pcm) > self._max_buffer:
                raise ConfigRefused(f"the input audio buffer holds at most {self._max_buffer // 48000} s; commit "
                                    "or clear it", "audio")  # fmt: skip
            self._buffer += pcm
            return
        now = self._control.loop_time()
        for start in range(0, len(pcm), CHUNK_BYTES):
            await self._engine.push_audio(pcm[start : start + CHUNK_BYTES], now)
        self.session.live.audio_bytes_in += len(pcm)

    async def _commit(self) -> None:
        engine = self._engine
        if self.config.turn_detection is not None:
            if engine.listener.talking is None:
                raise CommandRefused("input_audio_buffer_commit_empty", "no speech in progress to commit")
            engine.listener.end_speech()
            return
        if len(self._buffer) < MIN_COMMIT_BYTES:
            raise CommandRefused("input_audio_buffer_commit_empty", "Error committing input audio buffer: buffer too "
                                 f"small. Expected at least 100ms of audio, but buffer only has "
                                 f"{len(self._buffer) / 48:.2f}ms of audio.")  # fmt: skip
        pcm, self._buffer = bytes(self._buffer), bytearray()
        turn_id, item_id = self.session.next_turn_id(), new_item_id()
        items = self.session.history.items
        self.sink.committed(turn_id, item_id, "", len(pcm) / 2 / SAMPLE_RATE, items[-1].id if items else None)
        try:
            text = await engine.transcribe(pcm, SAMPLE_RATE)
        except ProviderError as error:
            self.sink.dropped(turn_id, str(error))
            return
        if not text:
            self.sink.dropped(turn_id, "no words were recognized")
            return
        engine.items.add(wire_items.engine_item({"type": "message", "role": "user", "id": item_id}, turn_id, text,
                                                True, None))  # fmt: skip

    async def _create_item(self, body: dict[str, Any]) -> None:
        item = body.get("item")
        if not isinstance(item, dict):
            raise wire_items.ItemError("item must be an object", "item")
        text, spoken, history = "", False, self.session.history
        if item.get("type") == "message" and item.get("role") == "user":
            text, audio = wire_items.user_parts(item)
            if audio is not None:
                text, spoken = (text + " " + await self._engine.transcribe(audio, SAMPLE_RATE)).strip(), True
            if not text:
                raise wire_items.ItemError("no words were recognized in the audio", "item.content")
            if len(text) > self._max_text_chars:
                raise wire_items.ItemError(f"text longer than {self._max_text_chars} characters", "item.content")
        call_turn = wire_items.call_turn(history.items, str(item.get("call_id", "")))
        built = wire_items.engine_item(item, self.session.next_turn_id(), text, spoken, call_turn)
        after = body.get("previous_item_id")
        self._engine.items.add(built, after if isinstance(after, str) and after != "root" else None)

    def _item_command(self, kind: str, body: dict[str, Any]) -> None:
        item_id = body.get("item_id")
        if not isinstance(item_id, str):
            raise wire_items.ItemError("item_id must be a string", "item_id")
        items = self._engine.items
        if kind == "conversation.item.retrieve":
            self.sink.send({"type": "conversation.item.retrieved", "item": wire_items.to_wire(items.get(item_id))})
        elif kind == "conversation.item.delete":
            items.delete(item_id)
        else:
            content_index, end_ms = body.get("content_index", 0), body.get("audio_end_ms")
            if content_index != 0:
                raise wire_items.ItemError(
                    "an assistant message has one content part: content_index 0", "content_index"
                )
            if not isinstance(end_ms, int) or isinstance(end_ms, bool) or end_ms < 0:
                raise wire_items.ItemError("audio_end_ms must be a whole number of ms, 0 or more", "audio_end_ms")
            items.truncate(item_id, end_ms)
            self.sink.send({"type": "conversation.item.truncated", "item_id": item_id, "content_index": 0,
                            "audio_end_ms": end_ms})  # fmt: skip

    async def _cancel(self, body: dict[str, Any]) -> None:
        current = self._engine.reply
        wanted = body.get("response_id")
        if current is None or (wanted is not None and wanted != current.id):
            raise CommandRefused("response_cancel_not_active", "Cancellation failed: no active response found")
        await self._engine.interrupt()

    # ----- helpers --------------------------------------------------------------------

    def _apply(self) -> None:
        """The session's configuration, as the engine applies it."""
        engine, config = self._engine, self.config
        engine.configure(system_prompt=config.instructions, voice=config.voice)
        engine.reply_defaults = config.request()
        detection = config.turn_detection
        engine.auto_respond = detection is not None and bool(detection["create_response"])
        engine.barge_in.enabled = detection is not None and bool(detection["interrupt_response"])
        if detection is not None:
            engine.listener.retune(config.turn_config(self._options.listen.turn), float(detection["threshold"]),
                                   semantic=detection["type"] == "semantic_vad")  # fmt: skip

    @property
    def _engine(self) -> Conversation:
        assert self._conversation is not None, "bind() first"
        return self._conversation

    def _reject(self, rejected: Rejected) -> None:
        self._outbound.push(self._encoder.error(rejected))
        self._control.rejected()

    def _error(self, rejected: Rejected) -> None:
        self._outbound.push(self._encoder.error(rejected))


def realtime_protocol(options: EngineOptions, output_rate: int, max_text_chars: int) -> WireProtocol:
    """The OpenAI Realtime protocol (GA) for the generic connection."""

    def router(session: Session, outbound: OutboundQueue, control: RealtimeControl) -> RealtimeRouter:
        model = control.query_params.get("model") or "parley"
        return RealtimeRouter(session, outbound, control, options, (output_rate, max_text_chars), model[:200])

    def refusal(code: str, message: str) -> str:
        return Encoder().error(Rejected(code, message, kind="server_error"))

    return WireProtocol(router=router, refusal=refusal, subprotocol="realtime")
