"""One WebSocket connection, whatever its protocol: admission, session attach, the receive and
send loops over one bounded outbound queue, limits, and a close that is bounded in time.

The protocol (a codec and a router, e.g. websocket/parley/) turns frames into engine
commands and engine events into frames; this module knows neither. The connection owns
three tasks (receive, send, close request); whichever ends first ends the connection, and
the rest are cancelled and joined with a bound, so a disconnect leaves nothing running.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from fastapi import WebSocket

from engine.availability import Availability
from engine.conversation import Conversation
from engine.events import EventSink
from engine.options import EngineOptions
from services.registry import ProviderFactory
from session import Session, SessionLimitReached, SessionManager
from utils.aio import bounded, cancel_and_wait
from websocket.limits import ErrorBudget, TokenBucket
from websocket.outbound import OutboundQueue

log = logging.getLogger(__name__)

CLOSE_NORMAL = 1000
CLOSE_POLICY = 1008
CLOSE_TOO_BIG = 1009
CLOSE_TRY_LATER = 1013
CLOSE_REPLACED = 4001
CLOSE_CODES = {
    CLOSE_NORMAL: "normal close",
    CLOSE_POLICY: "more than MAX_MESSAGES_PER_S messages (sustained), more than MAX_ERRORS_PER_MIN bad messages "
    "in a minute, or a client that does not read what it is sent",
    CLOSE_TOO_BIG: "a message larger than WS_MAX_MESSAGE_BYTES",
    CLOSE_TRY_LATER: "too many sessions",
    CLOSE_REPLACED: "the session was resumed by a newer connection",
}
CLOSE_BOUND_S = 2.0


class Router(EventSink, Protocol):
    """A protocol's half of a connection."""

    def bind(self, conversation: Conversation, resumed: bool) -> None: ...

    async def on_text(self, raw: str) -> None: ...

    async def on_bytes(self, raw: bytes) -> None: ...


@dataclass(frozen=True)
class WireProtocol:
    """How to speak one protocol: a router per connection, and the refusal sent when full."""

    router: Callable[[Session, OutboundQueue, Connection], Router]
    refusal: Callable[[str, str], str]  # (code, message) -> a text frame


@dataclass(frozen=True)
class ConnectionLimits:
    outbound_queue_size: int
    max_messages_per_s: float
    max_errors_per_min: int
    send_timeout_s: float


class Connection:
    def __init__(
        self, websocket: WebSocket, sessions: SessionManager, providers: ProviderFactory, engine: EngineOptions,
        limits: ConnectionLimits, protocol: WireProtocol, availability: Availability | None = None,
    ) -> None:  # fmt: skip
        self.ws = websocket
        self.sessions = sessions
        self.outbound = OutboundQueue(limits.outbound_queue_size)
        self._providers = providers
        self._engine = engine
        self._limits = limits
        self._protocol = protocol
        self._availability = availability
        self._rate = TokenBucket(limits.max_messages_per_s)
        self._errors = ErrorBudget(limits.max_errors_per_min)
        self._close_requested = asyncio.Event()
        self._close_code = CLOSE_NORMAL
        self._close_reason = ""

    def request_close(self, code: int, reason: str) -> None:
        if not self._close_requested.is_set():
            self._close_code, self._close_reason = code, reason
            self._close_requested.set()

    def rejected(self) -> None:
        if self._errors.spend():
            self.request_close(CLOSE_POLICY, "too many invalid messages")

    def loop_time(self) -> float:
        return asyncio.get_running_loop().time()

    async def run(self) -> None:
        if not await self._accept():
            return
        try:
            session, previous, resumed = await self.sessions.attach(self, self.ws.query_params.get("session_id"))
        except SessionLimitReached as exc:
            await bounded(self.ws.send_text(self._protocol.refusal("server_busy", str(exc))), CLOSE_BOUND_S, "refuse")
            await self._close(CLOSE_TRY_LATER, "too many sessions")
            return
        if isinstance(previous, Connection):
            previous.request_close(CLOSE_REPLACED, "session resumed by a newer connection")
        router = self._protocol.router(session, self.outbound, self)
        conversation = Conversation(
            session, self._providers.for_session(), self._engine, router, availability=self._availability
        )
        router.bind(conversation, resumed)
        conversation.begin()
        try:
            await self._serve(router)
        finally:
            await conversation.aclose()
            self.sessions.detach(session, self)
            await self._close(self._close_code, self._close_reason)
            log.info("session %s: connection closed (%d %s)", session.id[:8], self._close_code, self._close_reason)

    async def _serve(self, router: Router) -> None:
        tasks = [
            asyncio.create_task(self._receive_loop(router), name="ws-receive"),
            asyncio.create_task(self._send_loop(), name="ws-send"),
            asyncio.create_task(self._close_requested.wait(), name="ws-close-request"),
        ]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            await cancel_and_wait(tasks, CLOSE_BOUND_S)

    async def _receive_loop(self, router: Router) -> None:
        while True:
            message = await self.ws.receive()
            if message["type"] == "websocket.disconnect":
                return
            if not self._rate.allow():
                self.request_close(CLOSE_POLICY, "message rate limit exceeded")
                return
            if (text := message.get("text")) is not None:
                await router.on_text(text)
            elif (data := message.get("bytes")) is not None:
                await router.on_bytes(data)

    async def _send_loop(self) -> None:
        while (item := await self.outbound.get()) is not None:
            payload = item.payload
            send = self.ws.send_text(payload) if isinstance(payload, str) else self.ws.send_bytes(payload)
            try:
                async with asyncio.timeout(self._limits.send_timeout_s):
                    await send
            except TimeoutError:
                self.request_close(CLOSE_POLICY, "client is not reading")
                return
        self.request_close(CLOSE_POLICY, "client is not reading fast enough")

    async def _accept(self) -> bool:
        try:
            async with asyncio.timeout(CLOSE_BOUND_S):
                await self.ws.accept()
        except Exception as error:
            log.debug("accept failed: %r", error)
            return False
        return True

    async def _close(self, code: int, reason: str) -> None:
        await bounded(self.ws.close(code, reason), CLOSE_BOUND_S, "close")
