"""User turns are delivered in the order they were taken, whatever order their transcripts
arrive in: a slow ASR final for older speech never cuts the reply to a newer turn, and turn
ids never go backwards. An older turn that arrives while a newer one waits is kept in the
history, unanswered: the newest turn is answered with it in view."""

from __future__ import annotations

import asyncio


class TurnOrder:
    def __init__(self) -> None:
        self._open: set[int] = set()
        self._changed = asyncio.Event()

    def enter(self, turn_id: int) -> None:
        """A turn whose words are on their way (an utterance being transcribed, a typed turn)."""
        self._open.add(turn_id)

    async def wait_for_older(self, turn_id: int) -> None:
        """Until every older turn that entered has been delivered or dropped."""
        while any(other < turn_id for other in self._open):
            changed = self._changed
            await changed.wait()

    def leave(self, turn_id: int) -> None:
        self._open.discard(turn_id)
        self._changed.set()
        self._changed = asyncio.Event()  # the waiters hold the one just set

    def superseded(self, turn_id: int) -> bool:
        """A newer turn is waiting behind this one: this one should not start a reply."""
        return any(other > turn_id for other in self._open)
