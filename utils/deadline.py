"""A deadline that moves often and fires rarely: one timer per owner, not one per move.

A listener moves its stall deadline on every audio frame (50 a second per session);
making and cancelling a timer each time would cost more than the frame. Here a move only
stores the time; the one timer, when it comes due early, re-arms itself for the latest one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable


class MovingDeadline:
    def __init__(self, fire: Callable[[], None]) -> None:
        self._fire = fire
        self._timer: asyncio.TimerHandle | None = None
        self._at = 0.0

    def move(self, after_s: float) -> None:
        """Fire `after_s` from now (unless moved again or cleared first)."""
        loop = asyncio.get_running_loop()
        self._at = loop.time() + after_s
        if self._timer is None:
            self._timer = loop.call_at(self._at, self._check)

    def clear(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _check(self) -> None:
        loop = asyncio.get_running_loop()
        if loop.time() < self._at:
            self._timer = loop.call_at(self._at, self._check)
            return
        self._timer = None
        self._fire()
