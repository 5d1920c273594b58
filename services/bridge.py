"""From threads that are not the event loop's (engine workers, SDK callbacks) to the loop.

`ThreadChannel` carries items from one producer thread to a consumer on the loop with no
round trip per item: the thread posts with call_soon_threadsafe and waits only when
`capacity` items are still untaken. It never blocks for ever: a producer waiting for room
re-checks its stop flag, and posting to a closed loop reports False instead of raising.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Generic, TypeVar

T = TypeVar("T")
PUT_RECHECK_S = 0.25  # how often a producer waiting for room re-checks its stop flag


def post(loop: asyncio.AbstractEventLoop, callback: object, *args: object) -> bool:
    """Schedule `callback(*args)` on `loop` from any thread; False once the loop is closed."""
    try:
        loop.call_soon_threadsafe(callback, *args)  # type: ignore[arg-type]
    except RuntimeError:
        return False
    return True


class ThreadChannel(Generic[T]):
    def __init__(self, loop: asyncio.AbstractEventLoop, capacity: int) -> None:
        self._loop = loop
        self._queue: asyncio.Queue[T] = asyncio.Queue()  # bounded by the semaphore
        self._room = threading.Semaphore(capacity)

    def put(self, item: T, stop: threading.Event) -> bool:
        """From the producer thread; False once the consumer is gone (stop set, loop closed)."""
        while not self._room.acquire(timeout=PUT_RECHECK_S):
            if stop.is_set():
                return False
        return post(self._loop, self._queue.put_nowait, item)

    def put_from_loop(self, item: T) -> None:
        """From the loop itself, past the bound: for the one end-of-stream marker of a channel."""
        self._queue.put_nowait(item)

    async def get(self) -> T:
        """From the loop: the next item, making room for the producer."""
        item = await self._queue.get()
        self._room.release()
        return item
