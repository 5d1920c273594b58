"""One WebSocket connection, whatever its protocol: admission, session attach, the receive and
send loops over one bounded outbound queue, limits, and a close that is bounded in time.

The protocol (a codec and a router, e.g. websocket/parley/) turns frames into engine
commands and engine events into frames; this module knows neither. The connection owns
four tasks (receive, send, idle watch, close request); whichever ends first ends the
connection, and the rest are cancelled and joined with a bound, so a disconnect leaves
nothing running. A client that stops reading is not closed politely (that waits on a send
buffer that never drains) but aborted, so its socket is released at once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from fastapi import WebSocket

from engine.availability import Availability
from engine.conversation import Conversation
from engine.events import EventSink
from engine.options import EngineOptions
from services.registry import ProviderFactory
from session import Session, SessionLimitReached, SessionManager
from tools.registry import ToolBox
from utils.aio import bounded, cancel_and_wait
from utils.rates import TokenBucket
from websocket.admission import Admission, Handshake
from websocket.close_codes import CLOSE_IDLE, CLOSE_NORMAL, CLOSE_POLICY, CLOSE_REPLACED, CLOSE_TRY_LATER
from websocket.limits import ErrorBudget
from websocket.outbound import OutboundQueue

log = logging.getLogger(__name__)
CLOSE_BOUND_S = 2.0


class Router(EventSink, Protocol):
    """A protocol's half of a connection."""

    def bind(self, conversation: Conversation, resumed: bool) -> None: ...

    def going_away(self, reconnect_after_s: float) -> None:
        """The server is shutting down: tell the client when to come back."""

    async def on_text(self, raw: str) -> None: ...

    async def on_bytes(self, raw: bytes) -> None: ...

    def close(self) -> None:
        """The connection has ended: stop following the session."""


@dataclass(frozen=True)
class WireProtocol:
    """How to speak one protocol: a router per connection, the refusal sent when full, and the
    subprotocol name accepted when a client offers it."""

    router: Callable[[Session, OutboundQueue, Any], Router]  # Any: the Connection, as each router's control
    refusal: Callable[[str, str], str]  # (code, message) -> a text frame
    subprotocol: str | None = None


@dataclass(frozen=True)
class ConnectionLimits:
    outbound_queue_size: int
    max_messages_per_s: float
    max_errors_per_min: int
    send_timeout_s: float
    idle_timeout_s: float = 300.0


@dataclass(frozen=True)
class ConnectionServices:
    """What every connection of the process shares."""

    sessions: SessionManager
    providers: ProviderFactory
    engine: EngineOptions
    limits: ConnectionLimits
    admission: Admission
    availability: Availability | None = None
    observe: Callable[[EventSink], EventSink] | None = None  # e.g. metrics, between engine and router
    tools: ToolBox | None = None  # offered to an LLM that can call tools


class Connection:
    def __init__(self, websocket: WebSocket, services: ConnectionServices, protocol: WireProtocol) -> None:
        self.ws = websocket
        self.services = services
        self.sessions = services.sessions
        self.outbound = OutboundQueue(services.limits.outbound_queue_size)
        self.address = websocket.client.host if websocket.client else ""
        self._protocol = protocol
        self._limits = services.limits
        loop_time = asyncio.get_running_loop().time
        self._rate = TokenBucket(self._limits.max_messages_per_s, max(self._limits.max_messages_per_s, 50), loop_time)
        self._errors = ErrorBudget(self._limits.max_errors_per_min)
        self._close_requested = asyncio.Event()
        self._close_code = CLOSE_NORMAL
        self._close_reason = ""
        self._abort = False
        self._received_at = self.loop_time()  # when the client last sent anything
        self._sending_since: float | None = None  # when the send in flight began
        self.conversation: Conversation | None = None  # once attached
        self._router: Router | None = None

    def going_away(self, reconnect_after_s: float) -> None:
        """Shutdown begins: the client is told; the reply in flight may finish, no new turn starts."""
        if self._router is not None and self.conversation is not None:
            self._router.going_away(reconnect_after_s)
            self.conversation.wind_down()

    def request_close(self, code: int, reason: str, abort: bool = False) -> None:
        """End the connection with `code`; `abort`: drop the socket without a close handshake."""
        if not self._close_requested.is_set():
            self._close_code, self._close_reason, self._abort = code, reason, abort
            self._close_requested.set()

    def rejected(self) -> None:
        if self._errors.spend():
            self.request_close(CLOSE_POLICY, "too many invalid messages")

    def loop_time(self) -> float:
        return asyncio.get_running_loop().time()

    @property
    def query_params(self) -> Mapping[str, str]:
        return self.ws.query_params

    async def run(self) -> None:
        ws = self.ws
        offered = ws.scope.get("subprotocols", [])
        handshake = Handshake.read(self.address, ws.url.scheme, ws.headers, ws.query_params, offered)
        admission = self.services.admission
        if (why := admission.refusal(handshake)) is not None:
            log.info("%s refused before accept: %s", self.address, why)
            await bounded(self.ws.close(CLOSE_POLICY), CLOSE_BOUND_S, "refuse")  # before accept: HTTP 403
            return
        admission.enter(self.address, self)
        try:
            if await self._accept(handshake):
                await self._attach_and_serve()
        finally:
            admission.leave(self.address, self)

    async def _attach_and_serve(self) -> None:
        try:
            session, previous, resumed = await self.sessions.attach(
                self, self.ws.query_params.get("session_id"), self.address
            )
        except SessionLimitReached as exc:
            await bounded(self.ws.send_text(self._protocol.refusal("server_busy", str(exc))), CLOSE_BOUND_S, "refuse")
            await self._close(CLOSE_TRY_LATER, "too many sessions")
            return
        if isinstance(previous, Connection):
            previous.request_close(CLOSE_REPLACED, "session resumed by a newer connection")
        router = self._protocol.router(session, self.outbound, self)
        services = self.services
        sink = router if services.observe is None else services.observe(router)
        conversation = Conversation(
            session,
            services.providers.for_session(),
            services.engine,
            sink,
            availability=services.availability,
            tools=services.tools,
        )
        router.bind(conversation, resumed)
        self.conversation, self._router = conversation, router
        conversation.begin()
        try:
            await self._serve(router)
        finally:
            await conversation.aclose()
            router.close()
            self.sessions.detach(session, self)
            await self._close(self._close_code, self._close_reason)
            log.info("session %s: connection closed (%d %s)", session.log_name, self._close_code, self._close_reason)

    async def _serve(self, router: Router) -> None:
        tasks = [
            asyncio.create_task(self._receive_loop(router), name="ws-receive"),
            asyncio.create_task(self._send_loop(), name="ws-send"),
            asyncio.create_task(self._watch(), name="ws-watch"),
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
            self._received_at = self.loop_time()
            if not self._rate.take():
                self.request_close(CLOSE_POLICY, "message rate limit exceeded")
                return
            if (text := message.get("text")) is not None:
                await router.on_text(text)
            elif (data := message.get("bytes")) is not None:
                await router.on_bytes(data)

    async def _send_loop(self) -> None:
        while (item := await self.outbound.get()) is not None:
            payload = item.payload
            self._sending_since = self.loop_time()  # the watch drops a send that outlives SEND_TIMEOUT_S
            await (self.ws.send_text(payload) if isinstance(payload, str) else self.ws.send_bytes(payload))
            self._sending_since = None
        self.request_close(CLOSE_POLICY, "client is not reading fast enough", abort=True)

    async def _watch(self) -> None:
        """Both time limits with one timer per connection, not one per message: a client that has
        sent nothing for CONNECTION_IDLE_TIMEOUT_S is closed (4002); a send that has not finished
        after SEND_TIMEOUT_S drops the client (checked every half of it, so within 1.5x)."""
        limits = self._limits
        while True:
            now, sending_since = self.loop_time(), self._sending_since
            if sending_since is not None and now - sending_since >= limits.send_timeout_s:
                self.request_close(CLOSE_POLICY, "client is not reading", abort=True)
                return
            idle_deadline = self._received_at + limits.idle_timeout_s
            if now >= idle_deadline:
                self.request_close(CLOSE_IDLE, "idle")
                return
            await asyncio.sleep(min(idle_deadline - now, limits.send_timeout_s / 2))

    async def _accept(self, handshake: Handshake) -> bool:
        offered = self._protocol.subprotocol
        subprotocol = offered if offered is not None and offered in handshake.subprotocols else None
        try:
            async with asyncio.timeout(CLOSE_BOUND_S):
                await self.ws.accept(subprotocol=subprotocol)
        except Exception as error:
            log.debug("accept failed: %r", error)
            return False
        return True

    async def _close(self, code: int, reason: str) -> None:
        """Close politely, but never hold a socket: a client that has not answered the close within
        CLOSE_BOUND_S (or cannot even be sent it) is dropped, its unsent data discarded."""
        abort = self.ws.scope.get("extensions", {}).get("transport.abort")
        if not self._abort:
            try:
                async with asyncio.timeout(CLOSE_BOUND_S):
                    await self.ws.close(code, reason)
                if abort is not None:
                    asyncio.get_running_loop().call_later(CLOSE_BOUND_S, abort)  # a no-op once closed
                return
            except Exception as error:  # the close frame could not even be sent
                log.debug("close failed: %r", error)
        if abort is not None:
            abort()
