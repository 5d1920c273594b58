"""Rate limits on a clock the test moves: a token bucket, and a fair share of a global rate."""

from __future__ import annotations

from utils.rates import FairShare, TokenBucket


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_bucket_allows_its_burst_then_its_rate() -> None:
    clock = Clock()
    bucket = TokenBucket(rate=8, burst=3, clock=clock)
    assert [bucket.take() for _ in range(4)] == [True, True, True, False]
    clock.now += 0.125
    assert bucket.take() and not bucket.take(), "1/8 s at 8/s is one more"
    clock.now += 60
    assert [bucket.take() for _ in range(4)] == [True, True, True, False], "never more than the burst"


def test_a_bucket_counts_cost() -> None:
    clock = Clock()
    audio = TokenBucket(rate=1000, burst=500, clock=clock)  # ms of audio per second
    assert audio.take(400) and not audio.take(200)
    clock.now += 0.2
    assert audio.take(300)


def test_a_fair_share_splits_the_rate_among_the_members_present() -> None:
    clock = Clock()
    pool = FairShare(rate=8, burst=1, clock=clock)
    flooder, neighbour = pool.join(), pool.join()
    assert flooder.take() and neighbour.take()
    taken = 0
    for _ in range(64):  # the flooder asks 64 times a second for a second
        clock.now += 1 / 64
        taken += flooder.take()
    assert taken == 4, "half of 8 per second"
    assert neighbour.take(), "the flood spent only the flooder's share"
    neighbour.leave()
    clock.now += 0.125
    assert flooder.take() and len(pool) == 1, "alone, it has the whole rate"
