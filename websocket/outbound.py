"""The one bounded send queue of a connection, holding encoded frames of any protocol.

Pushing never blocks the engine: audio is paced, so the queue stays short unless the
client stops reading, and then overflow marks the connection for closing instead of
growing without bound. A stopped turn's queued audio can be dropped in place, because
each audio frame is queued with the turn it belongs to.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass


@dataclass(frozen=True)
class Outgoing:
    payload: str | bytes  # a text frame (str) or a binary frame (bytes), already encoded
    audio_of_turn: int | None = None  # set for audio frames: the turn whose audio this is


class OutboundQueue:
    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self.overflowed = False
        self._items: deque[Outgoing] = deque()
        self._ready = asyncio.Event()

    def __len__(self) -> int:
        return len(self._items)

    def push(self, payload: str | bytes, audio_of_turn: int | None = None) -> None:
        if self.overflowed:
            return
        if len(self._items) >= self.maxsize:
            self.overflowed = True
            self._items.clear()
        else:
            self._items.append(Outgoing(payload, audio_of_turn))
        self._ready.set()

    def clear_audio(self, turn_id: int) -> int:
        kept = [item for item in self._items if item.audio_of_turn != turn_id]
        dropped = len(self._items) - len(kept)
        self._items = deque(kept)
        return dropped

    async def get(self) -> Outgoing | None:
        """The next frame, or None once the queue has overflowed."""
        while not self._items and not self.overflowed:
            self._ready.clear()
            await self._ready.wait()
        return None if self.overflowed else self._items.popleft()
