"""Rate limits: a token bucket, and a fair share of one global rate among whoever is present.

Both take their clock as an argument (a loop's `time`, or virtual time in tests), so the
limits are tested by moving time, never by sleeping.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

Clock = Callable[[], float]


def loop_clock() -> float:
    """The running event loop's time (virtual under looptime); call from the loop only."""
    return asyncio.get_running_loop().time()


class TokenBucket:
    """`rate` units per second on average, with bursts of up to `burst` units."""

    def __init__(self, rate: float, burst: float, clock: Clock = time.monotonic) -> None:
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._tokens = burst
        self._at: float | None = None  # read on first use, so a bucket may be made off the loop
        self.refused = 0  # takes refused so far (what an operator counts)

    def take(self, cost: float = 1.0) -> bool:
        """Spend `cost` units if there are that many; False (spending nothing) otherwise."""
        now = self._clock()
        elapsed = 0.0 if self._at is None else now - self._at
        self._tokens = min(self.burst, self._tokens + elapsed * self.rate)
        self._at = now
        if self._tokens < cost:
            self.refused += 1
            return False
        self._tokens -= cost
        return True


class FairShare:
    """One global rate, split evenly among the members present: each refills at rate / members
    per second with a burst of its own, so a member that floods spends only its own share."""

    def __init__(self, rate: float, burst: float, clock: Clock = time.monotonic) -> None:
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._members: set[Share] = set()

    def __len__(self) -> int:
        return len(self._members)

    def join(self) -> Share:
        share = Share(self)
        self._members.add(share)
        return share

    def _leave(self, share: Share) -> None:
        self._members.discard(share)

    def _rate_each(self) -> float:
        return self.rate / max(1, len(self._members))


class Share:
    """A member's part of a FairShare; `leave()` when done, so the others' shares grow."""

    def __init__(self, pool: FairShare) -> None:
        self._pool = pool
        self._tokens = pool.burst
        self._at: float | None = None

    def take(self, cost: float = 1.0) -> bool:
        now = self._pool._clock()
        elapsed = 0.0 if self._at is None else now - self._at
        self._tokens = min(self._pool.burst, self._tokens + elapsed * self._pool._rate_each())
        self._at = now
        if self._tokens < cost:
            return False
        self._tokens -= cost
        return True

    def leave(self) -> None:
        self._pool._leave(self)
