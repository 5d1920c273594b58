"""Flood limits of one connection: a message-rate token bucket and an error budget."""

from __future__ import annotations

import time
from collections import deque


class TokenBucket:
    """Allows `rate` messages per second on average, with bursts of one second's worth."""

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self.capacity = max(rate, 50.0)
        self._tokens = self.capacity
        self._at = time.monotonic()

    def allow(self) -> bool:
        now = time.monotonic()
        self._tokens = min(self.capacity, self._tokens + (now - self._at) * self.rate)
        self._at = now
        if self._tokens < 1:
            return False
        self._tokens -= 1
        return True


class ErrorBudget:
    """True from `spend()` once more than `limit` errors fell within the last minute."""

    def __init__(self, limit: int, window_s: float = 60.0) -> None:
        self.limit = limit
        self.window_s = window_s
        self._times: deque[float] = deque()

    def spend(self) -> bool:
        now = time.monotonic()
        self._times.append(now)
        while self._times and now - self._times[0] > self.window_s:
            self._times.popleft()
        return len(self._times) > self.limit
