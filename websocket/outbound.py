"""The one bounded send queue of a connection.

Emitting never blocks the engine: audio is paced, so the queue stays short unless the
client stops reading, and then overflow marks the connection for closing instead of
growing without bound. A stopped turn's queued audio can be dropped in place.
"""

from __future__ import annotations

import asyncio
from collections import deque

from websocket import events as ev


class OutboundQueue:
    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self.overflowed = False
        self._items: deque[ev.Event] = deque()
        self._ready = asyncio.Event()

    def __len__(self) -> int:
        return len(self._items)

    def emit(self, event: ev.Event) -> None:
        if self.overflowed:
            return
        if len(self._items) >= self.maxsize:
            self.overflowed = True
            self._items.clear()
        else:
            self._items.append(event)
        self._ready.set()

    def clear_audio(self, turn_id: int) -> int:
        kept = [e for e in self._items if not (isinstance(e, ev.AudioOut) and e.turn_id == turn_id)]
        dropped = len(self._items) - len(kept)
        self._items = deque(kept)
        return dropped

    async def get(self) -> ev.Event | None:
        """The next event, or None once the queue has overflowed."""
        while not self._items and not self.overflowed:
            self._ready.clear()
            await self._ready.wait()
        return None if self.overflowed else self._items.popleft()
