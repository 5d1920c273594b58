"""One WebSocket connection: the receive loop, the send loop, and a bounded close.

The handler translates between the wire protocol and the Conversation. It owns three
tasks (receive, send, close request); whichever ends first ends the connection, and the
rest are cancelled and awaited with a bound, so a disconnect leaves nothing running.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging

from fastapi import WebSocket

from config import Settings
from services.registry import build_providers
from session import SessionLimitReached, SessionManager
from websocket import events as ev
from websocket import protocol as proto
from websocket.conversation import Conversation
from websocket.limits import ErrorBudget, TokenBucket
from websocket.outbound import OutboundQueue

log = logging.getLogger(__name__)

CLOSE_NORMAL = 1000
CLOSE_POLICY = 1008
CLOSE_TRY_LATER = 1013
CLOSE_REPLACED = 4001
CLOSE_BOUND_S = 2.0


class Connection:
    def __init__(self, websocket: WebSocket, sessions: SessionManager, settings: Settings) -> None:
        self.ws = websocket
        self.settings = settings
        self.sessions = sessions
        self.outbound = OutboundQueue(settings.outbound_queue_size)
        self._rate = TokenBucket(settings.max_messages_per_s)
        self._errors = ErrorBudget(settings.max_errors_per_min)
        self._close_requested = asyncio.Event()
        self._close_code = CLOSE_NORMAL
        self._close_reason = ""
        self.conversation: Conversation | None = None

    def request_close(self, code: int, reason: str) -> None:
        if not self._close_requested.is_set():
            self._close_code, self._close_reason = code, reason
            self._close_requested.set()

    async def run(self) -> None:
        try:
            async with asyncio.timeout(CLOSE_BOUND_S):
                await self.ws.accept()
        except TimeoutError:
            return
        requested_id = self.ws.query_params.get("session_id")
        try:
            session, previous = self.sessions.attach(self, requested_id)
        except SessionLimitReached as exc:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(CLOSE_BOUND_S):
                    await self._send_now(ev.ErrorEvent("server_busy", str(exc)), session_id="")
            await self._close(CLOSE_TRY_LATER, "too many sessions")
            return
        if isinstance(previous, Connection):
            previous.request_close(CLOSE_REPLACED, "session resumed by a newer connection")
        conversation = Conversation(session, build_providers(self.settings), self.settings, self.outbound)
        self.conversation = conversation
        resumed = requested_id == session.id
        cfg = session.config
        self.outbound.emit(
            ev.SessionInfo(
                resumed, len(session.history.entries), cfg.input_sample_rate, self.settings.output_sample_rate
            )
        )
        conversation.begin()
        tasks = [
            asyncio.create_task(self._receive_loop(), name="ws-receive"),
            asyncio.create_task(self._send_loop(session.id), name="ws-send"),
            asyncio.create_task(self._close_requested.wait(), name="ws-close-request"),
        ]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.wait(tasks, timeout=CLOSE_BOUND_S)
            for task in tasks:
                if task.done() and not task.cancelled() and (error := task.exception()) is not None:
                    log.debug("session %s: %s ended with %r", session.id, task.get_name(), error)
            await conversation.aclose()
            self.sessions.detach(session, self)
            await self._close(self._close_code, self._close_reason)
            log.info("session %s: connection closed (%d %s)", session.id, self._close_code, self._close_reason)

    async def _receive_loop(self) -> None:
        while True:
            message = await self.ws.receive()
            if message["type"] == "websocket.disconnect":
                return
            if not self._rate.allow():
                self.request_close(CLOSE_POLICY, "message rate limit exceeded")
                return
            if (text := message.get("text")) is not None:
                await self._on_text(text)
            elif (data := message.get("bytes")) is not None:
                await self._on_audio(data)

    async def _on_text(self, raw: str) -> None:
        conv = self.conversation
        assert conv is not None
        try:
            msg = proto.parse_text(raw, self.settings.max_text_chars)
        except proto.ProtocolError as exc:
            self._reject(exc.code, exc.message)
            return
        match msg:
            case proto.Playback(turn_id=turn_id, played_ms=played_ms):
                conv.session.stats.playback_acks += 1
                conv.playback(turn_id, played_ms)
            case proto.TextInput(text=text):
                if not conv.listening:
                    self._reject("not_listening", "the session is stopped; send start first")
                else:
                    await conv.text_input(text.strip())
            case proto.Interrupt():
                await conv.interrupt()
            case proto.Stop():
                await conv.stop()
            case proto.Start():
                await conv.start()
            case proto.Reset():
                await conv.reset()
            case proto.Configure():
                conv.configure(msg.input_sample_rate, msg.language, msg.system_prompt, msg.voice)

    async def _on_audio(self, raw: bytes) -> None:
        conv = self.conversation
        assert conv is not None
        try:
            frame = proto.parse_audio(raw, conv.session.config.input_sample_rate)
        except proto.ProtocolError as exc:
            self._reject(exc.code, exc.message)
            return
        conv.session.stats.audio_bytes_in += len(frame.pcm)
        await conv.push_audio(frame.pcm, asyncio.get_running_loop().time())

    def _reject(self, code: str, message: str) -> None:
        self.outbound.emit(ev.ErrorEvent(code, message))
        if self._errors.spend():
            self.request_close(CLOSE_POLICY, "too many invalid messages")

    async def _send_loop(self, session_id: str) -> None:
        while (event := await self.outbound.get()) is not None:
            try:
                async with asyncio.timeout(self.settings.send_timeout_s):
                    await self._send_now(event, session_id)
            except TimeoutError:
                self.request_close(CLOSE_POLICY, "client is not reading")
                return
        self.request_close(CLOSE_POLICY, "client is not reading fast enough")

    async def _send_now(self, event: ev.Event, session_id: str) -> None:
        if isinstance(event, ev.AudioOut):
            await self.ws.send_bytes(proto.encode_audio_out(event.turn_id, event.sequence, event.pcm))
        else:
            await self.ws.send_text(json.dumps(proto.to_wire(event, session_id)))

    async def _close(self, code: int, reason: str) -> None:
        with contextlib.suppress(Exception):
            async with asyncio.timeout(CLOSE_BOUND_S):
                await self.ws.close(code, reason)
