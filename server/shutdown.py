"""SIGTERM (or Ctrl-C) without losing a word: stop admitting, tell every client (`going_away` with
a reconnect hint), let the replies in flight finish for up to SHUTDOWN_GRACE_S, close every
connection with 1012, then let uvicorn finish (the store is flushed by the lifespan's end) and
exit with status 0.

uvicorn handles the signals itself: it closes WebSockets at once with 1012 and no message,
then re-raises the signal so the process dies by it. Parley takes the signals over once the
app has started, drains, and then asks uvicorn to stop the way its own handler would.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable
from types import FrameType
from typing import Any

from utils.aio import cancel_and_wait
from websocket.admission import Admission
from websocket.close_codes import CLOSE_RESTART
from websocket.connection import Connection

log = logging.getLogger(__name__)
SIGNALS = (signal.SIGTERM, signal.SIGINT)
RECONNECT_AFTER_S = 2.0
CLOSE_WAIT_S = 2.0


class Drain:
    def __init__(self, admission: Admission, grace_s: float) -> None:
        self.admission = admission
        self.grace_s = grace_s
        self.task: asyncio.Task[None] | None = None
        self._uvicorn: Any = None  # uvicorn's Server, found through its signal handler
        self._previous: dict[int, Any] = {}
        self._signal: int | None = None

    def install(self) -> None:
        """Take SIGTERM and SIGINT over from uvicorn (main thread only; elsewhere, nothing to do)."""
        loop = asyncio.get_running_loop()
        for sig in SIGNALS:
            with contextlib.suppress(ValueError):  # not the main thread
                previous = signal.getsignal(sig)
                self._uvicorn = self._uvicorn or getattr(previous, "__self__", None)
                self._previous[sig] = previous
                signal.signal(sig, self._handler(loop))

    def uninstall(self) -> None:
        for sig, previous in self._previous.items():
            with contextlib.suppress(ValueError, TypeError):
                signal.signal(sig, previous)
        self._previous.clear()

    def _handler(self, loop: asyncio.AbstractEventLoop) -> Callable[[int, FrameType | None], None]:
        def on_signal(sig: int, frame: FrameType | None) -> None:
            if self.task is not None:  # a second signal: stop now, as uvicorn would
                if callable(previous := self._previous.get(sig)):
                    previous(sig, frame)
                return
            self._signal = sig
            loop.call_soon_threadsafe(self.start)

        return on_signal

    def start(self) -> None:
        if self.task is None:
            self.task = asyncio.get_running_loop().create_task(self.run(), name="shutdown-drain")

    async def run(self) -> None:
        """Drain, then stop the server."""
        try:
            await self.drain()
        finally:
            if self._uvicorn is not None:
                self._uvicorn.should_exit = True  # uvicorn stops serving; the exit status stays 0
            elif self._signal is not None:  # not under uvicorn: the signal does what it did before
                self.uninstall()
                signal.raise_signal(self._signal)

    async def drain(self) -> None:
        self.admission.closing = True
        connections = [c for c in self.admission.connections() if isinstance(c, Connection)]
        log.info("shutting down: %d connection(s); replies in flight get up to %.0f s", len(connections), self.grace_s)
        for connection in connections:
            connection.going_away(RECONNECT_AFTER_S)
        replies = [c.conversation.reply for c in connections if c.conversation is not None and c.conversation.reply]
        if replies:
            waiters = [asyncio.ensure_future(_ended(reply)) for reply in replies]
            _, pending = await asyncio.wait(waiters, timeout=self.grace_s)
            await cancel_and_wait(pending, 1.0)
            if pending:
                log.info("%d repl(ies) still running at the deadline are cut", len(pending))
        for connection in connections:
            connection.request_close(CLOSE_RESTART, "server shutting down")
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(CLOSE_WAIT_S):
                await self.admission.all_closed()


async def _ended(reply: Any) -> None:
    await reply
